-- What a booking is found by besides its code and status (tessera_core::search): the folded names of its
-- passengers or guests, one per line, and the day it travels (YYYY-MM-DD). NULL until filled: rows stored before
-- this migration are filled in by the server when it opens the database.
ALTER TABLE bookings ADD COLUMN search_names TEXT;
ALTER TABLE bookings ADD COLUMN travel_date TEXT;
CREATE INDEX bookings_agency_travel ON bookings (agency_id, travel_date, id);
