//! The JSON Schema of the booking intake document (`POST /api/v1/bookings`), as strict as the intake parser in
//! `tessera_core::intake`: the same fields, the same code formats, the same lengths (counted after the surrounding
//! white space the parser trims). What a schema cannot state — fares that add up, segments in time order, a known
//! airport or airline, a passenger id that exists — stays the parser's, and is answered 422 (docs/api.md).

use serde_json::{json, Value};

/// Non-control white space the parser trims (`str::trim`; control characters never get that far: the edge refuses
/// them), as a character class body.
const SPACE: &str = " \\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
/// Neither a control character nor white space.
const VISIBLE: &str = "^\\u0000-\\u0020\\u007F-\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
/// Not a control character.
const NOT_CONTROL: &str = "^\\u0000-\\u001F\\u007F-\\u009F";

/// Text of 1 to `max` characters once trimmed, with no control character.
pub(crate) fn trimmed_text_pattern(max: usize) -> String {
    format!("^[{SPACE}]*{}[{SPACE}]*$", trimmed_core(max))
}

/// 1 to `max` characters, the first and last not white space.
fn trimmed_core(max: usize) -> String {
    let inner = max.saturating_sub(2);
    format!("[{VISIBLE}]([{NOT_CONTROL}]{{0,{inner}}}[{VISIBLE}])?")
}

/// What the parser takes for an e-mail address: something, `@`, then a domain with a dot inside it, no white space.
fn email_pattern() -> String {
    format!("^[{SPACE}]*[{VISIBLE}@]+@[{VISIBLE}.][{VISIBLE}]*\\.[{VISIBLE}]*[{VISIBLE}.][{SPACE}]*$")
}

fn text(max: usize) -> Value {
    json!({"type": "string", "pattern": trimmed_text_pattern(max)})
}

fn code(pattern: &str, description: &str) -> Value {
    json!({"type": "string", "pattern": pattern, "description": description})
}

fn time() -> Value {
    json!({"type": "string", "format": "date-time", "description": "RFC 3339 time with its UTC offset"})
}

fn one_of(values: &[&str]) -> Value {
    json!({"type": "string", "enum": values})
}

/// An object of the given properties, none other, with `required` ones. The parser takes `null` for a property it
/// may go without as if it were absent, so each of those admits `null` too.
fn object(mut properties: Value, required: &[&str]) -> Value {
    if let Some(map) = properties.as_object_mut() {
        for (name, schema) in map.iter_mut() {
            if !required.contains(&name.as_str()) {
                *schema = json!({"anyOf": [schema.take(), {"type": "null"}]});
            }
        }
    }
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

fn array(items: Value, min: usize, max: Option<usize>) -> Value {
    let mut schema = json!({"type": "array", "items": items, "minItems": min});
    if let Some(max) = max {
        schema["maxItems"] = json!(max);
    }
    schema
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The component schemas of the document, by name.
pub(crate) fn components() -> Vec<(&'static str, Value)> {
    let currency = code("^[A-Z]{3}$", "ISO 4217 currency code; amounts are in its major units");
    let carrier = code("^([A-Z][A-Z0-9]|[0-9][A-Z])$", "IATA airline designator");
    let passenger_type = one_of(&["ADT", "CHD", "INF"]);
    let language = code(
        "^([Ee][Nn]|[Vv][Ii])(-[A-Za-z0-9]{1,8})*$",
        "BCP-47 tag of the language of the booking's documents and e-mails, `en` or `vi` (a region such as `vi-VN` \
         is accepted and dropped); without it, the agency's `default_language`",
    );
    let upper_alnum = |min: usize, max: usize, what: &str| code(&format!("^[A-Z0-9]{{{min},{max}}}$"), what);
    let place = object(
        json!({
            "airport": code("^[A-Z]{3}$", "IATA airport code; names come from reference data unless given"),
            "airport_name": text(96), "city": text(96), "country": text(96),
            "terminal": {"type": "string", "pattern": format!("^[{SPACE}]*({})?[{SPACE}]*$", trimmed_core(8)),
                         "description": "up to 8 characters; empty when unknown"},
            "time": time(),
        }),
        &["airport", "time"],
    );
    let flight = object(
        json!({
            "type": {"const": "flight"},
            "agency_id": {"type": "string", "description": "admins only: the id (a UUID) of the agency booked for"},
            "pnr": upper_alnum(5, 8, "record locator"),
            "system": upper_alnum(2, 3, "ticketing system, e.g. 1A"),
            "validating_carrier": carrier.clone(),
            "trip_type": one_of(&["oneway", "round", "multicity"]),
            "currency": currency.clone(),
            "ticketing_deadline": time(),
            "contact": reference("BookingContact"),
            "passengers": array(reference("BookingPassenger"), 1, Some(9)),
            "journeys": array(reference("BookingJourney"), 1, None),
            "fares": array(reference("BookingFare"), 1, None),
            "cashback": reference("Amount"),
            "services": array(reference("BookingService"), 0, None),
            "endorsement": text(200),
            "refundable": {"type": "boolean", "default": true},
            "distribution": one_of(&["gds", "ndc"]),
            "payment": {"type": "object", "description": "NDC payment details, kept as given"},
            "language": language.clone(),
        }),
        &[
            "type",
            "pnr",
            "system",
            "validating_carrier",
            "trip_type",
            "currency",
            "ticketing_deadline",
            "contact",
            "passengers",
            "journeys",
            "fares",
        ],
    );
    let event = object(
        json!({
            "type": {"const": "event"},
            "agency_id": {"type": "string", "description": "admins only: the id (a UUID) of the agency booked for"},
            "booking_code": code("^[A-Za-z0-9_-]{1,64}$", "the distributor's booking code"),
            "currency": currency,
            "contact": reference("BookingContact"),
            "invoice_reference": text(64),
            "orders": array(reference("BookingEventOrder"), 1, None),
            "language": language,
        }),
        &["type", "booking_code", "currency", "contact", "orders"],
    );
    vec![
        (
            "BookingDocument",
            json!({
                "description": "A booking document of the intake contract (examples/bookings/*.json): a flight or an event",
                "oneOf": [reference("FlightBookingDocument"), reference("EventBookingDocument")],
                "discriminator": {"propertyName": "type", "mapping": {
                    "flight": "#/components/schemas/FlightBookingDocument",
                    "event": "#/components/schemas/EventBookingDocument"}},
            }),
        ),
        ("FlightBookingDocument", flight),
        ("EventBookingDocument", event),
        (
            "Amount",
            json!({
                "description": "a non-negative amount in major units, as a JSON number or a decimal string; \
                                no more decimals than the currency's minor unit",
                "anyOf": [
                    {"type": "number", "minimum": 0},
                    {"type": "string", "pattern": format!("^[{SPACE}]*[0-9]+(\\.[0-9]+)?[{SPACE}]*$")}
                ]
            }),
        ),
        (
            "BookingContact",
            object(
                json!({"email": {"type": "string", "pattern": email_pattern(),
                             "description": "an e-mail address of at most 254 characters"},
                   "phone": text(32)}),
                &["email"],
            ),
        ),
        (
            "BookingPassenger",
            object(
                json!({
                    "id": text(32), "type": passenger_type.clone(), "title": text(8), "surname": text(64),
                    "given_name": text(64), "date_of_birth": {"type": "string", "format": "date"},
                    "accompanied_by": {"type": "string", "description": "an infant's adult: that passenger's id"},
                }),
                &["id", "type", "surname"],
            ),
        ),
        (
            "BookingJourney",
            object(
                json!({
                    "airline_confirmation_code": text(16),
                    "baggage": object(json!({"cabin": text(32), "checked": text(32)}), &[]),
                    "segments": array(reference("BookingSegment"), 1, Some(16)),
                }),
                &["segments"],
            ),
        ),
        (
            "BookingSegment",
            object(
                json!({
                    "carrier": carrier, "carrier_name": text(64),
                    "flight_number": code("^[0-9]{1,4}[A-Z]?$", "1-4 digits, optionally followed by a letter"),
                    "equipment": text(64),
                    "booking_class": code("^[A-Z]$", "one letter"),
                    "fare_basis": code("^[A-Z0-9/]{1,15}$", "fare basis code"),
                    "departure": place.clone(), "arrival": place,
                }),
                &["carrier", "flight_number", "booking_class", "fare_basis", "departure", "arrival"],
            ),
        ),
        (
            "BookingFare",
            object(
                json!({
                    "passenger_type": passenger_type,
                    "base": reference("Amount"),
                    "taxes": array(object(json!({"code": upper_alnum(2, 3, "tax code"), "amount": reference("Amount")}),
                                          &["code", "amount"]), 0, None),
                    "total": reference("Amount"),
                }),
                &["passenger_type", "base", "total"],
            ),
        ),
        (
            "BookingService",
            object(
                json!({
                    "passenger_id": text(32), "type": one_of(&["BAGGAGE", "SEAT", "SSR"]),
                    "code": upper_alnum(1, 8, "service code"), "description": text(70), "amount": reference("Amount"),
                }),
                &["passenger_id", "type", "code", "description", "amount"],
            ),
        ),
        (
            "BookingEventOrder",
            object(
                json!({
                    "event": object(
                        json!({"id": text(64), "name": text(128), "venue": text(128), "starts_at": time(), "ends_at": time(),
                               "location": object(
                                   json!({"latitude": {"type": "number", "minimum": -90, "maximum": 90},
                                          "longitude": {"type": "number", "minimum": -180, "maximum": 180}}),
                                   &["latitude", "longitude"])}),
                        &["id", "name", "venue", "starts_at"]),
                    "items": array(reference("BookingEventItem"), 1, None),
                }),
                &["event", "items"],
            ),
        ),
        (
            "BookingEventItem",
            object(
                json!({
                    "ticket_name": text(128), "category": text(64),
                    "quantity": {"type": "integer", "minimum": 1, "maximum": 50},
                    "unit_price": reference("Amount"),
                    "distribution_channel": one_of(&["xs2event", "external", "external_end_client"]),
                    "pdfs_per_ticket": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
                    "guests": array(object(json!({"first_name": text(64), "last_name": text(64), "lead_guest": {"type": "boolean"}}),
                                           &["first_name", "last_name"]), 0, Some(50)),
                    "seats": array(object(json!({"section": text(32), "row": text(32), "seat": text(32)}), &[]), 0, Some(50)),
                }),
                &["ticket_name", "category", "quantity", "unit_price"],
            ),
        ),
    ]
}

/// Puts the schemas into the native document and points `POST /api/v1/bookings` at them.
pub(crate) fn install(doc: &mut Value) {
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (name, schema) in components() {
            schemas.insert(name.to_owned(), schema);
        }
    }
    if let Some(body) = doc.pointer_mut("/paths/~1api~1v1~1bookings/post/requestBody") {
        *body = json!({
            "required": true,
            "description": "A booking document as in the intake contract (examples/bookings/*.json)",
            "content": {"application/json": {"schema": reference("BookingDocument")}}
        });
    }
}

#[cfg(test)]
mod tests {
    //! The schema and the intake parser must agree: every example is valid, and whatever the schema refuses the
    //! parser refuses too (the reverse cannot hold: fares that add up are beyond a schema).

    use bolero::check;
    use chrono::NaiveDate;
    use serde_json::{json, Value};

    const EXAMPLES: [&str; 5] = [
        include_str!("../../../../examples/bookings/flight-oneway.json"),
        include_str!("../../../../examples/bookings/flight-round.json"),
        include_str!("../../../../examples/bookings/flight-multicity.json"),
        include_str!("../../../../examples/bookings/flight-vn-family.json"),
        include_str!("../../../../examples/bookings/event.json"),
    ];

    /// The schema of the request body as served, with every component it refers to.
    fn validator() -> jsonschema::Validator {
        let mut doc = crate::contract::native_document(&crate::native::openapi_document());
        let body = doc.pointer("/paths/~1api~1v1~1bookings/post/requestBody/content/application~1json/schema").cloned();
        assert_eq!(body, Some(json!({"$ref": "#/components/schemas/BookingDocument"})));
        doc["$ref"] = json!("#/components/schemas/BookingDocument");
        jsonschema::options()
            .should_validate_formats(true)
            .build(&doc)
            .unwrap_or_else(|e| panic!("the booking schema does not compile: {e}"))
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or_default()
    }

    #[test]
    fn every_example_is_valid_and_accepted() {
        let schema = validator();
        for text in EXAMPLES {
            let doc: Value = serde_json::from_str(text).unwrap_or_default();
            let errors: Vec<String> = schema.iter_errors(&doc).map(|e| format!("{} {e}", e.instance_path())).collect();
            assert!(errors.is_empty(), "{errors:#?}");
            let parsed = tessera_core::intake::parse(text.as_bytes(), today());
            assert!(parsed.is_ok(), "{parsed:?}");
        }
    }

    #[test]
    fn the_schema_refuses_what_the_parser_refuses_in_words() {
        let schema = validator();
        let base: Value = serde_json::from_str(EXAMPLES[0]).unwrap_or_default();
        for (pointer, value) in [
            ("/pnr", json!("pqmj8e")),
            ("/currency", json!("npr")),
            ("/validating_carrier", json!("12")),
            ("/journeys/0/segments/0/flight_number", json!("12AB")),
            ("/fares/0/base", json!("1_000")),
            ("/fares/0/base", json!(-1)),
            ("/passengers/0/surname", json!("   ")),
            ("/contact/email", json!("a@b")),
            ("/trip_type", json!("one-way")),
            ("/language", json!("fr")),
        ] {
            let mut doc = base.clone();
            match doc.pointer_mut(pointer) {
                Some(slot) => *slot = value.clone(),
                // A field the example leaves out (`/language`) is added.
                None => doc[&pointer[1..]] = value.clone(),
            }
            assert!(!schema.is_valid(&doc), "{pointer} = {value}: the schema took it");
            let bytes = serde_json::to_vec(&doc).unwrap_or_default();
            let refused = tessera_core::intake::parse(&bytes, today()).err().map(|e| e.0);
            assert!(refused.is_some_and(|e| e.iter().any(|e| e.pointer == pointer)), "{pointer} = {value}");
        }
    }

    /// Strings with a control character are the edge's to refuse (`edge.rs`), before the parser sees them.
    fn has_control(value: &Value) -> bool {
        match value {
            Value::String(s) => s.chars().any(char::is_control),
            Value::Array(items) => items.iter().any(has_control),
            Value::Object(map) => map.iter().any(|(k, v)| k.chars().any(char::is_control) || has_control(v)),
            _ => false,
        }
    }

    fn leaves(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => map.iter().for_each(|(k, v)| leaves(v, format!("{at}/{k}"), out)),
            Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| leaves(v, format!("{at}/{i}"), out)),
            _ => out.push(at),
        }
    }

    /// An example with one leaf changed (replaced, edited, removed, or a sibling added): if the schema refuses the
    /// result, so does the parser.
    #[test]
    fn what_the_schema_refuses_the_parser_refuses() {
        // The validator holds no state a panic could leave half-changed.
        let schema = std::panic::AssertUnwindSafe(validator());
        let examples: Vec<Value> = EXAMPLES.iter().map(|t| serde_json::from_str(t).unwrap_or_default()).collect();
        check!().with_type::<(u8, u16, u8, String, i64)>().for_each(|(which, leaf, kind, text, number)| {
            let mut doc = examples[usize::from(*which) % examples.len()].clone();
            let mut pointers = Vec::new();
            leaves(&doc, String::new(), &mut pointers);
            let pointer = &pointers[usize::from(*leaf) % pointers.len()];
            let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", ""));
            let Some(slot) = doc.pointer_mut(pointer) else { return };
            let old = slot.as_str().map(str::to_owned).unwrap_or_else(|| slot.to_string());
            match kind % 10 {
                0 => *slot = json!(text),
                1 => *slot = json!(number),
                2 => *slot = serde_json::from_str(text).unwrap_or(Value::Null),
                3 => *slot = Value::Null,
                4 => *slot = json!(format!("{old}{text}")),
                5 => *slot = json!(format!("{text}{old}")),
                6 => *slot = json!(old.to_lowercase()),
                7 => *slot = json!(old.chars().take(usize::from(*which) % 4).collect::<String>()),
                8 => match doc.pointer_mut(parent) {
                    Some(Value::Object(map)) => {
                        map.remove(key);
                    }
                    Some(Value::Array(items)) => items.clear(),
                    _ => {}
                },
                _ => {
                    if let Some(Value::Object(map)) = doc.pointer_mut(parent) {
                        map.insert(text.clone(), json!(number));
                    }
                }
            }
            if has_control(&doc) || schema.is_valid(&doc) {
                return;
            }
            let bytes = serde_json::to_vec(&doc).unwrap_or_default();
            assert!(tessera_core::intake::parse(&bytes, today()).is_err(), "accepted what the schema refuses: {doc}");
        });
    }
}
