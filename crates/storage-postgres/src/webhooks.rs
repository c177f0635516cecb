//! Webhook endpoints, the events the scripts write (fanned out to subscribed endpoints in the same
//! transaction) and their deliveries, claimed with a lease like the e-mail outbox (`outbox.rs`): candidates are
//! locked with `FOR UPDATE SKIP LOCKED`, so nodes claiming at once take disjoint deliveries instead of queueing.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use tessera_core::ids::{AgencyId, WebhookDeliveryId, WebhookId};
use tessera_core::user::Scope;
use tessera_storage::{
    deliveries_oldest_first, lease_end, truncate_message_error, AttemptOutcome, NewAttempt, NewWebhook,
    NewWebhookEvent, StorageError, Webhook, WebhookAttempt, WebhookChange, WebhookDelivery,
};
use uuid::Uuid;

use crate::error::Result;
use crate::rows;

const WEBHOOK_COLUMNS: &str = "id, agency_id, url, description, events, secret, status, created_at, updated_at";

/// A delivery joined with its event (`d` and `e`).
const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, e.agency_id, d.event_id, e.event_type, e.data, d.event_at, \
     d.status, d.attempts, d.next_attempt_at, d.last_response_code, d.last_error, d.delivered_at";

fn agency_of(scope: Scope) -> Option<Uuid> {
    scope.agency().map(|a| a.0)
}

pub(crate) async fn create(pool: &PgPool, webhook: &NewWebhook) -> Result<Webhook> {
    let row = sqlx::query(&format!(
        "INSERT INTO webhooks (id, agency_id, url, description, events, secret, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $7) RETURNING {WEBHOOK_COLUMNS}"
    ))
    .bind(webhook.id.0)
    .bind(webhook.agency_id.0)
    .bind(&webhook.url)
    .bind(&webhook.description)
    .bind(Json(&webhook.events))
    .bind(&webhook.secret)
    .bind(webhook.created_at)
    .fetch_one(pool)
    .await?;
    rows::webhook(&row)
}

pub(crate) async fn get(pool: &PgPool, scope: Scope, id: WebhookId) -> Result<Option<Webhook>> {
    let row = sqlx::query(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1 AND ($2::uuid IS NULL OR agency_id = $2)"
    ))
    .bind(id.0)
    .bind(agency_of(scope))
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(rows::webhook).transpose()
}

pub(crate) async fn list(pool: &PgPool, scope: Scope) -> Result<Vec<Webhook>> {
    let rows = sqlx::query(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE ($1::uuid IS NULL OR agency_id = $1) ORDER BY created_at, id"
    ))
    .bind(agency_of(scope))
    .fetch_all(pool)
    .await?;
    rows.iter().map(rows::webhook).collect()
}

pub(crate) async fn update(
    pool: &PgPool,
    scope: Scope,
    id: WebhookId,
    change: &WebhookChange,
    at: DateTime<Utc>,
) -> Result<Option<Webhook>> {
    let row = sqlx::query(&format!(
        "UPDATE webhooks SET url = COALESCE($1, url), \
         description = CASE WHEN $2 THEN $3 ELSE description END, \
         events = COALESCE($4, events), secret = COALESCE($5, secret), updated_at = $6 \
         WHERE id = $7 AND ($8::uuid IS NULL OR agency_id = $8) RETURNING {WEBHOOK_COLUMNS}"
    ))
    .bind(&change.url)
    .bind(change.description.is_some())
    .bind(change.description.clone().flatten())
    .bind(change.events.as_ref().map(Json))
    .bind(&change.secret)
    .bind(at)
    .bind(id.0)
    .bind(agency_of(scope))
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(rows::webhook).transpose()
}

pub(crate) async fn delete(pool: &PgPool, scope: Scope, id: WebhookId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM webhooks WHERE id = $1 AND ($2::uuid IS NULL OR agency_id = $2)")
        .bind(id.0)
        .bind(agency_of(scope))
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// [`tessera_storage::WriteTx::insert_webhook_event`]: nothing is stored when no endpoint is subscribed.
pub(crate) async fn insert_event(conn: &mut PgConnection, event: &NewWebhookEvent) -> Result<u64> {
    let endpoints: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM webhooks WHERE agency_id = $1 AND events @> jsonb_build_array($2::text) \
         ORDER BY created_at, id",
    )
    .bind(event.agency_id.0)
    .bind(&event.event_type)
    .fetch_all(&mut *conn)
    .await?;
    if endpoints.is_empty() {
        return Ok(0);
    }
    sqlx::query("INSERT INTO webhook_events (id, agency_id, event_type, data, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(event.id.0)
        .bind(event.agency_id.0)
        .bind(&event.event_type)
        .bind(Json(&event.data))
        .bind(event.created_at)
        .execute(&mut *conn)
        .await?;
    let ids: Vec<Uuid> = endpoints.iter().map(|_| WebhookDeliveryId::generate().0).collect();
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_at, status, attempts, next_attempt_at) \
         SELECT d, w, $3, $4, 'pending', 0, $4 FROM UNNEST($1::uuid[], $2::uuid[]) AS t (d, w)",
    )
    .bind(&ids)
    .bind(&endpoints)
    .bind(event.id.0)
    .bind(event.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(endpoints.len() as u64)
}

pub(crate) async fn threshold_in(conn: &mut PgConnection, agency: AgencyId) -> Result<Option<i64>> {
    let found: Option<Option<i64>> =
        sqlx::query_scalar("SELECT low_balance_minor FROM webhook_settings WHERE agency_id = $1")
            .bind(agency.0)
            .fetch_optional(conn)
            .await?;
    Ok(found.flatten())
}

pub(crate) async fn low_balance_threshold(pool: &PgPool, agency: AgencyId) -> Result<Option<i64>> {
    let mut conn = pool.acquire().await?;
    threshold_in(&mut conn, agency).await
}

pub(crate) async fn set_low_balance_threshold(pool: &PgPool, agency: AgencyId, minor: Option<i64>) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_settings (agency_id, low_balance_minor) VALUES ($1, $2) \
         ON CONFLICT (agency_id) DO UPDATE SET low_balance_minor = EXCLUDED.low_balance_minor",
    )
    .bind(agency.0)
    .bind(minor)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn claim_due(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease: TimeDelta,
    limit: u32,
) -> Result<Vec<WebhookDelivery>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    // An endpoint with a delivery in flight waits for it, so one endpoint's deliveries go out in order.
    let rows = sqlx::query(&format!(
        "WITH claimed AS ( \
             UPDATE webhook_deliveries SET locked_until = $1 \
             WHERE id IN ( \
                 SELECT d.id FROM webhook_deliveries d \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $2 \
                 AND (d.locked_until IS NULL OR d.locked_until <= $2) \
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o WHERE o.webhook_id = d.webhook_id \
                                 AND o.status = 'pending' AND o.locked_until > $2) \
                 ORDER BY d.event_at, d.event_id, d.id LIMIT $3 \
                 FOR UPDATE SKIP LOCKED) \
             RETURNING *) \
         SELECT {DELIVERY_COLUMNS} FROM claimed d JOIN webhook_events e ON e.id = d.event_id"
    ))
    .bind(lease_end(now, lease)?)
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    Ok(deliveries_oldest_first(rows.iter().map(rows::webhook_delivery).collect::<Result<_>>()?))
}

pub(crate) async fn record_attempt(pool: &PgPool, attempt: &NewAttempt) -> Result<()> {
    let mut tx = pool.begin().await?;
    let found: Option<(Uuid, i32)> =
        sqlx::query_as("SELECT webhook_id, attempts FROM webhook_deliveries WHERE id = $1 FOR UPDATE")
            .bind(attempt.delivery_id.0)
            .fetch_optional(&mut *tx)
            .await?;
    let (webhook, attempts) = found.ok_or(StorageError::NotFound)?;
    let error = attempt.error.as_deref().map(truncate_message_error);
    let code = attempt.response_code.map(i32::from);
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, number, at, outcome, response_code, latency_ms, error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(attempt.delivery_id.0)
    .bind(attempts + 1)
    .bind(attempt.at)
    .bind(attempt.outcome.as_str())
    .bind(code)
    .bind(i64::try_from(attempt.latency_ms).unwrap_or(i64::MAX))
    .bind(error)
    .execute(&mut *tx)
    .await?;
    let (status, endpoint) = match (attempt.outcome, attempt.retry_at) {
        (AttemptOutcome::Success, _) => ("delivered", Some("active")),
        (AttemptOutcome::Failure, Some(_)) => ("pending", None),
        (AttemptOutcome::Failure, None) => ("failed", Some("failing")),
    };
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, locked_until = NULL, \
         last_response_code = $2, last_error = $3, next_attempt_at = COALESCE($4, next_attempt_at), \
         delivered_at = CASE WHEN $1 = 'delivered' THEN $5 ELSE delivered_at END WHERE id = $6",
    )
    .bind(status)
    .bind(code)
    .bind(error)
    .bind(attempt.retry_at)
    .bind(attempt.at)
    .bind(attempt.delivery_id.0)
    .execute(&mut *tx)
    .await?;
    if let Some(endpoint) = endpoint {
        sqlx::query("UPDATE webhooks SET status = $1 WHERE id = $2")
            .bind(endpoint)
            .bind(webhook)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn list_deliveries(
    pool: &PgPool,
    scope: Scope,
    webhook: WebhookId,
    limit: u32,
) -> Result<Vec<(WebhookDelivery, Vec<WebhookAttempt>)>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *tx).await?;
    let rows = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
         WHERE d.webhook_id = $1 AND ($2::uuid IS NULL OR e.agency_id = $2) \
         ORDER BY d.event_at DESC, d.event_id DESC, d.id DESC LIMIT $3"
    ))
    .bind(webhook.0)
    .bind(agency_of(scope))
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let delivery = rows::webhook_delivery(row)?;
        let attempts = sqlx::query(
            "SELECT number, at, outcome, response_code, latency_ms, error FROM webhook_attempts \
             WHERE delivery_id = $1 ORDER BY number",
        )
        .bind(delivery.id.0)
        .fetch_all(&mut *tx)
        .await?;
        let attempts = attempts.iter().map(rows::webhook_attempt).collect::<Result<_>>()?;
        out.push((delivery, attempts));
    }
    tx.commit().await?;
    Ok(out)
}

pub(crate) async fn retry(
    pool: &PgPool,
    scope: Scope,
    webhook: WebhookId,
    delivery: WebhookDeliveryId,
    now: DateTime<Utc>,
) -> Result<Option<WebhookDelivery>> {
    let row = sqlx::query(&format!(
        "WITH retried AS ( \
             UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, locked_until = NULL \
             WHERE id = $2 AND webhook_id = $3 \
             AND webhook_id IN (SELECT id FROM webhooks WHERE $4::uuid IS NULL OR agency_id = $4) \
             RETURNING *) \
         SELECT {DELIVERY_COLUMNS} FROM retried d JOIN webhook_events e ON e.id = d.event_id"
    ))
    .bind(now)
    .bind(delivery.0)
    .bind(webhook.0)
    .bind(agency_of(scope))
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(rows::webhook_delivery).transpose()
}
