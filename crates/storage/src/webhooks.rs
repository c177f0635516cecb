//! Webhook records: endpoints an agency registered, events written by the transaction scripts (the
//! transactional outbox), and their deliveries to each subscribed endpoint with every attempt.
//!
//! Fan-out happens when the event is written: in the same transaction, one delivery per endpoint of the
//! agency that is subscribed to the event's type at that moment. A later subscription does not receive older
//! events, and an endpoint deleted afterwards takes its deliveries with it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tessera_core::ids::{AgencyId, WebhookDeliveryId, WebhookEventId, WebhookId};

/// A new endpoint; `secret` is the `whsec_...` text the integrator verifies with.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub id: WebhookId,
    pub agency_id: AgencyId,
    pub url: String,
    pub description: Option<String>,
    /// Event type names (`issuance.created`, ...), validated by the caller.
    pub events: Vec<String>,
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

/// Whether the endpoint's deliveries get through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookStatus {
    Active,
    /// A delivery was given up on after every retry; the next successful delivery makes it active again.
    Failing,
}

impl WebhookStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Failing => "failing",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "failing" => Some(Self::Failing),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: WebhookId,
    pub agency_id: AgencyId,
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<String>,
    pub secret: String,
    pub status: WebhookStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A change to an endpoint: `None` leaves the field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookChange {
    pub url: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub events: Option<Vec<String>>,
    /// A rotated secret.
    pub secret: Option<String>,
}

/// An event as the scripts write it.
#[derive(Debug, Clone)]
pub struct NewWebhookEvent {
    pub id: WebhookEventId,
    pub agency_id: AgencyId,
    pub event_type: String,
    /// The event's `data`.
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or a retry, due at `next_attempt_at`.
    Pending,
    Delivered,
    /// Given up on after every retry.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One event on its way to one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    pub id: WebhookDeliveryId,
    pub webhook_id: WebhookId,
    pub agency_id: AgencyId,
    pub event_id: WebhookEventId,
    pub event_type: String,
    pub data: serde_json::Value,
    /// When the event happened (its `timestamp`).
    pub event_at: DateTime<Utc>,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_response_code: Option<u16>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// How one attempt went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttemptOutcome {
    /// A 2xx answer.
    Success,
    /// Another answer, a refused connection, a timeout, or a URL that resolved to a refused address.
    Failure,
}

impl AttemptOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Self::Success),
            "failure" => Some(Self::Failure),
            _ => None,
        }
    }
}

/// An attempt to record: what happened, and what becomes of the delivery.
#[derive(Debug, Clone)]
pub struct NewAttempt {
    pub delivery_id: WebhookDeliveryId,
    pub at: DateTime<Utc>,
    pub outcome: AttemptOutcome,
    pub response_code: Option<u16>,
    pub latency_ms: u64,
    /// Cut to [`crate::MAX_MESSAGE_ERROR_CHARS`].
    pub error: Option<String>,
    /// After a failure: when to try again; `None` gives the delivery up (status failed, endpoint failing).
    pub retry_at: Option<DateTime<Utc>>,
}

/// An attempt as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookAttempt {
    /// 1 for the first attempt of the delivery.
    pub number: u32,
    pub at: DateTime<Utc>,
    pub outcome: AttemptOutcome,
    pub response_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
}

/// Deliveries claimed oldest event first (then by delivery id): `RETURNING` gives no order, and the worker
/// sends each endpoint's deliveries in this order.
pub fn deliveries_oldest_first(mut deliveries: Vec<WebhookDelivery>) -> Vec<WebhookDelivery> {
    deliveries.sort_by_key(|d| (d.event_at, d.event_id, d.id));
    deliveries
}
