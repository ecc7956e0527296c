"""The Notifications API source's parts: settings, API calls, topic plans, channel upkeep,
gap backfills."""
