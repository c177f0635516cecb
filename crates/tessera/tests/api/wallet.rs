//! Apple Wallet passes: a certificate chain made by the `openssl` command line (a root, a stand-in for Apple's
//! WWDR intermediate, a pass certificate), a server configured with it, passes of an event ticket and of a
//! flight coupon unzipped with Info-ZIP, their manifest checked with `sha1sum`, their signature verified with
//! `openssl smime -verify`, and their barcodes with `tessera verify`; "Save to Google Wallet" links decoded and
//! verified with the service account's public key. Without configuration: 501.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;
use tessera_app::Principal;

use crate::events::{items, s, setup, unzip};
use crate::helpers::{example, expect_problem, spawn_app_with, Backend, Options, TestApp, WalletFiles};

const BIN: &str = env!("CARGO_BIN_EXE_tessera");
const PKPASS: &str = "application/vnd.apple.pkpass";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl is installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A root CA, an intermediate (Apple's WWDR in production) and a pass certificate it signed, with the key.
fn certificate_chain() -> (TempDir, WalletFiles) {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("ca.ext"), "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
        .expect("write");
    std::fs::write(d.join("pass.ext"), "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n")
        .expect("write");
    openssl(
        d,
        &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem"]
            .into_iter()
            .chain(["-days", "3", "-subj", "/CN=Tessera Test Root", "-addext", "basicConstraints=critical,CA:TRUE"])
            .chain(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            .collect::<Vec<_>>(),
    );
    openssl(
        d,
        &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "wwdr.key", "-out", "wwdr.csr", "-subj", "/CN=Test WWDR"],
    );
    openssl(
        d,
        &["x509", "-req", "-in", "wwdr.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"]
            .into_iter()
            .chain(["-out", "wwdr.pem", "-days", "3", "-extfile", "ca.ext"])
            .collect::<Vec<_>>(),
    );
    let subject = "/UID=pass.test.tessera/CN=Pass Type ID: pass.test.tessera/OU=TEAMID1234";
    openssl(d, &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "pass.key", "-out", "pass.csr", "-subj", subject]);
    openssl(
        d,
        &["x509", "-req", "-in", "pass.csr", "-CA", "wwdr.pem", "-CAkey", "wwdr.key", "-CAcreateserial"]
            .into_iter()
            .chain(["-out", "pass.pem", "-days", "3", "-extfile", "pass.ext"])
            .collect::<Vec<_>>(),
    );
    let files = WalletFiles { cert: d.join("pass.pem"), key: d.join("pass.key"), wwdr: d.join("wwdr.pem") };
    (dir, files)
}

/// A Google service-account key file (`client_email`, `private_key`) of a fresh RSA key; returns its path and the
/// public key (PEM) links must verify with.
fn service_account(dir: &Path) -> (PathBuf, Vec<u8>) {
    openssl(dir, &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "google.key"]);
    openssl(dir, &["pkey", "-in", "google.key", "-pubout", "-out", "google.pub"]);
    let private_key = std::fs::read_to_string(dir.join("google.key")).expect("key");
    let account = json!({"type": "service_account", "client_email": "tickets@tessera-test.iam.gserviceaccount.com",
        "private_key": private_key});
    let path = dir.join("service-account.json");
    std::fs::write(&path, account.to_string()).expect("write");
    (path, std::fs::read(dir.join("google.pub")).expect("public key"))
}

/// The claims of a "Save to Google Wallet" link, checked against `public` (RS256, `aud: google`).
async fn google_claims(app: &TestApp, path: &str, token: &str, public: &[u8]) -> Value {
    let res = app.get(path, token).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let body: Value = res.json().await.expect("json");
    let jwt = s(&body["url"]).strip_prefix("https://pay.google.com/gp/v/save/").expect("a save link").to_owned();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["google"]);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(public).expect("public key");
    let claims = jsonwebtoken::decode::<Value>(&jwt, &key, &validation).expect("a valid RS256 JWT").claims;
    assert_eq!(claims["typ"], "savetowallet");
    assert_eq!(claims["iss"], "tickets@tessera-test.iam.gserviceaccount.com");
    assert_eq!(claims["origins"], json!([app.base]));
    // The check can fail: another key does not verify the link.
    let other = tempfile::tempdir().expect("temp dir");
    let (_, other_public) = service_account(other.path());
    let other_key = jsonwebtoken::DecodingKey::from_rsa_pem(&other_public).expect("public key");
    assert!(jsonwebtoken::decode::<Value>(&jwt, &other_key, &validation).is_err());
    claims
}

/// Unzips a pass, checks its entries, manifest and signature; returns pass.json.
fn check_pass(bytes: &[u8], ca: &Path) -> Value {
    let entries = unzip(bytes);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["pass.json", "icon.png", "icon@2x.png", "manifest.json", "signature"]);
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, content) in &entries {
        std::fs::write(dir.path().join(name), content).expect("write entry");
    }
    let manifest: Value = serde_json::from_slice(&entries[3].1).expect("manifest.json");
    let listed: Vec<&String> = manifest.as_object().expect("object").keys().collect();
    assert_eq!(listed, ["pass.json", "icon.png", "icon@2x.png"], "every file but manifest and signature");
    for name in ["pass.json", "icon.png", "icon@2x.png"] {
        let out = Command::new("sha1sum").arg(name).current_dir(dir.path()).output().expect("sha1sum");
        let sum = String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_owned();
        assert_eq!(manifest[name], json!(sum), "{name}");
    }
    let verify = |content: &str| {
        Command::new("openssl")
            .args(["smime", "-verify", "-binary", "-inform", "DER", "-content", content, "-in", "signature"])
            .arg("-CAfile")
            .arg(ca)
            .args(["-purpose", "any", "-out", "/dev/null"])
            .current_dir(dir.path())
            .output()
            .expect("openssl smime")
    };
    let out = verify("manifest.json");
    assert!(out.status.success(), "signature: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Verification successful"));
    // The check can fail: a manifest changed after signing does not verify.
    std::fs::write(dir.path().join("forged.json"), entries[3].1.iter().rev().copied().collect::<Vec<u8>>())
        .expect("write");
    assert!(!verify("forged.json").status.success(), "a changed manifest must not verify");
    serde_json::from_slice(&entries[0].1).expect("pass.json")
}

/// `tessera verify` of a barcode against the keys the server publishes: its stdout, asserting success.
async fn verify_barcode(app: &TestApp, payload: &str) -> String {
    let keys: Value =
        app.client.get(app.url("/.well-known/tessera-keys.json")).send().await.unwrap().json().await.unwrap();
    let file = tempfile::Builder::new().suffix(".json").tempfile().expect("temp file");
    std::fs::write(file.path(), keys.to_string()).expect("write keys");
    let out = Command::new(BIN).arg("verify").arg(payload).arg("--keys").arg(file.path()).output().expect("verify");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    stdout
}

async fn pkpass(app: &TestApp, path: &str, token: &str) -> Vec<u8> {
    let res = app.get(path, token).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    assert_eq!(res.headers()["content-type"], PKPASS);
    assert!(res.headers()["content-disposition"].to_str().unwrap().ends_with(".pkpass\""));
    res.bytes().await.expect("body").to_vec()
}

async fn event_tickets_and_flight_coupons_become_signed_wallet_passes(backend: Backend) {
    let (chain, files) = certificate_chain();
    let (google_key, google_public) = service_account(chain.path());
    let options = Options { wallet: Some(files), google_wallet_key: Some(google_key), ..Default::default() };
    let app = spawn_app_with(backend, options).await;
    let ca: PathBuf = chain.path().join("ca.pem");

    // A flight coupon: a boarding pass.
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let (status, issued) = app.issue(&app.agent_token, s(&booking["id"]), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let number = s(&issued["tickets"][0]["number"]).to_owned();
    let path = format!("/api/v1/tickets/{number}/coupons/1/pkpass");
    let pass = check_pass(&pkpass(&app, &path, &app.agent_token).await, &ca);
    assert_eq!(
        (&pass["passTypeIdentifier"], &pass["teamIdentifier"]),
        (&json!("pass.test.tessera"), &json!("TEAMID1234"))
    );
    assert_eq!(pass["boardingPass"]["transitType"], "PKTransitTypeAir", "{pass}");
    assert_eq!(pass["relevantDate"], "2027-07-22T10:10:00+05:45");
    // The departure airport, Kathmandu, from the embedded reference data.
    assert_eq!(pass["locations"], json!([{"latitude": 27.6966, "longitude": 85.3591}]), "{pass}");
    assert_eq!(pass["barcodes"][0]["format"], "PKBarcodeFormatQR");
    let barcode = s(&pass["barcodes"][0]["message"]).to_owned();
    let compact = number.replace('-', "");
    let out = verify_barcode(&app, &barcode).await;
    assert!(out.starts_with(&format!("valid: flight ticket {compact} coupon 1 for QR")), "{out}");
    let google = format!("/api/v1/tickets/{number}/coupons/1/google-wallet");
    let claims = google_claims(&app, &google, &app.agent_token, &google_public).await;
    let object = &claims["payload"]["flightObjects"][0];
    assert_eq!(object["barcode"], json!({"type": "QR_CODE", "value": barcode}), "{claims}");
    assert_eq!(object["id"], json!(format!("3388000000022222222.{compact}-1")));
    assert_eq!(object["classId"], claims["payload"]["flightClasses"][0]["id"]);
    assert_eq!(claims["payload"]["flightClasses"][0]["origin"]["airportIataCode"], "KTM");
    for (path, token) in [
        (format!("/api/v1/tickets/{number}/coupons/1/google-wallet"), &app.other_token),
        (format!("/api/v1/tickets/{number}/coupons/2/pkpass"), &app.agent_token),
        (format!("/api/v1/tickets/{number}/coupons/x/pkpass"), &app.agent_token),
        (format!("/api/v1/tickets/{number}/coupons/1/pkpass"), &app.other_token),
        ("/api/v1/tickets/157-0000000000/coupons/1/pkpass".to_owned(), &app.agent_token),
    ] {
        expect_problem(app.get(&path, token).await, StatusCode::NOT_FOUND, "not_found").await;
    }

    // An event ticket: the pass's barcode is the payload printed on its PDF.
    let ev = setup(app).await;
    let orders = ev.issue().await;
    let (order, item) =
        (s(&orders[0]["bookingorder_id"]).to_owned(), s(&items(&orders[0])[0]["orderitem_id"]).to_owned());
    let path = format!("/api/v1/booking-orders/{order}/items/{item}/downloads/1/pkpass");
    let pass = check_pass(&pkpass(&ev.app, &path, &ev.token).await, &ca);
    assert!(pass["eventTicket"]["primaryFields"].is_array(), "{pass}");
    assert_eq!(pass["relevantDate"], "2027-03-02T20:00:00+00:00");
    // Anfield, as the booking placed it: the pass surfaces on the lock screen there.
    assert_eq!(pass["locations"], json!([{"latitude": 53.430819, "longitude": -2.960828}]), "{pass}");
    let record = ev.app.app.get_order(&Principal::operator(), &order).await.expect("order");
    let download = &record.order.items[0].downloads[0];
    assert_eq!(pass["serialNumber"], json!(download.id.to_string()));
    let printed = ev.app.app.gate_payload(&Principal::operator(), &download.id).await.expect("payload");
    assert_eq!(pass["barcodes"][0]["message"], json!(printed));
    let out = verify_barcode(&ev.app, &printed).await;
    assert!(out.starts_with("valid: event ticket download "), "{out}");
    let google = format!("/api/v1/booking-orders/{order}/items/{item}/downloads/1/google-wallet");
    let claims = google_claims(&ev.app, &google, &ev.token, &google_public).await;
    let object = &claims["payload"]["eventTicketObjects"][0];
    assert_eq!(object["barcode"]["value"], json!(printed), "{claims}");
    assert_eq!(object["classId"], claims["payload"]["eventTicketClasses"][0]["id"]);
    for (path, token) in [
        (google.clone(), &ev.app.other_token),
        (format!("/api/v1/booking-orders/{order}/items/{item}/downloads/0/pkpass"), &ev.token),
        (format!("/api/v1/booking-orders/{order}/items/{item}/downloads/9/pkpass"), &ev.token),
        (format!("/api/v1/booking-orders/{order}/items/nope/downloads/1/pkpass"), &ev.token),
        (path.clone(), &ev.app.other_token),
    ] {
        expect_problem(ev.app.get(&path, token).await, StatusCode::NOT_FOUND, "not_found").await;
    }
}

async fn without_a_wallet_certificate_passes_answer_501(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let (_, issued) = app.issue(&app.agent_token, s(&booking["id"]), json!({})).await;
    let number = s(&issued["tickets"][0]["number"]).to_owned();
    let res = app.get(&format!("/api/v1/tickets/{number}/coupons/1/pkpass"), &app.agent_token).await;
    let problem = expect_problem(res, StatusCode::NOT_IMPLEMENTED, "wallet_not_configured").await;
    assert_eq!(problem["detail"], "Apple Wallet passes are not configured on this server", "{problem}");
    let res = app.get(&format!("/api/v1/tickets/{number}/coupons/1/google-wallet"), &app.agent_token).await;
    let problem = expect_problem(res, StatusCode::NOT_IMPLEMENTED, "wallet_not_configured").await;
    assert_eq!(problem["detail"], "Google Wallet passes are not configured on this server", "{problem}");
    // Not found comes first: the configuration says nothing about tickets one cannot see.
    let res = app.get(&format!("/api/v1/tickets/{number}/coupons/1/pkpass"), &app.other_token).await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

both_backends_custom!(event_tickets_and_flight_coupons_become_signed_wallet_passes);
both_backends!(without_a_wallet_certificate_passes_answer_501);
