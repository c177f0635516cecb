//! Documents: ticket, EMD and issuance PDFs (ETag, attachment, readable by common tools), signed links, and the
//! audit trail of downloads.

use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tessera_core::user::Role;

use crate::helpers::{
    example, expect_problem, new_agency, op, readable_text, spawn_app_with, Backend, Options, TestApp,
};

/// Books and issues the oneway example as the agent: (ticket number, ticketReferenceID).
async fn issue_oneway(app: &TestApp) -> (String, String) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let (status, issued) = app.issue(&app.agent_token, booking["id"].as_str().unwrap(), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let number = issued["tickets"][0]["number"].as_str().unwrap().to_owned();
    (number, issued["ticketReferenceID"].as_str().unwrap().to_owned())
}

struct Pdf {
    bytes: Vec<u8>,
    etag: String,
    disposition: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// GETs a PDF (with `token`, or anonymously) and checks the headers every download carries.
async fn download(app: &TestApp, url: &str, token: Option<&str>) -> Pdf {
    let mut request = app.client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let res = request.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert_eq!(header("content-type"), "application/pdf", "{url}");
    let (etag, disposition) = (header("etag"), header("content-disposition"));
    let bytes = res.bytes().await.unwrap().to_vec();
    assert!(bytes.starts_with(b"%PDF-"), "{url} is not a PDF");
    assert_eq!(etag, format!("\"{}\"", sha256_hex(&bytes)), "{url}: the ETag is the SHA-256 of the bytes");
    Pdf { bytes, etag, disposition }
}

fn page_count(bytes: &[u8]) -> u32 {
    let file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    let out = Command::new("qpdf").arg("--show-npages").arg(file.path()).output().expect("qpdf is installed");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

async fn ticket_and_issuance_pdfs_carry_etag_attachment_and_readable_text(app: TestApp) {
    let (number, reference) = issue_oneway(&app).await;
    let compact = number.replace('-', "");
    let ticket_url = app.url(&format!("/api/v1/tickets/{number}/pdf"));
    let ticket = download(&app, &ticket_url, Some(&app.agent_token)).await;
    assert_eq!(ticket.disposition, format!("attachment; filename=\"eticket-{compact}.pdf\""));
    let text = readable_text(&ticket.bytes);
    for expected in ["MAHARJAN/RABI", number.as_str(), "PQMJ8E"] {
        assert!(text.contains(expected), "the e-ticket should show {expected}:\n{text}");
    }
    // The compact form of the number names the same document.
    let again = download(&app, &app.url(&format!("/api/v1/tickets/{compact}/pdf")), Some(&app.agent_token)).await;
    assert_eq!(again.bytes, ticket.bytes);

    let issuance_url = app.url(&format!("/api/v1/issuances/{reference}/pdf"));
    let issuance = download(&app, &issuance_url, Some(&app.agent_token)).await;
    assert_eq!(issuance.disposition, "attachment; filename=\"itinerary-PQMJ8E.pdf\"");
    let text = readable_text(&issuance.bytes);
    for expected in ["MAHARJAN/RABI", number.as_str(), "PQMJ8E"] {
        assert!(text.contains(expected), "the itinerary should show {expected}:\n{text}");
    }
    assert_ne!(issuance.etag, ticket.etag);

    // A client that has the current version gets 304 and no body; a stale ETag gets the document again.
    for (url, pdf) in [(&ticket_url, &ticket), (&issuance_url, &issuance)] {
        let res =
            app.client.get(url).bearer_auth(&app.agent_token).header("if-none-match", &pdf.etag).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{url}");
        assert_eq!(res.headers().get("etag").unwrap().to_str().unwrap(), pdf.etag);
        assert!(res.bytes().await.unwrap().is_empty());
        let stale =
            app.client.get(url).bearer_auth(&app.agent_token).header("if-none-match", "\"0000\"").send().await.unwrap();
        assert_eq!(stale.status(), StatusCode::OK, "{url}");
        assert_eq!(stale.bytes().await.unwrap().to_vec(), pdf.bytes);
    }
    // No document without credentials, and none for a number that was never issued.
    let res = app.client.get(&ticket_url).send().await.unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let res = app.get("/api/v1/tickets/157-0000000001/pdf", &app.agent_token).await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

async fn family_documents_show_diacritics_every_passenger_and_emds(app: TestApp) {
    let vnd = new_agency(&app.app, "Hanoi Travel", "VND", "100000000").await;
    let agent = app.app.create_user(&op(), "hanoi", "hanoi-password", Role::Agent, Some(vnd.id)).await.unwrap();
    let token = app.app.issue_token(&agent).unwrap().access_token;
    let mut family = example("family");
    family["passengers"][0]["surname"] = json!("NGUYỄN");
    let booking = app.book(&token, &family).await;
    let (status, issued) = app.issue(&token, booking["id"].as_str().unwrap(), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let tickets = issued["tickets"].as_array().unwrap();
    let first = tickets.iter().find(|t| t["passenger_id"] == "pax-001" && t["type"] == "TKT").unwrap();
    let number = first["number"].as_str().unwrap();
    let pdf = download(&app, &app.url(&format!("/api/v1/tickets/{number}/pdf")), Some(&token)).await;
    let text = readable_text(&pdf.bytes);
    assert!(text.contains("NGUYỄN"), "the font must carry Vietnamese diacritics:\n{text}");
    assert!(text.contains(number), "{text}");

    let reference = issued["ticketReferenceID"].as_str().unwrap();
    let combined = download(&app, &app.url(&format!("/api/v1/issuances/{reference}/pdf")), Some(&token)).await;
    assert!(page_count(&combined.bytes) >= 4, "one page or more per passenger");
    let text = readable_text(&combined.bytes);
    for expected in ["NGUYỄN/VAN A", "TRAN/THI B", "NGUYEN/VAN C", "NGUYEN/THI D", "ABC123"] {
        assert!(text.contains(expected), "the combined itinerary should show {expected}:\n{text}");
    }

    let emds: Vec<&Value> = tickets.iter().filter(|t| t["type"] == "EMD").collect();
    assert_eq!(emds.len(), 2);
    for emd in emds {
        let number = emd["number"].as_str().unwrap();
        let pdf = download(&app, &app.url(&format!("/api/v1/tickets/{number}/pdf")), Some(&token)).await;
        assert_eq!(pdf.disposition, format!("attachment; filename=\"emd-{}.pdf\"", number.replace('-', "")));
        let text = readable_text(&pdf.bytes);
        assert!(text.contains(number), "the EMD should show its number:\n{text}");
    }
}

/// POSTs a link request and returns (url, expires_at), checking the answer's shape.
async fn sign(app: &TestApp, path: &str) -> (String, chrono::DateTime<chrono::FixedOffset>) {
    let res = app.post(path, &app.agent_token, &json!({})).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{path}");
    let body: Value = res.json().await.unwrap();
    let url = body["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/d/", app.base)), "{url}");
    let expires_at = chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    (url, expires_at)
}

/// The same link with one character of the payload (`part` 0) or signature (`part` 1) changed.
fn tampered(url: &str, part: usize) -> String {
    let (base, token) = url.rsplit_once("/d/").unwrap();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    assert_eq!(parts.len(), 2, "{token}");
    let mut chars: Vec<char> = parts[part].chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    parts[part] = chars.into_iter().collect();
    format!("{base}/d/{}", parts.join("."))
}

async fn signed_links_open_without_credentials_and_refuse_tampering(app: TestApp) {
    let (number, reference) = issue_oneway(&app).await;
    for (what, link_path, pdf_path) in [
        ("ticket", format!("/api/v1/tickets/{number}/link"), format!("/api/v1/tickets/{number}/pdf")),
        ("issuance", format!("/api/v1/issuances/{reference}/link"), format!("/api/v1/issuances/{reference}/pdf")),
    ] {
        let before = chrono::Utc::now();
        let (url, expires_at) = sign(&app, &link_path).await;
        let ahead = (expires_at.with_timezone(&chrono::Utc) - before).num_seconds();
        assert!((895..=905).contains(&ahead), "{what}: a link lives 900 s by default, this one {ahead} s");
        let authenticated = download(&app, &app.url(&pdf_path), Some(&app.agent_token)).await;
        let anonymous = download(&app, &url, None).await;
        assert_eq!(format!("\"{}\"", sha256_hex(&anonymous.bytes)), authenticated.etag, "{what}");
        assert_eq!(anonymous.disposition, authenticated.disposition, "{what}");
        // Followed twice: a link is not single-use until it expires.
        assert_eq!(download(&app, &url, None).await.bytes, anonymous.bytes);
        for part in [1, 0] {
            let forged = tampered(&url, part);
            assert_ne!(forged, url);
            let res = app.client.get(&forged).send().await.unwrap();
            expect_problem(res, StatusCode::FORBIDDEN, "link_invalid").await;
        }
        let (base, token) = url.rsplit_once('.').unwrap();
        let res = app.client.get(format!("{base}.{token}{token}")).send().await.unwrap();
        expect_problem(res, StatusCode::FORBIDDEN, "link_invalid").await;
    }
    // Another agency cannot sign a link to this agency's documents.
    let res = app.post(&format!("/api/v1/issuances/{reference}/link"), &app.other_token, &json!({})).await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

async fn an_expired_link_answers_410(backend: Backend) {
    let app = spawn_app_with(backend, Options { link_ttl: Some(1), ..Default::default() }).await;
    let (number, _) = issue_oneway(&app).await;
    let before = chrono::Utc::now();
    let (url, expires_at) = sign(&app, &format!("/api/v1/tickets/{number}/link")).await;
    // Expiry is kept in whole seconds, rounded up: at least the TTL, less than a second more.
    let lifetime = (expires_at.with_timezone(&chrono::Utc) - before).num_milliseconds();
    assert!((1000..=3000).contains(&lifetime), "a 1 s link lives 1-2 s (plus the request), not {lifetime} ms");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let res = app.client.get(&url).send().await.unwrap();
    expect_problem(res, StatusCode::GONE, "link_expired").await;
    // Expired and tampered is still just invalid: the signature is checked first.
    let res = app.client.get(tampered(&url, 1)).send().await.unwrap();
    expect_problem(res, StatusCode::FORBIDDEN, "link_invalid").await;
}

async fn downloads(app: &TestApp, token: &str, number: &str) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/audit?ticket={number}"), token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let audit: Value = res.json().await.unwrap();
    audit["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "document.download").cloned().collect()
}

async fn every_download_is_audited(app: TestApp) {
    let (number, _) = issue_oneway(&app).await;
    assert!(downloads(&app, &app.agent_token, &number).await.is_empty(), "nothing downloaded yet");
    let pdf = download(&app, &app.url(&format!("/api/v1/tickets/{number}/pdf")), Some(&app.agent_token)).await;
    let entries = downloads(&app, &app.agent_token, &number).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(entry["outcome"], "success");
    assert_eq!(entry["username"], "agent");
    assert_eq!(entry["ticket_number"], number.replace('-', ""));
    assert_eq!(entry["detail"]["via"], "api");
    assert_eq!(format!("\"{}\"", entry["detail"]["sha256"].as_str().unwrap()), pdf.etag);
    assert!(entry["tracking_id"].as_str().is_some_and(|t| !t.is_empty()), "{entry}");

    let (url, _) = sign(&app, &format!("/api/v1/tickets/{number}/link")).await;
    download(&app, &url, None).await;
    let entries = downloads(&app, &app.agent_token, &number).await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[1]["username"], "anonymous");
    assert_eq!(entries[1]["detail"]["via"], "signed_link");
    // A refused download is not a download; another agency sees none of this trail.
    let res = app.get(&format!("/api/v1/tickets/{number}/pdf"), &app.other_token).await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(downloads(&app, &app.agent_token, &number).await.len(), 2);
    assert!(downloads(&app, &app.other_token, &number).await.is_empty());
}

/// Concurrent downloads, half with a token and half through a signed link, leave one access-log entry each.
/// The server would hold the entries for an hour: they are listed because a read of the log first writes what
/// is queued (docs/api.md, Access log), not because time passed.
async fn concurrent_downloads_each_leave_one_access_log_entry(backend: Backend) {
    const N: usize = 64;
    let app = spawn_app_with(backend, Options { access_log_flush_ms: Some(3_600_000), ..Default::default() }).await;
    let (number, _) = issue_oneway(&app).await;
    let (link, _) = sign(&app, &format!("/api/v1/tickets/{number}/link")).await;
    let pdf = app.url(&format!("/api/v1/tickets/{number}/pdf"));
    let requests = (0..N).map(|i| {
        let request =
            if i % 2 == 0 { app.client.get(&pdf).bearer_auth(&app.agent_token) } else { app.client.get(&link) };
        async move {
            let res = request.header("x-request-id", format!("concurrent-{i}")).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            assert!(res.bytes().await.unwrap().starts_with(b"%PDF-"));
        }
    });
    futures::future::join_all(requests).await;

    let entries = downloads(&app, &app.agent_token, &number).await;
    assert_eq!(entries.len(), N, "{entries:?}");
    let mut tracking: Vec<&str> = entries.iter().map(|e| e["tracking_id"].as_str().unwrap()).collect();
    tracking.sort_unstable();
    let mut expected: Vec<String> = (0..N).map(|i| format!("concurrent-{i}")).collect();
    expected.sort_unstable();
    assert_eq!(tracking, expected, "one entry per download, each its own");
    let via = |v: &str| entries.iter().filter(|e| e["detail"]["via"] == v).count();
    assert_eq!((via("api"), via("signed_link")), (N / 2, N / 2));
    let anonymous = entries.iter().filter(|e| e["username"] == "anonymous").count();
    assert_eq!(anonymous, N / 2, "signed links are followed without credentials");

    // The admins' access log reads the same rows.
    let res = app.get("/api/v1/downloads?limit=1000", &app.admin_token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["downloads"].as_array().unwrap().len(), N, "{body}");
}

both_backends!(
    ticket_and_issuance_pdfs_carry_etag_attachment_and_readable_text,
    family_documents_show_diacritics_every_passenger_and_emds,
    signed_links_open_without_credentials_and_refuse_tampering,
    every_download_is_audited,
);

both_backends_custom!(an_expired_link_answers_410, concurrent_downloads_each_leave_one_access_log_entry);
