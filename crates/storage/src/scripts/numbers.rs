//! Ticket and invoice numbers, drawn inside the transaction that uses them, so they have no gaps.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use tessera_core::codes::{AccountingPrefix, TicketNumber, MAX_SERIAL};
use tessera_core::ids::AgencyId;
use tessera_core::invoice::{Invoice, InvoiceDraft};
use tessera_core::ticket::TicketDraft;

use super::{backend, TxResult};
use crate::{StorageError, WriteTx};

/// Reserves one serial per draft and returns the ticket numbers in draft order.
///
/// Each prefix's counter moves once, by the number of tickets needing it, so an issuance gets a contiguous
/// block and serials are only consumed by transactions that commit: no gaps, no duplicates. The counters are
/// taken in sorted prefix order (not order of appearance) so that two transactions with the same prefixes
/// lock the rows in the same order; which serials a ticket gets does not depend on it.
pub async fn take_ticket_numbers<X: WriteTx>(tx: &mut X, drafts: &[TicketDraft]) -> TxResult<Vec<TicketNumber>, X> {
    let mut counts: BTreeMap<&AccountingPrefix, u64> = BTreeMap::new();
    for d in drafts {
        *counts.entry(&d.prefix).or_default() += 1;
    }
    let mut next: HashMap<&AccountingPrefix, u64> = HashMap::new();
    for (prefix, count) in counts {
        let first = tx.take_serials(prefix, count).await?;
        if first.saturating_add(count - 1) > MAX_SERIAL {
            return Err(StorageError::SerialsExhausted(prefix.to_string()).into());
        }
        next.insert(prefix, first);
    }
    let mut numbers = Vec::with_capacity(drafts.len());
    for d in drafts {
        let serial = next.get_mut(&d.prefix).ok_or_else(|| backend("prefix without a serial block"))?;
        let number = TicketNumber::new(d.prefix.clone(), *serial)
            .map_err(|_| StorageError::SerialsExhausted(d.prefix.to_string()))?;
        *serial += 1;
        numbers.push(number);
    }
    Ok(numbers)
}

/// Numbers the drafts with the agency's next invoice numbers, in draft order: gapless per agency, since
/// numbers of a transaction that rolls back are never seen.
pub async fn take_invoice_numbers<X: WriteTx>(
    tx: &mut X,
    agency: AgencyId,
    drafts: Vec<InvoiceDraft>,
    at: DateTime<Utc>,
) -> TxResult<Vec<Invoice>, X> {
    if drafts.is_empty() {
        return Ok(Vec::new());
    }
    let count = u64::try_from(drafts.len()).map_err(|_| backend("too many invoices"))?;
    let first = tx.take_invoice_numbers(agency, count).await?;
    Ok(drafts
        .into_iter()
        .zip(first..)
        .map(|(draft, number)| Invoice { number, agency_id: agency, issued_at: at, draft })
        .collect())
}
