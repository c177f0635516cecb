-- Idempotency claims become leases (issue 13): the holder's lease ends at `locked_until` (Unix milliseconds;
-- NULL, as on claims from before, counts as ended), `token` names the holder (a takeover issues a new one),
-- and `effect` records what the request did, written in the transaction that did it.
ALTER TABLE idempotency ADD COLUMN locked_until BIGINT NULL;
ALTER TABLE idempotency ADD COLUMN token TEXT NULL;
ALTER TABLE idempotency ADD COLUMN effect TEXT NULL;
