"""Audio normalisation settings (the biometrics engine's wanted format)."""

from __future__ import annotations

from pydantic import BaseModel


class AudioSettings(BaseModel):
    enabled: bool = True
    sample_rate: int = 16000
