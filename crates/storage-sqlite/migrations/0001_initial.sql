-- Tessera schema for SQLite. Same tables and columns as the PostgreSQL backend; types differ:
-- UUIDs are hyphenated lower-case TEXT (so they read well in the sqlite3 shell and sort like the UUID bytes),
-- timestamps are RFC 3339 TEXT, dates are YYYY-MM-DD TEXT, JSON is TEXT, money is INTEGER minor units.

CREATE TABLE agencies (
    id                 TEXT    NOT NULL PRIMARY KEY,
    name               TEXT    NOT NULL,
    currency           TEXT    NOT NULL,
    balance_minor      INTEGER NOT NULL DEFAULT 0,
    credit_limit_minor INTEGER NOT NULL,
    office_id          TEXT,
    iata_number        TEXT,
    timezone           TEXT    NOT NULL,
    created_at         TEXT    NOT NULL,
    -- The last line of defence: every debit also checks this in its WHERE clause.
    CHECK (balance_minor >= -credit_limit_minor)
);

CREATE TABLE carrier_agreements (
    agency_id              TEXT    NOT NULL REFERENCES agencies (id),
    carrier                TEXT    NOT NULL,
    authorized             INTEGER NOT NULL,
    -- A decimal as text: SQLite has no exact decimal type.
    commission_cap_percent TEXT,
    PRIMARY KEY (agency_id, carrier)
);

CREATE TABLE tour_codes (
    agency_id  TEXT NOT NULL REFERENCES agencies (id),
    code       TEXT NOT NULL,
    carrier    TEXT NOT NULL,
    valid_from TEXT,
    valid_to   TEXT,
    PRIMARY KEY (agency_id, code, carrier)
);

CREATE TABLE corporate_accounts (
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    code      TEXT NOT NULL,
    PRIMARY KEY (agency_id, code)
);

CREATE TABLE users (
    id            TEXT NOT NULL PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    agency_id     TEXT REFERENCES agencies (id),
    created_at    TEXT NOT NULL
);
CREATE INDEX users_agency ON users (agency_id);

CREATE TABLE api_keys (
    id         TEXT NOT NULL PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    key_hash   TEXT NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE bookings (
    id         TEXT NOT NULL PRIMARY KEY,
    agency_id  TEXT NOT NULL REFERENCES agencies (id),
    kind       TEXT NOT NULL CHECK (kind IN ('flight', 'event')),
    code       TEXT NOT NULL,
    status     TEXT NOT NULL,
    created_by TEXT,
    created_at TEXT NOT NULL,
    detail     TEXT NOT NULL,
    UNIQUE (agency_id, code)
);
CREATE INDEX bookings_created_by ON bookings (created_by);
-- find_booking_by_code with Scope::All has no agency to lead with.
CREATE INDEX bookings_code ON bookings (code);

CREATE TABLE issuances (
    id               TEXT    NOT NULL PRIMARY KEY,
    booking_id       TEXT    NOT NULL UNIQUE REFERENCES bookings (id),
    agency_id        TEXT    NOT NULL REFERENCES agencies (id),
    amount_minor     INTEGER NOT NULL,
    commission_minor INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    issued_at        TEXT    NOT NULL,
    issued_by        TEXT,
    attributes       TEXT    NOT NULL
);

CREATE TABLE tickets (
    number         TEXT    NOT NULL PRIMARY KEY,
    issuance_id    TEXT    NOT NULL REFERENCES issuances (id),
    booking_id     TEXT    NOT NULL REFERENCES bookings (id),
    agency_id      TEXT    NOT NULL REFERENCES agencies (id),
    -- Position in the issuance draft, so tickets come back in the order they were planned.
    ordinal        INTEGER NOT NULL,
    passenger_id   TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    base_minor     INTEGER NOT NULL,
    total_minor    INTEGER NOT NULL,
    currency       TEXT    NOT NULL,
    taxes          TEXT    NOT NULL,
    service        TEXT,
    related_number TEXT,
    related_type   TEXT,
    issued_at      TEXT    NOT NULL
);
CREATE INDEX tickets_issuance ON tickets (issuance_id, ordinal);
CREATE INDEX tickets_booking ON tickets (booking_id);

CREATE TABLE coupons (
    ticket_number  TEXT    NOT NULL REFERENCES tickets (number),
    number         INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    origin         TEXT,
    destination    TEXT,
    carrier        TEXT,
    flight_number  TEXT,
    departure_date TEXT,
    booking_class  TEXT,
    fare_basis     TEXT,
    service_code   TEXT,
    PRIMARY KEY (ticket_number, number)
);

CREATE TABLE ticket_serials (
    prefix      TEXT    NOT NULL PRIMARY KEY,
    -- The next serial to hand out.
    next_serial INTEGER NOT NULL
);

CREATE TABLE documents (
    id           TEXT    NOT NULL PRIMARY KEY,
    owner_kind   TEXT    NOT NULL,
    owner_key    TEXT    NOT NULL,
    agency_id    TEXT    NOT NULL REFERENCES agencies (id),
    storage_key  TEXT    NOT NULL,
    sha256       TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    content_type TEXT    NOT NULL,
    filename     TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    UNIQUE (owner_kind, owner_key)
);

-- Append-only: the code never updates or deletes a row here.
CREATE TABLE ledger (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id           TEXT    NOT NULL REFERENCES agencies (id),
    kind                TEXT    NOT NULL,
    amount_minor        INTEGER NOT NULL,
    balance_after_minor INTEGER NOT NULL,
    currency            TEXT    NOT NULL,
    issuance_id         TEXT,
    note                TEXT,
    created_at          TEXT    NOT NULL
);
CREATE INDEX ledger_agency ON ledger (agency_id, id);

-- No foreign keys: the trail must record refused and failed attempts, whatever they referred to.
CREATE TABLE audit (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id     TEXT,
    user_id       TEXT,
    username      TEXT NOT NULL,
    client_addr   TEXT,
    tracking_id   TEXT,
    action        TEXT NOT NULL,
    booking_id    TEXT,
    ticket_number TEXT,
    issuance_id   TEXT,
    outcome       TEXT NOT NULL,
    detail        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX audit_tracking_id ON audit (tracking_id);
CREATE INDEX audit_booking_id ON audit (booking_id);
CREATE INDEX audit_ticket_number ON audit (ticket_number);
CREATE INDEX audit_agency ON audit (agency_id, id);

CREATE TABLE idempotency (
    scope_key    TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    -- NULL while the first request is still running.
    status       INTEGER,
    body         BLOB,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (scope_key, key)
);
