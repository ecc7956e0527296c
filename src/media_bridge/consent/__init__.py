"""Consent for biometric processing: where it is recorded, the verdict, what a job does."""

from media_bridge.consent.checker import ConsentChecker
from media_bridge.consent.gate import settle
from media_bridge.consent.settings import ConsentSettings
from media_bridge.consent.verdict import Verdict, not_checked

__all__ = ["ConsentChecker", "ConsentSettings", "Verdict", "not_checked", "settle"]
