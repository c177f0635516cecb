//! One way to authenticate for every profile: a JWT in `Authorization: Bearer`, a JWT or an API key in
//! `x-access-token`, or an API key in `X-API-KEY` (any case). Profiles decide how a failure looks on their wire.

use axum::http::HeaderMap;
use tessera_app::identity::API_KEY_PREFIX;
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
    if let Some(value) = header("x-access-token") {
        return Ok(token_or_key(value?));
    }
    if let Some(key) = header("x-api-key") {
        return Ok(Credential::ApiKey(key?));
    }
    Err(AuthFailure::Missing)
}

/// The group API's header carries whatever the agency holds: our API keys have their prefix, anything else is
/// read as a JWT (which has two dots and no such prefix).
fn token_or_key(value: &str) -> Credential<'_> {
    if value.starts_with(API_KEY_PREFIX) {
        Credential::ApiKey(value)
    } else {
        Credential::Token(value)
    }
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

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn read(name: &'static str, value: &'static str) -> Result<(bool, String), AuthFailure> {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_static(value));
        credential(&headers).map(|c| match c {
            Credential::Token(t) => (false, t.to_owned()),
            Credential::ApiKey(k) => (true, k.to_owned()),
        })
    }

    #[test]
    fn x_access_token_carries_a_jwt_or_an_api_key() {
        assert_eq!(read("x-access-token", "eyJ0.eyJz.sig"), Ok((false, "eyJ0.eyJz.sig".into())));
        assert_eq!(read("x-access-token", " tsk_0123abcd "), Ok((true, "tsk_0123abcd".into())));
        // Only that header decides by shape: a bearer token is always a JWT, X-API-KEY always a key.
        assert_eq!(read("authorization", "Bearer tsk_0123abcd"), Ok((false, "tsk_0123abcd".into())));
        assert_eq!(read("x-api-key", "eyJ0.eyJz.sig"), Ok((true, "eyJ0.eyJz.sig".into())));
        assert_eq!(credential(&HeaderMap::new()).err(), Some(AuthFailure::Missing));
    }
}
