"""The worker: claim due jobs, run their handlers, record the outcome."""
