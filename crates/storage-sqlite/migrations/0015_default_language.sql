-- The language of documents and e-mails of the agency's bookings that do not choose one (BCP-47: `en`, `vi`).
-- A booking's own language is stored in its detail JSON, resolved at intake.
ALTER TABLE agencies ADD COLUMN default_language TEXT NOT NULL DEFAULT 'en';
