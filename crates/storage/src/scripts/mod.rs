//! The transaction scripts: each write transaction of the [`crate::Database`] trait, written once over a
//! backend's [`WriteTx`] primitives. A script holds the steps, their order (which is the lock order), the
//! checks and the audit entry; the backend holds the SQL.
//!
//! A script takes `&mut Tx` and neither begins nor commits: [`run`] does, around it, and runs the whole
//! transaction again when the database aborted it to break a cycle (PostgreSQL's serialization failures and
//! deadlocks; SQLite's errors are never retryable, so there it runs once). Several scripts could therefore
//! share one transaction.

mod idempotency;
mod issue;
mod money;
mod numbers;
mod orders;
mod transition;
pub mod webhooks;

use std::future::Future;
use std::time::Duration;

pub(crate) use idempotency::current_claim;
pub use idempotency::{claim_idempotency, complete_idempotency, with_claim};
pub use issue::{issue, issue_in};
pub use money::{post, post_ledger};
pub use numbers::{take_invoice_numbers, take_ticket_numbers};
pub use orders::{
    append_audit, fill_documents, insert_booking, replace_document, replace_document_in, set_distribution_channel,
};
pub use transition::{transition, transition_in};

use crate::{Result, StorageError, WriteTx};

/// How many times a transaction the database aborted is attempted in all.
pub const MAX_ATTEMPTS: u32 = 5;

/// The result of a step inside a transaction, with the backend's error.
pub type TxResult<T, X> = std::result::Result<T, <X as WriteTx>::Error>;

/// Runs `attempt` (one whole transaction: begin, script, commit) until it succeeds, fails for a reason
/// running it again cannot fix, or has been tried [`MAX_ATTEMPTS`] times. A retried attempt starts afresh;
/// what an aborted one did (documents its sink rendered included) is simply not recorded.
pub async fn run<X, T, F, Fut>(what: &str, mut attempt: F) -> Result<T>
where
    X: WriteTx,
    F: FnMut() -> Fut,
    Fut: Future<Output = TxResult<T, X>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if X::is_retryable(&e) && tries < MAX_ATTEMPTS => {
                tracing::debug!(attempt = tries, what, "transaction aborted by the database, retrying");
                // Back off a little more each time so the transactions that collided do not collide again.
                tokio::time::sleep(Duration::from_millis(10 << tries)).await;
                tries += 1;
            }
            other => return other.map_err(Into::into),
        }
    }
}

fn backend(what: &str) -> StorageError {
    StorageError::Backend(what.to_owned())
}
