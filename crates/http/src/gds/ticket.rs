//! BookingTicket records as the seed defines them, one per TKT and EMD, with the ticket face as plain text.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tessera_app::issuing::Issued;
use tessera_core::agency::Agency;
use tessera_core::booking::FlightBooking;
use tessera_core::ticket::{Ticket, TicketType};

use crate::numbers::amount;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxDetail {
    code: String,
    amount: serde_json::Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CouponInfo {
    coupon_number: u32,
    status: String,
    origin: Option<String>,
    destination: Option<String>,
    carrier: Option<String>,
    flight_number: Option<String>,
    departure_date: Option<String>,
    booking_class: Option<String>,
    fare_basis: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingTicket {
    index: usize,
    passenger_id: Option<String>,
    passenger_type: Option<String>,
    surname: Option<String>,
    given_name: Option<String>,
    booking_code: Option<String>,
    ticket_number: Option<String>,
    ticket_type: Option<String>,
    ticket_status: Option<String>,
    service_type: Option<String>,
    service_code: Option<String>,
    issue_date: Option<String>,
    ticket_info: Option<String>,
    base_fare: serde_json::Value,
    taxes: serde_json::Value,
    total_fare: serde_json::Value,
    currency: Option<String>,
    tax_details: Vec<TaxDetail>,
    coupon_infos: Vec<CouponInfo>,
    related_number: Option<String>,
    related_type: Option<String>,
    endorsement: Option<String>,
    face_ticket: Option<String>,
}

fn local(at: DateTime<Utc>, agency: &Agency) -> chrono::NaiveDateTime {
    let tz: chrono_tz::Tz = agency.timezone.parse().unwrap_or(chrono_tz::UTC);
    at.with_timezone(&tz).naive_local()
}

/// `PAX 738-2300031330/ETVN/10APR24/HANVN28DB/37963973`
fn ticket_info(t: &Ticket, f: &FlightBooking, agency: &Agency) -> String {
    let day = local(t.issued_at, agency).format("%d%b%y").to_string().to_uppercase();
    let office = agency.office_id.as_ref().map(ToString::to_string).unwrap_or_default();
    let iata = agency.iata_number.as_ref().map(ToString::to_string).unwrap_or_default();
    format!("PAX {}/ET{}/{day}/{office}/{iata}", t.number, f.validating_carrier)
}

/// The ticket face a terminal would show: header, passenger, one line per coupon, fare and endorsement.
fn face(t: &Ticket, f: &FlightBooking, agency: &Agency, attributes: &serde_json::Value) -> String {
    let name =
        f.passenger(&t.passenger_id).map(|p| format!("{} ({})", p.ticket_name(), p.kind.as_str())).unwrap_or_default();
    let mut lines = vec![
        format!("{} {}   {}", if t.kind == TicketType::EMD { "EMD" } else { "ETKT" }, t.number, t.status.as_str()),
        format!(
            "PNR {}   ISSUED {}   VC {}",
            f.pnr,
            local(t.issued_at, agency).format("%d%b%y").to_string().to_uppercase(),
            f.validating_carrier
        ),
        format!(
            "AGENCY {} {}",
            agency.name,
            ticket_info(t, f, agency).split('/').skip(3).collect::<Vec<_>>().join("/")
        ),
        format!("NAME {name}"),
    ];
    for c in &t.coupons {
        let route = format!("{}{}", c.origin.as_deref().unwrap_or(""), c.destination.as_deref().unwrap_or(""));
        let flight = format!("{} {}", c.carrier.as_deref().unwrap_or(""), c.flight_number.as_deref().unwrap_or(""));
        let day = c.departure_date.map(|d| d.format("%d%b").to_string().to_uppercase()).unwrap_or_default();
        match &c.service_code {
            Some(code) => {
                lines.push(format!("{:>2} {} SERVICE {code} {day} {}", c.number, flight.trim(), c.status.as_str()))
            }
            None => lines.push(format!(
                "{:>2} {:<8} {} {day} {route} {} {}",
                c.number,
                flight.trim(),
                c.booking_class.as_deref().unwrap_or(""),
                c.fare_basis.as_deref().unwrap_or(""),
                c.status.as_str()
            )),
        }
    }
    let taxes: Vec<String> = t.taxes.iter().map(|x| format!("{}{}", x.amount.amount_string(), x.code)).collect();
    lines.push(format!("FARE {} {}", t.base.currency(), t.base.amount_string()));
    if !taxes.is_empty() {
        lines.push(format!("TAX  {}", taxes.join(" ")));
    }
    lines.push(format!("TOTAL {} {}", t.total.currency(), t.total.amount_string()));
    if let Some(e) = &f.endorsement {
        lines.push(format!("ENDORSEMENT {e}"));
    }
    for (key, label) in [("tour_code", "TOUR CODE"), ("corporate_code", "CA CODE"), ("booker_code", "BOOKER")] {
        if let Some(v) = attributes.get(key).and_then(|v| v.as_str()) {
            lines.push(format!("{label} {v}"));
        }
    }
    lines.join("\n")
}

pub fn booking_tickets(issued: &Issued) -> Vec<BookingTicket> {
    let Some(f) = issued.booking.as_flight() else { return Vec::new() };
    issued
        .tickets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let passenger = f.passenger(&t.passenger_id);
            let (service_type, service_code) = match &t.service {
                Some(s) => (s.kind.as_str().to_owned(), s.code.clone()),
                None => ("FLIGHT".to_owned(), String::new()),
            };
            let taxes = t.total.checked_sub(t.base).unwrap_or(t.base);
            BookingTicket {
                index: i + 1,
                passenger_id: Some(t.passenger_id.clone()),
                passenger_type: passenger.map(|p| p.kind.as_str().to_owned()),
                surname: passenger.map(|p| p.surname.clone()),
                given_name: passenger.and_then(|p| p.given_name.clone()),
                booking_code: Some(f.pnr.to_string()),
                ticket_number: Some(t.number.compact()),
                ticket_type: Some(t.kind.as_str().to_owned()),
                ticket_status: Some(t.status.as_str().to_owned()),
                service_type: Some(service_type),
                service_code: Some(service_code),
                issue_date: Some(local(t.issued_at, &issued.agency).format("%Y-%m-%dT%H:%M:%S").to_string()),
                ticket_info: Some(ticket_info(t, f, &issued.agency)),
                base_fare: amount(t.base),
                taxes: amount(taxes),
                total_fare: amount(t.total),
                currency: Some(t.total.currency().to_string()),
                tax_details: t
                    .taxes
                    .iter()
                    .map(|x| TaxDetail { code: x.code.clone(), amount: amount(x.amount) })
                    .collect(),
                coupon_infos: t
                    .coupons
                    .iter()
                    .map(|c| CouponInfo {
                        coupon_number: c.number,
                        status: c.status.as_str().to_owned(),
                        origin: c.origin.clone(),
                        destination: c.destination.clone(),
                        carrier: c.carrier.clone(),
                        flight_number: c.flight_number.clone(),
                        departure_date: c.departure_date.map(|d| d.to_string()),
                        booking_class: c.booking_class.clone(),
                        fare_basis: c.fare_basis.clone(),
                    })
                    .collect(),
                related_number: t.related_number.as_ref().map(|n| n.compact()),
                related_type: t.related_type.map(|r| r.as_str().to_owned()),
                endorsement: f.endorsement.clone(),
                face_ticket: Some(face(t, f, &issued.agency, &issued.record.attributes)),
            }
        })
        .collect()
}
