use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).single().expect("valid date")
}

fn key(byte: u8) -> GateSigningKey {
    GateSigningKey::from_seed(&[byte; 32]).expect("32-byte seed")
}

fn event_claims() -> GateClaims {
    GateClaims::new(
        GateSubject::Download("0191c3a6e1f07a2b8c44d1e5f6a7b8c9".into()),
        "LFC vs. Everton 2027/28 — Anfield",
        "Ömer Çelik",
        at(2027, 1, 1),
        at(2027, 9, 1),
    )
}

#[test]
fn a_signed_payload_verifies_and_says_what_it_admits() {
    let k = key(1);
    let payload = k.sign(&event_claims());
    assert!(payload.starts_with(&format!("TG1.{}.E0191c3a6e1f07a2b8c44d1e5f6a7b8c9.LFCvsEverton2027.OC.", k.kid())));
    let claims = verify(&payload, &[key(2).public(), k.public()], at(2027, 5, 1)).expect("valid");
    assert_eq!(claims, event_claims());
    assert_eq!(k.sign(&event_claims()), payload, "Ed25519 is deterministic: same claims, same payload");
}

#[test]
fn flight_coupons_round_trip() {
    let k = key(3);
    let claims = GateClaims::new(
        GateSubject::Coupon { ticket: "1576752209683".into(), coupon: 2 },
        "QR 653",
        "Nguyễn Văn An",
        at(2027, 1, 1),
        at(2027, 2, 1),
    );
    let payload = k.sign(&claims);
    assert!(payload.contains(".F1576752209683-2.QR653.NVA."), "{payload}");
    assert_eq!(verify(&payload, &[k.public()], at(2027, 1, 15)), Ok(claims));
}

#[test]
fn refusals_name_their_reason() {
    let k = key(1);
    let payload = k.sign(&event_claims());
    let keys = [k.public()];
    let now = at(2027, 5, 1);

    assert_eq!(verify(&payload, &keys, at(2027, 9, 1) + Duration::seconds(1)), Err(GateError::Expired(at(2027, 9, 1))));
    assert_eq!(verify(&payload, &keys, at(2026, 12, 31)), Err(GateError::NotYetValid(at(2027, 1, 1))));
    assert_eq!(verify(&payload, &[key(9).public()], now), Err(GateError::UnknownKey(k.kid().to_owned())));
    // Same key id, other key: the JWKS of a forger who copied our kid.
    let jwk = Jwk { kid: k.kid().to_owned(), ..key(9).public().to_jwk() };
    let impostor = GateVerifyingKey::from_jwk(&jwk).expect("jwk");
    assert_eq!(verify(&payload, &[impostor], now), Err(GateError::Tampered));

    // Any changed field breaks the signature: a later expiry, other initials.
    let until = at(2027, 9, 1).timestamp();
    let later = payload.replace(&format!(".{until}."), &format!(".{}.", until + 86_400));
    assert_ne!(later, payload, "the test must change the expiry");
    assert_eq!(verify(&later, &keys, now), Err(GateError::Tampered));
    let other = payload.replace(".OC.", ".XY.");
    assert_eq!(verify(&other, &keys, now), Err(GateError::Tampered));

    for bad in ["", "TSR1.x.y", "TG2.a.E0.b.c.1.2.sig", &payload[..payload.len() - 3], "TG1.a.Exyz.s.AB.1.2.AAAA"] {
        assert!(matches!(verify(bad, &keys, now), Err(GateError::Malformed(_))), "{bad:?}");
    }
}

#[test]
fn the_largest_payload_fits_a_version_10_qr_code_at_level_m() {
    let claims = GateClaims::new(
        GateSubject::Coupon { ticket: "1576752209683".into(), coupon: COUPON_MAX },
        "an-event-id-much-longer-than-sixteen-characters",
        "Anna Maria Theresa Walburga",
        at(2027, 1, 1),
        at(2286, 1, 1),
    );
    let event = GateClaims { subject: GateSubject::Download("f".repeat(32)), ..claims.clone() };
    for claims in [claims, event] {
        let payload = key(7).sign(&claims);
        assert!(payload.len() <= 190, "{} bytes: {payload}", payload.len());
        let qr = fast_qr::QRBuilder::new(payload.as_bytes()).ecl(fast_qr::ECL::M).build().expect("qr");
        // Version v has 17 + 4v modules a side: version 10 is 57.
        assert!(qr.size <= 57, "QR of {} modules for {} bytes", qr.size, payload.len());
    }
}

#[test]
fn jwks_round_trip_and_debug_hides_the_private_key() {
    let k = key(5);
    let jwks = Jwks { keys: vec![k.public().to_jwk()] };
    let json = serde_json::to_value(&jwks).expect("json");
    assert_eq!(json["keys"][0]["kty"], "OKP");
    assert_eq!(json["keys"][0]["crv"], "Ed25519");
    assert_eq!(json["keys"][0]["use"], "sig");
    assert_eq!(json["keys"][0]["alg"], "EdDSA");
    assert_eq!(json["keys"][0]["kid"], k.kid());
    let back: Jwks = serde_json::from_value(json).expect("parse");
    assert_eq!(back.verifying_keys().expect("keys"), vec![k.public()]);
    let debug = format!("{k:?}");
    assert!(debug.contains("redacted") && !debug.contains("5, 5"), "{debug}");
    assert_eq!(initials("  jean-luc   picard "), "JP");
    assert_eq!(initials("Đặng 王 Lê"), "DL", "đ is folded too; letters without an ASCII base are left out");
}
