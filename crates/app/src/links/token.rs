//! The token of a signed link, `payload.signature`: the payload names a document and an expiry (JSON, base64url),
//! the signature is an HMAC-SHA256 of the payload under the link key. Pure: the key and the time are given, so the
//! format can be fuzzed on its own (`tests/fuzz.rs`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tessera_storage::DocumentOwner;

/// What a token says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkClaims {
    /// What the link opens.
    pub d: DocumentOwner,
    /// Expiry, seconds since the epoch.
    pub e: i64,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token we signed (malformed, altered, or signed with another key).
    #[error("the link is not valid")]
    Invalid,
    /// Ours, but past its expiry.
    #[error("the link has expired")]
    Expired,
}

/// HMAC takes a key of any length, so this refuses none in practice.
fn mac(key: &[u8], payload: &str) -> Result<Hmac<Sha256>, TokenError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| TokenError::Invalid)?;
    mac.update(payload.as_bytes());
    Ok(mac)
}

/// The token for `claims` under `key`.
pub fn seal(key: &[u8], claims: &LinkClaims) -> Result<String, TokenError> {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(|_| TokenError::Invalid)?);
    let signature = URL_SAFE_NO_PAD.encode(mac(key, &payload)?.finalize().into_bytes());
    Ok(format!("{payload}.{signature}"))
}

/// The claims of a token signed with `key` that has not expired at `now` (seconds since the epoch).
pub fn open(key: &[u8], token: &str, now: i64) -> Result<LinkClaims, TokenError> {
    let (payload, signature) = token.split_once('.').ok_or(TokenError::Invalid)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenError::Invalid)?;
    // verify_slice compares in constant time.
    mac(key, payload)?.verify_slice(&signature).map_err(|_| TokenError::Invalid)?;
    let raw = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenError::Invalid)?;
    let claims: LinkClaims = serde_json::from_slice(&raw).map_err(|_| TokenError::Invalid)?;
    if claims.e <= now {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}
