//! Offline-verifiable QR codes: the public keys at `/.well-known/tessera-keys.json`, `tessera verify` (the real
//! binary) on the payload of a really issued ticket, its refusals with their reasons, online check-in of the new
//! payloads, key rotation and retirement through `tessera admin`, and a flight e-ticket's gate codes read from
//! its PDF by a real QR reader.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_app::Principal;
use tessera_core::gate::{GateSigningKey, Jwks};
use tessera_core::orders::DownloadItemId;

use crate::events::{items, pdf_text, s, setup, Events};
use crate::helpers::{example, expect_problem, Backend, TestApp};

const BIN: &str = env!("CARGO_BIN_EXE_tessera");

/// The JWKS as served, checked for shape; written to a file for `tessera verify`.
async fn jwks(app: &TestApp) -> (Value, tempfile::NamedTempFile) {
    let res = app.client.get(app.url("/.well-known/tessera-keys.json")).send().await.expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "public, max-age=300");
    let body: Value = res.json().await.expect("json");
    for key in body["keys"].as_array().expect("keys") {
        assert_eq!(
            (&key["kty"], &key["crv"], &key["use"], &key["alg"]),
            (&json!("OKP"), &json!("Ed25519"), &json!("sig"), &json!("EdDSA"))
        );
        assert_eq!(key["x"].as_str().expect("x").len(), 43, "32 bytes, base64url: {key}");
        assert!(key.get("d").is_none(), "never a private key: {key}");
    }
    (body.clone(), keys_file(&body))
}

fn keys_file(jwks: &Value) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(".json").tempfile().expect("temp file");
    std::fs::write(file.path(), jwks.to_string()).expect("write keys");
    file
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"].as_array().expect("keys").iter().map(|k| s(&k["kid"]).to_owned()).collect()
}

/// `tessera verify PAYLOAD --keys FILE [extra]`: (success, stdout).
fn verify(payload: &str, keys: &tempfile::NamedTempFile, extra: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .arg("verify")
        .arg(payload)
        .arg("--keys")
        .arg(keys.path())
        .args(extra)
        .env("TESSERA_LOG", "warn")
        .output()
        .expect("run tessera verify");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    (out.status.success(), stdout)
}

/// `tessera admin <args>` against the test server's own database: (success, stdout + stderr).
fn admin(app: &TestApp, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new(BIN);
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("TESSERA_")) {
        cmd.env_remove(name);
    }
    cmd.arg("--data-dir").arg(app.data_dir.path());
    if app.backend == Backend::Postgres {
        cmd.arg("--database-url").arg(&app.database_url);
    }
    let out = cmd.arg("admin").args(args).env("TESSERA_LOG", "warn").output().expect("run tessera admin");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// The first download item of the `n`-th item of an issued order (as listed by the events API).
async fn download_of(ev: &Events, order: &Value, n: usize) -> (DownloadItemId, String) {
    let record = ev.app.app.get_order(&Principal::operator(), s(&order["bookingorder_id"])).await.expect("order");
    let id = record.order.items[n].downloads[0].id.clone();
    let payload = ev.app.app.gate_payload(&Principal::operator(), &id).await.expect("payload");
    (id, payload)
}

async fn scan(ev: &Events, payload: &str) -> reqwest::Response {
    ev.app.post("/api/v1/checkin", &ev.token, &json!({ "payload": payload })).await
}

/// A payload with one character of its signature changed (not the last: its low bits are padding).
fn tampered(payload: &str) -> String {
    let mut chars: Vec<char> = payload.chars().collect();
    let at = chars.len() - 10;
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

async fn an_issued_tickets_qr_code_verifies_offline_and_refusals_say_why(app: TestApp) {
    let ev = setup(app).await;
    let orders = ev.issue().await;
    let order = &orders[0];
    let (download, payload) = download_of(&ev, order, 0).await;
    let (jwks, keys) = jwks(&ev.app).await;
    assert_eq!(kids(&jwks).len(), 1, "{jwks}");
    let hex = download.as_str().trim_end_matches(DownloadItemId::SUFFIX);
    assert!(payload.starts_with(&format!("TG1.{}.E{hex}.", kids(&jwks)[0])), "{payload}");

    // The ticket's PDF carries this payload (printed under its QR code as well).
    let item = &items(order)[0];
    let pdf = ev.pdf(s(&order["bookingorder_id"]), s(&item["orderitem_id"]), s(&item["download_link"])).await;
    let text: String = pdf_text(&pdf.bytes).split_whitespace().collect();
    assert!(text.contains(&payload[..60]), "{payload} in {text}");
    assert_eq!(
        qr_codes(&pdf.bytes),
        std::slice::from_ref(&payload),
        "a scanner reads the payload from the printed code"
    );

    let (ok, out) = verify(&payload, &keys, &[]);
    assert!(ok, "{out}");
    assert!(out.starts_with(&format!("valid: event ticket download {hex} for ")), "{out}");

    let (ok, out) = verify(&tampered(&payload), &keys, &[]);
    assert!(!ok && out.starts_with("refused: tampered"), "{out}");
    let fields: Vec<&str> = payload.split('.').collect();
    let other_holder = payload.replacen(&format!(".{}.", fields[4]), ".ZZ.", 1);
    assert_ne!(other_holder, payload);
    let (ok, out) = verify(&other_holder, &keys, &[]);
    assert!(!ok && out.starts_with("refused: tampered"), "{out}");

    let foreign =
        keys_file(&json!(Jwks { keys: vec![GateSigningKey::from_seed(&[7; 32]).unwrap().public().to_jwk()] }));
    let (ok, out) = verify(&payload, &foreign, &[]);
    assert!(!ok && out.starts_with(&format!("refused: unknown_key: unknown key {}", fields[1])), "{out}");
    let (ok, out) = verify(&payload, &keys, &["--at", "2100-01-01T00:00:00Z"]);
    assert!(!ok && out.starts_with("refused: expired: valid until "), "{out}");
    let (ok, out) = verify(&payload, &keys, &["--at", "2000-01-01T00:00:00Z"]);
    assert!(!ok && out.starts_with("refused: not_yet_valid: valid from "), "{out}");
    let (ok, out) = verify("TSR1.0191c3a6e1f07a2b8c44d1e5f6a7b8c9_dwn.abc", &keys, &[]);
    assert!(!ok && out.starts_with("refused: malformed"), "{out}");

    // Online: the first scan is accepted, the second refused; forged payloads are not found and use nothing.
    for bad in [tampered(&payload), other_holder] {
        expect_problem(scan(&ev, &bad).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    let res = scan(&ev, &payload).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["result"], "accepted", "{body}");
    expect_problem(scan(&ev, &payload).await, StatusCode::CONFLICT, "already_used").await;
}

async fn rotation_signs_new_orders_and_old_tickets_verify_until_their_key_is_retired(app: TestApp) {
    let ev = setup(app).await;
    let first = ev.issue().await;
    let (_, old) = download_of(&ev, &first[0], 0).await;
    let (before, _) = jwks(&ev.app).await;

    let (ok, out) = admin(&ev.app, &["rotate-signing-key"]);
    assert!(ok, "{out}");
    let new_kid = out.split_whitespace().last().expect("kid").to_owned();
    let (after, keys) = jwks(&ev.app).await;
    assert_eq!(kids(&after), [kids(&before), vec![new_kid.clone()]].concat(), "{after}");

    // An order made after the rotation is signed with the new key; the old ticket keeps its payload.
    let second = ev.book_again("WALLET2").await;
    let (status, body) = ev.app.issue(&ev.token, &second, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, new) = download_of(&ev, &ev.orders_of(&second).await[0], 0).await;
    assert!(new.starts_with(&format!("TG1.{new_kid}.")), "{new}");
    assert_eq!(download_of(&ev, &first[0], 0).await.1, old, "re-signing an old ticket gives the same payload");
    for payload in [&old, &new] {
        let (ok, out) = verify(payload, &keys, &[]);
        assert!(ok, "{out}");
    }

    // The key that signs new orders cannot be retired; the old one can, once.
    let (ok, out) = admin(&ev.app, &["retire-signing-key", "--kid", &new_kid]);
    assert!(!ok && out.contains("rotate first"), "{out}");
    let old_kid = kids(&before)[0].clone();
    let (ok, out) = admin(&ev.app, &["retire-signing-key", "--kid", &old_kid]);
    assert!(ok, "{out}");
    let (ok, out) = admin(&ev.app, &["retire-signing-key", "--kid", &old_kid]);
    assert!(!ok && out.contains("signing key not found"), "{out}");

    let (retired, keys) = jwks(&ev.app).await;
    assert_eq!(kids(&retired), vec![new_kid], "a retired key is no longer published");
    let (ok, out) = verify(&old, &keys, &[]);
    assert!(!ok && out.starts_with("refused: unknown_key"), "{out}");
    expect_problem(scan(&ev, &old).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(scan(&ev, &new).await.status(), StatusCode::OK);
}

/// Every QR code printed in a PDF, read as a phone would: the pages rasterised by poppler's `pdftoppm`, the codes
/// read by ZBar's `zbarimg`; sorted, as ZBar reports a page's codes in no set order (a flight ticket's codes sort
/// by coupon).
fn qr_codes(pdf: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).expect("write pdf");
    let out = Command::new("pdftoppm")
        .args(["-r", "150", "-png"])
        .arg(&path)
        .arg(dir.path().join("page"))
        .output()
        .expect("pdftoppm installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .expect("pages")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    pages.sort();
    let mut codes = Vec::new();
    for page in pages {
        let out = Command::new("zbarimg")
            .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
            .arg(&page)
            .output()
            .expect("zbarimg installed");
        // Exit status 4: the page has no code.
        assert!(out.status.success() || out.status.code() == Some(4), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).expect("utf-8");
        codes.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_owned));
    }
    codes.sort_by_key(|code| code.split('.').nth(2).map(str::to_owned));
    codes
}

async fn ticket_pdf(app: &TestApp, number: &str) -> Vec<u8> {
    let res = app.get(&format!("/api/v1/tickets/{number}/pdf"), &app.agent_token).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.bytes().await.expect("pdf").to_vec()
}

async fn coupon_statuses(app: &TestApp, number: &str) -> Vec<String> {
    let ticket: Value =
        app.get(&format!("/api/v1/tickets/{number}"), &app.agent_token).await.json().await.expect("json");
    ticket["coupons"].as_array().expect("coupons").iter().map(|c| s(&c["status"]).to_owned()).collect()
}

async fn a_flight_e_tickets_gate_codes_are_read_from_the_pdf_verified_offline_and_used_once(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("round")).await;
    let (status, issued) = app.issue(&app.agent_token, s(&booking["id"]), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let number = s(&issued["tickets"][0]["number"]).to_owned();
    let compact = number.replace('-', "");
    let coupons = coupon_statuses(&app, &number).await.len();
    assert!(coupons >= 2, "a round trip has a coupon per flight");

    // One code per coupon, in itinerary order, each verifying with nothing but the published keys.
    let codes = qr_codes(&ticket_pdf(&app, &number).await);
    assert_eq!(codes.len(), coupons, "{codes:?}");
    let (_, keys) = jwks(&app).await;
    for (i, code) in codes.iter().enumerate() {
        assert!(code.starts_with("TG1.") && code.contains(&format!(".F{compact}-{}.", i + 1)), "{code}");
        let (ok, out) = verify(code, &keys, &[]);
        assert!(ok && out.starts_with(&format!("valid: flight ticket {compact} coupon {} for ", i + 1)), "{out}");
    }
    // The combined itinerary prints the same codes, and re-rendering gives the same ones.
    let itinerary =
        app.get(&format!("/api/v1/issuances/{}/pdf", s(&issued["ticketReferenceID"])), &app.agent_token).await;
    assert_eq!(itinerary.status(), StatusCode::OK);
    assert_eq!(qr_codes(&itinerary.bytes().await.expect("pdf")), codes);

    // Another agency's scanner finds nothing and uses nothing; a forged code is not found either.
    let other = app.post("/api/v1/checkin", &app.other_token, &json!({ "payload": codes[0] })).await;
    expect_problem(other, StatusCode::NOT_FOUND, "not_found").await;
    expect_problem(
        app.post("/api/v1/checkin", &app.agent_token, &json!({ "payload": tampered(&codes[0]) })).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert!(coupon_statuses(&app, &number).await.iter().all(|c| c == "O"));

    // The first scan flies coupon 1; a second is refused with the first's time.
    let res = app.post("/api/v1/checkin", &app.agent_token, &json!({ "payload": codes[0] })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    assert_eq!((&body["result"], &body["action"]), (&json!("accepted"), &json!("use")), "{body}");
    let again = app.post("/api/v1/checkin", &app.agent_token, &json!({ "payload": codes[0] })).await;
    expect_problem(again, StatusCode::CONFLICT, "already_used").await;
    let statuses = coupon_statuses(&app, &number).await;
    assert_eq!(statuses[0], "F");
    assert!(statuses[1..].iter().all(|c| c == "O"), "{statuses:?}");

    // The e-ticket, re-rendered, no longer hands out the flown coupon's code; the others are unchanged.
    assert_eq!(qr_codes(&ticket_pdf(&app, &number).await), codes[1..]);
}

async fn a_void_tickets_e_ticket_prints_no_gate_code_and_its_old_codes_admit_nobody(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let (status, issued) = app.issue(&app.agent_token, s(&booking["id"]), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let number = s(&issued["tickets"][0]["number"]).to_owned();
    let codes = qr_codes(&ticket_pdf(&app, &number).await);
    assert_eq!(codes.len(), 1, "{codes:?}");

    let res = app.post(&format!("/api/v1/tickets/{number}/void"), &app.agent_token, &json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(qr_codes(&ticket_pdf(&app, &number).await).is_empty(), "a void ticket admits nobody");
    let scan = app.post("/api/v1/checkin", &app.agent_token, &json!({ "payload": codes[0] })).await;
    expect_problem(scan, StatusCode::CONFLICT, "invalid_ticket_status").await;
    assert_eq!(coupon_statuses(&app, &number).await, ["V"]);
}

both_backends!(
    an_issued_tickets_qr_code_verifies_offline_and_refusals_say_why,
    rotation_signs_new_orders_and_old_tickets_verify_until_their_key_is_retired,
    a_flight_e_tickets_gate_codes_are_read_from_the_pdf_verified_offline_and_used_once,
    a_void_tickets_e_ticket_prints_no_gate_code_and_its_old_codes_admit_nobody,
);
