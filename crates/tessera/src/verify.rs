//! `tessera verify PAYLOAD --keys keys.json`: checks a gate payload offline, as a scanner would, with nothing but
//! the published public keys (`/.well-known/tessera-keys.json`). No database, no configuration.
//!
//! Prints `valid: …` and exits 0, or `refused: <reason>: …` and exits 1, the reason being one of `malformed`,
//! `unknown_key`, `tampered`, `expired`, `not_yet_valid`. A keys file that cannot be read exits 1 with an error.

use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Args;
use tessera_core::gate::{self, GateSubject, Jwks};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The QR code's content, `TG1.…`.
    pub payload: String,
    /// The JWKS with the public keys (as served at `/.well-known/tessera-keys.json`).
    #[arg(long)]
    pub keys: PathBuf,
    /// Check at this instant (RFC 3339) instead of now.
    #[arg(long)]
    pub at: Option<DateTime<Utc>>,
}

/// The verdict is the command's result, printed on stdout for scripts and people alike.
#[allow(clippy::print_stdout)]
pub fn run(args: &VerifyArgs) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(&args.keys).with_context(|| format!("reading {}", args.keys.display()))?;
    let jwks: Jwks = serde_json::from_str(&text).with_context(|| format!("{} is not a JWKS", args.keys.display()))?;
    let keys = jwks.verifying_keys().map_err(|e| anyhow::anyhow!("{}: {e}", args.keys.display()))?;
    let now = args.at.unwrap_or_else(Utc::now);
    match gate::verify(&args.payload, &keys, now) {
        Ok(claims) => {
            let subject = match &claims.subject {
                GateSubject::Download(hex) => format!("event ticket download {hex}"),
                GateSubject::Coupon { ticket, coupon } => format!("flight ticket {ticket} coupon {coupon}"),
            };
            println!(
                "valid: {subject} for {} holder {} (valid {} to {})",
                claims.scope,
                claims.initials,
                claims.not_before.to_rfc3339(),
                claims.not_after.to_rfc3339()
            );
            Ok(true)
        }
        Err(e) => {
            println!("refused: {}: {e}", e.code());
            Ok(false)
        }
    }
}
