-- A reopen that arrives while a job is running: the job runs once more after it completes
-- (same semantics as the SQLite ledger's rerun flag).
ALTER TABLE jobs ADD COLUMN rerun boolean NOT NULL DEFAULT false;
