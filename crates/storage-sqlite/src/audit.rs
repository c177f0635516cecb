//! The audit trail: who did what to which booking, ticket or issuance, and how it ended.
//!
//! Entries are only ever appended. Scripts write theirs inside their own transaction (through [`insert`]),
//! so a committed issuance or transition always has its audit entry. Downloads append theirs in batches
//! ([`insert_batch`]): one transaction, so one write lock and one commit, for many rows.

use sqlx::{QueryBuilder, Sqlite, SqliteExecutor, SqlitePool};
use tessera_core::user::Scope;
use tessera_storage::{AuditEntry, AuditFilter, NewAuditEntry};

use crate::rows::{self, AUDIT_COLUMNS};
use crate::Result;

/// What `limit: 0` means.
const DEFAULT_LIMIT: u32 = 200;

/// Rows per INSERT statement of a batch: 12 parameters each, far below SQLite's 32,766 bound variables.
const ROWS_PER_INSERT: usize = 500;

pub(crate) async fn insert<'e>(executor: impl SqliteExecutor<'e>, entry: &NewAuditEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit (agency_id, user_id, username, client_addr, tracking_id, action, booking_id, \
         ticket_number, issuance_id, outcome, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(entry.agency_id.map(|a| a.to_string()))
    .bind(entry.actor.user_id.map(|u| u.to_string()))
    .bind(&entry.actor.username)
    .bind(&entry.actor.client_addr)
    .bind(&entry.actor.tracking_id)
    .bind(&entry.action)
    .bind(entry.booking_id.map(|b| b.to_string()))
    .bind(&entry.ticket_number)
    .bind(entry.issuance_id.map(|i| i.to_string()))
    .bind(&entry.outcome)
    .bind(rows::json_text(&entry.detail, "audit detail")?)
    .bind(entry.created_at)
    .execute(executor)
    .await?;
    Ok(())
}

/// Appends `entries` in order, in one write transaction: all or none.
pub(crate) async fn insert_batch(pool: &SqlitePool, entries: &[NewAuditEntry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    // Encode every detail before taking the write lock: a detail that cannot be written fails the batch early.
    let details = entries.iter().map(|e| rows::json_text(&e.detail, "audit detail")).collect::<Result<Vec<_>>>()?;
    let mut tx = crate::begin_write(pool).await?;
    for (chunk, details) in entries.chunks(ROWS_PER_INSERT).zip(details.chunks(ROWS_PER_INSERT)) {
        let mut query: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "INSERT INTO audit (agency_id, user_id, username, client_addr, tracking_id, action, booking_id, \
             ticket_number, issuance_id, outcome, detail, created_at) ",
        );
        query.push_values(chunk.iter().zip(details), |mut row, (entry, detail)| {
            row.push_bind(entry.agency_id.map(|a| a.to_string()))
                .push_bind(entry.actor.user_id.map(|u| u.to_string()))
                .push_bind(entry.actor.username.clone())
                .push_bind(entry.actor.client_addr.clone())
                .push_bind(entry.actor.tracking_id.clone())
                .push_bind(entry.action.clone())
                .push_bind(entry.booking_id.map(|b| b.to_string()))
                .push_bind(entry.ticket_number.clone())
                .push_bind(entry.issuance_id.map(|i| i.to_string()))
                .push_bind(entry.outcome.clone())
                .push_bind(detail.clone())
                .push_bind(entry.created_at);
        });
        // Not kept as a prepared statement: each batch size is another statement text, and caching hundreds of
        // statements with thousands of parameters on every pooled connection costs tens of megabytes.
        query.build().persistent(false).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn list(pool: &SqlitePool, scope: Scope, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
    let mut query: QueryBuilder<'_, Sqlite> =
        QueryBuilder::new(format!("SELECT {AUDIT_COLUMNS} FROM audit WHERE 1 = 1"));
    // The trail is an agency-level record: a customer scope narrows to the agency, not to the customer,
    // because entries need not belong to a booking (logins, refused requests).
    if let Some(agency) = scope.agency() {
        query.push(" AND agency_id = ").push_bind(agency.to_string());
    }
    if let Some(action) = &filter.action {
        query.push(" AND action = ").push_bind(action.clone());
    }
    if let Some(booking) = filter.booking_id {
        query.push(" AND booking_id = ").push_bind(booking.to_string());
    }
    if let Some(ticket) = &filter.ticket_number {
        query.push(" AND ticket_number = ").push_bind(ticket.clone());
    }
    if let Some(tracking) = &filter.tracking_id {
        query.push(" AND tracking_id = ").push_bind(tracking.clone());
    }
    let limit = if filter.limit == 0 { DEFAULT_LIMIT } else { filter.limit };
    query.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
    let rows = query.build().fetch_all(pool).await?;
    rows.iter().map(rows::audit_entry).collect()
}
