-- The e-mail outbox: messages are stored first and sent afterwards, by whichever node claims them.
-- Timestamps here are written with a fixed six-digit fraction in UTC, so comparing them as text (due,
-- lease expired) compares the instants.
CREATE TABLE outbox (
    id              TEXT    NOT NULL PRIMARY KEY,
    agency_id       TEXT    REFERENCES agencies (id),
    booking_id      TEXT,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    text_body       TEXT    NOT NULL,
    html_body       TEXT    NOT NULL,
    -- A JSON array of {filename, storage_key, sha256, content_type}.
    attachments     TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TEXT    NOT NULL,
    -- The lease of the node sending it; NULL or past means nobody is.
    locked_until    TEXT,
    created_at      TEXT    NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_agency ON outbox (agency_id, created_at);
