//! From a command and the facts to the plan storage executes: the core's decision, the invoice it owes, the
//! new ticket of an exchange, and the audit entry of a refusal.

use rust_decimal::Decimal;
use tessera_core::booking::{Amendment, BookingDetail};
use tessera_core::invoice::{self, Credit, InvoiceDraft, InvoiceKind};
use tessera_core::lifecycle::{self, Context, LifecycleError, Plan, Request};
use tessera_core::money::Money;
use tessera_core::ticket::{TicketDraft, TicketType};
use tessera_storage::{Actor, NewAuditEntry, NewTransition, Reissue};

use super::{lifecycle_error_code, subject_noun, Command, Facts};
use crate::{AppError, Principal, Tessera};

impl Tessera {
    /// The plan and the storage change that executes it.
    pub(super) fn prepare(
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
                facts.agency.timezone,
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
            // Named by the command, like its refusals; the detail's from/to tell a refund from a request for one.
            action: format!("{}.{}", subject_noun(&facts.subject), command.name()),
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
    pub(super) async fn refused_action(
        &self,
        facts: &Facts,
        command: &Command,
        actor: &Actor,
        error: LifecycleError,
    ) -> AppError {
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
}
