//! `/api/v1/webhooks`: endpoints an agency registers for signed event deliveries (Standard Webhooks), their
//! deliveries and attempts, manual redelivery, and the agency's `balance.low` threshold. The secret is shown
//! on creation and rotation only.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tessera_app::webhooks::{WebhookInput, WebhookPatch, WithSecret};
use tessera_app::AppError;
use tessera_core::ids::{AgencyId, WebhookDeliveryId, WebhookId};
use tessera_core::money::{Currency, Money};
use tessera_storage::{Webhook, WebhookAttempt, WebhookDelivery};
use utoipa::{IntoParams, ToSchema};

use super::admin::agency_id;
use super::error::Problem;
use super::extract::{Auth, NativePath, ValidJson, ValidQuery};
use super::ApiError;
use crate::AppState;

fn webhook_id(text: &str) -> Result<WebhookId, AppError> {
    text.parse().map_err(|_| AppError::NotFound("webhook"))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// `http://` or `https://`; private, loopback and link-local addresses are refused.
    pub url: String,
    /// Event types: `issuance.created`, `ticket.voided`, `ticket.refund_requested`, `ticket.refunded`,
    /// `ticket.exchanged`, `coupon.used`, `booking_order.completed`, `balance.low`.
    pub events: Vec<String>,
    pub description: Option<String>,
    /// The agency it belongs to: required for an admin, an agent's own agency otherwise.
    #[schema(value_type = Option<String>)]
    pub agency_id: Option<AgencyId>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchWebhook {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// An empty string clears it.
    pub description: Option<String>,
}

/// An endpoint; `secret` only in the answers to creation and rotation.
#[derive(Serialize, ToSchema)]
pub struct WebhookBody {
    pub id: String,
    pub agency_id: String,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    /// `active`, or `failing` once a delivery was given up on (until the next one gets through).
    pub status: String,
    /// `whsec_<base64>`: verify signatures with it; shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Webhook> for WebhookBody {
    fn from(w: &Webhook) -> Self {
        Self {
            id: w.id.to_string(),
            agency_id: w.agency_id.to_string(),
            url: w.url.clone(),
            description: w.description.clone(),
            events: w.events.clone(),
            status: w.status.as_str().to_owned(),
            secret: None,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

impl From<&WithSecret> for WebhookBody {
    fn from(w: &WithSecret) -> Self {
        Self { secret: Some(w.secret.clone()), ..Self::from(&w.webhook) }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AttemptBody {
    pub number: u32,
    pub at: DateTime<Utc>,
    /// `success` (2xx) or `failure`.
    pub outcome: String,
    pub response_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
}

impl From<&WebhookAttempt> for AttemptBody {
    fn from(a: &WebhookAttempt) -> Self {
        Self {
            number: a.number,
            at: a.at,
            outcome: a.outcome.as_str().to_owned(),
            response_code: a.response_code,
            latency_ms: a.latency_ms,
            error: a.error.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryBody {
    pub id: String,
    /// The `webhook-id` header: the event's id.
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened (the body's `timestamp`).
    pub timestamp: DateTime<Utc>,
    /// `pending`, `delivered` or `failed` (given up).
    pub status: String,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_response_code: Option<u16>,
    pub last_error: Option<String>,
    /// Every attempt, oldest first (empty for a delivery not tried yet).
    pub attempts: Vec<AttemptBody>,
}

impl DeliveryBody {
    fn new(d: &WebhookDelivery, attempts: &[WebhookAttempt]) -> Self {
        Self {
            id: d.id.to_string(),
            event_id: d.event_id.to_string(),
            event_type: d.event_type.clone(),
            timestamp: d.event_at,
            status: d.status.as_str().to_owned(),
            next_attempt_at: (d.status == tessera_storage::DeliveryStatus::Pending).then_some(d.next_attempt_at),
            delivered_at: d.delivered_at,
            last_response_code: d.last_response_code,
            last_error: d.last_error.clone(),
            attempts: attempts.iter().map(AttemptBody::from).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    /// Newest event first.
    pub deliveries: Vec<DeliveryBody>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// 1-200, default 50
    pub limit: Option<u32>,
}

const PROBLEM: &str = "application/problem+json";

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = CreateWebhook,
    responses((status = 201, body = WebhookBody, description = "the endpoint, with its secret (shown this once)"),
        (status = 403, body = Problem, content_type = PROBLEM), (status = 404, body = Problem, content_type = PROBLEM),
        (status = 422, body = Problem, content_type = PROBLEM)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    ValidJson(body): ValidJson<CreateWebhook>,
) -> Result<(StatusCode, Json<WebhookBody>), ApiError> {
    let input =
        WebhookInput { agency_id: body.agency_id, url: body.url, events: body.events, description: body.description };
    let created = state.app.create_webhook(&who, &input).await?;
    Ok((StatusCode::CREATED, Json(WebhookBody::from(&created))))
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<WebhookBody>), (status = 403, body = Problem, content_type = PROBLEM)))]
pub async fn list(State(state): State<AppState>, Auth(who): Auth) -> Result<Json<Vec<WebhookBody>>, ApiError> {
    Ok(Json(state.app.list_webhooks(&who).await?.iter().map(WebhookBody::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookBody), (status = 404, body = Problem, content_type = PROBLEM)))]
pub async fn get(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<Json<WebhookBody>, ApiError> {
    Ok(Json(WebhookBody::from(&state.app.get_webhook(&who, webhook_id(&id)?).await?)))
}

#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", request_body = PatchWebhook,
    params(("id" = String, Path)), responses((status = 200, body = WebhookBody),
        (status = 404, body = Problem, content_type = PROBLEM), (status = 422, body = Problem, content_type = PROBLEM)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
    ValidJson(body): ValidJson<PatchWebhook>,
) -> Result<Json<WebhookBody>, ApiError> {
    let patch = WebhookPatch { url: body.url, events: body.events, description: body.description };
    Ok(Json(WebhookBody::from(&state.app.update_webhook(&who, webhook_id(&id)?, &patch).await?)))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 204, description = "deleted, with its deliveries"), (status = 404, body = Problem, content_type = PROBLEM)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<StatusCode, ApiError> {
    state.app.delete_webhook(&who, webhook_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookBody, description = "the endpoint with its new secret, which signs every delivery from now on"),
        (status = 404, body = Problem, content_type = PROBLEM)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<Json<WebhookBody>, ApiError> {
    Ok(Json(WebhookBody::from(&state.app.rotate_webhook_secret(&who, webhook_id(&id)?).await?)))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path), DeliveriesQuery),
    responses((status = 200, body = DeliveryList), (status = 404, body = Problem, content_type = PROBLEM)))]
pub async fn deliveries(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
    ValidQuery(q): ValidQuery<DeliveriesQuery>,
) -> Result<Json<DeliveryList>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let found = state.app.webhook_deliveries(&who, webhook_id(&id)?, limit).await?;
    Ok(Json(DeliveryList { deliveries: found.iter().map(|(d, a)| DeliveryBody::new(d, a)).collect() }))
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    params(("id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 202, body = DeliveryBody, description = "due again now; the worker sends it shortly"),
        (status = 404, body = Problem, content_type = PROBLEM)))]
pub async fn retry(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath((id, delivery)): NativePath<(String, String)>,
) -> Result<(StatusCode, Json<DeliveryBody>), ApiError> {
    let delivery: WebhookDeliveryId = delivery.parse().map_err(|_| AppError::NotFound("delivery"))?;
    let retried = state.app.retry_webhook_delivery(&who, webhook_id(&id)?, delivery).await?;
    Ok((StatusCode::ACCEPTED, Json(DeliveryBody::new(&retried, &[]))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetThreshold {
    /// A decimal amount as a string (`"500.00"`) in the agency's currency; `null` clears it (no `balance.low`
    /// events). Required: an empty body or `{}` must not clear a threshold by accident.
    #[schema(required = true)]
    // A `deserialize_with` makes serde require the field even though it is an `Option`.
    #[serde(deserialize_with = "Option::deserialize")]
    pub threshold: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ThresholdBody {
    /// A debit that takes the balance from at or above this to below it raises `balance.low`.
    pub threshold: Option<String>,
    pub currency: String,
}

fn threshold_body((threshold, currency): (Option<Money>, Currency)) -> ThresholdBody {
    ThresholdBody { threshold: threshold.map(|m| m.amount_string()), currency: currency.code().to_owned() }
}

#[utoipa::path(get, path = "/api/v1/agencies/{id}/low-balance-threshold", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = ThresholdBody), (status = 404, body = Problem, content_type = PROBLEM)))]
pub async fn get_threshold(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<Json<ThresholdBody>, ApiError> {
    Ok(Json(threshold_body(state.app.low_balance_threshold(&who, agency_id(&id)?).await?)))
}

#[utoipa::path(put, path = "/api/v1/agencies/{id}/low-balance-threshold", tag = "webhooks", request_body = SetThreshold,
    params(("id" = String, Path)), responses((status = 200, body = ThresholdBody),
        (status = 404, body = Problem, content_type = PROBLEM), (status = 422, body = Problem, content_type = PROBLEM)))]
pub async fn set_threshold(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
    ValidJson(body): ValidJson<SetThreshold>,
) -> Result<Json<ThresholdBody>, ApiError> {
    let threshold = body.threshold.as_deref();
    Ok(Json(threshold_body(state.app.set_low_balance_threshold(&who, agency_id(&id)?, threshold).await?)))
}
