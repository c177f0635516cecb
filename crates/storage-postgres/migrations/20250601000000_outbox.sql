-- The e-mail outbox: messages are stored first and sent afterwards, by whichever node claims them (see
-- `outbox.rs`: claims lock with FOR UPDATE SKIP LOCKED, so nodes never claim the same message).
CREATE TABLE outbox (
    id              UUID        NOT NULL,
    agency_id       UUID        NULL REFERENCES agencies (id),
    booking_id      UUID        NULL,
    recipient       TEXT        NOT NULL,
    subject         TEXT        NOT NULL,
    text_body       TEXT        NOT NULL,
    html_body       TEXT        NOT NULL,
    -- An array of {filename, storage_key, sha256, content_type}.
    attachments     JSONB       NOT NULL,
    status          TEXT        NOT NULL,
    attempts        INT         NOT NULL DEFAULT 0,
    last_error      TEXT        NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    -- The lease of the node sending it; NULL or past means nobody is.
    locked_until    TIMESTAMPTZ NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ NULL,
    CONSTRAINT outbox_pkey PRIMARY KEY (id),
    CONSTRAINT outbox_status_check CHECK (status IN ('queued', 'sent', 'failed'))
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);
CREATE INDEX outbox_agency_idx ON outbox (agency_id, created_at);
