"""Whose voice it is: speaker facts from Genesys, a stable speaker key, pseudonymisation."""

from media_bridge.identity.describe import SpeakerDescriber, SpeakerMetadata
from media_bridge.identity.facts import SpeakerFacts, merge
from media_bridge.identity.settings import IdentitySettings

__all__ = ["IdentitySettings", "SpeakerDescriber", "SpeakerFacts", "SpeakerMetadata", "merge"]
