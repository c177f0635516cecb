-- Event bookings: booking orders (one per event, items as JSON), invoices with gapless numbers per agency,
-- documents that know their order, and the VAT rate an agency's event prices include.

ALTER TABLE agencies ADD COLUMN vat_percent TEXT NOT NULL DEFAULT '0';

CREATE TABLE booking_orders (
    id              TEXT    NOT NULL PRIMARY KEY,
    booking_id      TEXT    NOT NULL REFERENCES bookings (id),
    agency_id       TEXT    NOT NULL REFERENCES agencies (id),
    -- The order's index in the booking's `orders`.
    position        INTEGER NOT NULL,
    event_id        TEXT    NOT NULL,
    logistic_status TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    -- The event and the order items (tickets, download items) as JSON: read whole, filtered by the columns.
    event           TEXT    NOT NULL,
    items           TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    UNIQUE (booking_id, position)
);
CREATE INDEX booking_orders_agency ON booking_orders (agency_id, created_at);
CREATE INDEX booking_orders_event ON booking_orders (event_id);

ALTER TABLE documents ADD COLUMN order_id TEXT;
CREATE INDEX documents_order ON documents (order_id);

CREATE TABLE invoice_serials (
    agency_id   TEXT    NOT NULL PRIMARY KEY REFERENCES agencies (id),
    -- The next number to hand out.
    next_number INTEGER NOT NULL
);

CREATE TABLE invoices (
    agency_id   TEXT    NOT NULL REFERENCES agencies (id),
    number      INTEGER NOT NULL,
    order_id    TEXT    NOT NULL REFERENCES booking_orders (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('invoice', 'credit')),
    gross_minor INTEGER NOT NULL,
    currency    TEXT    NOT NULL,
    issued_at   TEXT    NOT NULL,
    -- The whole invoice (lines, totals, what it credits) as JSON.
    detail      TEXT    NOT NULL,
    PRIMARY KEY (agency_id, number)
);
CREATE INDEX invoices_order ON invoices (order_id, number);
