-- State every user of this database shares: generated secrets (token and link keys when none is configured) and
-- the buckets of per-credential rate limits.
CREATE TABLE shared_secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- GCRA: a bucket is its theoretical arrival time, in microseconds since the Unix epoch.
CREATE TABLE rate_limits (
    key    TEXT PRIMARY KEY,
    tat_us INTEGER NOT NULL
);
