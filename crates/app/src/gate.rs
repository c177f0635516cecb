//! Gate keys: the Ed25519 keys that sign what a ticket's QR code carries ([`tessera_core::gate`]), kept in the
//! database so every node signs and publishes the same ones, their rotation and retirement, and the public
//! key set scanners download.
//!
//! Which key signs a ticket comes from the data, not the clock: the newest active key added at or before the
//! order was created (the first key counts as added at the epoch). Re-rendering a ticket later therefore gives
//! the same bytes, and a rotation signs only orders made after it; older tickets keep their key until it is
//! retired.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use tessera_core::booking::{Passenger, Segment};
use tessera_core::gate::{GateClaims, GateSigningKey, GateSubject, GateVerifyingKey, Jwks};
use tessera_core::orders::{BookingOrder, DownloadItem, DownloadItemId, OrderItem};
use tessera_core::ticket::Ticket;
use tessera_storage::SigningKeyRecord;

use crate::{AppError, Principal, Tessera};

/// The `shared_secrets` name of the first key's seed: nodes starting together all settle on one first key.
const FIRST_SEED: &str = "gate-signing-seed";

/// How long after the event's end (or start, without an end), or a flight's departure, a ticket still verifies.
const GRACE: Duration = Duration::days(1);

/// The active signing keys, oldest first, each with when it starts signing; never empty (the newest key cannot
/// be retired), so there is always a key to sign with.
#[derive(Debug, Clone)]
pub struct GateKeys {
    keys: Vec<(DateTime<Utc>, GateSigningKey)>,
}

impl GateKeys {
    fn from_records(records: &[SigningKeyRecord]) -> Result<Self, AppError> {
        let mut keys = Vec::new();
        for record in records.iter().filter(|r| r.retired_at.is_none()) {
            let seed = URL_SAFE_NO_PAD
                .decode(&record.seed)
                .ok()
                .and_then(|seed| GateSigningKey::from_seed(&seed))
                .ok_or_else(|| AppError::Internal(format!("signing key {} is corrupt", record.kid)))?;
            keys.push((record.created_at, seed));
        }
        if keys.is_empty() {
            return Err(AppError::Internal("no active signing key".into()));
        }
        Ok(GateKeys { keys })
    }

    /// The key that signs what was created at `at`: the newest added at or before it, else the oldest.
    pub(crate) fn signer_at(&self, at: DateTime<Utc>) -> &GateSigningKey {
        let (_, key) = self.keys.iter().rev().find(|(from, _)| *from <= at).unwrap_or(&self.keys[0]);
        key
    }

    pub fn verifying(&self) -> Vec<GateVerifyingKey> {
        self.keys.iter().map(|(_, k)| k.public()).collect()
    }

    /// The gate payload of one PDF of an event ticket.
    pub fn event_payload(
        &self,
        order: &BookingOrder,
        item: &OrderItem,
        download: &DownloadItem,
    ) -> Result<String, AppError> {
        let claims = event_claims(order, item, download);
        Ok(self.signer_at(order.created_at).sign(&claims))
    }

    /// The gate payload of coupon `coupon` of a flight ticket, flying `segment`: what its e-ticket prints and its
    /// boarding pass carries.
    pub fn coupon_payload(
        &self,
        ticket: &Ticket,
        coupon: u32,
        segment: &Segment,
        passenger: Option<&Passenger>,
    ) -> String {
        self.signer_at(ticket.issued_at).sign(&coupon_claims(ticket, coupon, segment, passenger))
    }
}

/// What a flight coupon admits: its flight, valid from the ticket's issue until a day after the departure.
pub fn coupon_claims(ticket: &Ticket, coupon: u32, segment: &Segment, passenger: Option<&Passenger>) -> GateClaims {
    let holder =
        passenger.map(|p| format!("{} {}", p.given_name.as_deref().unwrap_or_default(), p.surname)).unwrap_or_default();
    GateClaims::new(
        // Past COUPON_MAX the payload would not decode: such a coupon's code refuses rather than admitting another.
        GateSubject::Coupon { ticket: ticket.number.compact(), coupon: coupon.try_into().unwrap_or(u8::MAX) },
        &format!("{}{}", segment.carrier.as_str(), segment.flight_number),
        &holder,
        ticket.issued_at,
        segment.departure.time.with_timezone(&Utc) + GRACE,
    )
}

/// What an event ticket's PDF admits, valid from the order's creation until a day after the event.
pub fn event_claims(order: &BookingOrder, item: &OrderItem, download: &DownloadItem) -> GateClaims {
    let hex = download.id.as_str().trim_end_matches(DownloadItemId::SUFFIX);
    let event = &order.event;
    let last = event.ends_at.unwrap_or(event.starts_at).with_timezone(&Utc);
    GateClaims::new(
        GateSubject::Download(hex.to_owned()),
        &event.id,
        &crate::event_views::holder(item),
        order.created_at,
        last + GRACE,
    )
}

impl Tessera {
    /// The active signing keys, adding the first one when the database has none.
    pub async fn gate_keys(&self) -> Result<GateKeys, AppError> {
        let records = self.db.signing_keys().await?;
        if !records.is_empty() {
            return GateKeys::from_records(&records);
        }
        let seed = self.db.shared_secret(FIRST_SEED, &rand::random::<[u8; 32]>()).await?;
        let key = GateSigningKey::from_seed(&seed)
            .ok_or_else(|| AppError::Internal("the first signing seed is not 32 bytes".into()))?;
        let first = SigningKeyRecord {
            kid: key.kid().to_owned(),
            seed: URL_SAFE_NO_PAD.encode(&seed),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            retired_at: None,
        };
        self.db.add_signing_key(&first).await?;
        GateKeys::from_records(&self.db.signing_keys().await?)
    }

    /// The gate payload of one PDF of an event ticket within the caller's reach, as printed on it.
    pub async fn gate_payload(&self, who: &Principal, download: &DownloadItemId) -> Result<String, AppError> {
        let unknown = || AppError::NotFound("download item");
        let order = self.db.order_of_download(who.scope, download).await?.ok_or_else(unknown)?;
        let record = self.db.get_booking_order(who.scope, &order).await?.ok_or_else(unknown)?;
        let (item, found) = record
            .order
            .items
            .iter()
            .find_map(|i| i.downloads.iter().find(|d| &d.id == download).map(|d| (i, d)))
            .ok_or_else(unknown)?;
        self.gate_keys().await?.event_payload(&record.order, item, found)
    }

    /// The public keys scanners verify with, as a JWKS.
    pub async fn jwks(&self) -> Result<Jwks, AppError> {
        Ok(Jwks { keys: self.gate_keys().await?.verifying().iter().map(GateVerifyingKey::to_jwk).collect() })
    }

    /// Adds a fresh key that signs every order created from now on; the others keep verifying. Returns its id.
    pub async fn rotate_signing_key(&self, who: &Principal) -> Result<String, AppError> {
        who.require_admin()?;
        self.gate_keys().await?;
        let seed = rand::random::<[u8; 32]>();
        let key = GateSigningKey::from_seed(&seed).ok_or_else(|| AppError::Internal("seed".into()))?;
        let record = SigningKeyRecord {
            kid: key.kid().to_owned(),
            seed: URL_SAFE_NO_PAD.encode(seed),
            created_at: self.clock.now(),
            retired_at: None,
        };
        self.db.add_signing_key(&record).await?;
        tracing::info!(kid = %record.kid, "gate signing key added");
        Ok(record.kid)
    }

    /// Retires a key: tickets it signed no longer verify. The newest key signs new orders and cannot be
    /// retired (rotate first); an unknown or already retired key is not found.
    pub async fn retire_signing_key(&self, who: &Principal, kid: &str) -> Result<(), AppError> {
        who.require_admin()?;
        let keys = self.gate_keys().await?;
        if keys.keys.last().is_some_and(|(_, k)| k.kid() == kid) {
            let reason = "is the key that signs new tickets: rotate first, then retire it";
            return Err(AppError::Validation(tessera_core::intake::ValidationErrors::single("/kid", reason)));
        }
        if !self.db.retire_signing_key(kid, self.clock.now()).await? {
            return Err(AppError::NotFound("signing key"));
        }
        tracing::info!(kid, "gate signing key retired");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kid_seed: u8, from: i64) -> SigningKeyRecord {
        let key = GateSigningKey::from_seed(&[kid_seed; 32]).expect("seed");
        SigningKeyRecord {
            kid: key.kid().to_owned(),
            seed: URL_SAFE_NO_PAD.encode([kid_seed; 32]),
            created_at: DateTime::<Utc>::from_timestamp(from, 0).expect("time"),
            retired_at: None,
        }
    }

    #[test]
    fn the_newest_key_added_before_the_order_signs_it() {
        let mut retired = record(3, 300);
        retired.retired_at = Some(DateTime::<Utc>::from_timestamp(400, 0).expect("time"));
        let keys = GateKeys::from_records(&[record(1, 0), record(2, 100), retired]).expect("keys");
        let at = |s| DateTime::<Utc>::from_timestamp(s, 0).expect("time");
        let kid = |s| keys.signer_at(at(s)).kid().to_owned();
        assert_eq!(kid(50), record(1, 0).kid);
        assert_eq!(kid(100), record(2, 0).kid);
        assert_eq!(kid(500), record(2, 0).kid, "a retired key signs nothing");
        assert_eq!(keys.verifying().len(), 2);
        assert!(GateKeys::from_records(&[]).is_err(), "no key to sign with");
        let mut all_retired = record(1, 0);
        all_retired.retired_at = Some(at(1));
        assert!(GateKeys::from_records(&[all_retired]).is_err());
    }
}
