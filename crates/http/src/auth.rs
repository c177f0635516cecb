//! One way to authenticate for every profile: a JWT in `Authorization: Bearer` or `x-access-token`, or an API
//! key in `X-API-KEY` (any case). Profiles decide how a failure looks on their wire.

use axum::http::HeaderMap;
use tessera_app::{AppError, Principal, Tessera};

/// Why a request is not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credential header at all.
    Missing,
    /// A credential that is malformed, forged, expired or revoked.
    Invalid,
}

impl From<AuthFailure> for AppError {
    fn from(f: AuthFailure) -> Self {
        match f {
            AuthFailure::Missing => AppError::Unauthenticated,
            AuthFailure::Invalid => AppError::InvalidCredentials,
        }
    }
}

enum Credential<'a> {
    Token(&'a str),
    ApiKey(&'a str),
}

fn credential(headers: &HeaderMap) -> Result<Credential<'_>, AuthFailure> {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().map(str::trim).map_err(|_| AuthFailure::Invalid));
    if let Some(value) = header("authorization") {
        let value = value?;
        let (scheme, token) = value.split_once(' ').ok_or(AuthFailure::Invalid)?;
        return if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
            Ok(Credential::Token(token.trim()))
        } else {
            Err(AuthFailure::Invalid)
        };
    }
    if let Some(token) = header("x-access-token") {
        return Ok(Credential::Token(token?));
    }
    if let Some(key) = header("x-api-key") {
        return Ok(Credential::ApiKey(key?));
    }
    Err(AuthFailure::Missing)
}

pub async fn authenticate(app: &Tessera, headers: &HeaderMap) -> Result<Principal, AuthFailure> {
    let result = match credential(headers)? {
        Credential::Token(t) => app.authenticate_token(t).await,
        Credential::ApiKey(k) => app.authenticate_api_key(k).await,
    };
    result.map_err(|e| {
        if !matches!(e, AppError::InvalidCredentials) {
            tracing::error!(error = %e, "authentication failed unexpectedly");
        }
        AuthFailure::Invalid
    })
}
