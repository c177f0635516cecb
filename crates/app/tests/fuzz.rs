//! Fuzz targets of the signed-link token (`links::token`), with bolero: under `cargo test` each runs a bounded
//! number of generated inputs and the committed corpus under `tests/__fuzz__/`;
//! `cargo +nightly bolero test -p tessera-app --test fuzz <target> --engine libfuzzer -T 10min` runs one
//! coverage-guided (docs/fuzzing.md).

use bolero::check;
use tessera_app::links::token::{open, seal, LinkClaims, TokenError};
use tessera_core::ids::{BookingId, IssuanceId};
use tessera_core::orders::BookingOrderId;
use tessera_storage::DocumentOwner;
use uuid::Uuid;

const KEY: &[u8] = b"fuzz link key, at least thirty-two bytes long";
const NOW: i64 = 1_800_000_000;

fn owner(kind: u8, id: u128, number: u64) -> DocumentOwner {
    let uuid = Uuid::from_u128(id);
    match kind % 4 {
        0 => DocumentOwner::Issuance(IssuanceId(uuid)),
        1 => DocumentOwner::OrderZip(BookingOrderId::from_uuid(uuid)),
        2 => DocumentOwner::Invoice(BookingOrderId::from_uuid(uuid), number),
        _ => DocumentOwner::BookingInvoice(BookingId(uuid), number),
    }
}

/// Any text as a token: refused, never a panic, unless it is one we signed.
#[test]
fn any_text_as_token() {
    check!().with_type::<String>().for_each(|token| {
        if let Ok(claims) = open(KEY, token, NOW) {
            assert_eq!(seal(KEY, &claims).as_ref(), Ok(token), "accepted a token we did not make: {token:?}");
        }
    });
}

/// A token we made opens to its claims until it expires, and any one changed byte, or another key, makes it
/// invalid.
#[test]
fn sealed_tokens_resist_change() {
    check!().with_type::<(u8, u128, u64, i32, u16, u8)>().for_each(|(kind, id, number, ttl, at, byte)| {
        let claims = LinkClaims { d: owner(*kind, *id, *number), e: NOW + i64::from(*ttl) };
        let token = seal(KEY, &claims).unwrap_or_default();
        let opened = open(KEY, &token, NOW);
        if *ttl > 0 {
            assert_eq!(opened, Ok(claims.clone()));
        } else {
            assert_eq!(opened, Err(TokenError::Expired));
        }
        assert_eq!(open(b"another key of the same length, or not quite", &token, NOW), Err(TokenError::Invalid));
        let mut bytes = token.into_bytes();
        let i = usize::from(*at) % bytes.len();
        if bytes[i] != *byte {
            bytes[i] = *byte;
            if let Ok(changed) = String::from_utf8(bytes) {
                assert_eq!(open(KEY, &changed, NOW), Err(TokenError::Invalid), "{changed:?}");
            }
        }
    });
}
