//! BookingTicket records as the seed defines them, one per TKT and EMD, with the ticket face as plain text.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tessera_app::issuing::Issued;
use tessera_app::AppError;
use tessera_core::agency::Agency;
use tessera_core::booking::FlightBooking;
use tessera_core::ticket::{Ticket, TicketType};

use crate::numbers::Amount;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxDetail {
    code: String,
    amount: Amount,
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
    base_fare: Amount,
    taxes: Amount,
    total_fare: Amount,
    currency: Option<String>,
    tax_details: Vec<TaxDetail>,
    coupon_infos: Vec<CouponInfo>,
    related_number: Option<String>,
    related_type: Option<String>,
    endorsement: Option<String>,
    face_ticket: Option<String>,
}

fn local(at: DateTime<Utc>, agency: &Agency) -> chrono::NaiveDateTime {
    at.with_timezone(&agency.timezone.tz()).naive_local()
}

/// A ticket's one-line summary, `PAX 738-2300031330/ETVN/10APR24/HANVN28DB/37963973`, kept in parts: the ticket
/// face prints its issue day and issuing office too.
struct TicketInfo {
    number: String,
    carrier: String,
    /// The issue day in the agency's time zone, `10APR24`.
    day: String,
    office: String,
    iata: String,
}

impl TicketInfo {
    fn new(t: &Ticket, f: &FlightBooking, agency: &Agency) -> Self {
        Self {
            number: t.number.to_string(),
            carrier: f.validating_carrier.to_string(),
            day: local(t.issued_at, agency).format("%d%b%y").to_string().to_uppercase(),
            office: agency.office_id.as_ref().map(ToString::to_string).unwrap_or_default(),
            iata: agency.iata_number.as_ref().map(ToString::to_string).unwrap_or_default(),
        }
    }
}

impl fmt::Display for TicketInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PAX {}/ET{}/{}/{}/{}", self.number, self.carrier, self.day, self.office, self.iata)
    }
}

/// The ticket face a terminal would show: header, passenger, one line per coupon, fare and endorsement.
fn face(t: &Ticket, f: &FlightBooking, info: &TicketInfo, agency: &Agency, attributes: &serde_json::Value) -> String {
    let name =
        f.passenger(&t.passenger_id).map(|p| format!("{} ({})", p.ticket_name(), p.kind.as_str())).unwrap_or_default();
    let mut lines = vec![
        format!("{} {}   {}", if t.kind == TicketType::EMD { "EMD" } else { "ETKT" }, t.number, t.status.as_str()),
        format!("PNR {}   ISSUED {}   VC {}", f.pnr, info.day, f.validating_carrier),
        format!("AGENCY {} {}/{}", agency.name, info.office, info.iata),
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

/// One BookingTicket per ticket of a flight issuance. A ticket whose taxes cannot be worked out (total and base
/// in different currencies) is an internal error, never a made-up number.
pub fn booking_tickets(issued: &Issued) -> Result<Vec<BookingTicket>, AppError> {
    let Some(f) = issued.booking.as_flight() else { return Ok(Vec::new()) };
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
            let taxes = t.tax_amount().map_err(|e| AppError::Internal(format!("taxes of ticket {}: {e}", t.number)))?;
            let info = TicketInfo::new(t, f, &issued.agency);
            Ok(BookingTicket {
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
                ticket_info: Some(info.to_string()),
                base_fare: t.base.into(),
                taxes: taxes.into(),
                total_fare: t.total.into(),
                currency: Some(t.total.currency().to_string()),
                tax_details: t
                    .taxes
                    .iter()
                    .map(|x| TaxDetail { code: x.code.clone(), amount: x.amount.into() })
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
                face_ticket: Some(face(t, f, &info, &issued.agency, &issued.record.attributes)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_info_is_the_seeds_line() {
        let info = TicketInfo {
            number: "738-2300031330".into(),
            carrier: "VN".into(),
            day: "10APR24".into(),
            office: "HANVN28DB".into(),
            iata: "37963973".into(),
        };
        assert_eq!(info.to_string(), "PAX 738-2300031330/ETVN/10APR24/HANVN28DB/37963973");
    }
}
