-- Webhooks (Standard Webhooks): endpoints an agency registered, events written in the transaction of the change
-- (the transactional outbox), one delivery per subscribed endpoint, and every attempt. Timestamps are written
-- with a fixed six-digit fraction in UTC (as in the e-mail outbox), so comparing them as text compares instants.
CREATE TABLE webhooks (
    id          TEXT NOT NULL PRIMARY KEY,
    agency_id   TEXT NOT NULL REFERENCES agencies (id),
    url         TEXT NOT NULL,
    description TEXT,
    -- A JSON array of event type names.
    events      TEXT NOT NULL,
    -- `whsec_<base64>`: kept so that every node can sign.
    secret      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'failing')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX webhooks_agency ON webhooks (agency_id, created_at);

CREATE TABLE webhook_events (
    id         TEXT NOT NULL PRIMARY KEY,
    agency_id  TEXT NOT NULL REFERENCES agencies (id),
    event_type TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id                 TEXT    NOT NULL PRIMARY KEY,
    webhook_id         TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id           TEXT    NOT NULL REFERENCES webhook_events (id),
    -- The event's time, copied so deliveries sort and claim in event order without a join.
    event_at           TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    TEXT    NOT NULL,
    -- The lease of the node sending it; NULL or past means nobody is.
    locked_until       TEXT,
    last_response_code INTEGER,
    last_error         TEXT,
    delivered_at       TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, event_at);

CREATE TABLE webhook_attempts (
    delivery_id   TEXT    NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number        INTEGER NOT NULL,
    at            TEXT    NOT NULL,
    outcome       TEXT    NOT NULL CHECK (outcome IN ('success', 'failure')),
    response_code INTEGER,
    latency_ms    INTEGER NOT NULL,
    error         TEXT,
    PRIMARY KEY (delivery_id, number)
);

-- Per-agency webhook settings: the `balance.low` threshold in minor units of the agency's currency.
CREATE TABLE webhook_settings (
    agency_id          TEXT    NOT NULL PRIMARY KEY REFERENCES agencies (id),
    low_balance_minor  INTEGER
);
