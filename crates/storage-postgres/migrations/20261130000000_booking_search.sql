-- What a booking is found by besides its code and status (tessera_core::search): the folded names of its
-- passengers or guests, one per line, and the day it travels. NULL until filled: rows stored before this
-- migration are filled in by the server when it connects.
ALTER TABLE bookings ADD COLUMN search_names TEXT, ADD COLUMN travel_date DATE;
CREATE INDEX bookings_agency_travel ON bookings (agency_id, travel_date, id);
