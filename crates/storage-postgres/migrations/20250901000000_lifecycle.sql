-- The ticket lifecycle after issuance (void, refund, exchange, use) and invoices of flight bookings. Columns
-- match the SQLite backend's 0005_lifecycle.sql; types are PostgreSQL's own.

-- Refunds of this agency wait for an admin's approval (`TORFND`).
ALTER TABLE agencies ADD COLUMN refund_approval BOOLEAN NOT NULL DEFAULT false;

-- What the agency paid for the ticket (its total less its share of the commission). NULL on tickets issued
-- before this column existed, and read as the total. And the penalty asked for with a refund awaiting approval.
ALTER TABLE tickets
    ADD COLUMN charged_minor         BIGINT NULL,
    ADD COLUMN pending_penalty_minor BIGINT NULL;

-- When the coupon was first used (flown, scanned).
ALTER TABLE coupons ADD COLUMN used_at TIMESTAMPTZ NULL;

-- Invoices now belong to a booking, and only event invoices to a booking order. Every invoice so far was an
-- event invoice: its booking is its order's.
ALTER TABLE invoices ADD COLUMN booking_id UUID NULL REFERENCES bookings (id);
UPDATE invoices i SET booking_id = o.booking_id FROM booking_orders o WHERE o.id = i.order_id;
ALTER TABLE invoices
    ALTER COLUMN booking_id SET NOT NULL,
    ALTER COLUMN order_id DROP NOT NULL;
CREATE INDEX invoices_booking_idx ON invoices (booking_id, number);
