//! Who is signed in, and the proof that a form was sent by a page of ours.
//!
//! The session is the access token `tessera-app` issues at sign-in (a JWT signed with the configured secret), kept
//! in an `HttpOnly`, `SameSite=Lax` cookie — `Secure` when the server's public URL is https. Every node verifies it
//! with the same secret, so nothing a node holds in memory matters. The CSRF token of a session is an HMAC of the
//! session token under the same secret: one per session, nothing stored, compared in constant time on every POST.
//! Before sign-in there is no session, so the sign-in form gets a token of a random pre-session cookie instead
//! (so nobody can sign a victim into an account of theirs).

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tessera_app::{Principal, Tessera};

pub const SESSION_COOKIE: &str = "tessera_portal";
pub const PRE_SESSION_COOKIE: &str = "tessera_portal_pre";
/// The name of the hidden field every form carries.
pub const CSRF_FIELD: &str = "csrf";

/// The value of cookie `name` in the request, if sent once or more (the first wins).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// HMAC-SHA256 of `purpose` and `value` under the server's secret, hex.
pub fn tag(app: &Tessera, purpose: &str, value: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail; an empty tag would simply never match.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app.settings().jwt_secret.expose()) else { return String::new() };
    mac.update(b"tessera-portal\0");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(value.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `sent` is the token of `value`, in constant time.
pub fn verify(app: &Tessera, purpose: &str, value: &str, sent: &str) -> bool {
    let expected = tag(app, purpose, value);
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(sent.as_bytes()))
}

/// A signed-in visitor: who they are and the CSRF token their forms carry.
#[derive(Clone)]
pub struct Session {
    pub who: Principal,
    pub token: String,
    pub csrf: String,
}

impl Session {
    pub async fn of(app: &Tessera, headers: &HeaderMap) -> Option<Session> {
        let token = cookie(headers, SESSION_COOKIE)?;
        // A JWT is short and printable; anything else is not worth a verification.
        if token.is_empty() || token.len() > 4096 {
            return None;
        }
        let who = app.authenticate_token(token).await.ok()?;
        let csrf = tag(app, "csrf", token);
        Some(Session { who, token: token.to_owned(), csrf })
    }

    pub fn csrf_ok(&self, app: &Tessera, sent: Option<&str>) -> bool {
        sent.is_some_and(|s| verify(app, "csrf", &self.token, s))
    }
}

/// Whether cookies must carry `Secure`: the server is reached over https (its configured public URL says so).
pub fn secure(app: &Tessera) -> bool {
    app.settings().public_url.starts_with("https://")
}

pub fn set_cookie(app: &Tessera, name: &str, value: &str, max_age: u64, same_site: &str) -> Option<HeaderValue> {
    let secure = if secure(app) { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/portal/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).ok()
}

pub fn clear_cookie(app: &Tessera, name: &str) -> Option<HeaderValue> {
    set_cookie(app, name, "", 0, "Lax")
}

pub fn append(headers: &mut HeaderMap, value: Option<HeaderValue>) {
    if let Some(v) = value {
        headers.append(SET_COOKIE, v);
    }
}

/// The request's client address and id, for the audit trail.
#[derive(Clone, Default)]
pub struct Meta {
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
}

impl Meta {
    pub fn actor(&self, who: &Principal) -> tessera_storage::Actor {
        tessera_storage::Actor {
            user_id: Some(who.user.id),
            username: who.user.username.clone(),
            client_addr: self.client_addr.clone(),
            tracking_id: self.request_id.clone(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Meta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let client_addr =
            parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
        let request_id = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(Self { client_addr, request_id })
    }
}
