"""audiohook."""
