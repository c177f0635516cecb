//! Webhooks per the Standard Webhooks specification: an agency registers endpoints (URL, event types), each
//! gets a `whsec_` secret shown once, and every event the storage scripts write in the transaction of a change
//! is delivered, signed, by the worker in [`deliver`].
//!
//! Admins manage every agency's endpoints (naming the agency when creating one); agents manage their own
//! agency's; customers none. Another agency's endpoint is answered as missing.

mod deliver;
mod target;

use std::time::Duration;

use base64::Engine;
use rand::RngCore;
use tessera_core::ids::{AgencyId, WebhookDeliveryId, WebhookId};
use tessera_core::intake::ValidationErrors;
use tessera_core::money::Money;
use tessera_core::user::Role;
use tessera_core::webhook::EventType;
use tessera_storage::{NewWebhook, Webhook, WebhookAttempt, WebhookChange, WebhookDelivery};

pub use deliver::{retry_delay, signature, WebhookRuntime};
pub use target::{check_url, is_forbidden_ip};

use crate::admin::plain_text;
use crate::{AppError, Principal, Tessera};

/// How webhooks are delivered; the binary builds them from its validated configuration.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Accept (and deliver to) loopback, private and link-local addresses: for tests and closed networks.
    pub allow_private: bool,
    /// The wait before each retry; a delivery that failed once more than there are delays is given up.
    pub retry_delays: Vec<Duration>,
    /// How long one attempt may take, connection included.
    pub timeout: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self { allow_private: false, retry_delays: DEFAULT_RETRY_DELAYS.to_vec(), timeout: Duration::from_secs(10) }
    }
}

/// ≈ 5 s, 5 min, 30 min, 2 h, 5 h, 10 h (each with ±20 % jitter): seven attempts over about 18 hours.
pub const DEFAULT_RETRY_DELAYS: [Duration; 6] = [
    Duration::from_secs(5),
    Duration::from_secs(300),
    Duration::from_secs(1800),
    Duration::from_secs(7200),
    Duration::from_secs(18_000),
    Duration::from_secs(36_000),
];

/// What a client asks to register.
#[derive(Debug, Clone, Default)]
pub struct WebhookInput {
    /// Required for an admin (who has no agency of their own); an agent's must be their own.
    pub agency_id: Option<AgencyId>,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// What a client asks to change; `None` keeps the field. An empty description clears it.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
}

/// An endpoint with its secret, returned once: on creation and on rotation.
#[derive(Debug, Clone)]
pub struct WithSecret {
    pub webhook: Webhook,
    pub secret: String,
}

fn invalid(pointer: &str, reason: impl Into<String>) -> AppError {
    AppError::Validation(ValidationErrors::single(pointer, reason))
}

/// A fresh `whsec_<base64 of 32 random bytes>`.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Known event types, each once, in the order given; unknown ones are refused by position.
fn check_events(events: &[String]) -> Result<Vec<String>, AppError> {
    if events.is_empty() {
        return Err(invalid("/events", "must list at least one event type"));
    }
    let mut errors = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for (i, name) in events.iter().enumerate() {
        match EventType::parse(name) {
            Some(t) if !out.iter().any(|o| o == t.as_str()) => out.push(t.as_str().to_owned()),
            Some(_) => {}
            None => errors.push(tessera_core::intake::FieldError {
                pointer: format!("/events/{i}"),
                reason: format!("unknown event type `{name}`"),
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Validation(ValidationErrors(errors)))
    }
}

/// The validation errors of several checks as one; any other error as it is.
fn all_of(errors: [Option<AppError>; 3]) -> AppError {
    let mut fields = Vec::new();
    for error in errors.into_iter().flatten() {
        match error {
            AppError::Validation(v) => fields.extend(v.0),
            other => return other,
        }
    }
    AppError::Validation(ValidationErrors(fields))
}

fn check_description(text: Option<&str>) -> Result<Option<String>, AppError> {
    match text {
        None => Ok(None),
        Some(t) if t.trim().is_empty() => Ok(None),
        Some(t) => plain_text(t, "/description", 500).map(Some),
    }
}

impl Tessera {
    /// Agency staff only; customers are refused outright.
    fn webhook_staff(&self, who: &Principal) -> Result<(), AppError> {
        if who.role() == Role::Customer {
            return Err(AppError::Forbidden("customer"));
        }
        Ok(())
    }

    fn check_url(&self, url: &str) -> Result<String, AppError> {
        check_url(url, self.webhooks.settings.allow_private).map_err(|reason| invalid("/url", reason))
    }

    pub async fn create_webhook(&self, who: &Principal, input: &WebhookInput) -> Result<WithSecret, AppError> {
        self.webhook_staff(who)?;
        let agency = input
            .agency_id
            .or(who.user.agency_id)
            .ok_or_else(|| invalid("/agency_id", "required: name the agency the endpoint belongs to"))?;
        who.require_agency_staff(agency)?;
        self.db.get_agency(agency).await?.ok_or(AppError::NotFound("agency"))?;
        // Every field is checked, so a form shows all its mistakes at once.
        let (url, events, description) = match (
            self.check_url(&input.url),
            check_events(&input.events),
            check_description(input.description.as_deref()),
        ) {
            (Ok(url), Ok(events), Ok(description)) => (url, events, description),
            (url, events, description) => return Err(all_of([url.err(), events.err(), description.err()])),
        };
        let secret = new_secret();
        let webhook = self
            .db
            .create_webhook(&NewWebhook {
                id: WebhookId::generate(),
                agency_id: agency,
                url,
                description,
                events,
                secret: secret.clone(),
                created_at: self.now(),
            })
            .await?;
        tracing::info!(webhook = %webhook.id, agency = %agency, "webhook endpoint registered");
        Ok(WithSecret { webhook, secret })
    }

    pub async fn list_webhooks(&self, who: &Principal) -> Result<Vec<Webhook>, AppError> {
        self.webhook_staff(who)?;
        Ok(self.db.list_webhooks(who.scope).await?)
    }

    pub async fn get_webhook(&self, who: &Principal, id: WebhookId) -> Result<Webhook, AppError> {
        self.webhook_staff(who)?;
        self.db.get_webhook(who.scope, id).await?.ok_or(AppError::NotFound("webhook"))
    }

    pub async fn update_webhook(
        &self,
        who: &Principal,
        id: WebhookId,
        patch: &WebhookPatch,
    ) -> Result<Webhook, AppError> {
        self.webhook_staff(who)?;
        let change = WebhookChange {
            url: patch.url.as_deref().map(|u| self.check_url(u)).transpose()?,
            events: patch.events.as_deref().map(check_events).transpose()?,
            description: match patch.description.as_deref() {
                None => None,
                Some(text) => Some(check_description(Some(text))?),
            },
            secret: None,
        };
        self.db.update_webhook(who.scope, id, &change, self.now()).await?.ok_or(AppError::NotFound("webhook"))
    }

    pub async fn delete_webhook(&self, who: &Principal, id: WebhookId) -> Result<(), AppError> {
        self.webhook_staff(who)?;
        if self.db.delete_webhook(who.scope, id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("webhook"))
        }
    }

    /// A new secret takes effect at once: deliveries from now on are signed with it only.
    pub async fn rotate_webhook_secret(&self, who: &Principal, id: WebhookId) -> Result<WithSecret, AppError> {
        self.webhook_staff(who)?;
        let secret = new_secret();
        let change = WebhookChange { secret: Some(secret.clone()), ..Default::default() };
        let webhook =
            self.db.update_webhook(who.scope, id, &change, self.now()).await?.ok_or(AppError::NotFound("webhook"))?;
        Ok(WithSecret { webhook, secret })
    }

    /// The endpoint's deliveries, newest first, each with its attempts.
    pub async fn webhook_deliveries(
        &self,
        who: &Principal,
        id: WebhookId,
        limit: u32,
    ) -> Result<Vec<(WebhookDelivery, Vec<WebhookAttempt>)>, AppError> {
        self.get_webhook(who, id).await?;
        Ok(self.db.list_webhook_deliveries(who.scope, id, limit).await?)
    }

    /// Sends a delivery again (delivered, failed or still pending): it becomes due now, for the worker.
    pub async fn retry_webhook_delivery(
        &self,
        who: &Principal,
        id: WebhookId,
        delivery: WebhookDeliveryId,
    ) -> Result<WebhookDelivery, AppError> {
        self.get_webhook(who, id).await?;
        self.db.retry_webhook_delivery(who.scope, id, delivery, self.now()).await?.ok_or(AppError::NotFound("delivery"))
    }

    /// The agency's `balance.low` threshold, in its currency.
    pub async fn low_balance_threshold(
        &self,
        who: &Principal,
        agency: AgencyId,
    ) -> Result<(Option<Money>, tessera_core::money::Currency), AppError> {
        who.require_agency_staff(agency)?;
        let found = self.db.get_agency(agency).await?.ok_or(AppError::NotFound("agency"))?;
        let minor = self.db.low_balance_threshold(agency).await?;
        Ok((minor.map(|m| Money::from_minor(m, found.currency)), found.currency))
    }

    /// Sets (or with `None` clears) the balance under which a debit raises `balance.low`.
    pub async fn set_low_balance_threshold(
        &self,
        who: &Principal,
        agency: AgencyId,
        threshold: Option<&str>,
    ) -> Result<(Option<Money>, tessera_core::money::Currency), AppError> {
        who.require_agency_staff(agency)?;
        let found = self.db.get_agency(agency).await?.ok_or(AppError::NotFound("agency"))?;
        let money = threshold
            .map(|t| Money::parse(t, found.currency).map_err(|e| invalid("/threshold", e.to_string())))
            .transpose()?;
        self.db.set_low_balance_threshold(agency, money.map(|m| m.minor())).await?;
        Ok((money, found.currency))
    }
}
