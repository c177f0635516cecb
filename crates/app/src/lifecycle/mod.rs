//! The ticket lifecycle as use cases: void, refund and its approval, exchange, coupon use and gate check-in.
//!
//! The core decides ([`tessera_core::lifecycle::plan`]); this module loads the facts it needs, hands storage the
//! plan to execute in one transaction, and re-renders inside it what the change affects. A plan made from a
//! state that changed meanwhile is refused by storage as stale and simply made again from the fresh state, so
//! of two concurrent voids one succeeds and the other hears that the ticket is already void.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tessera_core::agency::Agency;
use tessera_core::booking::Booking;
use tessera_core::codes::TicketNumber;
use tessera_core::invoice::Invoice;
use tessera_core::ledger::LedgerEntry;
use tessera_core::lifecycle::{self, LifecycleError, Plan};
use tessera_core::money::Money;
use tessera_core::orders::{BookingOrder, BookingOrderId, OrderItemId};
use tessera_core::ticket::{Ticket, TicketStatus};
use tessera_storage::{Actor, StorageError, Subject, TransitionOutcome};

use crate::{AppError, Principal, Tessera};
use documents::LifecycleSink;

mod checkin;
mod documents;
mod facts;
mod plan;

/// How many times a plan is made again after storage found it stale.
const ATTEMPTS: usize = 4;

/// What a caller asks for, before it is checked against the ticket.
#[derive(Debug, Clone)]
pub enum Command {
    Void,
    /// `penalty` in major units of the ticket's currency; `override_nonrefundable` is for admins only.
    Refund {
        penalty: Option<Decimal>,
        override_nonrefundable: bool,
    },
    ApproveRefund,
    RejectRefund,
    Use(u32),
    /// The raw body: journeys and fares in the intake's shapes, and a change fee.
    Exchange(Vec<u8>),
}

impl Command {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Self::Void => "void",
            Self::Refund { .. } => "refund",
            Self::ApproveRefund => "refund_approve",
            Self::RejectRefund => "refund_reject",
            Self::Use(_) => "use",
            Self::Exchange(_) => "exchange",
        }
    }
}

/// The result of an action: the subject as it is now, and what the action created.
#[derive(Debug, Clone)]
pub struct Changed {
    pub action: &'static str,
    pub ticket: Option<Ticket>,
    pub order: Option<BookingOrder>,
    pub item: Option<OrderItemId>,
    pub reissued: Option<Ticket>,
    pub invoice: Option<Invoice>,
    pub ledger: Option<LedgerEntry>,
    pub exchange: Option<lifecycle::ExchangeSettlement>,
}

/// Everything a plan is made from, read fresh for every attempt.
pub(crate) struct Facts {
    pub agency: Agency,
    pub booking: Booking,
    pub subject: Subject,
    pub state: lifecycle::Subject,
    /// Flight subjects: the ticket, and every ticket of its issuance (for the combined PDF).
    pub ticket: Option<Ticket>,
    pub siblings: Vec<Ticket>,
    pub attributes: serde_json::Value,
    /// Event subjects: the order holding the item.
    pub order: Option<BookingOrder>,
    pub item: Option<OrderItemId>,
    pub issuance_id: Option<tessera_core::ids::IssuanceId>,
    pub invoices: Vec<Invoice>,
    /// Event subjects: the order's stored documents, which a rebuilt zip reuses.
    pub documents: Vec<tessera_storage::DocumentRecord>,
}

impl Tessera {
    /// Runs a lifecycle command on a flight ticket or EMD.
    pub async fn ticket_command(
        &self,
        who: &Principal,
        number: &TicketNumber,
        command: Command,
        actor: Actor,
    ) -> Result<Changed, AppError> {
        self.run(who, Subject::Ticket { number: number.clone() }, command, actor).await
    }

    /// Runs a lifecycle command on an event ticket (an order item).
    pub async fn item_command(
        &self,
        who: &Principal,
        order: &str,
        item: &str,
        command: Command,
        actor: Actor,
    ) -> Result<Changed, AppError> {
        let order = BookingOrderId::parse(order).map_err(|_| AppError::NotFound("booking order"))?;
        let item = OrderItemId::parse(item).map_err(|_| AppError::NotFound("order item"))?;
        self.run(who, Subject::Item { order, item }, command, actor).await
    }

    pub(crate) async fn run(
        &self,
        who: &Principal,
        subject: Subject,
        command: Command,
        actor: Actor,
    ) -> Result<Changed, AppError> {
        for _ in 0..ATTEMPTS {
            let facts = self.facts(who, &subject).await?;
            authorize(who, &facts, &command)?;
            let (change, plan) = match self.prepare(who, &facts, &command, &actor) {
                Ok(prepared) => prepared,
                Err(AppError::Lifecycle(e)) => return Err(self.refused_action(&facts, &command, &actor, e).await),
                Err(e) => return Err(e),
            };
            // Keys are read before the transaction: the sink renders inside it and must not wait on the database.
            let keys = self.gate_keys().await?;
            let sink = LifecycleSink { app: self, facts: &facts, change: &change, keys: &keys };
            match self.db.transition(&change, &sink).await {
                Ok(outcome) => return self.changed(who, &facts, command.name(), plan, outcome).await,
                Err(StorageError::Stale) => continue,
                Err(StorageError::InsufficientBalance) => {
                    let available = self
                        .db
                        .get_agency(facts.agency.id)
                        .await?
                        .map_or(Money::zero(facts.agency.currency), |a| a.available());
                    let payable = change.ledger.map_or(Money::zero(facts.agency.currency), |(_, m)| m.negate());
                    let e = tessera_core::issuance::IssueError::InsufficientBalance { payable, available };
                    return Err(AppError::Issue(e));
                }
                Err(e) => return Err(e.into()),
            }
        }
        // Every attempt found the ticket changed under it: the client may retry.
        Err(AppError::Stale)
    }

    async fn changed(
        &self,
        who: &Principal,
        facts: &Facts,
        action: &'static str,
        plan: Plan,
        outcome: TransitionOutcome,
    ) -> Result<Changed, AppError> {
        let (ticket, order) = match &facts.subject {
            Subject::Ticket { number } => (self.db.get_ticket(who.scope, number).await?, None),
            Subject::Item { order, .. } => (None, self.db.get_booking_order(who.scope, order).await?.map(|r| r.order)),
        };
        Ok(Changed {
            action,
            ticket,
            order,
            item: facts.item.clone(),
            reissued: outcome.reissued,
            invoice: outcome.invoice,
            ledger: outcome.ledger,
            exchange: plan.exchange,
        })
    }

    /// A ticket with the invoices that bill or credit it (oldest first).
    /// What a flight ticket flies, for an exchange to start from: the ticket, its passenger, and the booking as
    /// that ticket sees it (an exchange's new ticket flies its amendment's journeys and fare, not the booking's).
    pub async fn ticket_itinerary(
        &self,
        who: &Principal,
        number: &TicketNumber,
    ) -> Result<(Ticket, tessera_core::booking::Passenger, tessera_core::booking::FlightBooking), AppError> {
        let ticket = self.get_ticket(who, number).await?;
        let booking = self.db.get_booking(who.scope, ticket.booking_id).await?.ok_or(AppError::NotFound("booking"))?;
        let tessera_core::booking::BookingDetail::Flight(flight) = &booking.detail else {
            return Err(AppError::Lifecycle(LifecycleError::NotExchangeable));
        };
        let passenger = flight.passenger(&ticket.passenger_id).cloned().ok_or(AppError::NotFound("passenger"))?;
        let seen = flight.as_seen_by(crate::render::reissue_of(&ticket)).into_owned();
        Ok((ticket, passenger, seen))
    }

    pub async fn ticket_with_invoices(
        &self,
        who: &Principal,
        number: &TicketNumber,
    ) -> Result<(Ticket, Vec<Invoice>), AppError> {
        let ticket = self.get_ticket(who, number).await?;
        let key = ticket.number.compact();
        let invoices = self
            .db
            .invoices_of_booking(who.scope, ticket.booking_id)
            .await?
            .into_iter()
            .filter(|i| i.draft.covers.iter().any(|c| c == &key))
            .collect();
        Ok((ticket, invoices))
    }
}

/// Who may do what: staff of the ticket's agency act on its tickets; approving a refund and overriding a
/// non-refundable fare are for admins.
fn authorize(who: &Principal, facts: &Facts, command: &Command) -> Result<(), AppError> {
    who.require_agency_staff(facts.agency.id)?;
    match command {
        Command::ApproveRefund | Command::RejectRefund | Command::Refund { override_nonrefundable: true, .. } => {
            who.require_admin()
        }
        _ => Ok(()),
    }
}

pub(super) fn subject_noun(subject: &Subject) -> &'static str {
    match subject {
        Subject::Ticket { .. } => "ticket",
        Subject::Item { .. } => "order_item",
    }
}

/// A stable machine name for each refusal; profiles map these to their own codes and strings.
pub fn lifecycle_error_code(e: &LifecycleError) -> &'static str {
    match e {
        LifecycleError::NotAllowed { .. } => "invalid_ticket_status",
        LifecycleError::CouponUsed => "coupon_used",
        LifecycleError::NoUnusedCoupon => "no_unused_coupon",
        LifecycleError::VoidWindowClosed(_) => "void_window_closed",
        LifecycleError::NonRefundable => "non_refundable",
        LifecycleError::ReissueNotVoidable => "reissue_not_voidable",
        LifecycleError::NoSuchCoupon(_) => "coupon_not_found",
        LifecycleError::CouponNotOpen { .. } => "coupon_not_open",
        LifecycleError::AlreadyUsed { .. } => "already_used",
        LifecycleError::InvalidPenalty { .. } => "invalid_penalty",
        LifecycleError::InvalidChangeFee => "invalid_change_fee",
        LifecycleError::NoApprovalRequired => "no_approval_required",
        LifecycleError::NotExchangeable => "not_exchangeable",
        LifecycleError::Money(_) => "amount_out_of_range",
    }
}

/// The status an event item shows: the lifecycle status of a ticket, in the events API's lower-case words.
pub fn item_status_word(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::Open => "active",
        TicketStatus::Used => "used",
        TicketStatus::Void => "void",
        TicketStatus::Refunded => "refunded",
        TicketStatus::RefundPending => "refund_pending",
        TicketStatus::Exchanged => "exchanged",
    }
}

/// When a coupon was first used, for the "already used" answer.
pub fn first_use(e: &LifecycleError) -> Option<DateTime<Utc>> {
    match e {
        LifecycleError::AlreadyUsed { at, .. } => Some(*at),
        _ => None,
    }
}
