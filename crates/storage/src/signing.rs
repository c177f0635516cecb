//! The Ed25519 keys that sign gate payloads, kept in the database so every node signs and publishes the same
//! ones. A key is added by rotation and retired by an operator; a retired key neither signs nor verifies.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::decode::{corrupt, StoredRow};
use crate::Result;

/// One stored signing key. The seed is the private key: Debug never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// The key's id (derived from its public key; the JWKS `kid`).
    pub kid: String,
    /// The 32-byte Ed25519 seed, base64url without padding.
    pub seed: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("seed", &"[redacted]")
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// The columns [`signing_key`] reads, for every backend's SELECT.
pub const SIGNING_KEY_COLUMNS: &str = "kid, seed, created_at, retired_at";

pub fn signing_key(row: &impl StoredRow) -> Result<SigningKeyRecord> {
    Ok(SigningKeyRecord {
        kid: row.text("kid")?.ok_or_else(|| corrupt("kid", "NULL"))?,
        seed: row.text("seed")?.ok_or_else(|| corrupt("seed", "NULL"))?,
        created_at: row.time("created_at")?.ok_or_else(|| corrupt("created_at", "NULL"))?,
        retired_at: row.time("retired_at")?,
    })
}
