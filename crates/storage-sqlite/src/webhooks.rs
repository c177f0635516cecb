//! Webhook endpoints, the events the scripts write (fanned out to subscribed endpoints in the same
//! transaction) and their deliveries, claimed with a lease like the e-mail outbox (`outbox.rs`): claims run in
//! a `BEGIN IMMEDIATE` transaction, so SQLite's single writer serializes them and no delivery is claimed twice.
//! Timestamps are written by [`timestamp`] in one fixed-width UTC form, so TEXT comparisons compare instants.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::{SqliteConnection, SqlitePool};
use tessera_core::ids::{AgencyId, WebhookDeliveryId, WebhookId};
use tessera_core::user::Scope;
use tessera_storage::{
    deliveries_oldest_first, lease_end, truncate_message_error, AttemptOutcome, NewAttempt, NewWebhook,
    NewWebhookEvent, StorageError, Webhook, WebhookAttempt, WebhookChange, WebhookDelivery,
};

use crate::outbox::timestamp;
use crate::rows::{self, json_text};
use crate::{begin_write, write_error, Result};

const WEBHOOK_COLUMNS: &str = "id, agency_id, url, description, events, secret, status, created_at, updated_at";

/// A delivery joined with its event (`d` and `e`).
const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, e.agency_id, d.event_id, e.event_type, e.data, d.event_at, \
     d.status, d.attempts, d.next_attempt_at, d.last_response_code, d.last_error, d.delivered_at";

const DELIVERY_FROM: &str = "webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id";

fn agency_of(scope: Scope) -> Option<String> {
    scope.agency().map(|a| a.to_string())
}

pub(crate) async fn create(pool: &SqlitePool, webhook: &NewWebhook) -> Result<Webhook> {
    let at = timestamp(webhook.created_at);
    let row = sqlx::query(&format!(
        "INSERT INTO webhooks (id, agency_id, url, description, events, secret, status, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?) RETURNING {WEBHOOK_COLUMNS}"
    ))
    .bind(webhook.id.to_string())
    .bind(webhook.agency_id.to_string())
    .bind(&webhook.url)
    .bind(&webhook.description)
    .bind(json_text(&webhook.events, "webhook events")?)
    .bind(&webhook.secret)
    .bind(&at)
    .bind(&at)
    .fetch_one(pool)
    .await
    .map_err(|e| write_error(e, "webhook"))?;
    rows::webhook(&row)
}

pub(crate) async fn get(pool: &SqlitePool, scope: Scope, id: WebhookId) -> Result<Option<Webhook>> {
    let row = sqlx::query(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1 AND (?2 IS NULL OR agency_id = ?2)"
    ))
    .bind(id.to_string())
    .bind(agency_of(scope))
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(rows::webhook).transpose()
}

pub(crate) async fn list(pool: &SqlitePool, scope: Scope) -> Result<Vec<Webhook>> {
    let rows = sqlx::query(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE (?1 IS NULL OR agency_id = ?1) ORDER BY created_at, id"
    ))
    .bind(agency_of(scope))
    .fetch_all(pool)
    .await?;
    rows.iter().map(rows::webhook).collect()
}

pub(crate) async fn update(
    pool: &SqlitePool,
    scope: Scope,
    id: WebhookId,
    change: &WebhookChange,
    at: DateTime<Utc>,
) -> Result<Option<Webhook>> {
    let events = change.events.as_ref().map(|e| json_text(e, "webhook events")).transpose()?;
    let row = sqlx::query(&format!(
        "UPDATE webhooks SET url = COALESCE(?1, url), \
         description = CASE WHEN ?2 THEN ?3 ELSE description END, \
         events = COALESCE(?4, events), secret = COALESCE(?5, secret), updated_at = ?6 \
         WHERE id = ?7 AND (?8 IS NULL OR agency_id = ?8) RETURNING {WEBHOOK_COLUMNS}"
    ))
    .bind(&change.url)
    .bind(change.description.is_some())
    .bind(change.description.clone().flatten())
    .bind(events)
    .bind(&change.secret)
    .bind(timestamp(at))
    .bind(id.to_string())
    .bind(agency_of(scope))
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(rows::webhook).transpose()
}

pub(crate) async fn delete(pool: &SqlitePool, scope: Scope, id: WebhookId) -> Result<bool> {
    let done = sqlx::query("DELETE FROM webhooks WHERE id = ?1 AND (?2 IS NULL OR agency_id = ?2)")
        .bind(id.to_string())
        .bind(agency_of(scope))
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// [`tessera_storage::WriteTx::insert_webhook_event`]: nothing is stored when no endpoint is subscribed.
pub(crate) async fn insert_event(conn: &mut SqliteConnection, event: &NewWebhookEvent) -> Result<u64> {
    let endpoints: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM webhooks WHERE agency_id = ? \
         AND EXISTS (SELECT 1 FROM json_each(webhooks.events) WHERE value = ?) ORDER BY created_at, id",
    )
    .bind(event.agency_id.to_string())
    .bind(&event.event_type)
    .fetch_all(&mut *conn)
    .await?;
    if endpoints.is_empty() {
        return Ok(0);
    }
    let at = timestamp(event.created_at);
    sqlx::query("INSERT INTO webhook_events (id, agency_id, event_type, data, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(event.id.to_string())
        .bind(event.agency_id.to_string())
        .bind(&event.event_type)
        .bind(json_text(&event.data, "webhook event data")?)
        .bind(&at)
        .execute(&mut *conn)
        .await?;
    for endpoint in &endpoints {
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_at, status, attempts, next_attempt_at) \
             VALUES (?, ?, ?, ?, 'pending', 0, ?)",
        )
        .bind(WebhookDeliveryId::generate().to_string())
        .bind(endpoint)
        .bind(event.id.to_string())
        .bind(&at)
        .bind(&at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(endpoints.len() as u64)
}

pub(crate) async fn threshold_in(conn: &mut SqliteConnection, agency: AgencyId) -> Result<Option<i64>> {
    let found: Option<Option<i64>> =
        sqlx::query_scalar("SELECT low_balance_minor FROM webhook_settings WHERE agency_id = ?")
            .bind(agency.to_string())
            .fetch_optional(conn)
            .await?;
    Ok(found.flatten())
}

pub(crate) async fn low_balance_threshold(pool: &SqlitePool, agency: AgencyId) -> Result<Option<i64>> {
    let mut conn = pool.acquire().await?;
    threshold_in(&mut conn, agency).await
}

pub(crate) async fn set_low_balance_threshold(pool: &SqlitePool, agency: AgencyId, minor: Option<i64>) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_settings (agency_id, low_balance_minor) VALUES (?1, ?2) \
         ON CONFLICT (agency_id) DO UPDATE SET low_balance_minor = ?2",
    )
    .bind(agency.to_string())
    .bind(minor)
    .execute(pool)
    .await
    .map_err(|e| write_error(e, "webhook settings"))?;
    Ok(())
}

async fn delivery_in(conn: &mut SqliteConnection, id: &str) -> Result<Option<WebhookDelivery>> {
    let row = sqlx::query(&format!("SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_FROM} WHERE d.id = ?"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(rows::webhook_delivery).transpose()
}

pub(crate) async fn claim_due(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    lease: TimeDelta,
    limit: u32,
) -> Result<Vec<WebhookDelivery>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let until = timestamp(lease_end(now, lease)?);
    let now = timestamp(now);
    let mut tx = begin_write(pool).await?;
    // An endpoint with a delivery in flight waits for it, so one endpoint's deliveries go out in order.
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT d.id FROM webhook_deliveries d \
         WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 AND (d.locked_until IS NULL OR d.locked_until <= ?1) \
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o WHERE o.webhook_id = d.webhook_id \
                         AND o.status = 'pending' AND o.locked_until > ?1) \
         ORDER BY d.event_at, d.event_id, d.id LIMIT ?2",
    )
    .bind(&now)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let mut claimed = Vec::with_capacity(ids.len());
    for id in ids {
        sqlx::query("UPDATE webhook_deliveries SET locked_until = ? WHERE id = ?")
            .bind(&until)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        claimed.extend(delivery_in(&mut tx, &id).await?);
    }
    tx.commit().await?;
    Ok(deliveries_oldest_first(claimed))
}

pub(crate) async fn record_attempt(pool: &SqlitePool, attempt: &NewAttempt) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    let id = attempt.delivery_id.to_string();
    let found: Option<(String, i64)> =
        sqlx::query_as("SELECT webhook_id, attempts FROM webhook_deliveries WHERE id = ?")
            .bind(&id)
            .fetch_optional(&mut *tx)
            .await?;
    let (webhook, attempts) = found.ok_or(StorageError::NotFound)?;
    let at = timestamp(attempt.at);
    let error = attempt.error.as_deref().map(truncate_message_error);
    let code = attempt.response_code.map(i64::from);
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, number, at, outcome, response_code, latency_ms, error) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(attempts + 1)
    .bind(&at)
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
        "UPDATE webhook_deliveries SET status = ?1, attempts = attempts + 1, locked_until = NULL, \
         last_response_code = ?2, last_error = ?3, next_attempt_at = COALESCE(?4, next_attempt_at), \
         delivered_at = CASE WHEN ?1 = 'delivered' THEN ?5 ELSE delivered_at END WHERE id = ?6",
    )
    .bind(status)
    .bind(code)
    .bind(error)
    .bind(attempt.retry_at.map(timestamp))
    .bind(&at)
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    if let Some(endpoint) = endpoint {
        sqlx::query("UPDATE webhooks SET status = ? WHERE id = ?")
            .bind(endpoint)
            .bind(&webhook)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn list_deliveries(
    pool: &SqlitePool,
    scope: Scope,
    webhook: WebhookId,
    limit: u32,
) -> Result<Vec<(WebhookDelivery, Vec<WebhookAttempt>)>> {
    let mut tx = crate::begin_read(pool).await?;
    let rows = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_FROM} \
         WHERE d.webhook_id = ?1 AND (?2 IS NULL OR e.agency_id = ?2) \
         ORDER BY d.event_at DESC, d.event_id DESC, d.id DESC LIMIT ?3"
    ))
    .bind(webhook.to_string())
    .bind(agency_of(scope))
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let delivery = rows::webhook_delivery(row)?;
        let attempts = sqlx::query(
            "SELECT number, at, outcome, response_code, latency_ms, error FROM webhook_attempts \
             WHERE delivery_id = ? ORDER BY number",
        )
        .bind(delivery.id.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let attempts = attempts.iter().map(rows::webhook_attempt).collect::<Result<_>>()?;
        out.push((delivery, attempts));
    }
    Ok(out)
}

pub(crate) async fn retry(
    pool: &SqlitePool,
    scope: Scope,
    webhook: WebhookId,
    delivery: WebhookDeliveryId,
    now: DateTime<Utc>,
) -> Result<Option<WebhookDelivery>> {
    let mut tx = begin_write(pool).await?;
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?1, locked_until = NULL \
         WHERE id = ?2 AND webhook_id = ?3 \
         AND webhook_id IN (SELECT id FROM webhooks WHERE ?4 IS NULL OR agency_id = ?4)",
    )
    .bind(timestamp(now))
    .bind(delivery.to_string())
    .bind(webhook.to_string())
    .bind(agency_of(scope))
    .execute(&mut *tx)
    .await?;
    let found = if done.rows_affected() == 1 { delivery_in(&mut tx, &delivery.to_string()).await? } else { None };
    tx.commit().await?;
    Ok(found)
}
