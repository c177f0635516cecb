//! The gate payload: what a ticket's QR code (and a wallet pass's barcode) carries, signed with Ed25519 so a
//! scanner holding only our public keys can admit or refuse it offline.
//!
//! The one definition of the format, pure: keys, the validity window and the time of a check are handed in.
//!
//! ```text
//! TG1.<kid>.<subject>.<scope>.<initials>.<not before>.<not after>.<signature>
//! TG1.q2nZ3kPd.E0191c3a6e1f07a2b8c44d1e5f6a7b8c9.LFC-2027.JD.1793059200.1796947200.<86 base64url characters>
//! ```
//!
//! * `TG1` — format and version; a future format gets a new prefix, scanners refuse what they do not know.
//! * `kid` — the key that signed it (8 base64url characters from the SHA-256 of the public key; the JWKS `kid`).
//! * `subject` — `E` + the 32 hex digits of an event ticket's download item (one PDF, one day of a pass), or
//!   `F` + a 13-digit ticket number + `-` + coupon number (1–16) for a flight coupon.
//! * `scope` — the event id or the flight (e.g. `QR653`): up to 16 of `A-Z a-z 0-9 - _`, the rest dropped.
//! * `initials` — the holder's initials, at most three ASCII capitals (diacritics folded: `Ömer Çelik` → `OC`).
//! * `not before`, `not after` — the validity window in Unix seconds, from the booking's data (never the clock,
//!   so rendering stays deterministic).
//! * `signature` — Ed25519 over every byte before the last `.`, base64url without padding.
//!
//! The whole payload stays under 190 bytes: a QR code of version ≤ 10 at error correction level M.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The format and version prefix.
pub const PREFIX: &str = "TG1";
const SCOPE_MAX: usize = 16;
const INITIALS_MAX: usize = 3;
/// The highest coupon number a flight payload carries: a ticket has a coupon per segment, at most 16.
pub const COUPON_MAX: u8 = 16;

/// What a payload admits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateSubject {
    /// One PDF of an event ticket: its download item's 32 hex digits.
    Download(String),
    /// One coupon of a flight ticket: the 13-digit ticket number and the coupon (1–[`COUPON_MAX`]).
    Coupon { ticket: String, coupon: u8 },
}

impl GateSubject {
    fn encode(&self) -> String {
        match self {
            GateSubject::Download(hex) => format!("E{hex}"),
            GateSubject::Coupon { ticket, coupon } => format!("F{ticket}-{coupon}"),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        if let Some(hex) = text.strip_prefix('E') {
            let ok = hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            return ok.then(|| GateSubject::Download(hex.to_owned()));
        }
        let (ticket, coupon) = text.strip_prefix('F')?.split_once('-')?;
        let coupon: u8 = coupon.parse().ok()?;
        let ok = ticket.len() == 13 && ticket.bytes().all(|b| b.is_ascii_digit()) && (1..=COUPON_MAX).contains(&coupon);
        ok.then(|| GateSubject::Coupon { ticket: ticket.to_owned(), coupon })
    }
}

/// What a payload says, once its signature and window are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateClaims {
    pub subject: GateSubject,
    /// The event id or flight, already reduced to what the format carries (see [`GateClaims::new`]).
    pub scope: String,
    pub initials: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

impl GateClaims {
    /// Claims for a holder named `first last`; scope and initials are reduced to what the format carries.
    pub fn new(
        subject: GateSubject,
        scope: &str,
        holder: &str,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Self {
        let scope: String =
            scope.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(SCOPE_MAX).collect();
        GateClaims { subject, scope, initials: initials(holder), not_before, not_after }
    }
}

/// A holder's initials: the first letter of each name, diacritics folded to ASCII, at most three.
pub fn initials(holder: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    holder
        .split_whitespace()
        .filter_map(|word| word.nfd().find(|c| c.is_alphabetic()))
        .map(|c| if matches!(c, 'Đ' | 'đ') { 'D' } else { c })
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .take(INITIALS_MAX)
        .collect()
}

/// Why a payload is refused. Display gives the detail; [`GateError::code`] the reason's one word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    #[error("{0}")]
    Malformed(&'static str),
    #[error("unknown key {0}: not among the published keys")]
    UnknownKey(String),
    #[error("the signature does not match the payload")]
    Tampered,
    #[error("valid until {0}")]
    Expired(DateTime<Utc>),
    #[error("valid from {0}")]
    NotYetValid(DateTime<Utc>),
}

impl GateError {
    /// One word for the reason, for exit messages and logs.
    pub fn code(&self) -> &'static str {
        match self {
            GateError::Malformed(_) => "malformed",
            GateError::UnknownKey(_) => "unknown_key",
            GateError::Tampered => "tampered",
            GateError::Expired(_) => "expired",
            GateError::NotYetValid(_) => "not_yet_valid",
        }
    }
}

/// A key's id: 8 base64url characters of the SHA-256 of its public key, so every node names a key alike.
pub fn key_id(public: &VerifyingKey) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(public.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..6])
}

/// A private signing key and its id. Never leaves the server; Debug shows only the id.
#[derive(Clone)]
pub struct GateSigningKey {
    kid: String,
    key: SigningKey,
}

impl fmt::Debug for GateSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GateSigningKey").field("kid", &self.kid).field("key", &"[redacted]").finish()
    }
}

impl GateSigningKey {
    /// The key of a 32-byte Ed25519 seed (as stored); `None` for any other length.
    pub fn from_seed(seed: &[u8]) -> Option<Self> {
        let seed: [u8; 32] = seed.try_into().ok()?;
        let key = SigningKey::from_bytes(&seed);
        Some(GateSigningKey { kid: key_id(&key.verifying_key()), key })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public(&self) -> GateVerifyingKey {
        GateVerifyingKey { kid: self.kid.clone(), key: self.key.verifying_key() }
    }

    /// The payload for `claims`. Ed25519 is deterministic: the same claims and key give the same payload.
    pub fn sign(&self, claims: &GateClaims) -> String {
        let body = format!(
            "{PREFIX}.{}.{}.{}.{}.{}.{}",
            self.kid,
            claims.subject.encode(),
            claims.scope,
            claims.initials,
            claims.not_before.timestamp(),
            claims.not_after.timestamp()
        );
        let signature = self.key.sign(body.as_bytes());
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

/// A public key and its id, as published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateVerifyingKey {
    kid: String,
    key: VerifyingKey,
}

/// One JSON Web Key of an Ed25519 public key (RFC 8037).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

/// A JSON Web Key Set, as served at `/.well-known/tessera-keys.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// The Ed25519 keys of the set; keys of other types are skipped, a broken Ed25519 key is an error.
    pub fn verifying_keys(&self) -> Result<Vec<GateVerifyingKey>, GateError> {
        self.keys.iter().filter(|k| k.kty == "OKP" && k.crv == "Ed25519").map(GateVerifyingKey::from_jwk).collect()
    }
}

impl GateVerifyingKey {
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn to_jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: URL_SAFE_NO_PAD.encode(self.key.as_bytes()),
            kid: self.kid.clone(),
            use_: Some("sig".into()),
            alg: Some("EdDSA".into()),
        }
    }

    pub fn from_jwk(jwk: &Jwk) -> Result<Self, GateError> {
        let bytes = URL_SAFE_NO_PAD.decode(&jwk.x).map_err(|_| GateError::Malformed("key x is not base64url"))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| GateError::Malformed("key x is not 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| GateError::Malformed("key x is not a point"))?;
        Ok(GateVerifyingKey { kid: jwk.kid.clone(), key })
    }
}

/// A payload read but not yet checked: who signed it and what it claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPayload<'a> {
    pub kid: &'a str,
    pub claims: GateClaims,
    body: &'a str,
    signature: Signature,
}

/// Reads a payload's fields without checking its signature.
pub fn parse(payload: &str) -> Result<ParsedPayload<'_>, GateError> {
    let payload = payload.trim();
    let (body, signature) = payload.rsplit_once('.').ok_or(GateError::Malformed("no signature"))?;
    let fields: Vec<&str> = body.split('.').collect();
    let &[prefix, kid, subject, scope, initials, not_before, not_after] = fields.as_slice() else {
        return Err(GateError::Malformed("not a Tessera gate payload"));
    };
    if prefix != PREFIX {
        return Err(GateError::Malformed("unknown format or version"));
    }
    let subject = GateSubject::decode(subject).ok_or(GateError::Malformed("subject"))?;
    let time = |t: &str| {
        t.parse::<i64>().ok().and_then(|s| DateTime::<Utc>::from_timestamp(s, 0)).ok_or(GateError::Malformed("time"))
    };
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| GateError::Malformed("signature encoding"))?;
    let signature: [u8; 64] = signature.try_into().map_err(|_| GateError::Malformed("signature length"))?;
    let claims = GateClaims {
        subject,
        scope: scope.to_owned(),
        initials: initials.to_owned(),
        not_before: time(not_before)?,
        not_after: time(not_after)?,
    };
    Ok(ParsedPayload { kid, claims, body, signature: Signature::from_bytes(&signature) })
}

/// Checks a payload against `keys` at `now`: the format, a known key, the signature, then the window.
pub fn verify(payload: &str, keys: &[GateVerifyingKey], now: DateTime<Utc>) -> Result<GateClaims, GateError> {
    let parsed = parse(payload)?;
    let key = keys.iter().find(|k| k.kid == parsed.kid).ok_or_else(|| GateError::UnknownKey(parsed.kid.to_owned()))?;
    key.key.verify(parsed.body.as_bytes(), &parsed.signature).map_err(|_| GateError::Tampered)?;
    let claims = parsed.claims;
    if now < claims.not_before {
        return Err(GateError::NotYetValid(claims.not_before));
    }
    if now > claims.not_after {
        return Err(GateError::Expired(claims.not_after));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests;
