//! Claiming an idempotency key: the first request with a key claims it, later copies get its stored response
//! replayed. The claim is an insert the primary key makes atomic: of two racing copies exactly one inserts,
//! the other reads the winner's row.

use super::run;
use crate::decode::corrupt;
use crate::{Backend, IdempotencyClaim, Result, StorageError, WriteTx};

/// A claim can vanish between a failed insert and the read (its holder released it); then the claim is tried
/// again. Losing that race this many times in a row means something is badly wrong.
const CLAIM_ATTEMPTS: usize = 5;

/// [`crate::Database::claim_idempotency`].
pub async fn claim_idempotency<B: Backend>(
    db: &B,
    scope_key: &str,
    key: &str,
    request_hash: &str,
) -> Result<IdempotencyClaim> {
    for _ in 0..CLAIM_ATTEMPTS {
        let stored = run::<B::Tx, _, _, _>("idempotency claim", || async {
            let mut tx = db.begin_write().await?;
            let stored = match tx.insert_claim(scope_key, key, request_hash).await? {
                true => None,
                false => Some(tx.read_claim(scope_key, key).await?),
            };
            tx.commit().await?;
            Ok(stored)
        })
        .await?;
        let claim = match stored {
            None => IdempotencyClaim::Claimed,
            Some(None) => continue,
            Some(Some(stored)) if stored.request_hash != request_hash => IdempotencyClaim::Mismatch,
            Some(Some(stored)) => match stored.status {
                None => IdempotencyClaim::InProgress,
                Some(status) => IdempotencyClaim::Completed {
                    status: u16::try_from(status).map_err(|_| corrupt("idempotency status", status))?,
                    body: stored.body.unwrap_or_default(),
                },
            },
        };
        return Ok(claim);
    }
    Err(StorageError::Backend(format!("idempotency key kept changing hands ({CLAIM_ATTEMPTS} attempts)")))
}
