//! Rules of a flight booking: codes, passengers, itinerary order, fares that add up, services.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset, NaiveDate, Timelike, Utc};

use super::wire::{ContactRequest, FlightRequest, JourneyRequest, PlaceRequest, SegmentRequest};
use super::Report;
use crate::booking::{
    Baggage, Contact, Distribution, Fare, FlightBooking, Journey, Passenger, PassengerType, Place, Segment, Service,
    ServiceType, Tax, TripType,
};
use crate::codes::{AirportCode, CarrierCode, Pnr, SystemCode};
use crate::language::Language;
use crate::money::{Currency, Money};
use crate::reference;

const MAX_PASSENGERS: usize = 9;
const MAX_SEGMENTS: usize = 16;
const NAME_MAX: usize = 64;

pub(super) fn validate(req: &FlightRequest, today: NaiveDate, r: &mut Report) -> Option<FlightBooking> {
    let pnr = r.required(&req.pnr, "/pnr").and_then(|v| r.parse("/pnr", Pnr::parse(v)));
    let system = r.required(&req.system, "/system").and_then(|v| r.parse("/system", SystemCode::parse(v)));
    let validating = validating_carrier(req, r);
    let trip_type = r.required(&req.trip_type, "/trip_type").and_then(|v| match v.as_str() {
        "oneway" => Some(TripType::Oneway),
        "round" => Some(TripType::Round),
        "multicity" => Some(TripType::Multicity),
        _ => {
            r.add("/trip_type", "must be `oneway`, `round` or `multicity`");
            None
        }
    });
    let currency = r.required(&req.currency, "/currency").and_then(|v| r.parse("/currency", Currency::parse(v)));
    let deadline = r
        .required(&req.ticketing_deadline, "/ticketing_deadline")
        .and_then(|v| r.parse("/ticketing_deadline", offset_time(v)))
        .map(|t| t.with_timezone(&Utc));
    let contact = contact(&req.contact, r);
    let passengers = passengers(req, today, r);
    let journeys = journeys(req, trip_type, r);
    let fares = fares(req, currency, passengers.as_deref(), r);
    let cashback = match &req.cashback {
        Some(v) => r.amount(v, currency, "/cashback"),
        None => currency.map(Money::zero),
    };
    let services = services(req, currency, passengers.as_deref(), r);
    let endorsement = req.endorsement.as_deref().and_then(|e| r.optional_text(e, "/endorsement", 200));
    let distribution = match req.distribution.as_deref() {
        None | Some("gds") => Some(Distribution::Gds),
        Some("ndc") => Some(Distribution::Ndc),
        Some(_) => {
            r.add("/distribution", "must be `gds` or `ndc`");
            None
        }
    };

    let payment = match &req.payment {
        Some(p) if has_control_text(&serde_json::Value::Object(p.clone())) => {
            r.add("/payment", "must not contain control characters");
            None
        }
        other => Some(other.clone().map(serde_json::Value::Object)),
    };
    let (validating_carrier, validating_carrier_name) = validating?;
    Some(FlightBooking {
        pnr: pnr?,
        system: system?,
        validating_carrier,
        validating_carrier_name,
        trip_type: trip_type?,
        currency: currency?,
        ticketing_deadline: deadline?,
        contact: contact?,
        passengers: passengers?,
        journeys: journeys?,
        fares: fares?,
        cashback: cashback?,
        services: services?,
        endorsement,
        refundable: req.refundable.unwrap_or(true),
        distribution: distribution?,
        payment: payment?,
        amendments: Vec::new(),
        // Set by `intake::validate` from the request, then by the application from the agency default.
        language: Language::default(),
    })
}

/// Any string (key or value) with a control character: such text cannot be stored everywhere (PostgreSQL refuses NUL).
fn has_control_text(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.chars().any(char::is_control),
        serde_json::Value::Array(items) => items.iter().any(has_control_text),
        serde_json::Value::Object(map) => {
            map.iter().any(|(k, v)| k.chars().any(char::is_control) || has_control_text(v))
        }
        _ => false,
    }
}

/// RFC 3339 with an explicit offset: a local time without one is ambiguous across time zones. Exactly what JSON
/// Schema's `date-time` (the booking schema's) takes: chrono's parser also takes a space between date and time,
/// and a leap second in any minute, where `date-time` takes `T` and a leap second only at 23:59 UTC.
pub(super) fn offset_time(v: &str) -> Result<DateTime<FixedOffset>, String> {
    let refused = || format!("`{v}` is not an RFC 3339 time with offset");
    if !matches!(v.as_bytes().get(10), Some(b'T' | b't')) {
        return Err(refused());
    }
    let time = DateTime::parse_from_rfc3339(v).map_err(|_| refused())?;
    let utc = time.naive_utc();
    if v.get(17..19) == Some("60") && (utc.hour(), utc.minute()) != (23, 59) {
        return Err(refused());
    }
    Ok(time)
}

pub(super) fn contact(req: &Option<ContactRequest>, r: &mut Report) -> Option<Contact> {
    let c = r.required(req, "/contact")?;
    let email = r.text(&c.email, "/contact/email", 254);
    if let Some(e) = &email {
        let valid = e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        }) && !e.contains(char::is_whitespace);
        if !valid {
            r.add("/contact/email", "is not an e-mail address");
            return None;
        }
    }
    let phone = c.phone.as_deref().and_then(|p| r.optional_text(p, "/contact/phone", 32));
    Some(Contact { email: email?, phone })
}

fn validating_carrier(req: &FlightRequest, r: &mut Report) -> Option<(CarrierCode, String)> {
    let code = r.required(&req.validating_carrier, "/validating_carrier")?;
    let carrier = r.parse("/validating_carrier", CarrierCode::parse(code))?;
    // Ticket numbers start with the validating carrier's accounting prefix, so it must be known.
    match reference::airline(carrier.as_str()) {
        Some(airline) => Some((carrier, airline.name.to_string())),
        None => {
            r.add("/validating_carrier", format!("unknown airline `{carrier}` (no ticketing prefix on file)"));
            None
        }
    }
}

fn passengers(req: &FlightRequest, today: NaiveDate, r: &mut Report) -> Option<Vec<Passenger>> {
    let list = r.required(&req.passengers, "/passengers")?;
    if list.is_empty() {
        r.add("/passengers", "must list at least one passenger");
        return None;
    }
    if list.len() > MAX_PASSENGERS {
        r.add("/passengers", format!("at most {MAX_PASSENGERS} passengers per booking"));
        return None;
    }
    let mut out = Vec::new();
    let mut ids = HashSet::new();
    for (i, p) in list.iter().enumerate() {
        let at = |f: &str| format!("/passengers/{i}/{f}");
        let id = r.text(&p.id, &at("id"), 32);
        if let Some(id) = &id {
            if !ids.insert(id.clone()) {
                r.add(at("id"), format!("duplicate passenger id `{id}`"));
            }
        }
        let kind = r.required(&p.kind, &at("type")).and_then(|k| match PassengerType::parse(k) {
            Some(k) => Some(k),
            None => {
                r.add(at("type"), "must be `ADT`, `CHD` or `INF`");
                None
            }
        });
        let surname = r.text(&p.surname, &at("surname"), NAME_MAX);
        let given_name = p.given_name.as_deref().and_then(|g| r.optional_text(g, &at("given_name"), NAME_MAX));
        let title = p.title.as_deref().and_then(|t| r.optional_text(t, &at("title"), 8));
        let date_of_birth = p.date_of_birth.as_deref().and_then(|d| match super::parse_date(d) {
            Some(date) if date > today => {
                r.add(at("date_of_birth"), "must not be in the future");
                None
            }
            Some(date) => Some(date),
            None => {
                r.add(at("date_of_birth"), format!("`{d}` is not a date (YYYY-MM-DD)"));
                None
            }
        });
        if let (Some(id), Some(kind), Some(surname)) = (id, kind, surname) {
            out.push(Passenger {
                id,
                kind,
                title,
                surname,
                given_name,
                date_of_birth,
                accompanied_by: p.accompanied_by.clone(),
            });
        }
    }
    if out.len() != list.len() {
        return None;
    }
    infants(&out, r).then_some(out)
}

/// Infants travel on an adult's lap: each names an adult, no adult carries two.
fn infants(passengers: &[Passenger], r: &mut Report) -> bool {
    let kinds: HashMap<&str, PassengerType> = passengers.iter().map(|p| (p.id.as_str(), p.kind)).collect();
    let adults = passengers.iter().filter(|p| p.kind == PassengerType::ADT).count();
    let mut carried = HashSet::new();
    let mut ok = true;
    for (i, p) in passengers.iter().enumerate() {
        let at = format!("/passengers/{i}/accompanied_by");
        match (p.kind, &p.accompanied_by) {
            (PassengerType::INF, Some(adult)) => match kinds.get(adult.as_str()) {
                Some(PassengerType::ADT) if !carried.insert(adult.as_str()) => {
                    r.add(at, format!("adult `{adult}` already accompanies an infant"));
                    ok = false;
                }
                Some(PassengerType::ADT) => {}
                Some(_) => {
                    r.add(at, format!("`{adult}` is not an adult passenger"));
                    ok = false;
                }
                None => {
                    r.add(at, format!("no passenger `{adult}` in this booking"));
                    ok = false;
                }
            },
            (PassengerType::INF, None) if adults == 0 => {
                r.add(format!("/passengers/{i}"), "an infant must travel with an adult");
                ok = false;
            }
            (PassengerType::INF, None) => {}
            (_, Some(_)) => {
                r.add(at, "only infants name an accompanying adult");
                ok = false;
            }
            (_, None) => {}
        }
    }
    let infants = passengers.iter().filter(|p| p.kind == PassengerType::INF).count();
    if infants > adults {
        r.add("/passengers", "more infants than adults");
        ok = false;
    }
    ok
}

pub(super) fn journeys(req: &FlightRequest, trip: Option<TripType>, r: &mut Report) -> Option<Vec<Journey>> {
    let list = r.required(&req.journeys, "/journeys")?;
    let count_ok = match trip {
        Some(TripType::Oneway) if list.len() != 1 => Some("a oneway trip has exactly one journey"),
        Some(TripType::Round) if list.len() != 2 => Some("a round trip has exactly two journeys"),
        Some(TripType::Multicity) if list.len() < 2 => Some("a multicity trip has at least two journeys"),
        _ => None,
    };
    if let Some(reason) = count_ok {
        r.add("/journeys", reason);
    }
    let total_segments: usize = list.iter().map(|j| j.segments.as_ref().map_or(0, Vec::len)).sum();
    if total_segments > MAX_SEGMENTS {
        r.add("/journeys", format!("at most {MAX_SEGMENTS} segments per booking"));
        return None;
    }
    let mut out = Vec::new();
    for (i, j) in list.iter().enumerate() {
        if let Some(journey) = journey(j, &format!("/journeys/{i}"), r) {
            out.push(journey);
        }
    }
    if out.len() != list.len() || count_ok.is_some() {
        return None;
    }
    // Journeys follow each other in time, like the segments inside them.
    for i in 1..out.len() {
        let (prev, next) = (&out[i - 1], &out[i]);
        if let (Some(a), Some(d)) = (prev.segments.last(), next.segments.first()) {
            if d.departure.time <= a.arrival.time {
                r.add(
                    format!("/journeys/{i}/segments/0/departure/time"),
                    "departs before the previous journey arrives",
                );
                return None;
            }
        }
    }
    Some(out)
}

fn journey(j: &JourneyRequest, at: &str, r: &mut Report) -> Option<Journey> {
    let segments = r.required(&j.segments, &format!("{at}/segments"))?;
    if segments.is_empty() {
        r.add(format!("{at}/segments"), "must list at least one segment");
        return None;
    }
    let mut out = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        if let Some(seg) = segment(s, &format!("{at}/segments/{i}"), r) {
            out.push(seg);
        }
    }
    if out.len() != segments.len() {
        return None;
    }
    for i in 1..out.len() {
        if out[i].departure.time <= out[i - 1].arrival.time {
            r.add(format!("{at}/segments/{i}/departure/time"), "departs before the previous segment arrives");
            return None;
        }
    }
    let confirmation = j
        .airline_confirmation_code
        .as_deref()
        .and_then(|c| r.optional_text(c, &format!("{at}/airline_confirmation_code"), 16));
    let baggage = j.baggage.as_ref().map_or(Baggage { cabin: None, checked: None }, |b| Baggage {
        cabin: b.cabin.as_deref().and_then(|v| r.optional_text(v, &format!("{at}/baggage/cabin"), 32)),
        checked: b.checked.as_deref().and_then(|v| r.optional_text(v, &format!("{at}/baggage/checked"), 32)),
    });
    Some(Journey { airline_confirmation_code: confirmation, baggage, segments: out })
}

fn segment(s: &SegmentRequest, at: &str, r: &mut Report) -> Option<Segment> {
    let f = |name: &str| format!("{at}/{name}");
    let carrier = r.required(&s.carrier, &f("carrier")).and_then(|c| r.parse(&f("carrier"), CarrierCode::parse(c)));
    let carrier_name = carrier.as_ref().and_then(|c| match &s.carrier_name {
        Some(name) => r.optional_text(name, &f("carrier_name"), 64),
        None => match reference::airline(c.as_str()) {
            Some(a) => Some(a.name.to_string()),
            None => {
                r.add(f("carrier"), format!("unknown airline `{c}`: give `carrier_name`"));
                None
            }
        },
    });
    let flight_number = r.required(&s.flight_number, &f("flight_number")).and_then(|n| {
        let digits = n.strip_suffix(|c: char| c.is_ascii_uppercase()).unwrap_or(n);
        let ok = (1..=4).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        if ok {
            Some(n.clone())
        } else {
            r.add(f("flight_number"), "must be 1-4 digits, optionally followed by a letter");
            None
        }
    });
    let equipment = s.equipment.as_deref().and_then(|e| r.optional_text(e, &f("equipment"), 64));
    let booking_class = r.required(&s.booking_class, &f("booking_class")).and_then(|c| {
        if c.len() == 1 && c.bytes().all(|b| b.is_ascii_uppercase()) {
            Some(c.clone())
        } else {
            r.add(f("booking_class"), "must be one letter A-Z");
            None
        }
    });
    let fare_basis = r.required(&s.fare_basis, &f("fare_basis")).and_then(|c| {
        if (1..=15).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'/') {
            Some(c.clone())
        } else {
            r.add(f("fare_basis"), "must be 1-15 characters A-Z, 0-9");
            None
        }
    });
    let departure = place(&s.departure, &f("departure"), r);
    let arrival = place(&s.arrival, &f("arrival"), r);
    if let (Some(d), Some(a)) = (&departure, &arrival) {
        if a.time <= d.time {
            r.add(f("arrival/time"), "must be after the departure");
            return None;
        }
        if a.airport == d.airport {
            r.add(f("arrival/airport"), "must differ from the departure airport");
            return None;
        }
    }
    Some(Segment {
        carrier: carrier?,
        carrier_name: carrier_name?,
        flight_number: flight_number?,
        equipment,
        booking_class: booking_class?,
        fare_basis: fare_basis?,
        departure: departure?,
        arrival: arrival?,
    })
}

fn place(p: &Option<PlaceRequest>, at: &str, r: &mut Report) -> Option<Place> {
    let p = r.required(p, at)?;
    let f = |name: &str| format!("{at}/{name}");
    let airport = r.required(&p.airport, &f("airport")).and_then(|a| r.parse(&f("airport"), AirportCode::parse(a)));
    let time = r.required(&p.time, &f("time")).and_then(|t| r.parse(&f("time"), offset_time(t)));
    let terminal = match p.terminal.as_deref().map(str::trim) {
        None | Some("") => String::new(),
        Some(t) => r.optional_text(t, &f("terminal"), 8)?,
    };
    let airport = airport?;
    let known = reference::airport(airport.as_str());
    let name = |given: &Option<String>, field: &str, fallback: Option<&str>, r: &mut Report| match (given, fallback) {
        (Some(v), _) => r.optional_text(v, &f(field), 96),
        (None, Some(v)) => Some(v.to_owned()),
        (None, None) => None,
    };
    let airport_name = name(&p.airport_name, "airport_name", known.map(|a| &*a.name), r);
    let city = name(&p.city, "city", known.map(|a| &*a.city), r);
    let country = name(&p.country, "country", known.map(|a| &*a.country), r);
    if known.is_none() && (airport_name.is_none() || city.is_none() || country.is_none()) {
        r.add(f("airport"), format!("unknown airport `{airport}`: give `airport_name`, `city` and `country`"));
        return None;
    }
    Some(Place { airport, airport_name: airport_name?, city: city?, country: country?, terminal, time: time? })
}

pub(super) fn fares(
    req: &FlightRequest,
    currency: Option<Currency>,
    passengers: Option<&[Passenger]>,
    r: &mut Report,
) -> Option<Vec<Fare>> {
    let list = r.required(&req.fares, "/fares")?;
    let mut out: Vec<Fare> = Vec::new();
    for (i, fare) in list.iter().enumerate() {
        let at = |f: &str| format!("/fares/{i}/{f}");
        let kind =
            r.required(&fare.passenger_type, &at("passenger_type")).and_then(|k| match PassengerType::parse(k) {
                Some(k) => Some(k),
                None => {
                    r.add(at("passenger_type"), "must be `ADT`, `CHD` or `INF`");
                    None
                }
            });
        if let Some(k) = kind {
            if out.iter().any(|f| f.passenger_type == k) {
                r.add(at("passenger_type"), format!("a second fare for `{}`", k.as_str()));
            }
        }
        let base = r.money(&fare.base, currency, &at("base"));
        let mut taxes = Vec::new();
        for (t, tax) in fare.taxes.as_deref().unwrap_or_default().iter().enumerate() {
            let tat = |f: &str| format!("/fares/{i}/taxes/{t}/{f}");
            let code = r.required(&tax.code, &tat("code")).and_then(|c| {
                if (2..=3).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
                    Some(c.clone())
                } else {
                    r.add(tat("code"), "must be a 2-3 character tax code");
                    None
                }
            });
            let amount = r.money(&tax.amount, currency, &tat("amount"));
            if let (Some(code), Some(amount)) = (code, amount) {
                taxes.push(Tax { code, amount });
            }
        }
        let total = r.money(&fare.total, currency, &at("total"));
        if let (Some(kind), Some(base), Some(total), Some(cur)) = (kind, base, total, currency) {
            let sum = Money::sum(taxes.iter().map(|t| t.amount), cur).and_then(|t| base.checked_add(t));
            match sum {
                Ok(sum) if sum == total => out.push(Fare { passenger_type: kind, base, taxes, total }),
                Ok(sum) => r.add(
                    at("total"),
                    format!("is {} but base + taxes = {}", total.amount_string(), sum.amount_string()),
                ),
                Err(e) => r.add(at("total"), e.to_string()),
            }
        }
    }
    if out.len() != list.len() {
        return None;
    }
    if let Some(passengers) = passengers {
        for (i, p) in passengers.iter().enumerate() {
            if !out.iter().any(|f| f.passenger_type == p.kind) {
                r.add(format!("/passengers/{i}/type"), format!("no fare for passenger type `{}`", p.kind.as_str()));
                return None;
            }
        }
    }
    Some(out)
}

fn services(
    req: &FlightRequest,
    currency: Option<Currency>,
    passengers: Option<&[Passenger]>,
    r: &mut Report,
) -> Option<Vec<Service>> {
    let Some(list) = &req.services else { return Some(Vec::new()) };
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let at = |f: &str| format!("/services/{i}/{f}");
        let passenger_id = r.text(&s.passenger_id, &at("passenger_id"), 32);
        if let (Some(id), Some(ps)) = (&passenger_id, passengers) {
            if !ps.iter().any(|p| &p.id == id) {
                r.add(at("passenger_id"), format!("no passenger `{id}` in this booking"));
            }
        }
        let kind = r.required(&s.kind, &at("type")).and_then(|k| match ServiceType::parse(k) {
            Some(k) => Some(k),
            None => {
                r.add(at("type"), "must be `BAGGAGE`, `SEAT` or `SSR`");
                None
            }
        });
        let code = r.required(&s.code, &at("code")).and_then(|c| {
            if (1..=8).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
                Some(c.clone())
            } else {
                r.add(at("code"), "must be 1-8 characters A-Z, 0-9");
                None
            }
        });
        let description = r.text(&s.description, &at("description"), 70);
        let amount = r.money(&s.amount, currency, &at("amount"));
        if amount.is_some_and(|a| a.is_zero()) {
            r.add(at("amount"), "a paid service costs more than zero");
            continue;
        }
        if let (Some(passenger_id), Some(kind), Some(code), Some(description), Some(amount)) =
            (passenger_id, kind, code, description, amount)
        {
            out.push(Service { passenger_id, kind, code, description, amount });
        }
    }
    (out.len() == list.len()).then_some(out)
}
