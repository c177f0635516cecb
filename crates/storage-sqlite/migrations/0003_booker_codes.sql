-- Booker codes: the agents or representatives an agency lets book in its name (`bookerCode` of the GDS profile).
CREATE TABLE booker_codes (
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    code      TEXT NOT NULL,
    PRIMARY KEY (agency_id, code)
);
