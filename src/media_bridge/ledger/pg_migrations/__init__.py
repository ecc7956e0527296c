"""SQL migrations of the PostgreSQL ledger (data files)."""
