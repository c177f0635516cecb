//! Domain records turned into what documents print: names, local times, durations and amounts for people.

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use tessera_core::agency::Agency;
use tessera_core::booking::{FlightBooking, TripType};
use tessera_core::invoice::{Invoice, InvoiceKind};
use tessera_core::money::Money;
use tessera_core::ticket::{Ticket, TicketStatus, TicketType};
use tessera_documents::model::{
    AgencyView, EmdView, FareView, FlightTicketView, InvoiceLineView, InvoiceView, JourneyView, PartyView, SegmentView,
    ServiceView, TaxLine,
};

/// `41,893.00` — grouped thousands, the currency's decimals.
pub fn format_amount(m: Money) -> String {
    let text = m.amount_string();
    let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |d| ("-", d));
    let (int, frac) = digits.split_once('.').map_or((digits, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// `Thu 22 Jul 2027 10:10` in the airport's own local time.
pub fn format_local(t: DateTime<FixedOffset>) -> String {
    t.format("%a %d %b %Y %H:%M").to_string()
}

/// `5h 00m`
pub fn format_duration(d: TimeDelta) -> String {
    let minutes = d.num_minutes().max(0);
    format!("{}h {:02}m", minutes / 60, minutes % 60)
}

pub(crate) fn agency_view(agency: &Agency) -> AgencyView {
    AgencyView {
        name: agency.name.clone(),
        office_id: agency.office_id.as_ref().map(ToString::to_string).unwrap_or_default(),
        iata_number: agency.iata_number.as_ref().map(ToString::to_string).unwrap_or_default(),
    }
}

fn journey_title(trip: TripType, index: usize) -> String {
    match (trip, index) {
        (TripType::Round, 0) => "Outbound".into(),
        (TripType::Round, _) => "Return".into(),
        (TripType::Oneway, _) => "Itinerary".into(),
        (TripType::Multicity, i) => format!("Journey {}", i + 1),
    }
}

pub(crate) fn watermark(status: TicketStatus) -> Option<String> {
    match status {
        TicketStatus::Open | TicketStatus::Used => None,
        other => Some(other.as_str().to_owned()),
    }
}

/// The stamp printed under the header of a ticket that no longer stands as issued, in words.
pub(crate) fn status_mark(status: TicketStatus) -> Option<String> {
    let words = match status {
        TicketStatus::Open => return None,
        TicketStatus::Void => "VOID",
        TicketStatus::Used => "USED",
        TicketStatus::Refunded => "REFUNDED",
        TicketStatus::Exchanged => "EXCHANGED",
        TicketStatus::RefundPending => "REFUND PENDING",
    };
    Some(words.to_owned())
}

fn fare_view(ticket: &Ticket) -> FareView {
    FareView {
        currency: ticket.total.currency().to_string(),
        base: format_amount(ticket.base),
        taxes: ticket.taxes.iter().map(|t| TaxLine { code: t.code.clone(), amount: format_amount(t.amount) }).collect(),
        total: format_amount(ticket.total),
        form_of_payment: "Agency account (cash)".into(),
    }
}

/// One passenger's e-ticket, with the passenger's EMDs listed as services.
pub fn flight_ticket(
    flight: &FlightBooking,
    agency: &Agency,
    ticket: &Ticket,
    all: &[Ticket],
    attributes: &serde_json::Value,
) -> FlightTicketView {
    let passenger = flight.passenger(&ticket.passenger_id);
    let mut coupon = ticket.coupons.iter();
    let journeys = flight
        .journeys
        .iter()
        .enumerate()
        .map(|(j, journey)| JourneyView {
            title: journey_title(flight.trip_type, j),
            summary: format!("Total travel time {}", format_duration(journey.duration())),
            segments: journey
                .segments
                .iter()
                .map(|s| {
                    let c = coupon.next();
                    SegmentView {
                        coupon_number: c.map_or(0, |c| c.number),
                        flight: format!("{} {}", s.carrier, s.flight_number),
                        carrier_name: s.carrier_name.clone(),
                        equipment: s.equipment.clone().unwrap_or_default(),
                        from_code: s.departure.airport.to_string(),
                        from_name: format!("{}, {}", s.departure.airport_name, s.departure.city),
                        from_terminal: s.departure.terminal.clone(),
                        to_code: s.arrival.airport.to_string(),
                        to_name: format!("{}, {}", s.arrival.airport_name, s.arrival.city),
                        to_terminal: s.arrival.terminal.clone(),
                        departure_local: format_local(s.departure.time),
                        arrival_local: format_local(s.arrival.time),
                        duration: format_duration(s.duration()),
                        booking_class: s.booking_class.clone(),
                        fare_basis: s.fare_basis.clone(),
                        baggage: baggage_line(journey.baggage.cabin.as_deref(), journey.baggage.checked.as_deref()),
                        status: c.map_or("O", |c| c.status.as_str()).to_owned(),
                        airline_confirmation: journey.airline_confirmation_code.clone().unwrap_or_default(),
                    }
                })
                .collect(),
            layovers: (1..journey.segments.len())
                .filter_map(|i| {
                    let gap = journey.layover_before(i)?;
                    Some(format!("Connection in {} — {}", journey.segments[i].departure.city, format_duration(gap)))
                })
                .collect(),
        })
        .collect();
    let services = all
        .iter()
        .filter(|t| t.kind == TicketType::EMD && t.passenger_id == ticket.passenger_id)
        .map(|t| ServiceView {
            document_number: t.number.to_string(),
            description: t.service.as_ref().map(|s| s.description.clone()).unwrap_or_default(),
            amount: format!("{} {}", format_amount(t.total), t.total.currency()),
        })
        .collect();
    let mut remarks = Vec::new();
    for (key, label) in
        [("tour_code", "Tour code"), ("corporate_code", "Corporate account"), ("booker_code", "Booker code")]
    {
        if let Some(v) = attributes.get(key).and_then(|v| v.as_str()) {
            remarks.push(format!("{label}: {v}"));
        }
    }
    FlightTicketView {
        agency: agency_view(agency),
        issue_date: ticket.issued_at.format("%d %b %Y").to_string(),
        pnr: flight.pnr.to_string(),
        passenger_name: passenger.map(|p| p.ticket_name()).unwrap_or_default(),
        passenger_type: passenger.map(|p| p.kind.as_str().to_owned()).unwrap_or_default(),
        ticket_number: ticket.number.to_string(),
        validating_carrier: format!("{} ({})", flight.validating_carrier_name, flight.validating_carrier),
        status: ticket.status.as_str().to_owned(),
        journeys,
        fare: fare_view(ticket),
        services,
        endorsement: flight.endorsement.clone().unwrap_or_default(),
        remarks,
        qr_payload: ticket.number.compact(),
        watermark: watermark(ticket.status),
        status_mark: status_mark(ticket.status),
    }
}

/// The invoice of a flight booking: the PNR as booking code, the route and the passengers in the notes.
pub fn flight_invoice(agency: &Agency, flight: &FlightBooking, invoice: &Invoice) -> InvoiceView {
    let lead = flight.passengers.first().map(|p| p.ticket_name()).unwrap_or_else(|| flight.contact.email.clone());
    let mut buyer = vec![flight.contact.email.clone()];
    buyer.extend(flight.contact.phone.clone());
    let route: Vec<String> = flight
        .segments()
        .map(|s| {
            format!(
                "{} {} {}-{} {}",
                s.carrier,
                s.flight_number,
                s.departure.airport,
                s.arrival.airport,
                s.departure.time.format("%d %b %Y")
            )
        })
        .collect();
    let base = invoice_base(agency, invoice, PartyView { name: lead, lines: buyer });
    let mut notes = vec![format!("Booked itinerary: {}", route.join(", ")), "International carriage: VAT 0%.".into()];
    notes.extend(base.notes.clone());
    InvoiceView { booking_code: flight.pnr.to_string(), notes, ..base }
}

/// What every invoice prints, whatever it bills: numbers, parties, lines and totals.
pub(crate) fn invoice_base(agency: &Agency, invoice: &Invoice, buyer: PartyView) -> InvoiceView {
    let draft = &invoice.draft;
    let mut seller = Vec::new();
    if let Some(office) = &agency.office_id {
        seller.push(format!("Office {office}"));
    }
    if let Some(iata) = &agency.iata_number {
        seller.push(format!("IATA {iata}"));
    }
    seller.push(format!("VAT rate {}%", agency.vat_percent.normalize()));
    let kind = match draft.kind {
        InvoiceKind::Invoice => "Invoice",
        InvoiceKind::Credit => "Credit invoice",
    };
    InvoiceView {
        title: kind.into(),
        number: invoice.number.to_string(),
        issue_date: invoice.issued_at.format("%d %b %Y").to_string(),
        credits_number: draft.credits.map(|n| n.to_string()).unwrap_or_default(),
        seller: PartyView { name: agency.name.clone(), lines: seller },
        buyer,
        reference: String::new(),
        order_id: String::new(),
        booking_code: String::new(),
        event: String::new(),
        currency: draft.currency.to_string(),
        lines: draft
            .lines
            .iter()
            .map(|l| InvoiceLineView {
                description: l.description.clone(),
                quantity: l.quantity.to_string(),
                unit_price: format_amount(l.unit_price),
                vat_rate: format!("{}%", l.vat_percent.normalize()),
                net: format_amount(l.net),
                vat: format_amount(l.vat),
                gross: format_amount(l.gross),
            })
            .collect(),
        net_total: format_amount(draft.net),
        vat_total: format_amount(draft.vat),
        gross_total: format_amount(draft.gross),
        notes: vec![issued_note(invoice)],
    }
}

pub(crate) fn issued_note(invoice: &Invoice) -> String {
    format!("Issued {}", invoice.issued_at.with_timezone(&Utc).format("%Y-%m-%d %H:%M UTC"))
}

fn baggage_line(cabin: Option<&str>, checked: Option<&str>) -> String {
    match (cabin, checked) {
        (Some(c), Some(k)) => format!("{c} cabin, {k} checked"),
        (Some(c), None) => format!("{c} cabin"),
        (None, Some(k)) => format!("{k} checked"),
        (None, None) => String::new(),
    }
}

pub fn emd(flight: &FlightBooking, agency: &Agency, ticket: &Ticket, all: &[Ticket]) -> EmdView {
    let passenger = flight.passenger(&ticket.passenger_id);
    let related = all
        .iter()
        .find(|t| t.kind == TicketType::TKT && t.passenger_id == ticket.passenger_id)
        .map(|t| t.number.to_string())
        .unwrap_or_default();
    let service = ticket.service.as_ref();
    EmdView {
        agency: agency_view(agency),
        issue_date: ticket.issued_at.format("%d %b %Y").to_string(),
        pnr: flight.pnr.to_string(),
        passenger_name: passenger.map(|p| p.ticket_name()).unwrap_or_default(),
        document_number: ticket.number.to_string(),
        related_ticket: related,
        service_type: service.map(|s| s.kind.as_str().to_owned()).unwrap_or_default(),
        service_code: service.map(|s| s.code.clone()).unwrap_or_default(),
        description: service.map(|s| s.description.clone()).unwrap_or_default(),
        fare: fare_view(ticket),
        qr_payload: ticket.number.compact(),
        watermark: watermark(ticket.status),
        status_mark: status_mark(ticket.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::money::Currency;

    #[test]
    fn amounts_group_thousands() {
        let npr = Currency::parse("NPR").unwrap();
        assert_eq!(format_amount(Money::from_minor(4_189_300, npr)), "41,893.00");
        assert_eq!(format_amount(Money::from_minor(-100, npr)), "-1.00");
        let vnd = Currency::parse("VND").unwrap();
        assert_eq!(format_amount(Money::from_minor(2_350_000, vnd)), "2,350,000");
        assert_eq!(format_amount(Money::from_minor(350, vnd)), "350");
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(TimeDelta::minutes(300)), "5h 00m");
        assert_eq!(format_duration(TimeDelta::minutes(710)), "11h 50m");
    }
}
