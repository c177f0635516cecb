-- The ticket lifecycle after issuance (void, refund, exchange, use) and invoices of flight bookings.

-- Refunds of this agency wait for an admin's approval (`TORFND`). 0 or 1.
ALTER TABLE agencies ADD COLUMN refund_approval INTEGER NOT NULL DEFAULT 0;

-- What the agency paid for the ticket (its total less its share of the commission). NULL on tickets issued
-- before this column existed, and read as the total.
ALTER TABLE tickets ADD COLUMN charged_minor INTEGER;
-- The penalty asked for with a refund awaiting approval.
ALTER TABLE tickets ADD COLUMN pending_penalty_minor INTEGER;

-- When the coupon was first used (flown, scanned).
ALTER TABLE coupons ADD COLUMN used_at TEXT;

-- Invoices now belong to a booking, and only event invoices to a booking order. SQLite cannot drop NOT NULL,
-- so the table is rebuilt with the same constraints; nothing references it, so it can be dropped as it is.
CREATE TABLE invoices_lifecycle (
    agency_id   TEXT    NOT NULL REFERENCES agencies (id),
    number      INTEGER NOT NULL,
    booking_id  TEXT    NOT NULL REFERENCES bookings (id),
    -- NULL for flight invoices.
    order_id    TEXT    REFERENCES booking_orders (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('invoice', 'credit')),
    gross_minor INTEGER NOT NULL,
    currency    TEXT    NOT NULL,
    issued_at   TEXT    NOT NULL,
    -- The whole invoice (lines, totals, what it credits and covers) as JSON.
    detail      TEXT    NOT NULL,
    PRIMARY KEY (agency_id, number)
);
-- Every invoice so far was an event invoice: its booking is its order's.
INSERT INTO invoices_lifecycle (agency_id, number, booking_id, order_id, kind, gross_minor, currency, issued_at,
                                detail)
SELECT i.agency_id, i.number, o.booking_id, i.order_id, i.kind, i.gross_minor, i.currency, i.issued_at, i.detail
FROM invoices i JOIN booking_orders o ON o.id = i.order_id;
DROP TABLE invoices;
ALTER TABLE invoices_lifecycle RENAME TO invoices;
CREATE INDEX invoices_order ON invoices (order_id, number);
CREATE INDEX invoices_booking ON invoices (booking_id, number);
