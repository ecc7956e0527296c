"""One module per `media-bridge` sub-command."""
