"""Intake: sources of raw events, their parsing, and recording the planned jobs in the ledger."""
