//! Delivering webhook events: the worker claims due deliveries (storage leases each to one node, PostgreSQL
//! with `FOR UPDATE SKIP LOCKED`), POSTs each, signed per Standard Webhooks, and records the attempt.
//!
//! Each request carries `webhook-id` (the event's id: the same on every attempt and every endpoint, so a
//! receiver can drop duplicates — delivery is at least once), `webhook-timestamp` (Unix seconds of this
//! attempt) and `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed with the
//! base64-decoded part of the `whsec_` secret. A 2xx answer within the timeout is a success; anything else is
//! retried after the configured delays (with ±20 % jitter) and then given up, which marks the endpoint
//! failing. One endpoint's claimed deliveries are sent one after the other, oldest event first; endpoints are
//! served concurrently.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
use tessera_core::user::Scope;
use tessera_storage::{AttemptOutcome, NewAttempt, WebhookDelivery};

use super::target::{check_url, GuardedResolver};
use super::WebhookSettings;
use crate::{AppError, Tessera};

/// How long claimed deliveries stay reserved for the node that claimed them: long enough for a batch sent one
/// endpoint at a time at the longest timeout.
const LEASE: TimeDelta = TimeDelta::seconds(600);

/// The settings and the HTTP client deliveries go through.
#[derive(Debug)]
pub struct WebhookRuntime {
    pub(crate) settings: WebhookSettings,
    /// `None` when the client could not be built (logged once); deliveries then wait.
    client: Option<reqwest::Client>,
}

impl WebhookRuntime {
    pub fn new(settings: WebhookSettings) -> Self {
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A redirect could lead anywhere, internal addresses included; receivers must answer themselves.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, past the address check.
            .no_proxy()
            .user_agent(concat!("Tessera-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private {
            builder = builder.dns_resolver(Arc::new(GuardedResolver));
        }
        let client = match builder.build() {
            Ok(client) => Some(client),
            Err(e) => {
                tracing::error!(error = %e, "cannot build the webhook HTTP client; deliveries will wait");
                None
            }
        };
        Self { settings, client }
    }
}

/// `v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{body}`, keyed with the decoded `whsec_` secret.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("the endpoint's secret is not base64: {e}"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())))
}

/// The wait before the retry that follows failed attempt number `attempts` (1 for the first), with ±20 %
/// jitter so that deliveries that failed together do not retry together; `None` when every retry is spent.
pub fn retry_delay(delays: &[Duration], attempts: u32) -> Option<Duration> {
    let base = *delays.get(usize::try_from(attempts).ok()?.checked_sub(1)?)?;
    let factor = rand::thread_rng().gen_range(0.8..=1.2);
    Some(base.mul_f64(factor))
}

/// The body of a delivery: `{"type", "timestamp", "data"}`.
fn body(delivery: &WebhookDelivery) -> Result<Vec<u8>, AppError> {
    let payload = serde_json::json!({
        "type": delivery.event_type,
        "timestamp": delivery.event_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": delivery.data,
    });
    serde_json::to_vec(&payload).map_err(|e| AppError::Internal(format!("encoding a webhook body: {e}")))
}

/// What one attempt came to, before it is recorded.
struct Attempt {
    outcome: AttemptOutcome,
    response_code: Option<u16>,
    error: Option<String>,
}

impl Tessera {
    /// Uses these webhook settings (the default refuses private addresses and retries over ~18 hours).
    pub fn with_webhooks(mut self, settings: WebhookSettings) -> Self {
        self.webhooks = Arc::new(WebhookRuntime::new(settings));
        self
    }

    /// Sends the webhook deliveries that are due (at most `limit`); returns how many got through. Called
    /// periodically by the worker on every node.
    pub async fn deliver_due_webhooks(&self, limit: u32) -> Result<usize, AppError> {
        let Some(client) = &self.webhooks.client else { return Ok(0) };
        let claimed = self.db.claim_due_webhook_deliveries(self.now(), LEASE, limit).await?;
        // One queue per endpoint, in claim order (oldest event first), the queues side by side.
        let mut queues: Vec<Vec<WebhookDelivery>> = Vec::new();
        for delivery in claimed {
            match queues.iter_mut().find(|q| q.first().is_some_and(|f| f.webhook_id == delivery.webhook_id)) {
                Some(queue) => queue.push(delivery),
                None => queues.push(vec![delivery]),
            }
        }
        let runs = queues.into_iter().map(|queue| async move {
            let mut delivered = 0;
            for delivery in &queue {
                match self.deliver_webhook(client, delivery).await {
                    Ok(true) => delivered += 1,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::error!(delivery = %delivery.id, error = %e, "recording a webhook attempt failed")
                    }
                }
            }
            delivered
        });
        Ok(futures::future::join_all(runs).await.into_iter().sum())
    }

    /// Sends one claimed delivery and records the attempt; whether it got through.
    async fn deliver_webhook(&self, client: &reqwest::Client, delivery: &WebhookDelivery) -> Result<bool, AppError> {
        let started = Instant::now();
        let attempt = self.attempt(client, delivery).await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let attempts = delivery.attempts + 1;
        let success = attempt.outcome == AttemptOutcome::Success;
        let retry_at: Option<DateTime<Utc>> = if success {
            None
        } else {
            retry_delay(&self.webhooks.settings.retry_delays, attempts)
                .and_then(|d| TimeDelta::from_std(d).ok())
                .map(|d| self.now() + d)
        };
        let outcome = match (success, retry_at.is_some()) {
            (true, _) => "success",
            (false, true) => "failure",
            (false, false) => "given_up",
        };
        metrics::counter!("tessera_webhook_deliveries_total", "outcome" => outcome).increment(1);
        if success {
            tracing::info!(delivery = %delivery.id, event = %delivery.event_type, attempts, latency_ms, "webhook delivered");
        } else {
            tracing::warn!(delivery = %delivery.id, attempts, code = ?attempt.response_code, error = ?attempt.error,
                outcome, "webhook not delivered");
        }
        self.db
            .record_webhook_attempt(&NewAttempt {
                delivery_id: delivery.id,
                at: self.now(),
                outcome: attempt.outcome,
                response_code: attempt.response_code,
                latency_ms,
                error: attempt.error,
                retry_at,
            })
            .await?;
        Ok(success)
    }

    async fn attempt(&self, client: &reqwest::Client, delivery: &WebhookDelivery) -> Attempt {
        let failure =
            |error: String| Attempt { outcome: AttemptOutcome::Failure, response_code: None, error: Some(error) };
        // The endpoint as it is now: a changed URL or a rotated secret applies to pending deliveries too.
        let webhook = match self.db.get_webhook(Scope::All, delivery.webhook_id).await {
            Ok(Some(webhook)) => webhook,
            Ok(None) => return failure("the endpoint was deleted".into()),
            Err(e) => return failure(format!("reading the endpoint: {e}")),
        };
        // Checked again at delivery: the rules may be stricter now than when the URL was registered.
        if let Err(reason) = check_url(&webhook.url, self.webhooks.settings.allow_private) {
            return failure(format!("the URL {reason}"));
        }
        let body = match body(delivery) {
            Ok(body) => body,
            Err(e) => return failure(e.to_string()),
        };
        let id = delivery.event_id.to_string();
        let timestamp = self.now().timestamp();
        let signature = match signature(&webhook.secret, &id, timestamp, &body) {
            Ok(s) => s,
            Err(e) => return failure(e),
        };
        let sent = client
            .post(&webhook.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status();
                // Read (and drop) the answer so the connection can be reused; its content does not matter.
                let _ = tokio::time::timeout(Duration::from_secs(2), response.bytes()).await;
                if status.is_success() {
                    Attempt { outcome: AttemptOutcome::Success, response_code: Some(status.as_u16()), error: None }
                } else {
                    Attempt {
                        outcome: AttemptOutcome::Failure,
                        response_code: Some(status.as_u16()),
                        error: Some(format!("the endpoint answered {status}")),
                    }
                }
            }
            Err(e) if e.is_timeout() => failure(format!("no answer within {:?}", self.webhooks.settings.timeout)),
            Err(e) => failure(error_chain(&e)),
        }
    }
}

/// The error with its causes (reqwest's own text hides whether DNS, the connection or TLS failed).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signature_matches_the_reference_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signed = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        let delays = super::super::DEFAULT_RETRY_DELAYS;
        let first = retry_delay(&delays, 1).unwrap();
        assert!(first >= Duration::from_secs(4) && first <= Duration::from_secs(6));
        let last = retry_delay(&delays, 6).unwrap();
        assert!(last >= Duration::from_secs(28_800) && last <= Duration::from_secs(43_200));
        assert_eq!(retry_delay(&delays, 7), None);
        assert_eq!(retry_delay(&delays, 0), None);
    }
}
