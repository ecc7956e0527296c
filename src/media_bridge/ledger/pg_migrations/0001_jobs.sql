-- The job ledger: one row per idempotency key.
-- due_at is when the row can next be claimed: next_attempt_at for pending/retry,
-- lease_until for running, NULL for done/dead. One partial index on it serves claims.
CREATE TABLE jobs (
    key             text PRIMARY KEY,
    kind            text NOT NULL,
    payload         jsonb NOT NULL,
    state           text NOT NULL CHECK (state IN ('pending', 'running', 'done', 'retry', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    due_at          timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    error_code      text,
    result          jsonb,
    worker_id       text,
    lease_until     timestamptz
);

CREATE INDEX jobs_due ON jobs (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX jobs_state ON jobs (state, created_at);

CREATE TABLE rejected_events (
    id          bigserial PRIMARY KEY,
    source      text NOT NULL,
    reason      text NOT NULL,
    raw         bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
