//! "Save to Google Wallet" links: a JWT (RS256, `typ: savetowallet`, `aud: google`) signed with the operator's
//! Google Cloud service-account key, carrying the pass class and object inline (so no class needs creating
//! through Google's REST API first), served as `https://pay.google.com/gp/v/save/<jwt>`.
//!
//! The pass shows what the Apple pass shows ([`crate::wallet`]), its barcode the same signed gate payload.

use std::fmt;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Deserialize;
use serde_json::{json, Value};
use tessera_core::codes::TicketNumber;

use crate::{AppError, Principal, Tessera};

/// Where a signed JWT is saved to a wallet.
pub const SAVE_URL: &str = "https://pay.google.com/gp/v/save/";

/// The operator's Google Wallet issuer and the service account that signs for it. Debug never shows the key.
pub struct GoogleWallet {
    issuer_id: String,
    email: String,
    key: EncodingKey,
    origins: Vec<String>,
}

impl fmt::Debug for GoogleWallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleWallet")
            .field("issuer_id", &self.issuer_id)
            .field("email", &self.email)
            .field("key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct ServiceAccount {
    client_email: String,
    private_key: String,
}

impl GoogleWallet {
    /// From a service-account key file's JSON (`client_email`, `private_key` in PEM), the issuer id and the
    /// origins the link may be shown on (the server's public URL).
    pub fn from_service_account(json: &[u8], issuer_id: &str, origins: Vec<String>) -> Result<Self, String> {
        let account: ServiceAccount =
            serde_json::from_slice(json).map_err(|e| format!("not a service-account key file: {e}"))?;
        let key = EncodingKey::from_rsa_pem(account.private_key.as_bytes())
            .map_err(|e| format!("the service account's private_key is not an RSA key in PEM: {e}"))?;
        let issuer_ok = !issuer_id.is_empty() && issuer_id.bytes().all(|b| b.is_ascii_digit());
        if !issuer_ok {
            return Err("the Google Wallet issuer id must be digits".into());
        }
        Ok(GoogleWallet { issuer_id: issuer_id.to_owned(), email: account.client_email, key, origins })
    }

    /// The save link of one class and object (`kind` = `event` or `flight`), issued at `iat` (Unix seconds).
    fn link(&self, pass: &Value, iat: i64) -> Result<String, AppError> {
        let prefixed = |v: &Value| {
            let mut v = v.clone();
            if let Some(id) = v["id"].as_str() {
                v["id"] = json!(format!("{}.{id}", self.issuer_id));
            }
            v
        };
        let class = prefixed(&pass["class"]);
        let mut object = prefixed(&pass["object"]);
        object["classId"] = class["id"].clone();
        let payload = match pass["kind"].as_str() {
            Some("flight") => json!({"flightClasses": [class], "flightObjects": [object]}),
            _ => json!({"eventTicketClasses": [class], "eventTicketObjects": [object]}),
        };
        let claims = json!({
            "iss": self.email,
            "aud": "google",
            "typ": "savetowallet",
            "iat": iat,
            "origins": self.origins,
            "payload": payload,
        });
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| AppError::Internal(format!("signing the Google Wallet JWT: {e}")))?;
        Ok(format!("{SAVE_URL}{jwt}"))
    }
}

impl Tessera {
    /// Signs "Save to Google Wallet" links with this account; without one they answer
    /// [`AppError::WalletNotConfigured`].
    pub fn with_google_wallet(mut self, google: Option<Arc<GoogleWallet>>) -> Self {
        self.google_wallet = google;
        self
    }

    fn google(&self) -> Result<Arc<GoogleWallet>, AppError> {
        self.google_wallet.clone().ok_or(AppError::WalletNotConfigured("Google Wallet"))
    }

    /// The "Save to Google Wallet" link of an event ticket's `n`-th PDF, under the rules of its Apple pass.
    pub async fn event_google_link(
        &self,
        who: &Principal,
        order: &str,
        item: &str,
        n: u32,
    ) -> Result<String, AppError> {
        let (_, pass) = self.event_pass(who, order, item, n).await?;
        self.google()?.link(&pass, self.clock.now().timestamp())
    }

    /// The "Save to Google Wallet" link of a flight coupon, under the rules of its Apple pass.
    pub async fn coupon_google_link(
        &self,
        who: &Principal,
        number: &TicketNumber,
        coupon: u32,
    ) -> Result<String, AppError> {
        let (_, pass) = self.coupon_pass(who, number, coupon).await?;
        self.google()?.link(&pass, self.clock.now().timestamp())
    }
}
