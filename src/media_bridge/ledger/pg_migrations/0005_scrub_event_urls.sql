-- Earlier releases kept an event's media URL (signed URLs included) in attachment
-- payloads (payload.url): keep only a plain Downloads link (the only kind ever used).
UPDATE jobs SET payload = payload - 'url'
    WHERE kind = 'attachment' AND jsonb_typeof(payload -> 'url') IS NOT NULL
    AND jsonb_typeof(payload -> 'url') <> 'null'
    AND NOT (
        jsonb_typeof(payload -> 'url') = 'string'
        AND payload ->> 'url' ~ '^https?://[^/?#@]+/api/v2/downloads/[A-Za-z0-9_-]+$'
    );
