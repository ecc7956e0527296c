"""genesys-media-bridge: Genesys Cloud conversation media to biometrics and NLP engines."""

__version__ = "0.1.0"
