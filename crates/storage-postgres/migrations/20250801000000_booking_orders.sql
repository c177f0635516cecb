-- Event bookings: booking orders (one per event, items as JSONB), invoices with gapless numbers per agency,
-- documents that know their order, and the VAT rate an agency's event prices include. Tables and columns
-- match the SQLite backend's 0004_booking_orders.sql; types are PostgreSQL's own.

-- A decimal kept as text, like commission_cap_percent, so both backends store it exactly the same way.
ALTER TABLE agencies ADD COLUMN vat_percent TEXT NOT NULL DEFAULT '0';

CREATE TABLE booking_orders (
    -- `{32 hex digits}_bkn`, the events API's id shape, not a UUID.
    id              TEXT        NOT NULL,
    booking_id      UUID        NOT NULL REFERENCES bookings (id),
    agency_id       UUID        NOT NULL REFERENCES agencies (id),
    -- The order's index in the booking's `orders`.
    position        INT         NOT NULL,
    event_id        TEXT        NOT NULL,
    logistic_status TEXT        NOT NULL,
    currency        TEXT        NOT NULL,
    -- The booking's creation time: listings sort by it.
    created_at      TIMESTAMPTZ NOT NULL,
    -- The event and the order items (tickets, download items): always read whole, filtered by the columns.
    event           JSONB       NOT NULL,
    items           JSONB       NOT NULL,
    CONSTRAINT booking_orders_pkey PRIMARY KEY (id),
    CONSTRAINT booking_orders_booking_position_key UNIQUE (booking_id, position),
    CONSTRAINT booking_orders_logistic_status_check
        CHECK (logistic_status IN ('processing', 'completed', 'cancelled'))
);
-- Lookups by booking use the unique index above.
CREATE INDEX booking_orders_agency_idx ON booking_orders (agency_id, created_at);
CREATE INDEX booking_orders_event_idx ON booking_orders (event_id);

-- Downloads, zips and invoice PDFs belong to an order; ticket and issuance documents have none.
ALTER TABLE documents ADD COLUMN order_id TEXT NULL REFERENCES booking_orders (id);
CREATE INDEX documents_order_idx ON documents (order_id);

-- The next invoice number per agency; only ever grows, and only inside committed issuances, so the numbers
-- an agency hands out have no gaps (see `orders.rs`).
CREATE TABLE invoice_serials (
    agency_id   UUID   NOT NULL REFERENCES agencies (id),
    next_number BIGINT NOT NULL,
    CONSTRAINT invoice_serials_pkey PRIMARY KEY (agency_id)
);

CREATE TABLE invoices (
    agency_id   UUID        NOT NULL REFERENCES agencies (id),
    number      BIGINT      NOT NULL,
    order_id    TEXT        NOT NULL REFERENCES booking_orders (id),
    kind        TEXT        NOT NULL,
    gross_minor BIGINT      NOT NULL,
    currency    TEXT        NOT NULL,
    issued_at   TIMESTAMPTZ NOT NULL,
    -- The whole invoice (lines, totals, what it credits).
    detail      JSONB       NOT NULL,
    CONSTRAINT invoices_pkey PRIMARY KEY (agency_id, number),
    CONSTRAINT invoices_kind_check CHECK (kind IN ('invoice', 'credit'))
);
CREATE INDEX invoices_order_idx ON invoices (order_id, number);

-- The access log lists one action (`document.download`) across agencies.
CREATE INDEX audit_action_idx ON audit (action, id);
