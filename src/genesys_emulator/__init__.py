"""A faithful emulator of one Genesys Cloud org: login, API, downloads and storage hosts."""

__version__ = "0.1.0"
