//! The rules of ticketing a booking: what may be issued, what it costs, and which tickets it creates.
//!
//! [`plan`] is pure: it reads a booking, the agency and its agreements at an instant `now`, and either refuses
//! with the first rule broken or returns the draft that storage executes atomically. Storage re-checks the two
//! facts that can race (booking still confirmed, balance still sufficient) under its own locks.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::agency::{Agency, Agreements};
use crate::booking::{Booking, BookingDetail, BookingStatus, Distribution, FlightBooking, Journey, PassengerType, Tax};
use crate::codes::{AccountingPrefix, CarrierCode};
use crate::ids::{AgencyId, BookingId};
use crate::invoice::{self, InvoiceDraft};
use crate::money::{Currency, Money, MoneyError};
use crate::orders::BookingOrder;
use crate::reference;
use crate::ticket::{Coupon, CouponStatus, ServiceInfo, TicketDraft, TicketType};

/// A commission the issuing agent asks to keep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Commission {
    /// Percent of the base fares.
    Percent(Decimal),
    /// A fixed amount in the booking currency.
    Amount(Decimal),
}

/// What the caller adds to an issuance request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IssueOptions {
    pub commission: Option<Commission>,
    pub tour_code: Option<String>,
    pub corporate_code: Option<String>,
    pub booker_code: Option<String>,
}

/// Why a booking cannot be ticketed. Each variant is one rule, so every profile can name it its own way.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IssueError {
    #[error("the booking is already ticketed")]
    AlreadyIssued,
    #[error("the booking is cancelled")]
    Cancelled,
    #[error("the booking is not a flight booking")]
    NotAFlight,
    #[error("the event has already started")]
    EventStarted,
    #[error("a {0} does not apply to event bookings")]
    NotApplicable(&'static str),
    #[error("the ticketing deadline {0} has passed")]
    DeadlinePassed(DateTime<Utc>),
    #[error("the first flight has already departed")]
    Departed,
    #[error("passenger `{passenger_id}` is incomplete: {reason}")]
    IncompletePassenger { passenger_id: String, reason: String },
    #[error("NDC bookings need payment information")]
    NdcPaymentMissing,
    #[error("the agency is not authorized to issue on validating carrier {0}")]
    CarrierNotAuthorized(CarrierCode),
    #[error("commission is invalid: {0}")]
    InvalidCommission(String),
    #[error("commission {requested} exceeds the agreed maximum {allowed}")]
    CommissionAboveCap { requested: Money, allowed: Money },
    #[error("unknown tour code `{0}`")]
    UnknownTourCode(String),
    #[error("tour code `{0}` is not valid for carrier {1}")]
    TourCodeWrongCarrier(String, CarrierCode),
    #[error("tour code `{0}` is not active today")]
    TourCodeInactive(String),
    #[error("unknown corporate account `{0}`")]
    UnknownCorporateAccount(String),
    #[error("unknown booker code `{0}`")]
    UnknownBookerCode(String),
    #[error("booking currency {booking} differs from the agency's account currency {agency}")]
    CurrencyMismatch { booking: Currency, agency: Currency },
    #[error("insufficient balance: {payable} payable, {available} available")]
    InsufficientBalance { payable: Money, available: Money },
    #[error("no ticketing prefix for validating carrier {0}")]
    UnknownPrefix(CarrierCode),
    #[error("the request does not match the booking: {0}")]
    RequestMismatch(&'static str),
    #[error("the PNR does not match the booking")]
    PnrMismatch,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// Facts a caller states about the booking it means to ticket; issuance refuses if any differs, so a client
/// never pays for something other than what it showed its user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Expectations {
    /// The ticketing system (`1A`, `VN`, ...).
    pub system: Option<String>,
    pub trip_type: Option<String>,
    pub currency: Option<String>,
    pub pnr: Option<String>,
    /// The amount payable, in major units.
    pub amount: Option<Decimal>,
}

/// Checks stated facts against the booking, before any rule: a caller that names the wrong booking hears that first.
pub fn check_expectations(booking: &Booking, expected: &Expectations) -> Result<(), IssueError> {
    let flight = booking.as_flight();
    if let Some(system) = &expected.system {
        if !flight.is_some_and(|f| f.system.as_str().eq_ignore_ascii_case(system)) {
            return Err(IssueError::RequestMismatch("system"));
        }
    }
    if let Some(trip) = &expected.trip_type {
        if flight.map(|f| f.trip_type.as_str()) != Some(trip.as_str()) {
            return Err(IssueError::RequestMismatch("tripType"));
        }
    }
    if let Some(currency) = &expected.currency {
        if booking.currency().code() != currency {
            return Err(IssueError::RequestMismatch("currency"));
        }
    }
    if let Some(pnr) = &expected.pnr {
        if !pnr.eq_ignore_ascii_case(booking.code()) {
            return Err(IssueError::PnrMismatch);
        }
    }
    Ok(())
}

/// Checks a stated amount against what the draft would charge.
pub fn check_amount(draft: &IssuanceDraft, expected: &Expectations) -> Result<(), IssueError> {
    match expected.amount {
        Some(amount) if amount != draft.payable.to_decimal() => Err(IssueError::RequestMismatch("amount")),
        _ => Ok(()),
    }
}

/// What storage must do, atomically, to ticket a booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuanceDraft {
    pub booking_id: BookingId,
    pub agency_id: AgencyId,
    pub currency: Currency,
    pub fares_total: Money,
    pub services_total: Money,
    pub commission: Money,
    /// Debited from the agency: fares + services − commission.
    pub payable: Money,
    pub tickets: Vec<TicketDraft>,
    /// Event bookings: one invoice per booking order (flights have none).
    pub invoices: Vec<InvoiceDraft>,
}

pub fn plan(
    booking: &Booking,
    agency: &Agency,
    agreements: &Agreements,
    options: &IssueOptions,
    now: DateTime<Utc>,
) -> Result<IssuanceDraft, IssueError> {
    check_status(booking)?;
    let flight = match &booking.detail {
        BookingDetail::Flight(f) => f,
        BookingDetail::Event(_) => return Err(IssueError::NotAFlight),
    };
    if now > flight.ticketing_deadline {
        return Err(IssueError::DeadlinePassed(flight.ticketing_deadline));
    }
    if flight.first_departure().is_some_and(|d| d <= now) {
        return Err(IssueError::Departed);
    }
    check_passengers(flight)?;
    if flight.distribution == Distribution::Ndc
        && flight.payment.as_ref().is_none_or(|p| p.as_object().is_none_or(|o| o.is_empty()))
    {
        return Err(IssueError::NdcPaymentMissing);
    }
    let agreement = agreements.for_carrier(&flight.validating_carrier);
    if agreement.is_some_and(|a| !a.authorized) {
        return Err(IssueError::CarrierNotAuthorized(flight.validating_carrier.clone()));
    }
    check_tour_code(flight, agreements, options, now)?;
    check_accounts(agreements, options)?;
    if flight.currency != agency.currency {
        return Err(IssueError::CurrencyMismatch { booking: flight.currency, agency: agency.currency });
    }

    let currency = flight.currency;
    let mut fares_total = Money::zero(currency);
    let mut base_total = Money::zero(currency);
    for p in &flight.passengers {
        // Intake guarantees a fare per passenger type; a missing one is a broken record, not a free ticket.
        let fare = flight.fare_for(p.kind).ok_or_else(|| IssueError::IncompletePassenger {
            passenger_id: p.id.clone(),
            reason: format!("no fare for type {}", p.kind.as_str()),
        })?;
        fares_total = fares_total.checked_add(fare.total)?;
        base_total = base_total.checked_add(fare.base)?;
    }
    let services_total = Money::sum(flight.services.iter().map(|s| s.amount), currency)?;
    let cap = agreement.and_then(|a| a.commission_cap_percent);
    let commission = commission(options.commission, base_total, cap)?;
    let payable = fares_total.checked_add(services_total)?.checked_sub(commission)?;
    if payable.minor() > agency.available().minor() {
        return Err(IssueError::InsufficientBalance { payable, available: agency.available() });
    }

    let prefix = reference::airline(flight.validating_carrier.as_str())
        .and_then(|a| AccountingPrefix::parse(&a.prefix).ok())
        .ok_or_else(|| IssueError::UnknownPrefix(flight.validating_carrier.clone()))?;
    let mut tickets = drafts(flight, &prefix);
    let shares: Vec<_> = tickets.iter().map(|t| (t.base, t.total, t.kind == TicketType::TKT)).collect();
    for (ticket, charged) in tickets.iter_mut().zip(crate::lifecycle::charged_amounts(&shares, commission)?) {
        ticket.charged = charged;
    }
    let lines: Vec<(String, Money)> = tickets.iter().map(|t| (invoice_description(flight, t), t.charged)).collect();
    let invoice = invoice::invoice_for_flight(booking.id, currency, &lines)?;
    Ok(IssuanceDraft {
        booking_id: booking.id,
        agency_id: booking.agency_id,
        currency,
        fares_total,
        services_total,
        commission,
        payable,
        tickets,
        invoices: vec![invoice],
    })
}

/// `E-ticket MAHARJAN/RABI MR (ADT) KTM-DOH` or `EMD XBAG 10 Kg extra (MAHARJAN/RABI MR)`.
fn invoice_description(flight: &FlightBooking, ticket: &TicketDraft) -> String {
    let name = flight.passenger(&ticket.passenger_id).map_or_else(
        || ticket.passenger_id.clone(),
        |p| {
            let given = p.given_name.as_deref().map(|g| format!("/{g}")).unwrap_or_default();
            let title = p.title.as_deref().map(|t| format!(" {t}")).unwrap_or_default();
            format!("{}{given}{title} ({})", p.surname, p.kind.as_str())
        },
    );
    match &ticket.service {
        Some(service) => format!("EMD {} {} — {name}", service.code, service.description),
        None => {
            let route: Vec<&str> =
                ticket.coupons.iter().flat_map(|c| [c.origin.as_deref(), c.destination.as_deref()]).flatten().collect();
            let mut stops: Vec<&str> = Vec::new();
            for code in route {
                if stops.last() != Some(&code) {
                    stops.push(code);
                }
            }
            format!("E-ticket {name} {}", stops.join("-"))
        }
    }
}

/// Plans an event booking: the agency pays every ticket of every booking order, and each order gets its
/// invoice. The orders (created at intake) are the tickets; no ticket numbers are drawn.
pub fn plan_event(
    booking: &Booking,
    orders: &[BookingOrder],
    agency: &Agency,
    agreements: &Agreements,
    options: &IssueOptions,
    now: DateTime<Utc>,
) -> Result<IssuanceDraft, IssueError> {
    check_status(booking)?;
    let BookingDetail::Event(event) = &booking.detail else { return Err(IssueError::RequestMismatch("type")) };
    if orders.is_empty() || orders.iter().any(|o| o.booking_id != booking.id) {
        return Err(IssueError::RequestMismatch("orders"));
    }
    if orders.iter().any(|o| o.event.starts_at <= now) {
        return Err(IssueError::EventStarted);
    }
    if options.tour_code.is_some() {
        return Err(IssueError::NotApplicable("tour code"));
    }
    if options.commission.is_some() {
        return Err(IssueError::NotApplicable("commission"));
    }
    check_accounts(agreements, options)?;
    if event.currency != agency.currency {
        return Err(IssueError::CurrencyMismatch { booking: event.currency, agency: agency.currency });
    }
    let payable = Money::sum(orders.iter().map(BookingOrder::total).collect::<Result<Vec<_>, _>>()?, event.currency)?;
    if payable.minor() > agency.available().minor() {
        return Err(IssueError::InsufficientBalance { payable, available: agency.available() });
    }
    let invoices = orders.iter().map(|o| invoice::invoice_for(o, agency.vat_percent)).collect::<Result<Vec<_>, _>>()?;
    Ok(IssuanceDraft {
        booking_id: booking.id,
        agency_id: booking.agency_id,
        currency: event.currency,
        fares_total: payable,
        services_total: Money::zero(event.currency),
        commission: Money::zero(event.currency),
        payable,
        tickets: Vec::new(),
        invoices,
    })
}

fn check_status(booking: &Booking) -> Result<(), IssueError> {
    match booking.status {
        BookingStatus::Confirmed => Ok(()),
        BookingStatus::Ticketed => Err(IssueError::AlreadyIssued),
        BookingStatus::Cancelled => Err(IssueError::Cancelled),
    }
}

/// Corporate accounts and booker codes name the agency's own customers and staff, whatever is booked.
fn check_accounts(agreements: &Agreements, options: &IssueOptions) -> Result<(), IssueError> {
    if let Some(code) = &options.corporate_code {
        if !agreements.corporate_accounts.iter().any(|c| c == code) {
            return Err(IssueError::UnknownCorporateAccount(code.clone()));
        }
    }
    if let Some(code) = &options.booker_code {
        if !agreements.booker_codes.iter().any(|c| c == code) {
            return Err(IssueError::UnknownBookerCode(code.clone()));
        }
    }
    Ok(())
}

/// Data a ticket cannot be issued without; intake accepts records that lack it.
fn check_passengers(flight: &FlightBooking) -> Result<(), IssueError> {
    for p in &flight.passengers {
        let incomplete =
            |reason: &str| IssueError::IncompletePassenger { passenger_id: p.id.clone(), reason: reason.into() };
        if p.given_name.is_none() {
            return Err(incomplete("given name is missing"));
        }
        if p.kind != PassengerType::ADT && p.date_of_birth.is_none() {
            return Err(incomplete("date of birth is required for children and infants"));
        }
        if p.kind == PassengerType::INF && p.accompanied_by.is_none() {
            return Err(incomplete("an infant must name the adult it travels with"));
        }
    }
    Ok(())
}

fn check_tour_code(
    flight: &FlightBooking,
    agreements: &Agreements,
    options: &IssueOptions,
    now: DateTime<Utc>,
) -> Result<(), IssueError> {
    let Some(code) = &options.tour_code else { return Ok(()) };
    let known: Vec<_> = agreements.tour_codes.iter().filter(|t| &t.code == code).collect();
    if known.is_empty() {
        return Err(IssueError::UnknownTourCode(code.clone()));
    }
    let for_carrier: Vec<_> = known.into_iter().filter(|t| t.carrier == flight.validating_carrier).collect();
    if for_carrier.is_empty() {
        return Err(IssueError::TourCodeWrongCarrier(code.clone(), flight.validating_carrier.clone()));
    }
    if !for_carrier.iter().any(|t| t.active_on(now.date_naive())) {
        return Err(IssueError::TourCodeInactive(code.clone()));
    }
    Ok(())
}

/// Commission in money, refused when negative, above the fares, or above the agreement's cap.
pub fn commission(
    request: Option<Commission>,
    base_total: Money,
    cap_percent: Option<Decimal>,
) -> Result<Money, IssueError> {
    let currency = base_total.currency();
    let requested = match request {
        None => return Ok(Money::zero(currency)),
        Some(Commission::Percent(p)) => {
            if p.is_sign_negative() || p > Decimal::from(100) {
                return Err(IssueError::InvalidCommission("a percentage is between 0 and 100".into()));
            }
            base_total.percent(p)?
        }
        Some(Commission::Amount(a)) => {
            if a.is_sign_negative() {
                return Err(IssueError::InvalidCommission("an amount is not negative".into()));
            }
            Money::from_decimal(a, currency).map_err(|e| IssueError::InvalidCommission(e.to_string()))?
        }
    };
    if requested.is_zero() {
        return Ok(requested);
    }
    let allowed = match cap_percent {
        Some(cap) => base_total.percent(cap)?,
        None => Money::zero(currency),
    };
    if requested.minor() > allowed.minor() {
        return Err(IssueError::CommissionAboveCap { requested, allowed });
    }
    Ok(requested)
}

/// One coupon per segment of `journeys`, numbered from 1 in itinerary order.
pub fn flight_coupons(journeys: &[Journey]) -> Vec<Coupon> {
    journeys
        .iter()
        .flat_map(|j| j.segments.iter())
        .enumerate()
        .map(|(i, s)| Coupon {
            number: i as u32 + 1,
            status: CouponStatus::Open,
            origin: Some(s.departure.airport.to_string()),
            destination: Some(s.arrival.airport.to_string()),
            carrier: Some(s.carrier.to_string()),
            flight_number: Some(s.flight_number.clone()),
            departure_date: Some(s.departure.time.date_naive()),
            booking_class: Some(s.booking_class.clone()),
            fare_basis: Some(s.fare_basis.clone()),
            service_code: None,
            used_at: None,
        })
        .collect()
}

/// One TKT per passenger with a coupon per segment, then one EMD per paid service.
fn drafts(flight: &FlightBooking, prefix: &AccountingPrefix) -> Vec<TicketDraft> {
    let coupons = flight_coupons(&flight.journeys);
    let mut out = Vec::new();
    for p in &flight.passengers {
        if let Some(fare) = flight.fare_for(p.kind) {
            out.push(TicketDraft {
                kind: TicketType::TKT,
                prefix: prefix.clone(),
                passenger_id: p.id.clone(),
                base: fare.base,
                taxes: fare.taxes.clone(),
                total: fare.total,
                charged: fare.total,
                service: None,
                coupons: coupons.clone(),
            });
        }
    }
    for s in &flight.services {
        out.push(TicketDraft {
            kind: TicketType::EMD,
            prefix: prefix.clone(),
            passenger_id: s.passenger_id.clone(),
            base: s.amount,
            taxes: Vec::<Tax>::new(),
            total: s.amount,
            charged: s.amount,
            service: Some(ServiceInfo { kind: s.kind, code: s.code.clone(), description: s.description.clone() }),
            coupons: vec![Coupon {
                number: 1,
                status: CouponStatus::Open,
                origin: None,
                destination: None,
                carrier: Some(flight.validating_carrier.to_string()),
                flight_number: None,
                departure_date: flight.first_departure().map(|d| d.date_naive()),
                booking_class: None,
                fare_basis: None,
                service_code: Some(s.code.clone()),
                used_at: None,
            }],
        });
    }
    out
}

#[cfg(test)]
mod tests;
