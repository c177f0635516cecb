//! Documents are a cache of the database: with the document store wiped, every kind of document a client may
//! fetch (ticket, EMD and issuance PDFs, invoices and credit invoices, a voided or exchanged ticket's re-rendered
//! PDF, event ticket PDFs, order zips) comes back byte for byte, with the same ETag, and is put back in the
//! store. A document whose re-rendering does not match its recorded SHA-256 is never served: 503
//! `document_unavailable`, an alarm in the log, and nothing written to the store.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tessera_app::admin::SettingsInput;
use tessera_core::ids::AgencyId;

use crate::events::{items, s, setup, Events};
use crate::helpers::{example, expect_problem, spawn_app_with, Backend, Options, TestApp};
use crate::lifecycle::{act, exchange_body, issued_round_trip};
use crate::smtp::SmtpSink;

/// How a download authenticates.
#[derive(Clone)]
enum Auth {
    Bearer(String),
    ApiKey(String),
    /// A signed link: no header at all.
    None,
}

/// One downloadable document: where, how, and what it answered the first time.
struct Doc {
    url: String,
    auth: Auth,
    bytes: Vec<u8>,
    etag: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn get(app: &TestApp, url: &str, auth: &Auth) -> reqwest::Response {
    let request = app.client.get(url);
    let request = match auth {
        Auth::Bearer(token) => request.bearer_auth(token),
        Auth::ApiKey(key) => request.header("X-Api-Key", key),
        Auth::None => request,
    };
    request.send().await.expect("request")
}

/// Downloads a document that must answer 200 with an ETag that is the SHA-256 of its bytes.
async fn fetch(app: &TestApp, path_or_url: &str, auth: Auth) -> Doc {
    let url = if path_or_url.starts_with("http") { path_or_url.to_owned() } else { app.url(path_or_url) };
    let res = get(app, &url, &auth).await;
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    let etag = res.headers().get("etag").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let bytes = res.bytes().await.unwrap().to_vec();
    assert_eq!(etag, format!("\"{}\"", sha256_hex(&bytes)), "{url}");
    Doc { url, auth, bytes, etag }
}

fn documents_dir(app: &TestApp) -> std::path::PathBuf {
    app.data_dir.path().join("documents")
}

/// Loses every stored file, as a wiped disk or bucket would (the folder itself stays), and the server's
/// in-memory copies with it, as a node that had not read them yet would be: the next reads go to the store.
async fn wipe(app: &TestApp) {
    // Issuances' PDFs are stored by a background task once answered: let it finish, or it would write again.
    app.app.settle_renders().await;
    app.app.clear_document_cache();
    let dir = documents_dir(app);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
    }
    assert!(stored(app).is_empty());
}

/// The SHA-256 of every file in the store.
fn stored(app: &TestApp) -> HashSet<String> {
    fn walk(dir: &Path, out: &mut HashSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.insert(sha256_hex(&std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = HashSet::new();
    walk(&documents_dir(app), &mut out);
    out
}

/// Wipes the store, downloads every document again: the same bytes and ETag, and each is back in the store.
async fn survive_a_wipe(app: &TestApp, docs: &[Doc]) {
    wipe(app).await;
    for doc in docs {
        let again = fetch(app, &doc.url, doc.auth.clone()).await;
        assert_eq!(again.etag, doc.etag, "{}", doc.url);
        assert!(again.bytes == doc.bytes, "{}: other bytes after re-rendering", doc.url);
    }
    let back = stored(app);
    for doc in docs {
        assert!(back.contains(&sha256_hex(&doc.bytes)), "{} is back in the store", doc.url);
    }
}

async fn ticket(app: &TestApp, number: &str) -> Value {
    let res = app.get(&format!("/api/v1/tickets/{number}"), &app.agent_token).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// A signed link to a native document, as the agent asks for one.
async fn link(app: &TestApp, path: &str) -> String {
    let res = app.post(path, &app.agent_token, &json!({})).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{path}");
    let body: Value = res.json().await.unwrap();
    body["url"].as_str().unwrap().to_owned()
}

/// Every document of a flight ticket's booking: the ticket's PDF (natively and by a signed link), the other
/// tickets' PDFs, the issuance PDF, and every invoice PDF.
async fn flight_docs(app: &TestApp, numbers: &[&str]) -> Vec<Doc> {
    let bearer = || Auth::Bearer(app.agent_token.clone());
    let mut docs = Vec::new();
    for number in numbers {
        docs.push(fetch(app, &format!("/api/v1/tickets/{number}/pdf"), bearer()).await);
    }
    let first = ticket(app, numbers[0]).await;
    let url = link(app, &format!("/api/v1/tickets/{}/link", numbers[0])).await;
    docs.push(fetch(app, &url, Auth::None).await);
    let reference = first["issuance_id"].as_str().or(first["ticketReferenceID"].as_str()).map(str::to_owned);
    if let Some(reference) = reference {
        docs.push(fetch(app, &format!("/api/v1/issuances/{reference}/pdf"), bearer()).await);
    }
    let booking = first["booking_id"].as_str().unwrap();
    let res = app.get(&format!("/api/v1/bookings/{booking}/invoices"), &app.agent_token).await;
    let invoices: Value = res.json().await.unwrap();
    for invoice in invoices.as_array().unwrap() {
        let path = format!("/api/v1/bookings/{booking}/invoices/{}/pdf", invoice["number"]);
        docs.push(fetch(app, &path, bearer()).await);
    }
    docs
}

/// An admin changes the agency's VAT rate and documents' language after its documents were made: what was issued
/// keeps its rate and language, so every document still re-renders to the same bytes.
async fn change_settings(app: &TestApp, agency: AgencyId) {
    let admin = app.app.authenticate_token(&app.admin_token).await.expect("admin");
    let before = app.app.get_agency(&admin, agency).await.expect("agency");
    let input = SettingsInput { vat_percent: "9.5".into(), refund_approval: false, default_language: "vi".into() };
    let after = app.app.update_agency_settings(&admin, agency, &input).await.expect("settings");
    assert_ne!((before.vat_percent, before.default_language), (after.vat_percent, after.default_language));
}

async fn flight_documents_are_re_rendered_byte_for_byte(app: TestApp) {
    let (tkt, emd) = issued_round_trip(&app, "CACHEA", true).await;
    let docs = flight_docs(&app, &[&tkt, &emd]).await;
    assert_eq!(docs.len(), 5, "ticket, EMD, link, issuance, invoice");
    survive_a_wipe(&app, &docs).await;
    change_settings(&app, app.agency.id).await;
    survive_a_wipe(&app, &docs).await;
    let open = docs[0].etag.clone();

    // A voided ticket: its PDF with the status stamp, the issuance PDF and the credit invoice.
    let (status, body) = act(&app, &app.agent_token, &format!("/api/v1/tickets/{tkt}/void"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let docs = flight_docs(&app, &[&tkt, &emd]).await;
    assert_eq!(docs.len(), 6, "and the credit invoice");
    assert_ne!(docs[0].etag, open, "the voided ticket is a new document");
    survive_a_wipe(&app, &docs).await;

    // An exchange: the old ticket stamped EXCHANGED, the new one flying the amendment, the exchange invoice.
    let mut doc = example("oneway");
    doc["pnr"] = json!("CACHEX");
    let booking = app.book(&app.agent_token, &doc).await;
    let (_, issued) = app.issue(&app.agent_token, booking["id"].as_str().unwrap(), json!({})).await;
    let old = issued["tickets"][0]["number"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tickets/{old}/exchange");
    let (status, body) = act(&app, &app.agent_token, &path, exchange_body("2027-08-02", 46_000, 1_500)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new = body["new_ticket"]["number"].as_str().unwrap().to_owned();
    let docs = flight_docs(&app, &[&old, &new]).await;
    survive_a_wipe(&app, &docs).await;
}

/// Every document of the event booking's first order, as partners fetch them: each ticket PDF, the zip
/// through its signed link, and every invoice.
async fn event_docs(ev: &Events) -> Vec<Doc> {
    let order = &ev.orders().await[0];
    let id = s(&order["bookingorder_id"]).to_owned();
    let key = || Auth::ApiKey(ev.key.clone());
    let mut docs = Vec::new();
    for item in items(order) {
        let link = s(&item["download_link"]);
        if !link.is_empty() {
            let path = format!("/v1/etickets/download/{id}/{}/url/{link}", s(&item["orderitem_id"]));
            docs.push(fetch(&ev.app, &path, key()).await);
        }
    }
    let (status, zip_link) = ev.json(&format!("/v1/etickets/download/zip/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{zip_link}");
    let zip = fetch(&ev.app, zip_link.as_str().unwrap(), Auth::None).await;
    assert_eq!(sha256_hex(&zip.bytes), s(&order["zip_sha"]), "the published zip_sha");
    docs.push(zip);
    for invoice in order["invoices"].as_array().unwrap() {
        docs.push(fetch(&ev.app, &format!("/v1/bookingorders/{id}/invoice/{}", s(invoice)), key()).await);
    }
    docs
}

async fn event_documents_are_re_rendered_byte_for_byte(app: TestApp) {
    let ev = setup(app).await;
    let orders = ev.issue().await;
    let docs = event_docs(&ev).await;
    assert!(docs.len() >= 4, "two tickets, the zip, the invoice");
    // The zip first: its entries are re-rendered (and checked) on the way.
    let mut zip_first = docs;
    zip_first.sort_by_key(|d| !d.url.contains("/d/"));
    survive_a_wipe(&ev.app, &zip_first).await;
    change_settings(&ev.app, ev.agency.id).await;
    survive_a_wipe(&ev.app, &zip_first).await;

    // A refunded ticket leaves the bundle (a new zip) and gets a credit invoice.
    let order = s(&orders[0]["bookingorder_id"]).to_owned();
    let jane = s(&items(&orders[0])[1]["orderitem_id"]).to_owned();
    let path = format!("/api/v1/booking-orders/{order}/items/{jane}/refund");
    let (status, body) = act(&ev.app, &ev.token, &path, json!({"penalty": 9})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let docs = event_docs(&ev).await;
    survive_a_wipe(&ev.app, &docs).await;
}

/// Every ERROR line the process logs, for checking alarms.
static LOG: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.get_or_init(Default::default).lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_errors() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::ERROR)
        .with_ansi(false)
        .with_writer(|| Capture)
        .try_init();
}

fn logged() -> String {
    String::from_utf8_lossy(&LOG.get_or_init(Default::default).lock().unwrap()).into_owned()
}

/// Changes a document's recorded SHA-256 behind the server's back.
async fn tamper(app: &TestApp, kind: &str, key: &str, sha256: &str) {
    let sql = "UPDATE documents SET sha256 = $1 WHERE owner_kind = $2 AND owner_key = $3";
    assert_eq!(execute(app, sql, [sha256, kind, key]).await, 1, "{kind} {key}");
}

async fn execute(app: &TestApp, sql: &str, [sha256, kind, key]: [&str; 3]) -> u64 {
    match app.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
            let done = sqlx::query(sql).bind(sha256).bind(kind).bind(key).execute(&pool).await.unwrap();
            pool.close().await;
            done.rows_affected()
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
            let done = sqlx::query(sql).bind(sha256).bind(kind).bind(key).execute(&pool).await.unwrap();
            pool.close().await;
            done.rows_affected()
        }
    }
}

async fn a_re_rendering_that_does_not_match_is_refused_and_not_stored(app: TestApp) {
    capture_errors();
    let (tkt, _) = issued_round_trip(&app, "CACHEM", true).await;
    let url = app.url(&format!("/api/v1/tickets/{tkt}/pdf"));
    let bearer = Auth::Bearer(app.agent_token.clone());
    let original = fetch(&app, &url, bearer.clone()).await;
    let signed = link(&app, &format!("/api/v1/tickets/{tkt}/link")).await;
    let compact = tkt.replace('-', "");
    let recorded = "0".repeat(64);
    tamper(&app, "ticket", &compact, &recorded).await;
    wipe(&app).await;

    for (url, auth) in [(&url, &bearer), (&signed, &Auth::None)] {
        let res = get(&app, url, auth).await;
        let problem = expect_problem(res, StatusCode::SERVICE_UNAVAILABLE, "document_unavailable").await;
        assert_eq!(problem["detail"], "the document is temporarily unavailable", "{problem}");
    }
    assert!(stored(&app).is_empty(), "the re-rendered bytes are not stored under the recorded document");
    // The log is the whole test process's, and every test's first ticket has this number: the agency, unique to
    // this test, picks out its own alarm.
    let log = logged();
    let ours = format!("key=agencies/{}/", app.agency.id);
    let alarm = log
        .lines()
        .find(|l| l.contains("document_mismatch") && l.contains(&compact) && l.contains(&ours))
        .unwrap_or_else(|| panic!("an alarm for {compact}:\n{log}"));
    assert!(alarm.contains(&format!("expected={recorded}")), "{alarm}");
    assert!(alarm.contains(&format!("actual={}", sha256_hex(&original.bytes))), "{alarm}");

    // The record put right, the very same bytes come back.
    tamper(&app, "ticket", &compact, &sha256_hex(&original.bytes)).await;
    let again = fetch(&app, &url, bearer).await;
    assert_eq!(again.etag, original.etag);
}

/// E-mail attachments are read through the cache too: the store wiped between issuing and sending, the
/// message still carries the very bytes the ticket was issued with.
async fn e_mail_attachments_are_re_rendered_byte_for_byte(backend: Backend) {
    let sink = SmtpSink::start();
    let app = spawn_app_with(backend, Options { smtp_url: Some(sink.url()), ..Default::default() }).await;
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let (status, issued) = app.issue(&app.agent_token, booking["id"].as_str().unwrap(), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let number = issued["tickets"][0]["number"].as_str().unwrap().to_owned();
    let group = |req: reqwest::RequestBuilder| req.header("x-access-token", &app.agent_token).send();
    let original = fetch(&app, &format!("/api/v1/tickets/{number}/pdf"), Auth::Bearer(app.agent_token.clone())).await;
    wipe(&app).await;

    let res = group(app.client.get(app.url("/tickets?booking_code=PQMJ8E"))).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let received = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);
    let attachments = &received[0].attachments;
    assert_eq!(attachments.len(), 1);
    assert!(attachments[0].2 == original.bytes, "the attachment is the ticket as issued");
    assert!(stored(&app).contains(&sha256_hex(&original.bytes)), "and it is back in the store");
}

both_backends_custom!(e_mail_attachments_are_re_rendered_byte_for_byte);

async fn the_events_api_answers_a_mismatch_in_its_own_envelope(app: TestApp) {
    let ev = setup(app).await;
    let orders = ev.issue().await;
    let order = s(&orders[0]["bookingorder_id"]).to_owned();
    let item = &items(&orders[0])[0];
    let path = format!("/v1/etickets/download/{order}/{}/url/{}", s(&item["orderitem_id"]), s(&item["download_link"]));
    let sql = "UPDATE documents SET sha256 = $1 WHERE owner_kind = $2 AND owner_key <> $3";
    assert!(execute(&ev.app, sql, [&"f".repeat(64), "download", ""]).await >= 1);
    wipe(&ev.app).await;
    let res = ev.get(&path).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"error": "document_unavailable", "message": "the document is temporarily unavailable"}));
    assert!(stored(&ev.app).is_empty());
}

/// Every stored file, with its path.
fn stored_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&documents_dir(app), &mut out);
    out
}

/// A stored file whose bytes are not the recorded ones (a corrupted disk, a foreign file) is never served: the
/// read re-renders the document, checks it, serves it and puts it back. While the node holds a checked copy in
/// memory, a damaged or lost file does not reach the client either.
async fn a_wrong_file_in_the_store_is_re_rendered_not_served(app: TestApp) {
    let (tkt, _) = issued_round_trip(&app, "CACHEW", true).await;
    let url = app.url(&format!("/api/v1/tickets/{tkt}/pdf"));
    let bearer = Auth::Bearer(app.agent_token.clone());
    let original = fetch(&app, &url, bearer.clone()).await;
    let files = stored_files(&app);
    let file = files
        .iter()
        .find(|p| std::fs::read(p).unwrap() == original.bytes)
        .unwrap_or_else(|| panic!("the ticket's file among {files:?}"));

    // Damaged while the node holds its checked copy: the copy is served.
    std::fs::write(file, b"%PDF-1.7 not the ticket").unwrap();
    let again = fetch(&app, &url, bearer.clone()).await;
    assert!(again.bytes == original.bytes);

    // Without the copy, the damaged file is read, refused by its hash, and the ticket re-rendered and put back.
    app.app.clear_document_cache();
    let again = fetch(&app, &url, bearer.clone()).await;
    assert_eq!(again.etag, original.etag);
    assert!(again.bytes == original.bytes, "the re-rendered ticket, not the damaged file");
    assert!(std::fs::read(file).unwrap() == original.bytes, "the file is put right");
    let signed = link(&app, &format!("/api/v1/tickets/{tkt}/link")).await;
    app.app.clear_document_cache();
    std::fs::write(file, b"").unwrap();
    let through_link = fetch(&app, &signed, Auth::None).await;
    assert!(through_link.bytes == original.bytes, "signed links read the same way");
}

both_backends!(
    a_wrong_file_in_the_store_is_re_rendered_not_served,
    the_events_api_answers_a_mismatch_in_its_own_envelope,
    a_re_rendering_that_does_not_match_is_refused_and_not_stored,
    event_documents_are_re_rendered_byte_for_byte,
    flight_documents_are_re_rendered_byte_for_byte,
);
