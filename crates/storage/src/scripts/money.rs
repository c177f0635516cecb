//! Posting to an agency's account: the balance moves and the ledger grows by one entry, together.

use tessera_core::ledger::LedgerEntry;
use tessera_core::money::Money;

use super::idempotency::record_effect;
use super::{run, TxResult};
use crate::{Backend, NewLedgerEntry, Result, StorageError, WriteTx};

/// [`crate::Database::post_ledger`] in a transaction of its own.
pub async fn post_ledger<B: Backend>(db: &B, entry: &NewLedgerEntry) -> Result<LedgerEntry> {
    run::<B::Tx, _, _, _>("ledger", || async {
        let mut tx = db.begin_write().await?;
        let posted = post(&mut tx, entry).await?;
        record_effect(&mut tx, || serde_json::json!({ "ledger": posted.id, "agency": posted.agency_id.to_string() }))
            .await?;
        tx.commit().await?;
        Ok(posted)
    })
    .await
}

/// Moves the balance by the entry's signed amount and appends the entry, inside the caller's transaction.
/// A debit must fit the credit limit ([`StorageError::InsufficientBalance`]; [`StorageError::NotFound`] when
/// there is no such agency), and the entry must be in the account's currency.
pub async fn post<X: WriteTx>(tx: &mut X, entry: &NewLedgerEntry) -> TxResult<LedgerEntry, X> {
    let Some((balance_after, currency, low_balance)) = tx.add_to_balance(entry.agency_id, entry.amount.minor()).await?
    else {
        let missing = !tx.agency_exists(entry.agency_id).await?;
        return Err(if missing { StorageError::NotFound } else { StorageError::InsufficientBalance }.into());
    };
    // Checked after the update to save a round trip; the caller's rollback undoes it.
    if currency != entry.amount.currency().code() {
        let what =
            format!("ledger entry in {} for an agency keeping its account in {currency}", entry.amount.currency());
        return Err(StorageError::Backend(what).into());
    }
    let id = tx.insert_ledger(entry, balance_after).await?;
    let posted = LedgerEntry {
        id,
        agency_id: entry.agency_id,
        kind: entry.kind,
        amount: entry.amount,
        balance_after: Money::from_minor(balance_after, entry.amount.currency()),
        issuance_id: entry.issuance_id,
        note: entry.note.clone(),
        created_at: entry.created_at,
    };
    super::webhooks::after_ledger(tx, &posted, low_balance).await?;
    Ok(posted)
}
