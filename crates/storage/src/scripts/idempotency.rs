//! Idempotency keys as leases, and the effect a key guards recorded in the transaction that has it.
//!
//! The first request with a key claims it: an insert the primary key makes atomic, holding a lease (until
//! `locked_until`) under a token of its own. Later copies get the stored answer replayed, or `InProgress`
//! while the lease is live. A holder that died leaves a lease that simply ends: the next copy of the same
//! request takes the claim over with a conditional update (a new token), unless an effect was recorded.
//!
//! The effect is recorded by the write script itself, before its commit, for the claim the request runs under
//! ([`with_claim`]): so after a crash at any instant either the transaction committed with its effect (a
//! retry replays it) or neither exists (the lease ends and a retry runs normally). A holder whose claim was
//! taken over cannot record its effect any more, so its transaction rolls back ([`StorageError::ClaimLost`])
//! and the key's effect happens once.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::TxResult;
use crate::decode::corrupt;
use crate::group::Writer;
use crate::{ClaimMark, IdempotencyClaim, Result, StorageError, StoredClaim, WriteTx};

/// A claim can vanish between a failed insert and the read (its holder released it); then the claim is tried
/// again. Losing that race this many times in a row means something is badly wrong.
const CLAIM_ATTEMPTS: usize = 5;

tokio::task_local! {
    /// The claim the current request runs under; write scripts record their effect on it.
    static CLAIM: ClaimMark;
}

/// Runs `work` (a request's call into the services) under `mark`: every write script it runs records its
/// effect on that claim in its own transaction. The mark travels with the task rather than through every
/// `Database` method, because any write a guarded request makes must be marked, whatever its path.
pub async fn with_claim<F: Future>(mark: ClaimMark, work: F) -> F::Output {
    CLAIM.scope(mark, work).await
}

/// The claim the current request runs under, to carry it to the task that runs its script
/// ([`crate::group::Writer`]).
pub(crate) fn current_claim() -> Option<ClaimMark> {
    CLAIM.try_with(Clone::clone).ok()
}

/// Records `effect` (built only when a claim is in force) on the current request's claim, inside `tx`.
/// Called by the top-level write scripts just before their commit; the last effect of a request wins.
pub(crate) async fn record_effect<X: WriteTx>(
    tx: &mut X,
    effect: impl FnOnce() -> serde_json::Value,
) -> TxResult<(), X> {
    let Ok(mark) = CLAIM.try_with(Clone::clone) else { return Ok(()) };
    if tx.record_claim_effect(&mark, &effect().to_string()).await? {
        Ok(())
    } else {
        Err(StorageError::ClaimLost.into())
    }
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// [`crate::Database::claim_idempotency`], in the next group commit of `writer`.
pub async fn claim_idempotency<X: WriteTx + 'static>(
    writer: &Writer<X>,
    mark: &ClaimMark,
    request_hash: &str,
    now: DateTime<Utc>,
    lease: TimeDelta,
) -> Result<IdempotencyClaim> {
    let until = now.checked_add_signed(lease).ok_or_else(|| StorageError::Backend("lease out of range".into()))?;
    let (now_ms, until_ms) = (millis(now), millis(until));
    let asked = Arc::new((mark.clone(), request_hash.to_owned()));
    for _ in 0..CLAIM_ATTEMPTS {
        let asked = asked.clone();
        let stored = writer
            .run(move |tx| {
                let asked = asked.clone();
                Box::pin(async move {
                    let (mark, request_hash) = &*asked;
                    Ok(if tx.insert_claim(mark, request_hash, until_ms).await? {
                        None
                    } else if tx.take_over_claim(mark, request_hash, now_ms, until_ms).await? {
                        tracing::info!(key = %mark.key, "idempotency claim taken over after its lease expired");
                        None
                    } else {
                        Some(tx.read_claim(&mark.scope_key, &mark.key).await?)
                    })
                })
            })
            .await?;
        let claim = match stored {
            None => IdempotencyClaim::Claimed,
            Some(None) => continue,
            Some(Some(stored)) => match decide(stored, request_hash, now_ms)? {
                Some(claim) => claim,
                None => continue,
            },
        };
        return Ok(claim);
    }
    Err(StorageError::Backend(format!("idempotency key kept changing hands ({CLAIM_ATTEMPTS} attempts)")))
}

/// [`crate::Database::complete_idempotency`], in the next group commit of `writer`: the answer to replay.
pub async fn complete_idempotency<X: WriteTx + 'static>(
    writer: &Writer<X>,
    scope_key: &str,
    key: &str,
    status: u16,
    body: &[u8],
) -> Result<()> {
    let answer = Arc::new((scope_key.to_owned(), key.to_owned(), body.to_vec()));
    writer
        .run(move |tx| {
            let answer = answer.clone();
            Box::pin(async move {
                let (scope_key, key, body) = &*answer;
                // Completing a claim that does not exist means the response would silently not be replayed.
                if tx.complete_claim(scope_key, key, status, body).await? {
                    Ok(())
                } else {
                    Err(StorageError::NotFound.into())
                }
            })
        })
        .await
}

/// What a claim someone else holds (or held) means for this copy of the request; `None` when it changed
/// between the takeover and the read, so the claim is tried again.
fn decide(stored: StoredClaim, request_hash: &str, now_ms: i64) -> Result<Option<IdempotencyClaim>> {
    if stored.request_hash != request_hash {
        return Ok(Some(IdempotencyClaim::Mismatch));
    }
    if let Some(status) = stored.status {
        return Ok(Some(IdempotencyClaim::Completed {
            status: u16::try_from(status).map_err(|_| corrupt("idempotency status", status))?,
            body: stored.body.unwrap_or_default(),
        }));
    }
    let live = stored.locked_until_ms.filter(|until| *until > now_ms);
    match (live, stored.effect) {
        // The holder may still be storing its answer: wait for it rather than answer twice.
        (Some(until), _) => Ok(Some(IdempotencyClaim::InProgress {
            until: DateTime::from_timestamp_millis(until).ok_or_else(|| corrupt("idempotency lease", until))?,
        })),
        (None, Some(effect)) => Ok(Some(IdempotencyClaim::Done { effect })),
        // Expired and nothing done, yet not taken over: the row changed between the two statements.
        (None, None) => Ok(None),
    }
}
