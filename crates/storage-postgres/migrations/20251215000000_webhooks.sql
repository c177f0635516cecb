-- Webhooks (Standard Webhooks): endpoints an agency registered, events written in the transaction of the change
-- (the transactional outbox), one delivery per subscribed endpoint, and every attempt. Deliveries are claimed
-- with FOR UPDATE SKIP LOCKED (see `webhooks.rs`).
CREATE TABLE webhooks (
    id          UUID        NOT NULL PRIMARY KEY,
    agency_id   UUID        NOT NULL REFERENCES agencies (id),
    url         TEXT        NOT NULL,
    description TEXT        NULL,
    -- An array of event type names.
    events      JSONB       NOT NULL,
    -- `whsec_<base64>`: kept so that every node can sign.
    secret      TEXT        NOT NULL,
    status      TEXT        NOT NULL CHECK (status IN ('active', 'failing')),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhooks_agency_idx ON webhooks (agency_id, created_at);

CREATE TABLE webhook_events (
    id         UUID        NOT NULL PRIMARY KEY,
    agency_id  UUID        NOT NULL REFERENCES agencies (id),
    event_type TEXT        NOT NULL,
    data       JSONB       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_deliveries (
    id                 UUID        NOT NULL PRIMARY KEY,
    webhook_id         UUID        NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id           UUID        NOT NULL REFERENCES webhook_events (id),
    -- The event's time, copied so deliveries sort and claim in event order without a join.
    event_at           TIMESTAMPTZ NOT NULL,
    status             TEXT        NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts           INT         NOT NULL DEFAULT 0,
    next_attempt_at    TIMESTAMPTZ NOT NULL,
    -- The lease of the node sending it; NULL or past means nobody is.
    locked_until       TIMESTAMPTZ NULL,
    last_response_code INT         NULL,
    last_error         TEXT        NULL,
    delivered_at       TIMESTAMPTZ NULL
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, event_at);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

CREATE TABLE webhook_attempts (
    delivery_id   UUID        NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number        INT         NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    outcome       TEXT        NOT NULL CHECK (outcome IN ('success', 'failure')),
    response_code INT         NULL,
    latency_ms    BIGINT      NOT NULL,
    error         TEXT        NULL,
    PRIMARY KEY (delivery_id, number)
);

-- Per-agency webhook settings: the `balance.low` threshold in minor units of the agency's currency.
CREATE TABLE webhook_settings (
    agency_id         UUID   NOT NULL PRIMARY KEY REFERENCES agencies (id),
    low_balance_minor BIGINT NULL
);
