//! Domain records turned into what documents print: names, local times, durations and amounts for people.

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use rust_decimal::Decimal;
use tessera_core::agency::Agency;
use tessera_core::booking::{FlightBooking, TripType};
use tessera_core::invoice::{Invoice, InvoiceKind};
use tessera_core::language::Language;
use tessera_core::money::Money;
use tessera_core::ticket::{Coupon, CouponStatus, Ticket, TicketStatus, TicketType};
use tessera_documents::i18n;
pub use tessera_documents::i18n::Lang;

use crate::gate::GateKeys;
use tessera_documents::model::{
    AgencyView, EmdView, FareView, FlightTicketView, InvoiceLineView, InvoiceView, JourneyView, PartyView, SegmentView,
    ServiceView, TaxLine,
};

/// The documents' language of a booking's language.
pub fn lang(language: Language) -> Lang {
    match language {
        Language::En => Lang::En,
        Language::Vi => Lang::Vi,
    }
}

/// `41,893.00` (English) or `41.893,00` (Vietnamese): grouped thousands, the currency's decimals.
pub fn format_amount(lang: Lang, m: Money) -> String {
    i18n::decimal(lang, &m.amount_string())
}

/// `Thu 22 Jul 2027 10:10` (English) or `T5, 22/07/2027 10:10` (Vietnamese) in the airport's own local time.
pub fn format_local(lang: Lang, t: DateTime<FixedOffset>) -> String {
    i18n::date_time(lang, t)
}

/// `5h 00m` (English) or `5 giờ 00 phút` (Vietnamese).
pub fn format_duration(lang: Lang, d: TimeDelta) -> String {
    let minutes = d.num_minutes().max(0);
    let (hours, minutes) = ((minutes / 60).to_string(), format!("{:02}", minutes % 60));
    i18n::t_args(lang, "duration", &[("hours", &hours), ("minutes", &minutes)])
}

/// A calendar day, `14 Feb 2023` or `14/02/2023`.
fn format_day(lang: Lang, t: DateTime<Utc>) -> String {
    i18n::date(lang, t.date_naive())
}

pub(crate) fn agency_view(agency: &Agency) -> AgencyView {
    AgencyView {
        name: agency.name.clone(),
        office_id: agency.office_id.as_ref().map(ToString::to_string).unwrap_or_default(),
        iata_number: agency.iata_number.as_ref().map(ToString::to_string).unwrap_or_default(),
    }
}

fn journey_title(lang: Lang, trip: TripType, index: usize) -> String {
    match (trip, index) {
        (TripType::Round, 0) => i18n::t(lang, "journey-outbound").into(),
        (TripType::Round, _) => i18n::t(lang, "journey-return").into(),
        (TripType::Oneway, _) => i18n::t(lang, "journey-oneway").into(),
        (TripType::Multicity, i) => i18n::t_args(lang, "journey-n", &[("n", &(i + 1).to_string())]),
    }
}

/// The large diagonal mark: English prints the status code (as it always has), other languages the status in
/// words.
pub(crate) fn watermark(lang: Lang, status: TicketStatus) -> Option<String> {
    match (status, lang) {
        (TicketStatus::Open | TicketStatus::Used, _) => None,
        (other, Lang::En) => Some(other.as_str().to_owned()),
        (other, _) => status_mark(lang, other),
    }
}

/// The stamp printed under the header of a ticket that no longer stands as issued, in words.
pub(crate) fn status_mark(lang: Lang, status: TicketStatus) -> Option<String> {
    let id = match status {
        TicketStatus::Open => return None,
        TicketStatus::Void => "mark-void",
        TicketStatus::Used => "mark-used",
        TicketStatus::Refunded => "mark-refunded",
        TicketStatus::Exchanged => "mark-exchanged",
        TicketStatus::RefundPending => "mark-refund-pending",
    };
    Some(i18n::t(lang, id).to_owned())
}

/// The ticket's status as its detail panel prints it: the code in English (`OPEN`, as always), in words in
/// other languages.
fn ticket_status(lang: Lang, status: TicketStatus) -> String {
    match (lang, status) {
        (Lang::En, status) => status.as_str().to_owned(),
        (_, TicketStatus::Open) => i18n::t(lang, "status-open").to_owned(),
        (_, status) => status_mark(lang, status).unwrap_or_default(),
    }
}

fn fare_view(lang: Lang, ticket: &Ticket) -> FareView {
    FareView {
        currency: ticket.total.currency().to_string(),
        base: format_amount(lang, ticket.base),
        taxes: ticket
            .taxes
            .iter()
            .map(|t| TaxLine { code: t.code.clone(), amount: format_amount(lang, t.amount) })
            .collect(),
        total: format_amount(lang, ticket.total),
        form_of_payment: i18n::t(lang, "fop-agency-cash").into(),
    }
}

/// One passenger's e-ticket, with the passenger's EMDs listed as services and a signed gate code per coupon
/// that still admits its holder.
pub fn flight_ticket(
    flight: &FlightBooking,
    agency: &Agency,
    ticket: &Ticket,
    all: &[Ticket],
    attributes: &serde_json::Value,
    keys: &GateKeys,
) -> FlightTicketView {
    let lang = lang(flight.language);
    let passenger = flight.passenger(&ticket.passenger_id);
    let mut coupon = ticket.coupons.iter();
    let journeys = flight
        .journeys
        .iter()
        .enumerate()
        .map(|(j, journey)| JourneyView {
            title: journey_title(lang, flight.trip_type, j),
            summary: i18n::t_args(
                lang,
                "total-travel-time",
                &[("duration", &format_duration(lang, journey.duration()))],
            ),
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
                        departure_local: format_local(lang, s.departure.time),
                        arrival_local: format_local(lang, s.arrival.time),
                        duration: format_duration(lang, s.duration()),
                        booking_class: s.booking_class.clone(),
                        fare_basis: s.fare_basis.clone(),
                        baggage: baggage_line(
                            lang,
                            journey.baggage.cabin.as_deref(),
                            journey.baggage.checked.as_deref(),
                        ),
                        status: c.map_or("O", |c| c.status.as_str()).to_owned(),
                        airline_confirmation: journey.airline_confirmation_code.clone().unwrap_or_default(),
                        gate_code: c
                            .filter(|c| admits(ticket, c))
                            .map(|c| keys.coupon_payload(ticket, c.number, s, passenger))
                            .unwrap_or_default(),
                        gate_caption: format!(
                            "{} · {}–{}",
                            i18n::date(lang, s.departure.time.date_naive()),
                            s.departure.airport,
                            s.arrival.airport
                        ),
                    }
                })
                .collect(),
            layovers: (1..journey.segments.len())
                .filter_map(|i| {
                    let gap = journey.layover_before(i)?;
                    let (city, gap) = (&journey.segments[i].departure.city, format_duration(lang, gap));
                    Some(i18n::t_args(lang, "connection-in", &[("city", city), ("duration", &gap)]))
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
            amount: service_amount(lang, t.total),
        })
        .collect();
    let mut remarks = Vec::new();
    for (key, id) in [
        ("tour_code", "remark-tour-code"),
        ("corporate_code", "remark-corporate-code"),
        ("booker_code", "remark-booker-code"),
    ] {
        if let Some(v) = attributes.get(key).and_then(|v| v.as_str()) {
            remarks.push(i18n::t_args(lang, id, &[("value", v)]));
        }
    }
    FlightTicketView {
        lang,
        agency: agency_view(agency),
        issue_date: format_day(lang, ticket.issued_at),
        pnr: flight.pnr.to_string(),
        passenger_name: passenger.map(|p| p.ticket_name()).unwrap_or_default(),
        passenger_type: passenger.map(|p| p.kind.as_str().to_owned()).unwrap_or_default(),
        ticket_number: ticket.number.to_string(),
        validating_carrier: format!("{} ({})", flight.validating_carrier_name, flight.validating_carrier),
        status: ticket_status(lang, ticket.status),
        journeys,
        fare: fare_view(lang, ticket),
        services,
        endorsement: flight.endorsement.clone().unwrap_or_default(),
        remarks,
        qr_payload: String::new(),
        watermark: watermark(lang, ticket.status),
        status_mark: status_mark(lang, ticket.status),
    }
}

/// Whether a coupon's gate code is printed: only while the ticket stands open and the coupon is unused. A code
/// once printed verifies offline until its window ends, so none is handed out for a coupon that admits nobody.
fn admits(ticket: &Ticket, coupon: &Coupon) -> bool {
    ticket.status == TicketStatus::Open && coupon.status == CouponStatus::Open && coupon.flight_number.is_some()
}

/// An EMD's amount in the services list: `25.00 EUR` (English), `25,00 EUR` or `500.000 ₫` (Vietnamese).
fn service_amount(lang: Lang, m: Money) -> String {
    match lang {
        Lang::En => format!("{} {}", format_amount(lang, m), m.currency()),
        _ => i18n::money(lang, &m.amount_string(), &m.currency().to_string()),
    }
}

/// The invoice of a flight booking: the PNR as booking code, the route and the passengers in the notes.
pub fn flight_invoice(agency: &Agency, flight: &FlightBooking, invoice: &Invoice) -> InvoiceView {
    let lang = lang(flight.language);
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
                i18n::date(lang, s.departure.time.date_naive())
            )
        })
        .collect();
    let base = invoice_base(lang, agency, invoice, PartyView { name: lead, lines: buyer });
    let mut notes = vec![
        i18n::t_args(lang, "note-booked-itinerary", &[("route", &route.join(", "))]),
        i18n::t(lang, "note-international-vat").into(),
    ];
    notes.extend(base.notes.clone());
    InvoiceView { booking_code: flight.pnr.to_string(), notes, ..base }
}

/// What every invoice prints, whatever it bills: numbers, parties, lines and totals.
pub(crate) fn invoice_base(lang: Lang, agency: &Agency, invoice: &Invoice, buyer: PartyView) -> InvoiceView {
    let draft = &invoice.draft;
    let mut seller = Vec::new();
    if let Some(office) = &agency.office_id {
        seller.push(i18n::t_args(lang, "seller-office", &[("office", office.as_str())]));
    }
    if let Some(iata) = &agency.iata_number {
        seller.push(i18n::t_args(lang, "seller-iata", &[("iata", iata.as_str())]));
    }
    // The rate the invoice was billed at, not the agency's rate today: the agency's rate may change after, and a
    // re-rendered invoice must be the same bytes.
    let billed_rate = draft.lines.first().map_or(Decimal::ZERO, |l| l.vat_percent);
    let rate = i18n::decimal(lang, &billed_rate.normalize().to_string());
    seller.push(i18n::t_args(lang, "seller-vat-rate", &[("rate", &rate)]));
    let kind = match draft.kind {
        InvoiceKind::Invoice => "invoice-kind-invoice",
        InvoiceKind::Credit => "invoice-kind-credit",
    };
    InvoiceView {
        lang,
        title: i18n::t(lang, kind).into(),
        number: invoice.number.to_string(),
        issue_date: format_day(lang, invoice.issued_at),
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
                unit_price: format_amount(lang, l.unit_price),
                vat_rate: format!("{}%", i18n::decimal(lang, &l.vat_percent.normalize().to_string())),
                net: format_amount(lang, l.net),
                vat: format_amount(lang, l.vat),
                gross: format_amount(lang, l.gross),
            })
            .collect(),
        net_total: format_amount(lang, draft.net),
        vat_total: format_amount(lang, draft.vat),
        gross_total: format_amount(lang, draft.gross),
        notes: vec![issued_note(lang, invoice)],
    }
}

/// `Issued 2027-02-14 09:30 UTC`: the moment, in a form that reads the same everywhere.
pub(crate) fn issued_note(lang: Lang, invoice: &Invoice) -> String {
    let when = invoice.issued_at.with_timezone(&Utc).format("%Y-%m-%d %H:%M UTC").to_string();
    i18n::t_args(lang, "note-issued", &[("when", &when)])
}

fn baggage_line(lang: Lang, cabin: Option<&str>, checked: Option<&str>) -> String {
    match (cabin, checked) {
        (Some(c), Some(k)) => i18n::t_args(lang, "baggage-both", &[("cabin", c), ("checked", k)]),
        (Some(c), None) => i18n::t_args(lang, "baggage-cabin", &[("cabin", c)]),
        (None, Some(k)) => i18n::t_args(lang, "baggage-checked", &[("checked", k)]),
        (None, None) => String::new(),
    }
}

pub fn emd(flight: &FlightBooking, agency: &Agency, ticket: &Ticket, all: &[Ticket]) -> EmdView {
    let lang = lang(flight.language);
    let passenger = flight.passenger(&ticket.passenger_id);
    let related = all
        .iter()
        .find(|t| t.kind == TicketType::TKT && t.passenger_id == ticket.passenger_id)
        .map(|t| t.number.to_string())
        .unwrap_or_default();
    let service = ticket.service.as_ref();
    EmdView {
        lang,
        agency: agency_view(agency),
        issue_date: format_day(lang, ticket.issued_at),
        pnr: flight.pnr.to_string(),
        passenger_name: passenger.map(|p| p.ticket_name()).unwrap_or_default(),
        document_number: ticket.number.to_string(),
        related_ticket: related,
        service_type: service.map(|s| s.kind.as_str().to_owned()).unwrap_or_default(),
        service_code: service.map(|s| s.code.clone()).unwrap_or_default(),
        description: service.map(|s| s.description.clone()).unwrap_or_default(),
        fare: fare_view(lang, ticket),
        qr_payload: ticket.number.compact(),
        watermark: watermark(lang, ticket.status),
        status_mark: status_mark(lang, ticket.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_core::money::Currency;

    #[test]
    fn amounts_group_thousands() {
        let npr = Currency::parse("NPR").unwrap();
        assert_eq!(format_amount(Lang::En, Money::from_minor(4_189_300, npr)), "41,893.00");
        assert_eq!(format_amount(Lang::En, Money::from_minor(-100, npr)), "-1.00");
        assert_eq!(format_amount(Lang::Vi, Money::from_minor(4_189_300, npr)), "41.893,00");
        let vnd = Currency::parse("VND").unwrap();
        assert_eq!(format_amount(Lang::En, Money::from_minor(2_350_000, vnd)), "2,350,000");
        assert_eq!(format_amount(Lang::Vi, Money::from_minor(2_350_000, vnd)), "2.350.000");
        assert_eq!(format_amount(Lang::En, Money::from_minor(350, vnd)), "350");
        assert_eq!(service_amount(Lang::Vi, Money::from_minor(50_000_000, vnd)), "50.000.000 ₫");
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(Lang::En, TimeDelta::minutes(300)), "5h 00m");
        assert_eq!(format_duration(Lang::En, TimeDelta::minutes(710)), "11h 50m");
        assert_eq!(format_duration(Lang::Vi, TimeDelta::minutes(710)), "11 giờ 50 phút");
    }
}
