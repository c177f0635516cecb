//! What the lifecycle checks hand the database: transitions of tickets and order items as the state machine
//! plans them, and the reads that show their effect.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use tessera_core::agency::Agency;
use tessera_core::booking::{Amendment, Booking, BookingDetail, Fare, PassengerType, Tax};
use tessera_core::codes::TicketNumber;
use tessera_core::ids::{BookingId, IssuanceId};
use tessera_core::invoice::{credit_for, exchange_invoice, Credit, InvoiceDraft};
use tessera_core::issuance::flight_coupons;
use tessera_core::ledger::LedgerKind;
use tessera_core::lifecycle::{self, Action};
use tessera_core::money::Money;
use tessera_core::orders::{BookingOrder, OrderItem};
use tessera_core::ticket::{Ticket, TicketDraft, TicketType};
use tessera_core::user::Scope;

use super::data::*;
use super::sinks::*;
use crate::{Actor, AuditFilter, Database, NewIssuance, NewTransition, Reissue, Subject};

pub(super) fn lifecycle_actor() -> Actor {
    Actor {
        user_id: None,
        username: "agent-lifecycle".into(),
        client_addr: Some("203.0.113.9".into()),
        tracking_id: Some(format!("trk-{}", unique(12).to_lowercase())),
    }
}

/// What `action` does to a ticket as it stands, as the state machine plans it; no money, invoice or reissue
/// (checks add those).
pub(super) fn ticket_change(ticket: &Ticket, action: Action, at: DateTime<Utc>) -> NewTransition {
    let next = lifecycle::apply(ticket.status, &ticket.coupon_states(), action, at).expect("the action is allowed");
    NewTransition {
        agency_id: ticket.agency_id,
        booking_id: ticket.booking_id,
        subject: Subject::Ticket { number: ticket.number.clone() },
        from: ticket.status,
        from_coupons: ticket.coupon_states(),
        to: next.status,
        coupons: next.coupons,
        pending_penalty: None,
        ledger: None,
        issuance_id: Some(ticket.issuance_id),
        invoice: None,
        reissue: None,
        at,
        actor: lifecycle_actor(),
        action: format!("ticket.{}", action.name()),
        detail: serde_json::json!({ "reason": "conformance" }),
    }
}

/// What `action` does to an event ticket (an order item) as it stands.
pub(super) fn item_change(
    order: &BookingOrder,
    item: &OrderItem,
    action: Action,
    at: DateTime<Utc>,
    issuance: IssuanceId,
) -> NewTransition {
    let next = lifecycle::apply(item.status, &item.coupon_states(), action, at).expect("the action is allowed");
    NewTransition {
        agency_id: order.agency_id,
        booking_id: order.booking_id,
        subject: Subject::Item { order: order.id.clone(), item: item.id.clone() },
        from: item.status,
        from_coupons: item.coupon_states(),
        to: next.status,
        coupons: next.coupons,
        pending_penalty: None,
        ledger: None,
        issuance_id: Some(issuance),
        invoice: None,
        reissue: None,
        at,
        actor: lifecycle_actor(),
        action: format!("item.{}", action.name()),
        detail: serde_json::json!({ "reason": "conformance" }),
    }
}

/// A credit invoice taking `amount` back for `covers` (a ticket number or item id), crediting invoice `credits`.
pub(super) fn credit_note(
    booking: BookingId,
    order: Option<&BookingOrder>,
    covers: &str,
    amount: Money,
    vat_percent: Decimal,
    credits: u64,
) -> InvoiceDraft {
    credit_for(Credit {
        booking_id: booking,
        order_id: order.map(|o| o.id.clone()),
        covers,
        description: format!("Refund of {covers}"),
        amount,
        vat_percent,
        credits,
    })
    .expect("credit invoice")
}

/// A void of `ticket`: what it was charged credited back, with a credit invoice against invoice `billed`.
pub(super) fn void_of(ticket: &Ticket, billed: u64, at: DateTime<Utc>) -> NewTransition {
    let mut change = ticket_change(ticket, Action::Void, at);
    change.ledger = Some((LedgerKind::VoidCredit, ticket.charged));
    let covers = ticket.number.compact();
    change.invoice = Some(credit_note(ticket.booking_id, None, &covers, ticket.charged, Decimal::ZERO, billed));
    change
}

/// An exchange of `ticket` (all coupons unused) for the same itinerary a week later at `new_total`, with a
/// change fee: the difference to its residual value is debited or credited, the exchange invoiced, and the
/// booking amended.
pub(super) fn exchange_of(
    booking: &Booking,
    ticket: &Ticket,
    new_total: i64,
    fee: i64,
    at: DateTime<Utc>,
) -> NewTransition {
    let flight = booking.as_flight().expect("a flight booking");
    let mut journeys = flight.journeys.clone();
    for segment in journeys.iter_mut().flat_map(|j| j.segments.iter_mut()) {
        segment.departure.time += Duration::days(7);
        segment.arrival.time += Duration::days(7);
    }
    let taxes =
        vec![Tax { code: "YQ".into(), amount: usd_minor(5_000) }, Tax { code: "NP".into(), amount: usd_minor(1_000) }];
    let fare = Fare {
        passenger_type: PassengerType::ADT,
        base: usd_minor(new_total - 6_000),
        taxes,
        total: usd_minor(new_total),
    };
    let draft = TicketDraft {
        kind: TicketType::TKT,
        prefix: ticket.number.prefix().clone(),
        passenger_id: ticket.passenger_id.clone(),
        base: fare.base,
        taxes: fare.taxes.clone(),
        total: fare.total,
        charged: fare.total,
        service: None,
        coupons: flight_coupons(&journeys),
    };
    let mut amended = flight.clone();
    amended.amendments.push(Amendment {
        replaces: ticket.number.clone(),
        passenger_id: ticket.passenger_id.clone(),
        journeys,
        fare,
        change_fee: usd_minor(fee),
    });
    let residual = lifecycle::residual_value(ticket.charged, &ticket.coupon_states()).expect("residual value");
    let difference = new_total + fee - residual.minor();
    let mut change = ticket_change(ticket, Action::Exchange, at);
    change.ledger = match difference {
        0 => None,
        d if d > 0 => Some((LedgerKind::ExchangeDebit, usd_minor(-d))),
        d => Some((LedgerKind::ExchangeCredit, usd_minor(-d))),
    };
    let compact = ticket.number.compact();
    change.invoice = Some(
        exchange_invoice(booking.id, &compact, usd_minor(new_total), usd_minor(fee), residual)
            .expect("exchange invoice"),
    );
    change.reissue = Some(Reissue { draft, booking: BookingDetail::Flight(amended) });
    change
}

/// A flight booking of a fresh agency (topped up by `funds`), issued: the agency, booking, issuance and tickets.
pub(super) async fn issued_flight(db: &dyn Database, funds: i64) -> (Agency, Booking, NewIssuance, Vec<Ticket>) {
    let agency = new_agency(db, 0).await;
    top_up(db, agency.id, funds).await;
    let (booking, issuance) = booked(db, agency.id, None).await;
    db.issue(&issuance, Arc::new(RecordingSink::default())).await.expect("issue");
    let tickets = db.tickets_of_issuance(Scope::All, issuance.id).await.expect("tickets");
    let agency = db.get_agency(agency.id).await.expect("get agency").expect("agency exists");
    (agency, booking, issuance, tickets)
}

pub(super) async fn ticket_now(db: &dyn Database, number: &TicketNumber) -> Ticket {
    db.get_ticket(Scope::All, number).await.expect("get ticket").expect("ticket exists")
}

pub(super) async fn invoice_numbers(db: &dyn Database, booking: BookingId) -> Vec<u64> {
    db.invoices_of_booking(Scope::All, booking).await.expect("invoices").iter().map(|i| i.number).collect()
}

pub(super) async fn audit_of(db: &dyn Database, subject: &Subject) -> Vec<crate::AuditEntry> {
    let filter = AuditFilter { ticket_number: Some(subject.key()), ..AuditFilter::default() };
    db.list_audit(Scope::All, &filter).await.expect("audit")
}
