-- Priority classes (media_bridge.jobs.priority): claims take live jobs (0) first, then deferred
-- transcript fetches (1), then backfill (2), each class in due order. Jobs of earlier
-- releases that are still to run get their class from what they are: a backfill job by its
-- payload's event topic, a transcript fetch deferred, the rest live.
ALTER TABLE jobs ADD COLUMN priority smallint NOT NULL DEFAULT 0;
UPDATE jobs SET priority = 2
    WHERE state IN ('pending', 'retry', 'running') AND payload -> 'event' ->> 'topic' = 'backfill';
UPDATE jobs SET priority = 1
    WHERE state IN ('pending', 'retry', 'running') AND kind = 'transcript' AND priority = 0;
-- claims walk this one; jobs_due (due_at alone) stays for the sweep of crashing jobs
CREATE INDEX jobs_due_by_priority ON jobs (priority, due_at) WHERE due_at IS NOT NULL;
