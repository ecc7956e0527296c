-- Earlier releases kept the caller's ANI in recording payloads (payload.call.ani): scrub it.
UPDATE jobs SET payload = payload #- '{call,ani}'
    WHERE kind = 'recording' AND payload -> 'call' ? 'ani';
