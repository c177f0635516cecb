-- The Ed25519 keys that sign gate payloads (QR codes, wallet passes), shared by every node. A retired key
-- neither signs nor verifies; rows are never deleted, so a retired key id is never reused.
CREATE TABLE signing_keys (
    kid        TEXT PRIMARY KEY,
    seed       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    retired_at TIMESTAMPTZ
);
