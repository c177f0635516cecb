//! Idempotent retries: a client repeating a request with the same `Idempotency-Key` gets the first answer
//! again instead of a second effect. Keys are scoped per user.
//!
//! A claim is a lease ([`crate::Settings::idempotency_lease`]): a request that dies leaves a claim that a retry
//! of the same request takes over once the lease ends. The request runs under its claim
//! ([`Tessera::idempotency_run`]), so the write it makes records its effect on the claim in the same
//! transaction: a retry after any crash either finds nothing done (and runs) or the effect (and replays).
//! Only successful answers are kept; a refused request (nothing happened) releases the key, so it may be
//! retried with the same key once the cause is fixed.

use std::future::Future;

use chrono::TimeDelta;
use sha2::{Digest, Sha256};
use tessera_core::intake::ValidationErrors;
use tessera_storage::scripts::with_claim;
use tessera_storage::{ClaimMark, IdempotencyClaim};

use crate::{AppError, Principal, Tessera};

/// A claimed key: run the request under it, then complete it with the response or release it.
pub struct IdempotencyGuard {
    mark: ClaimMark,
}

pub enum Idempotent {
    /// First time (or a takeover of a dead request's claim): [`Tessera::idempotency_run`], then
    /// [`Tessera::idempotency_complete`] or [`Tessera::idempotency_release`].
    Run(IdempotencyGuard),
    /// Already answered: send this again.
    Replay { status: u16, body: Vec<u8> },
    /// Done, but the answer was never stored (the process died between the commit and storing it): build
    /// the answer from `effect` (what the write script recorded), then [`Tessera::idempotency_complete`].
    Rebuild { effect: serde_json::Value, guard: IdempotencyGuard },
    /// Another copy holds the key for this many more seconds (at least 1).
    InProgress { retry_after_secs: u64 },
}

/// Hash of what makes two requests "the same": method, path and body.
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    hex::encode(h.finalize())
}

/// A key must be 1-255 visible ASCII characters.
pub fn invalid_key() -> AppError {
    AppError::Validation(ValidationErrors::single("/headers/Idempotency-Key", "must be 1-255 visible ASCII characters"))
}

impl Tessera {
    pub async fn idempotency_claim(
        &self,
        who: &Principal,
        key: &str,
        request_hash: &str,
    ) -> Result<Idempotent, AppError> {
        if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid_key());
        }
        let mark = ClaimMark {
            scope_key: who.user.id.to_string(),
            key: key.to_owned(),
            token: uuid::Uuid::new_v4().to_string(),
        };
        let lease = TimeDelta::from_std(self.settings.idempotency_lease)
            .map_err(|e| AppError::Internal(format!("idempotency lease: {e}")))?;
        let now = self.clock.now();
        match self.db.claim_idempotency(&mark, request_hash, now, lease).await? {
            IdempotencyClaim::Claimed => Ok(Idempotent::Run(IdempotencyGuard { mark })),
            IdempotencyClaim::Completed { status, body } => Ok(Idempotent::Replay { status, body }),
            IdempotencyClaim::Done { effect } => {
                let effect = serde_json::from_str(&effect)
                    .map_err(|e| AppError::Internal(format!("stored idempotency effect: {e}")))?;
                Ok(Idempotent::Rebuild { effect, guard: IdempotencyGuard { mark } })
            }
            IdempotencyClaim::InProgress { until } => {
                // Rounded up, so a client waiting that long finds the lease over.
                let millis = u64::try_from((until - now).num_milliseconds()).unwrap_or(0);
                let retry_after_secs = millis.div_ceil(1000).max(1);
                Ok(Idempotent::InProgress { retry_after_secs })
            }
            IdempotencyClaim::Mismatch => Err(AppError::IdempotencyMismatch),
        }
    }

    /// Runs `work` (the request's service call) under the claim, so its write records its effect on the
    /// claim in the same transaction.
    pub async fn idempotency_run<F: Future>(&self, guard: &IdempotencyGuard, work: F) -> F::Output {
        with_claim(guard.mark.clone(), work).await
    }

    pub async fn idempotency_complete(
        &self,
        guard: IdempotencyGuard,
        status: u16,
        body: &[u8],
    ) -> Result<(), AppError> {
        Ok(self.db.complete_idempotency(&guard.mark.scope_key, &guard.mark.key, status, body).await?)
    }

    /// Forgets the claim of a refused request; a claim whose effect committed stays (it is answered from
    /// its effect).
    pub async fn idempotency_release(&self, guard: IdempotencyGuard) {
        if let Err(e) = self.db.release_idempotency(&guard.mark).await {
            tracing::error!(error = %e, "could not release an idempotency key");
        }
    }
}

/// The action words a lifecycle effect names, as [`crate::lifecycle::Changed::action`] spells them.
const ACTIONS: [&str; 6] = ["void", "refund", "refund_approve", "refund_reject", "use", "exchange"];

fn stored(what: &str) -> AppError {
    AppError::Internal(format!("stored idempotency effect: bad {what}"))
}

impl Tessera {
    /// A lifecycle action's answer rebuilt from its recorded effect (its subject, the ledger entry, invoice
    /// and new ticket it created), with the subject as it is now. An exchange's settlement amounts are not
    /// recorded, so a rebuilt exchange answer lacks them.
    pub async fn changed_from_effect(
        &self,
        who: &Principal,
        effect: &serde_json::Value,
    ) -> Result<crate::lifecycle::Changed, AppError> {
        use tessera_core::codes::TicketNumber;
        use tessera_core::orders::{BookingOrderId, OrderItemId};

        // Recorded as audited: `<subject>.<command>` (`ticket.void`, `order_item.refund`).
        let command = effect["action"].as_str().map(|a| a.rsplit_once('.').map_or(a, |(_, command)| command));
        let action = command.and_then(|a| ACTIONS.into_iter().find(|w| *w == a));
        let action = action.ok_or_else(|| stored("action"))?;
        let (ticket, order, item, agency, booking) = if let Some(number) = effect["ticket"].as_str() {
            let number = TicketNumber::parse(number).map_err(|_| stored("ticket"))?;
            let ticket = self.get_ticket(who, &number).await?;
            let (agency, booking) = (ticket.agency_id, ticket.booking_id);
            (Some(ticket), None, None, agency, booking)
        } else {
            let order = effect["order"].as_str().and_then(|o| BookingOrderId::parse(o).ok());
            let item = effect["item"].as_str().and_then(|i| OrderItemId::parse(i).ok());
            let (Some(order), Some(item)) = (order, item) else { return Err(stored("subject")) };
            let record =
                self.db.get_booking_order(who.scope, &order).await?.ok_or(AppError::NotFound("booking order"))?;
            let (agency, booking) = (record.order.agency_id, record.order.booking_id);
            (None, Some(record.order), Some(item), agency, booking)
        };
        let ledger = match effect["ledger"].as_i64() {
            Some(id) => self.db.ledger(agency).await?.into_iter().find(|e| e.id == id),
            None => None,
        };
        let invoice = match effect["invoice"].as_u64() {
            Some(n) => self.db.invoices_of_booking(who.scope, booking).await?.into_iter().find(|i| i.number == n),
            None => None,
        };
        let reissued = match effect["reissued"].as_str() {
            Some(number) => {
                Some(self.get_ticket(who, &TicketNumber::parse(number).map_err(|_| stored("reissued"))?).await?)
            }
            None => None,
        };
        Ok(crate::lifecycle::Changed { action, ticket, order, item, reissued, invoice, ledger, exchange: None })
    }
}
