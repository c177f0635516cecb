//! The ticket lifecycle as use cases: void, refund and its approval, exchange, coupon use and gate check-in.
//!
//! The core decides ([`tessera_core::lifecycle::plan`]); this module loads the facts it needs, hands storage the
//! plan to execute in one transaction, and re-renders inside it what the change affects. A plan made from a
//! state that changed meanwhile is refused by storage as stale and simply made again from the fresh state, so
//! of two concurrent voids one succeeds and the other hears that the ticket is already void.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tessera_core::agency::Agency;
use tessera_core::booking::{Amendment, Booking, BookingDetail};
use tessera_core::codes::TicketNumber;
use tessera_core::invoice::{self, Credit, Invoice, InvoiceDraft, InvoiceKind};
use tessera_core::ledger::LedgerEntry;
use tessera_core::lifecycle::{self, Context, LifecycleError, Plan, Request};
use tessera_core::money::Money;
use tessera_core::orders::{BookingOrder, BookingOrderId, OrderItemId};
use tessera_core::ticket::{RelatedType, Ticket, TicketDraft, TicketStatus, TicketType};
use tessera_core::user::Scope;
use tessera_storage::{Actor, NewAuditEntry, NewTransition, Reissue, StorageError, Subject, TransitionOutcome};

use crate::lifecycle_docs::LifecycleSink;
use crate::{AppError, Principal, Tessera};

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
    fn name(&self) -> &'static str {
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
            let sink = LifecycleSink { app: self, facts: &facts, change: &change };
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
        Err(AppError::Internal("the ticket kept changing while the request ran".into()))
    }

    async fn facts(&self, who: &Principal, subject: &Subject) -> Result<Facts, AppError> {
        match subject {
            Subject::Ticket { number } => {
                let ticket = self.db.get_ticket(who.scope, number).await?.ok_or(AppError::NotFound("ticket"))?;
                let booking =
                    self.db.get_booking(Scope::All, ticket.booking_id).await?.ok_or(AppError::NotFound("booking"))?;
                let agency = self.agency_of(ticket.agency_id).await?;
                let issuance = self.db.get_issuance(Scope::All, ticket.issuance_id).await?;
                let siblings = self.db.tickets_of_issuance(Scope::All, ticket.issuance_id).await?;
                let invoices = self.db.invoices_of_booking(Scope::All, booking.id).await?;
                let refundable = booking.as_flight().is_none_or(|f| f.refundable);
                let state = lifecycle::Subject {
                    status: ticket.status,
                    coupons: ticket.coupon_states(),
                    charged: ticket.charged,
                    issued_at: ticket.issued_at,
                    refundable,
                    reissue: ticket.is_reissue(),
                    pending_penalty: ticket.pending_penalty,
                };
                Ok(Facts {
                    agency,
                    booking,
                    subject: subject.clone(),
                    state,
                    issuance_id: Some(ticket.issuance_id),
                    attributes: issuance.map(|i| i.attributes).unwrap_or(serde_json::Value::Null),
                    ticket: Some(ticket),
                    siblings,
                    order: None,
                    item: None,
                    invoices,
                    documents: Vec::new(),
                })
            }
            Subject::Item { order, item } => {
                let record =
                    self.db.get_booking_order(who.scope, order).await?.ok_or(AppError::NotFound("booking order"))?;
                let found = record.order.item(item.as_str()).ok_or(AppError::NotFound("order item"))?;
                let booking = self
                    .db
                    .get_booking(Scope::All, record.order.booking_id)
                    .await?
                    .ok_or(AppError::NotFound("booking"))?;
                let issuance = self.db.find_issuance_by_booking(Scope::All, booking.id).await?;
                // An order not yet issued has nothing to void, refund or scan.
                let Some(issuance) = issuance else { return Err(AppError::NotReady) };
                let agency = self.agency_of(record.order.agency_id).await?;
                let state = lifecycle::Subject {
                    status: found.status,
                    coupons: found.coupon_states(),
                    charged: found.unit_price,
                    issued_at: issuance.issued_at,
                    refundable: true,
                    reissue: false,
                    pending_penalty: found.pending_penalty,
                };
                let invoices = self.db.invoices_of_booking(Scope::All, booking.id).await?;
                Ok(Facts {
                    agency,
                    booking,
                    subject: subject.clone(),
                    state,
                    ticket: None,
                    siblings: Vec::new(),
                    attributes: issuance.attributes.clone(),
                    item: Some(item.clone()),
                    order: Some(record.order),
                    issuance_id: Some(issuance.id),
                    invoices,
                    documents: record.documents,
                })
            }
        }
    }

    async fn agency_of(&self, id: tessera_core::ids::AgencyId) -> Result<Agency, AppError> {
        self.db.get_agency(id).await?.ok_or(AppError::NotFound("agency"))
    }

    /// The plan and the storage change that executes it.
    fn prepare(
        &self,
        who: &Principal,
        facts: &Facts,
        command: &Command,
        actor: &Actor,
    ) -> Result<(NewTransition, Plan), AppError> {
        let now = self.now();
        let currency = facts.state.charged.currency();
        let money = |amount: Decimal| {
            Money::from_decimal(amount, currency).map_err(|e| {
                AppError::Validation(tessera_core::intake::ValidationErrors::single("/penalty", e.to_string()))
            })
        };
        let mut reissue = None;
        let request = match command {
            Command::Void => Request::Void,
            Command::Refund { penalty, .. } => Request::Refund { penalty: penalty.map(money).transpose()? },
            Command::ApproveRefund => Request::ApproveRefund,
            Command::RejectRefund => Request::RejectRefund,
            Command::Use(n) => Request::Use(*n),
            Command::Exchange(body) => {
                let (draft, booking, new_total, change_fee) = self.exchange_terms(facts, body)?;
                reissue = Some(Reissue { draft, booking });
                Request::Exchange { new_total, change_fee }
            }
        };
        if matches!(command, Command::ApproveRefund | Command::RejectRefund) && !facts.agency.refund_approval {
            return Err(AppError::Lifecycle(LifecycleError::NoApprovalRequired));
        }
        let ctx = Context {
            now,
            void_deadline: lifecycle::void_deadline(
                facts.state.issued_at,
                &facts.agency.timezone,
                self.settings.void_window_days,
            ),
            approval_required: facts.agency.refund_approval,
            override_nonrefundable: matches!(command, Command::Refund { override_nonrefundable: true, .. })
                && who.is_admin(),
        };
        let plan = lifecycle::plan(&facts.state, &request, &ctx)?;
        let invoice = self.invoice_for(facts, &plan)?;
        let detail = serde_json::json!({
            "penalty": match &request { Request::Refund { penalty } => penalty.map(|p| p.amount_string()), _ => None },
            "coupon": match &request { Request::Use(n) => Some(*n), _ => None },
            "exchange": plan.exchange,
        });
        let change = NewTransition {
            agency_id: facts.agency.id,
            booking_id: facts.booking.id,
            subject: facts.subject.clone(),
            from: facts.state.status,
            from_coupons: facts.state.coupons.clone(),
            to: plan.transition.status,
            coupons: plan.transition.coupons.clone(),
            pending_penalty: plan.pending_penalty,
            ledger: plan.ledger,
            issuance_id: facts.issuance_id,
            invoice,
            reissue,
            at: now,
            actor: actor.clone(),
            action: format!("{}.{}", subject_noun(&facts.subject), plan.action.name()),
            detail,
        };
        Ok((change, plan))
    }

    /// The new ticket an exchange issues and the booking with its amendment, from the request body.
    fn exchange_terms(
        &self,
        facts: &Facts,
        body: &[u8],
    ) -> Result<(TicketDraft, BookingDetail, Money, Money), AppError> {
        let not_exchangeable = || AppError::Lifecycle(LifecycleError::NotExchangeable);
        let ticket = facts.ticket.as_ref().ok_or_else(not_exchangeable)?;
        let BookingDetail::Flight(flight) = &facts.booking.detail else { return Err(not_exchangeable()) };
        if ticket.kind != TicketType::TKT {
            return Err(not_exchangeable());
        }
        let passenger = flight.passenger(&ticket.passenger_id).ok_or(AppError::NotFound("passenger"))?;
        let terms = tessera_core::intake::parse_exchange(body, flight, passenger)?;
        let draft = TicketDraft {
            kind: TicketType::TKT,
            prefix: ticket.number.prefix().clone(),
            passenger_id: ticket.passenger_id.clone(),
            base: terms.fare.base,
            taxes: terms.fare.taxes.clone(),
            total: terms.fare.total,
            charged: terms.fare.total,
            service: None,
            coupons: tessera_core::issuance::flight_coupons(&terms.journeys),
        };
        let mut amended = flight.clone();
        amended.amendments.push(Amendment {
            replaces: ticket.number.clone(),
            passenger_id: ticket.passenger_id.clone(),
            journeys: terms.journeys,
            fare: terms.fare.clone(),
            change_fee: terms.change_fee,
        });
        Ok((draft, BookingDetail::Flight(amended), terms.fare.total, terms.change_fee))
    }

    /// The credit invoice a void or refund owes, or the invoice of an exchange.
    fn invoice_for(&self, facts: &Facts, plan: &Plan) -> Result<Option<InvoiceDraft>, AppError> {
        let key = facts.subject.key();
        let money = |e: tessera_core::money::MoneyError| AppError::Lifecycle(LifecycleError::Money(e));
        if let Some(settled) = &plan.exchange {
            let draft = invoice::exchange_invoice(
                facts.booking.id,
                &key,
                settled.new_total,
                settled.change_fee,
                settled.residual,
            )
            .map_err(money)?;
            return Ok(Some(draft));
        }
        let Some(amount) = plan.credit.filter(|m| !m.is_zero()) else { return Ok(None) };
        // The invoice that billed this ticket: the latest one covering it.
        let billed = facts
            .invoices
            .iter()
            .rev()
            .find(|i| i.draft.kind == InvoiceKind::Invoice && i.draft.covers.iter().any(|c| c == &key));
        let Some(billed) = billed else {
            // Issued before invoices covered tickets: nothing to credit against, the ledger still moves.
            return Ok(None);
        };
        let vat_percent = billed.draft.lines.first().map_or(Decimal::ZERO, |l| l.vat_percent);
        let what = match plan.action {
            lifecycle::Action::Void => "Void",
            _ => "Refund",
        };
        let description = match (&facts.ticket, &facts.order, &facts.item) {
            (Some(t), _, _) => format!("{what} of ticket {}", t.number),
            (None, Some(order), Some(item)) => {
                let name = order.item(item.as_str()).map(|i| format!("{} ({})", i.ticket_name, i.category));
                format!("{what} of {}", name.unwrap_or_else(|| item.to_string()))
            }
            _ => what.to_owned(),
        };
        let draft = invoice::credit_for(Credit {
            booking_id: facts.booking.id,
            order_id: facts.order.as_ref().map(|o| o.id.clone()),
            covers: &key,
            description,
            amount,
            vat_percent,
            credits: billed.number,
        })
        .map_err(money)?;
        Ok(Some(draft))
    }

    /// Records a refused action in the audit trail (nothing else changes) and hands the error back.
    async fn refused_action(&self, facts: &Facts, command: &Command, actor: &Actor, error: LifecycleError) -> AppError {
        let entry = NewAuditEntry {
            agency_id: Some(facts.agency.id),
            actor: actor.clone(),
            action: format!("{}.{}", subject_noun(&facts.subject), command.name()),
            booking_id: Some(facts.booking.id),
            ticket_number: Some(facts.subject.key()),
            issuance_id: facts.issuance_id,
            outcome: format!("refused:{}", lifecycle_error_code(&error)),
            detail: serde_json::json!({"reason": error.to_string(), "status": facts.state.status.as_str()}),
            created_at: self.now(),
        };
        if let Err(e) = self.db.append_audit(&entry).await {
            tracing::error!(error = %e, "could not audit a refused lifecycle action");
        }
        AppError::Lifecycle(error)
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

fn subject_noun(subject: &Subject) -> &'static str {
    match subject {
        Subject::Ticket { .. } => "ticket",
        Subject::Item { .. } => "order_item",
    }
}

/// The related ticket of an exchange as a pair, for views.
pub fn related(ticket: &Ticket) -> Option<(String, RelatedType)> {
    Some((ticket.related_number.as_ref()?.to_string(), ticket.related_type?))
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

impl Tessera {
    /// A gate scan: the QR payload of an event ticket's PDF uses that PDF's coupon. The first scan is accepted;
    /// later ones are refused with the time of the first. A payload we did not sign, or one of another agency's
    /// tickets, is not found.
    pub async fn checkin(&self, who: &Principal, payload: &str, actor: Actor) -> Result<Changed, AppError> {
        use subtle::ConstantTimeEq;
        let unknown = || AppError::NotFound("ticket");
        let download = payload
            .strip_prefix("TSR1.")
            .and_then(|rest| rest.split_once('.'))
            .and_then(|(id, _)| tessera_core::orders::DownloadItemId::parse(id).ok())
            .ok_or_else(unknown)?;
        let expected = self.gate_payload(&download)?;
        if !bool::from(expected.as_bytes().ct_eq(payload.as_bytes())) {
            return Err(unknown());
        }
        let order = self.db.order_of_download(who.scope, &download).await?.ok_or_else(unknown)?;
        let record = self.db.get_booking_order(who.scope, &order).await?.ok_or_else(unknown)?;
        let (item, coupon) = record
            .order
            .items
            .iter()
            .find_map(|i| i.downloads.iter().position(|d| d.id == download).map(|p| (i.id.clone(), p as u32 + 1)))
            .ok_or_else(unknown)?;
        self.run(who, Subject::Item { order, item }, Command::Use(coupon), actor).await
    }
}
