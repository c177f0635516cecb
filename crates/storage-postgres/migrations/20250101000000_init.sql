-- Tessera schema, PostgreSQL flavour. Tables and column names match the SQLite backend exactly; types are
-- PostgreSQL's native ones (UUID, TIMESTAMPTZ, DATE, JSONB, BIGINT, BYTEA). Constraint names are spelled
-- out because the backend maps unique violations to client-facing words by constraint name.

CREATE TABLE agencies (
    id                 UUID        NOT NULL,
    name               TEXT        NOT NULL,
    currency           TEXT        NOT NULL,
    balance_minor      BIGINT      NOT NULL DEFAULT 0,
    credit_limit_minor BIGINT      NOT NULL,
    office_id          TEXT        NULL,
    iata_number        TEXT        NULL,
    timezone           TEXT        NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    CONSTRAINT agencies_pkey PRIMARY KEY (id),
    -- The last line of defence for money: no code path can push a balance past the credit limit.
    CONSTRAINT agencies_balance_within_credit CHECK (balance_minor >= -credit_limit_minor)
);

CREATE TABLE carrier_agreements (
    agency_id              UUID    NOT NULL REFERENCES agencies (id),
    carrier                TEXT    NOT NULL,
    authorized             BOOLEAN NOT NULL,
    -- A decimal kept as text so both backends store it exactly the same way.
    commission_cap_percent TEXT    NULL,
    CONSTRAINT carrier_agreements_pkey PRIMARY KEY (agency_id, carrier)
);

CREATE TABLE tour_codes (
    agency_id  UUID NOT NULL REFERENCES agencies (id),
    code       TEXT NOT NULL,
    carrier    TEXT NOT NULL,
    valid_from DATE NULL,
    valid_to   DATE NULL,
    CONSTRAINT tour_codes_pkey PRIMARY KEY (agency_id, code, carrier)
);

CREATE TABLE corporate_accounts (
    agency_id UUID NOT NULL REFERENCES agencies (id),
    code      TEXT NOT NULL,
    CONSTRAINT corporate_accounts_pkey PRIMARY KEY (agency_id, code)
);

CREATE TABLE users (
    id            UUID        NOT NULL,
    username      TEXT        NOT NULL,
    password_hash TEXT        NOT NULL,
    role          TEXT        NOT NULL,
    agency_id     UUID        NULL REFERENCES agencies (id),
    created_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_username_key UNIQUE (username)
);
CREATE INDEX users_agency_idx ON users (agency_id);

CREATE TABLE api_keys (
    id         UUID        NOT NULL,
    user_id    UUID        NOT NULL REFERENCES users (id),
    key_hash   TEXT        NOT NULL,
    prefix     TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ NULL,
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

CREATE TABLE bookings (
    id         UUID        NOT NULL,
    agency_id  UUID        NOT NULL REFERENCES agencies (id),
    kind       TEXT        NOT NULL,
    code       TEXT        NOT NULL,
    status     TEXT        NOT NULL,
    created_by UUID        NULL,
    created_at TIMESTAMPTZ NOT NULL,
    detail     JSONB       NOT NULL,
    CONSTRAINT bookings_pkey PRIMARY KEY (id),
    CONSTRAINT bookings_agency_code_key UNIQUE (agency_id, code)
);
-- Scope::All looks bookings up by code across agencies.
CREATE INDEX bookings_code_idx ON bookings (code);

CREATE TABLE issuances (
    id               UUID        NOT NULL,
    booking_id       UUID        NOT NULL REFERENCES bookings (id),
    agency_id        UUID        NOT NULL,
    amount_minor     BIGINT      NOT NULL,
    commission_minor BIGINT      NOT NULL,
    currency         TEXT        NOT NULL,
    issued_at        TIMESTAMPTZ NOT NULL,
    issued_by        UUID        NULL,
    attributes       JSONB       NOT NULL,
    CONSTRAINT issuances_pkey PRIMARY KEY (id),
    CONSTRAINT issuances_booking_id_key UNIQUE (booking_id)
);

CREATE TABLE tickets (
    number         TEXT        NOT NULL,
    issuance_id    UUID        NOT NULL REFERENCES issuances (id),
    booking_id     UUID        NOT NULL,
    agency_id      UUID        NOT NULL,
    -- Position in the issuance draft, so tickets come back in the order they were planned.
    ordinal        INT         NOT NULL,
    passenger_id   TEXT        NOT NULL,
    kind           TEXT        NOT NULL,
    status         TEXT        NOT NULL,
    base_minor     BIGINT      NOT NULL,
    total_minor    BIGINT      NOT NULL,
    currency       TEXT        NOT NULL,
    taxes          JSONB       NOT NULL,
    service        JSONB       NULL,
    related_number TEXT        NULL,
    related_type   TEXT        NULL,
    issued_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT tickets_pkey PRIMARY KEY (number)
);
CREATE INDEX tickets_issuance_idx ON tickets (issuance_id, ordinal);
CREATE INDEX tickets_booking_idx ON tickets (booking_id);

CREATE TABLE coupons (
    ticket_number  TEXT NOT NULL REFERENCES tickets (number),
    number         INT  NOT NULL,
    status         TEXT NOT NULL,
    origin         TEXT NULL,
    destination    TEXT NULL,
    carrier        TEXT NULL,
    flight_number  TEXT NULL,
    departure_date DATE NULL,
    booking_class  TEXT NULL,
    fare_basis     TEXT NULL,
    service_code   TEXT NULL,
    CONSTRAINT coupons_pkey PRIMARY KEY (ticket_number, number)
);

-- The next serial to hand out per accounting prefix; only ever grows, so numbers are never reused.
CREATE TABLE ticket_serials (
    prefix      TEXT   NOT NULL,
    next_serial BIGINT NOT NULL,
    CONSTRAINT ticket_serials_pkey PRIMARY KEY (prefix)
);

CREATE TABLE documents (
    id           UUID        NOT NULL,
    owner_kind   TEXT        NOT NULL,
    owner_key    TEXT        NOT NULL,
    agency_id    UUID        NOT NULL,
    storage_key  TEXT        NOT NULL,
    sha256       TEXT        NOT NULL,
    size         BIGINT      NOT NULL,
    content_type TEXT        NOT NULL,
    filename     TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT documents_pkey PRIMARY KEY (id),
    CONSTRAINT documents_owner_key UNIQUE (owner_kind, owner_key)
);

CREATE TABLE ledger (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY,
    agency_id           UUID        NOT NULL REFERENCES agencies (id),
    kind                TEXT        NOT NULL,
    amount_minor        BIGINT      NOT NULL,
    balance_after_minor BIGINT      NOT NULL,
    currency            TEXT        NOT NULL,
    issuance_id         UUID        NULL,
    note                TEXT        NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    CONSTRAINT ledger_pkey PRIMARY KEY (id)
);
CREATE INDEX ledger_agency_idx ON ledger (agency_id, id);

-- The ledger is the money's history: refuse edits in the database itself, not only by convention.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only';
END;
$$;
CREATE TRIGGER ledger_append_only
    BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE TABLE audit (
    id            BIGINT GENERATED ALWAYS AS IDENTITY,
    agency_id     UUID        NULL,
    user_id       UUID        NULL,
    username      TEXT        NOT NULL,
    client_addr   TEXT        NULL,
    tracking_id   TEXT        NULL,
    action        TEXT        NOT NULL,
    booking_id    UUID        NULL,
    ticket_number TEXT        NULL,
    issuance_id   UUID        NULL,
    outcome       TEXT        NOT NULL,
    detail        JSONB       NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    CONSTRAINT audit_pkey PRIMARY KEY (id)
);
CREATE INDEX audit_agency_idx ON audit (agency_id, id);
CREATE INDEX audit_tracking_idx ON audit (tracking_id);
CREATE INDEX audit_booking_idx ON audit (booking_id);
CREATE INDEX audit_ticket_idx ON audit (ticket_number);

CREATE TABLE idempotency (
    scope_key    TEXT        NOT NULL,
    key          TEXT        NOT NULL,
    request_hash TEXT        NOT NULL,
    status       INT         NULL,
    body         BYTEA       NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT idempotency_pkey PRIMARY KEY (scope_key, key)
);
