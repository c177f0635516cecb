-- Booker codes: the agents or representatives an agency lets book in its name (`bookerCode` of the GDS profile).
CREATE TABLE booker_codes (
    agency_id UUID NOT NULL REFERENCES agencies (id),
    code      TEXT NOT NULL,
    CONSTRAINT booker_codes_pkey PRIMARY KEY (agency_id, code)
);
