//! Webhook events: the types an agency can subscribe to, which lifecycle change raises which, when a balance
//! counts as low, and the `data` of each event as integrators receive it. Pure: the storage scripts call these
//! with what they already hold, inside the transaction that made the change (the transactional outbox).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::ids::{AgencyId, BookingId, IssuanceId};
use crate::ledger::LedgerEntry;
use crate::lifecycle::CouponState;
use crate::money::Money;
use crate::ticket::{CouponStatus, Ticket, TicketStatus};

/// Every event type, as subscribed to and sent in `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    IssuanceCreated,
    TicketVoided,
    TicketRefundRequested,
    TicketRefunded,
    TicketExchanged,
    CouponUsed,
    BookingOrderCompleted,
    BalanceLow,
}

impl EventType {
    pub const ALL: [EventType; 8] = [
        Self::IssuanceCreated,
        Self::TicketVoided,
        Self::TicketRefundRequested,
        Self::TicketRefunded,
        Self::TicketExchanged,
        Self::CouponUsed,
        Self::BookingOrderCompleted,
        Self::BalanceLow,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::IssuanceCreated => "issuance.created",
            Self::TicketVoided => "ticket.voided",
            Self::TicketRefundRequested => "ticket.refund_requested",
            Self::TicketRefunded => "ticket.refunded",
            Self::TicketExchanged => "ticket.exchanged",
            Self::CouponUsed => "coupon.used",
            Self::BookingOrderCompleted => "booking_order.completed",
            Self::BalanceLow => "balance.low",
        }
    }

    pub fn parse(text: &str) -> Option<EventType> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The event a lifecycle change raises, from the subject's status before and after and the coupons'
    /// states before and after; `None` for changes nobody subscribes to (a rejected refund request).
    pub fn of_transition(
        from: TicketStatus,
        to: TicketStatus,
        before: &[CouponState],
        after: &[CouponState],
    ) -> Option<EventType> {
        match to {
            TicketStatus::Void if from != TicketStatus::Void => return Some(Self::TicketVoided),
            TicketStatus::RefundPending if from != TicketStatus::RefundPending => {
                return Some(Self::TicketRefundRequested)
            }
            TicketStatus::Refunded if from != TicketStatus::Refunded => return Some(Self::TicketRefunded),
            TicketStatus::Exchanged if from != TicketStatus::Exchanged => return Some(Self::TicketExchanged),
            _ => {}
        }
        (!newly_used(before, after).is_empty()).then_some(Self::CouponUsed)
    }
}

/// Coupon numbers (from 1) that were not used before and are now.
pub fn newly_used(before: &[CouponState], after: &[CouponState]) -> Vec<u32> {
    after
        .iter()
        .zip(before)
        .zip(1u32..)
        .filter(|((a, b), _)| a.status == CouponStatus::Flown && b.status != CouponStatus::Flown)
        .map(|(_, n)| n)
        .collect()
}

/// Whether a ledger entry took the balance from at or above `threshold_minor` to below it: `balance.low` is
/// raised once per crossing, not on every debit while the balance stays low.
pub fn crosses_low_balance(entry: &LedgerEntry, threshold_minor: i64) -> bool {
    let after = entry.balance_after.minor();
    let before = after - entry.amount.minor();
    after < threshold_minor && before >= threshold_minor
}

fn money(m: &Money) -> Value {
    json!({ "amount": m.amount_string(), "currency": m.currency().code() })
}

/// One ticket as events describe it.
pub fn ticket_data(t: &Ticket) -> Value {
    json!({
        "number": t.number.to_string(),
        "status": t.status.as_str(),
        "passenger_id": t.passenger_id,
        "total": money(&t.total),
        "coupons": t.coupons.iter().map(|c| json!({
            "number": c.number,
            "status": c.status,
            "origin": c.origin,
            "destination": c.destination,
        })).collect::<Vec<_>>(),
    })
}

/// `issuance.created`.
#[allow(clippy::too_many_arguments)]
pub fn issuance_created(
    issuance: IssuanceId,
    booking: BookingId,
    agency: AgencyId,
    charged: &Money,
    issued_at: DateTime<Utc>,
    tickets: &[Ticket],
    invoices: &[u64],
    orders: &[String],
) -> Value {
    json!({
        "issuance_id": issuance.to_string(),
        "booking_id": booking.to_string(),
        "agency_id": agency.to_string(),
        "amount_charged": money(charged),
        "issued_at": issued_at,
        "tickets": tickets.iter().map(ticket_data).collect::<Vec<_>>(),
        "invoices": invoices,
        "booking_orders": orders,
    })
}

/// `balance.low`.
pub fn balance_low(entry: &LedgerEntry, threshold: &Money) -> Value {
    json!({
        "agency_id": entry.agency_id.to_string(),
        "balance": money(&entry.balance_after),
        "threshold": money(threshold),
        "ledger_entry_id": entry.id,
        "ledger_kind": entry.kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: CouponStatus) -> CouponState {
        CouponState { status, used_at: None }
    }

    #[test]
    fn every_type_round_trips_its_name() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EventType::parse("ticket.unknown"), None);
    }

    #[test]
    fn transitions_raise_their_event() {
        let open = [state(CouponStatus::Open), state(CouponStatus::Open)];
        let one_used = [state(CouponStatus::Flown), state(CouponStatus::Open)];
        let of = |from, to, after: &[CouponState]| EventType::of_transition(from, to, &open, after);
        assert_eq!(of(TicketStatus::Open, TicketStatus::Void, &open), Some(EventType::TicketVoided));
        assert_eq!(of(TicketStatus::Open, TicketStatus::RefundPending, &open), Some(EventType::TicketRefundRequested));
        assert_eq!(of(TicketStatus::RefundPending, TicketStatus::Refunded, &open), Some(EventType::TicketRefunded));
        assert_eq!(of(TicketStatus::Open, TicketStatus::Exchanged, &open), Some(EventType::TicketExchanged));
        assert_eq!(of(TicketStatus::Open, TicketStatus::Open, &one_used), Some(EventType::CouponUsed));
        assert_eq!(of(TicketStatus::RefundPending, TicketStatus::Open, &open), None);
        assert_eq!(newly_used(&open, &one_used), vec![1]);
    }
}
