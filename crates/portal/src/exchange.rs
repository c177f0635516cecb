//! Exchanging a flight ticket: a form holding what the ticket flies now (each journey's segments, the fare of the
//! passenger's type), which the agent edits into the new itinerary, plus the change fee. The form becomes the
//! native API's exchange body and runs the same lifecycle command, so the intake's rules check it and every
//! refusal comes back next to the field it names.
//!
//! Each field is named by its place in that body (`journeys/0/segments/1/flight_number`), so a refusal's JSON
//! pointer finds its field. Every journey offers one blank segment row more than it has, and the fare two blank
//! tax rows; buttons add more segment rows or a journey (the form comes back with what was typed, nothing sent).
//! A row left blank is not sent, so emptying a segment row drops that segment and emptying a journey's drops it.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde_json::{json, Map, Value};
use tessera_app::lifecycle::Command;
use tessera_app::{AppError, Tessera};
use tessera_core::booking::{Fare, FlightBooking};
use tessera_core::codes::TicketNumber;
use tessera_core::intake::{FieldError, ValidationErrors};

use crate::form::{Fields, Page, Posted};
use crate::layout::{csrf, fail, money, page, text_field, words, Nav, PageError};
use crate::session::{Meta, Session};
use crate::tickets::{changed_to, parse_number};
use crate::BASE;

/// A segment row's fields: its name under `journeys/J/segments/S/`, and its label.
const SEGMENT: [(&str, &str); 11] = [
    ("carrier", "Carrier"),
    ("flight_number", "Flight number"),
    ("booking_class", "Booking class"),
    ("fare_basis", "Fare basis"),
    ("departure/airport", "From (airport)"),
    ("departure/time", "Departure (local, with offset)"),
    ("departure/terminal", "Departure terminal"),
    ("equipment", "Aircraft"),
    ("arrival/airport", "To (airport)"),
    ("arrival/time", "Arrival (local, with offset)"),
    ("arrival/terminal", "Arrival terminal"),
];

/// A journey's own fields, under `journeys/J/`.
const JOURNEY: [(&str, &str); 3] = [
    ("airline_confirmation_code", "Airline confirmation code"),
    ("baggage/cabin", "Cabin baggage"),
    ("baggage/checked", "Checked baggage"),
];

const BLANK_TAX_ROWS: usize = 2;

/// The form's values by field name: what the ticket flies now, or what was sent.
type Values = BTreeMap<String, String>;

fn current(flight: &FlightBooking, fare: Option<&Fare>) -> Values {
    let mut v = Values::new();
    for (j, journey) in flight.journeys.iter().enumerate() {
        let mut put = |name: &str, value: &str| v.insert(format!("journeys/{j}/{name}"), value.to_owned());
        put("airline_confirmation_code", journey.airline_confirmation_code.as_deref().unwrap_or_default());
        put("baggage/cabin", journey.baggage.cabin.as_deref().unwrap_or_default());
        put("baggage/checked", journey.baggage.checked.as_deref().unwrap_or_default());
        for (s, seg) in journey.segments.iter().enumerate() {
            let row = [
                seg.carrier.as_str().to_owned(),
                seg.flight_number.clone(),
                seg.booking_class.clone(),
                seg.fare_basis.clone(),
                seg.departure.airport.as_str().to_owned(),
                seg.departure.time.to_rfc3339(),
                seg.departure.terminal.clone(),
                seg.equipment.clone().unwrap_or_default(),
                seg.arrival.airport.as_str().to_owned(),
                seg.arrival.time.to_rfc3339(),
                seg.arrival.terminal.clone(),
            ];
            for ((name, _), value) in SEGMENT.iter().zip(row) {
                v.insert(format!("journeys/{j}/segments/{s}/{name}"), value);
            }
        }
    }
    if let Some(fare) = fare {
        v.insert("fares/0/base".into(), fare.base.amount_string());
        v.insert("fares/0/total".into(), fare.total.amount_string());
        for (t, tax) in fare.taxes.iter().enumerate() {
            v.insert(format!("fares/0/taxes/{t}/code"), tax.code.clone());
            v.insert(format!("fares/0/taxes/{t}/amount"), tax.amount.amount_string());
        }
    }
    v
}

/// The exchange body the form stands for, and for each JSON pointer prefix sent, the field prefix it came from
/// (rows left blank are not sent, so the two can differ).
struct Body {
    json: Value,
    renames: Vec<(String, String)>,
}

/// The numbered rows under `prefix` (`journeys/`, `journeys/0/segments/`) that the form carries, in order.
fn rows(fields: &Fields, prefix: &str) -> Vec<usize> {
    let mut found: Vec<usize> = fields
        .names()
        .filter_map(|n| n.strip_prefix(prefix))
        .filter_map(|rest| rest.split('/').next()?.parse().ok())
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

/// Puts `value` at `path` (`departure/airport`) in `object`, making the objects on the way.
fn put(object: &mut Map<String, Value>, path: &str, value: &str) {
    match path.split_once('/') {
        Some((head, rest)) => {
            let inner = object.entry(head).or_insert_with(|| json!({}));
            if let Value::Object(inner) = inner {
                put(inner, rest, value);
            }
        }
        None => {
            object.insert(path.to_owned(), Value::String(value.to_owned()));
        }
    }
}

fn body(fields: &Fields, passenger_type: &str) -> Body {
    let mut renames = Vec::new();
    let mut journeys = Vec::new();
    for j in rows(fields, "journeys/") {
        let mut segments = Vec::new();
        for s in rows(fields, &format!("journeys/{j}/segments/")) {
            let from = format!("journeys/{j}/segments/{s}/");
            let mut segment = Map::new();
            for (name, _) in SEGMENT {
                if let Some(value) = fields.get(&format!("{from}{name}")) {
                    put(&mut segment, name, value);
                }
            }
            if !segment.is_empty() {
                renames.push((format!("journeys/{}/segments/{}/", journeys.len(), segments.len()), from));
                segments.push(Value::Object(segment));
            }
        }
        if segments.is_empty() {
            continue;
        }
        let mut journey = Map::new();
        for (name, _) in JOURNEY {
            if let Some(value) = fields.get(&format!("journeys/{j}/{name}")) {
                put(&mut journey, name, value);
            }
        }
        journey.insert("segments".into(), Value::Array(segments));
        renames.push((format!("journeys/{}/", journeys.len()), format!("journeys/{j}/")));
        journeys.push(Value::Object(journey));
    }
    let mut taxes = Vec::new();
    for t in rows(fields, "fares/0/taxes/") {
        let from = format!("fares/0/taxes/{t}/");
        let mut tax = Map::new();
        for name in ["code", "amount"] {
            if let Some(value) = fields.get(&format!("{from}{name}")) {
                put(&mut tax, name, value);
            }
        }
        if !tax.is_empty() {
            renames.push((format!("fares/0/taxes/{}/", taxes.len()), from));
            taxes.push(Value::Object(tax));
        }
    }
    let mut fare = Map::new();
    fare.insert("passenger_type".into(), Value::String(passenger_type.to_owned()));
    for name in ["base", "total"] {
        if let Some(value) = fields.get(&format!("fares/0/{name}")) {
            put(&mut fare, name, value);
        }
    }
    fare.insert("taxes".into(), Value::Array(taxes));
    let mut json = json!({ "journeys": journeys, "fares": [fare] });
    if let Some(fee) = fields.get("change_fee") {
        json["change_fee"] = Value::String(fee.to_owned());
    }
    Body { json, renames }
}

/// A refusal of the body, its pointers turned back into the form's field names.
fn to_form(error: AppError, renames: &[(String, String)]) -> AppError {
    let AppError::Validation(ValidationErrors(errors)) = error else { return error };
    let errors = errors
        .into_iter()
        .map(|e| {
            let path = e.pointer.trim_start_matches('/').to_owned();
            // The longest sent prefix is the most precise (a segment's inside its journey's).
            let renamed = renames
                .iter()
                .filter(|(sent, _)| path.starts_with(sent.as_str()))
                .max_by_key(|(sent, _)| sent.len())
                .map_or(path.clone(), |(sent, from)| format!("{from}{}", &path[sent.len()..]));
            FieldError { pointer: format!("/{renamed}"), reason: e.reason }
        })
        .collect();
    AppError::Validation(ValidationErrors(errors))
}

/// The message for the field named `name`, if the refusal names it.
fn message(error: Option<&AppError>, name: &str) -> Option<String> {
    match error? {
        AppError::Validation(v) => {
            v.0.iter().find(|f| f.pointer.trim_start_matches('/') == name).map(|f| f.reason.clone())
        }
        _ => None,
    }
}

/// What a refusal says that no field of the form shows: about a whole list, or the ticket itself.
fn leftover(error: Option<&AppError>, shown: &[String]) -> Option<String> {
    match error? {
        AppError::Validation(v) => {
            let rest: Vec<FieldError> =
                v.0.iter().filter(|f| !shown.iter().any(|n| f.pointer.trim_start_matches('/') == n)).cloned().collect();
            (!rest.is_empty()).then(|| words(&AppError::Validation(ValidationErrors(rest))))
        }
        other => Some(words(other)),
    }
}

/// Rows to show beyond what the ticket flies and what was sent: the agent asked for them.
#[derive(Default)]
struct More {
    segment_in: Option<usize>,
    journey: bool,
}

async fn render(
    app: &Tessera,
    s: &Session,
    number: &TicketNumber,
    sent: Option<&Fields>,
    error: Option<AppError>,
    more: More,
) -> Result<Response, PageError> {
    let (ticket, passenger, flight) = app.ticket_itinerary(&s.who, number).await.map_err(fail(s))?;
    let now = current(&flight, flight.fare_for(passenger.kind));
    let value = |name: &str| -> String {
        match sent {
            Some(f) => f.raw(name).unwrap_or_default().to_owned(),
            None => now.get(name).cloned().unwrap_or_default(),
        }
    };
    let mut shown = Vec::new();
    let mut field = |name: String, label: &str| {
        let id = name.replace('/', "-");
        let markup = text_field(&id, &name, label, "text", &value(&name), message(error.as_ref(), &name));
        shown.push(name);
        markup
    };
    let sent_journeys = sent.map(|f| rows(f, "journeys/").len()).unwrap_or(0);
    let journeys = flight.journeys.len().max(sent_journeys) + usize::from(more.journey);
    let booked = |j: usize| flight.journeys.get(j).map_or(0, |jr| jr.segments.len());
    let segment_rows = |j: usize| {
        let sent_rows = sent.map(|f| rows(f, &format!("journeys/{j}/segments/")).len()).unwrap_or(0);
        sent_rows.max(booked(j) + 1) + usize::from(more.segment_in == Some(j))
    };
    let tax_rows = sent
        .map(|f| rows(f, "fares/0/taxes/").len())
        .unwrap_or(0)
        .max(flight.fare_for(passenger.kind).map_or(0, |f| f.taxes.len()) + BLANK_TAX_ROWS);
    let mut form_body: Vec<Markup> = Vec::new();
    for j in 0..journeys {
        let mut parts = vec![html! { legend { "Journey " (j + 1) } }];
        for (name, label) in JOURNEY {
            parts.push(field(format!("journeys/{j}/{name}"), label));
        }
        for s_row in 0..segment_rows(j) {
            let inner: Vec<Markup> = SEGMENT
                .iter()
                .map(|(name, label)| field(format!("journeys/{j}/segments/{s_row}/{name}"), label))
                .collect();
            parts.push(html! {
                fieldset.segment {
                    legend { "Segment " (s_row + 1) @if booked(j) <= s_row { " (optional, to add one)" } }
                    div.grid { @for m in &inner { (m) } }
                }
            });
        }
        parts.push(html! {
            button.secondary type="submit" name="add_segment" value=(j) { "Another segment row in journey " (j + 1) }
        });
        form_body.push(html! { fieldset.journey { @for p in &parts { (p) } } });
    }
    let mut fare_parts = vec![field("fares/0/base".into(), "Base fare"), field("fares/0/total".into(), "Total")];
    for t in 0..tax_rows {
        fare_parts.push(field(format!("fares/0/taxes/{t}/code"), &format!("Tax {} code", t + 1)));
        fare_parts.push(field(format!("fares/0/taxes/{t}/amount"), &format!("Tax {} amount", t + 1)));
    }
    let fee = field("change_fee".into(), &format!("Change fee ({})", ticket.total.currency().code()));
    let alert = leftover(error.as_ref(), &shown);
    let base = format!("{BASE}/tickets/{}", ticket.number.compact());
    let body = html! {
        h1 { "Exchange ticket " (ticket.number.dashed()) }
        p { "Edit what the ticket flies into the new itinerary and fare. The old ticket's unused value counts "
            "towards the new one: the agency pays the difference and the change fee, or is credited what is left. "
            "Now: " (money(ticket.charged)) " charged for " (passenger.given_name.as_deref().unwrap_or_default()) " " (passenger.surname) " (" (passenger.kind.as_str()) ")." }
        @if let Some(a) = &alert { p.alert role="alert" #exchange-error { (a) } }
        form #exchange method="post" action=(format!("{base}/exchange")) data-once novalidate {
            (csrf(s))
            @for part in &form_body { (part) }
            p { button.secondary #add-journey type="submit" name="add_journey" value="1" { "Add a journey" } }
            fieldset.fare {
                legend { "New fare (" (passenger.kind.as_str()) ", " (ticket.total.currency().code()) ")" }
                div.grid { @for p in &fare_parts { (p) } }
            }
            (fee)
            div.actions {
                button.danger #exchange-submit type="submit" { "Exchange the ticket" }
                a.button.secondary href=(base) { "Cancel" }
            }
        }
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, page(&format!("Exchange {}", ticket.number.dashed()), Some(s), Nav::Bookings, body)).into_response())
}

pub async fn form(
    State(app): State<Tessera>,
    Page(s): Page,
    Path(number): Path<String>,
) -> Result<Response, PageError> {
    let number = parse_number(&number).map_err(fail(&s))?;
    render(&app, &s, &number, None, None, More::default()).await
}

pub async fn exchange(
    State(app): State<Tessera>,
    meta: Meta,
    Path(number): Path<String>,
    Posted { session: s, fields }: Posted,
) -> Result<Response, PageError> {
    let number = parse_number(&number).map_err(fail(&s))?;
    // A button asking for more rows: the form again, with what was typed and nothing sent.
    let more = More {
        segment_in: fields.get("add_segment").and_then(|j| j.parse().ok()),
        journey: fields.get("add_journey").is_some(),
    };
    if more.journey || more.segment_in.is_some() {
        return render(&app, &s, &number, Some(&fields), None, more).await;
    }
    let (_, passenger, _) = app.ticket_itinerary(&s.who, &number).await.map_err(fail(&s))?;
    let sent = body(&fields, passenger.kind.as_str());
    let command = Command::Exchange(sent.json.to_string().into_bytes());
    match app.ticket_command(&s.who, &number, command, meta.actor(&s.who)).await {
        Ok(changed) => {
            let new = changed.reissued.as_ref().map_or(number.clone(), |t| t.number.clone());
            let done = format!("Exchanged: ticket {} replaces {}.", new.dashed(), number.dashed());
            Ok(changed_to(&format!("{BASE}/tickets/{}", new.compact()), &done, &changed))
        }
        Err(e @ (AppError::NotFound(_) | AppError::Forbidden(_) | AppError::Internal(_))) => Err(fail(&s)(e)),
        Err(e) => render(&app, &s, &number, Some(&fields), Some(to_form(e, &sent.renames)), More::default()).await,
    }
}
