"""The Notifications API source's parts: settings, API calls, topic plans, gap backfills."""
