"""Voice calls: pure helpers for recordings, channels, transcripts, and their settings."""

from media_bridge.voice.settings import VoiceSettings

__all__ = ["VoiceSettings"]
