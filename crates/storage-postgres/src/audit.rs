//! The audit trail: one row per business action (and per refusal), appended and never changed.
//!
//! Rows are written either on their own ([`append`]), many at once ([`append_batch`], the downloads' access
//! log), or inside a script's transaction ([`insert`]), so the trail records exactly what committed.

use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use tessera_core::user::Scope;
use tessera_storage::{AuditEntry, AuditFilter, NewAuditEntry};

use crate::error::Result;
use crate::rows;

/// Used when a caller asks for no limit.
const DEFAULT_LIMIT: i64 = 200;

/// Rows per INSERT statement of a batch: 12 parameters each, far below PostgreSQL's 65,535 per statement.
const ROWS_PER_INSERT: usize = 500;

/// Appends `entries` in order, in one transaction: all or none.
pub(crate) async fn append_batch(pool: &PgPool, entries: &[NewAuditEntry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    for chunk in entries.chunks(ROWS_PER_INSERT) {
        let mut query: QueryBuilder<'_, Postgres> = QueryBuilder::new(
            "INSERT INTO audit (agency_id, user_id, username, client_addr, tracking_id, action, booking_id, \
             ticket_number, issuance_id, outcome, detail, created_at) ",
        );
        query.push_values(chunk, |mut row, entry| {
            row.push_bind(entry.agency_id.map(|a| a.0))
                .push_bind(entry.actor.user_id.map(|u| u.0))
                .push_bind(&entry.actor.username)
                .push_bind(entry.actor.client_addr.as_deref())
                .push_bind(entry.actor.tracking_id.as_deref())
                .push_bind(&entry.action)
                .push_bind(entry.booking_id.map(|b| b.0))
                .push_bind(entry.ticket_number.as_deref())
                .push_bind(entry.issuance_id.map(|i| i.0))
                .push_bind(&entry.outcome)
                .push_bind(&entry.detail)
                .push_bind(entry.created_at);
        });
        // Not kept as a prepared statement: each batch size is another statement text, and caching hundreds of
        // statements with thousands of parameters on every pooled connection costs tens of megabytes.
        query.build().persistent(false).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn insert(conn: &mut PgConnection, entry: &NewAuditEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit (agency_id, user_id, username, client_addr, tracking_id, action, booking_id, \
         ticket_number, issuance_id, outcome, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(entry.agency_id.map(|a| a.0))
    .bind(entry.actor.user_id.map(|u| u.0))
    .bind(&entry.actor.username)
    .bind(entry.actor.client_addr.as_deref())
    .bind(entry.actor.tracking_id.as_deref())
    .bind(&entry.action)
    .bind(entry.booking_id.map(|b| b.0))
    .bind(entry.ticket_number.as_deref())
    .bind(entry.issuance_id.map(|i| i.0))
    .bind(&entry.outcome)
    .bind(&entry.detail)
    .bind(entry.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn list(pool: &PgPool, scope: Scope, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
    let limit = if filter.limit == 0 { DEFAULT_LIMIT } else { i64::from(filter.limit) };
    // Audit rows are the agency's business, not the customer's booking: a customer scope filters by agency only.
    let rows = sqlx::query(
        "SELECT id, agency_id, user_id, username, client_addr, tracking_id, action, booking_id, ticket_number, \
                issuance_id, outcome, detail, created_at \
         FROM audit \
         WHERE ($1::uuid IS NULL OR agency_id = $1) \
           AND ($2::uuid IS NULL OR booking_id = $2) \
           AND ($3::text IS NULL OR ticket_number = $3) \
           AND ($4::text IS NULL OR tracking_id = $4) \
           AND ($5::text IS NULL OR action = $5) \
         ORDER BY id LIMIT $6",
    )
    .bind(scope.agency().map(|a| a.0))
    .bind(filter.booking_id.map(|b| b.0))
    .bind(filter.ticket_number.as_deref())
    .bind(filter.tracking_id.as_deref())
    .bind(filter.action.as_deref())
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(rows::audit_entry).collect()
}
