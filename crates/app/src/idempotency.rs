//! Idempotent retries: a client repeating a request with the same `Idempotency-Key` gets the first answer
//! again instead of a second effect. Keys are scoped per user; only successful answers are kept, so a refused
//! request (nothing happened) may be retried with the same key once the cause is fixed.

use sha2::{Digest, Sha256};
use tessera_core::intake::ValidationErrors;
use tessera_storage::IdempotencyClaim;

use crate::{AppError, Principal, Tessera};

/// A claimed key, to be completed with the response or released.
pub struct IdempotencyGuard {
    scope: String,
    key: String,
}

pub enum Idempotent {
    /// First time: run the request, then [`Tessera::idempotency_complete`] or [`Tessera::idempotency_release`].
    Run(IdempotencyGuard),
    /// Already answered: send this again.
    Replay { status: u16, body: Vec<u8> },
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

impl Tessera {
    pub async fn idempotency_claim(
        &self,
        who: &Principal,
        key: &str,
        request_hash: &str,
    ) -> Result<Idempotent, AppError> {
        if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::Validation(ValidationErrors::single(
                "/headers/Idempotency-Key",
                "must be 1-255 visible ASCII characters",
            )));
        }
        let scope = who.user.id.to_string();
        match self.db.claim_idempotency(&scope, key, request_hash).await? {
            IdempotencyClaim::Claimed => Ok(Idempotent::Run(IdempotencyGuard { scope, key: key.to_owned() })),
            IdempotencyClaim::Completed { status, body } => Ok(Idempotent::Replay { status, body }),
            IdempotencyClaim::InProgress => Err(AppError::IdempotencyInProgress),
            IdempotencyClaim::Mismatch => Err(AppError::IdempotencyMismatch),
        }
    }

    pub async fn idempotency_complete(
        &self,
        guard: IdempotencyGuard,
        status: u16,
        body: &[u8],
    ) -> Result<(), AppError> {
        Ok(self.db.complete_idempotency(&guard.scope, &guard.key, status, body).await?)
    }

    pub async fn idempotency_release(&self, guard: IdempotencyGuard) {
        if let Err(e) = self.db.release_idempotency(&guard.scope, &guard.key).await {
            tracing::error!(error = %e, "could not release an idempotency key");
        }
    }
}
