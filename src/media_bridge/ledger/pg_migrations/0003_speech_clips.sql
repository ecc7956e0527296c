-- Enrolment progress: one row per (speaker key, job key), so a job run again after a
-- crash or for a duplicate event adds nothing; totals are a count and a sum per key.
-- Only the speaker key is kept (it may be a pseudonym), never the audio.
CREATE TABLE speech_clips (
    speaker_key  text NOT NULL,
    job_key      text NOT NULL,
    net_speech_s double precision NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (speaker_key, job_key)
);
