//! Group API (group tickets by booking code): every response of the seed, and real e-mail through a real SMTP server:
//! recipient, subject, both body parts, one PDF per ticket whose SHA-256 is the stored document's; SMTP down
//! answers 500 and keeps the message queued; SMTP back delivers it exactly once.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{example, op, spawn_app_with, Backend, Options, TestApp};
use crate::smtp::SmtpSink;

async fn create(app: &TestApp, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut req = app.client.post(app.url("/tickets")).json(body);
    if let Some(t) = token {
        req = req.header("x-access-token", t);
    }
    let res = req.send().await.expect("request");
    (res.status(), res.json().await.expect("json"))
}

async fn download(app: &TestApp, token: Option<&str>, query: &str) -> (StatusCode, Value) {
    let mut req = app.client.get(app.url(&format!("/tickets{query}")));
    if let Some(t) = token {
        req = req.header("x-access-token", t);
    }
    let res = req.send().await.expect("request");
    (res.status(), res.json().await.expect("json"))
}

fn says(ok: bool, message: &str) -> Value {
    json!({"status": ok, "message": message})
}

async fn outbox(app: &TestApp) -> Vec<Value> {
    let body: Value = app.get("/api/v1/outbox", &app.admin_token).await.json().await.expect("json");
    body["messages"].as_array().cloned().unwrap_or_default()
}

async fn every_response_of_the_seed(app: TestApp) {
    app.book(&app.agent_token, &example("oneway")).await;
    let code = json!({"booking_code": "PQMJ8E"});
    assert_eq!(create(&app, None, &code).await, (StatusCode::UNAUTHORIZED, says(false, "No token provided")));
    assert_eq!(
        create(&app, Some("bad.token.sig"), &code).await,
        (StatusCode::UNAUTHORIZED, says(false, "Invalid signature"))
    );
    let customer = create(&app, Some(&app.customer_token), &code).await;
    assert_eq!(customer, (StatusCode::BAD_REQUEST, says(false, "Authorization fail. you are customer.")));
    let unknown = create(&app, Some(&app.agent_token), &json!({"booking_code": "NOPE99"})).await;
    assert_eq!(unknown, (StatusCode::CONFLICT, says(false, "Create ticket fail: booking not found")));
    let other = create(&app, Some(&app.other_token), &code).await;
    assert_eq!(other, (StatusCode::CONFLICT, says(false, "Create ticket fail: booking not found")));
    let (status, body) = create(&app, Some(&app.agent_token), &json!({})).await;
    assert_eq!(
        (status, &body["message"]),
        (StatusCode::CONFLICT, &json!("Create ticket fail: booking_code is required"))
    );
    // Nothing so far changed anything; GET finds no tickets.
    assert_eq!(app.balance(&app.agency).await, "1000000.00");
    let none = download(&app, Some(&app.agent_token), "?booking_code=PQMJ8E").await;
    assert_eq!(none, (StatusCode::BAD_REQUEST, says(false, "Can not generate ticket")));
    assert_eq!(
        download(&app, Some(&app.agent_token), "").await,
        (StatusCode::BAD_REQUEST, says(false, "Can not generate ticket"))
    );
    assert_eq!(
        download(&app, None, "?booking_code=PQMJ8E").await,
        (StatusCode::UNAUTHORIZED, says(false, "No token provided"))
    );
    let customer = download(&app, Some(&app.customer_token), "?booking_code=PQMJ8E").await;
    assert_eq!(customer, (StatusCode::BAD_REQUEST, says(false, "Authorization fail. you are customer.")));

    assert_eq!(create(&app, Some(&app.agent_token), &code).await, (StatusCode::CREATED, says(true, "ticket created")));
    assert_eq!(app.balance(&app.agency).await, "958107.00");
    let again = create(&app, Some(&app.agent_token), &code).await;
    assert_eq!(again, (StatusCode::CONFLICT, says(false, "Create ticket fail: the booking is already ticketed")));
    assert_eq!(app.balance(&app.agency).await, "958107.00");

    // Without an SMTP relay the message waits in the outbox, and the caller is told it was created.
    let queued = download(&app, Some(&app.agent_token), "?booking_code=PQMJ8E").await;
    assert_eq!(queued, (StatusCode::OK, says(true, "created success")));
    let messages = outbox(&app).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["status"], "queued");
    assert_eq!(messages[0]["attempts"], 0);
    assert_eq!(messages[0]["recipient"], "traveller@example.com");
    assert!(messages[0]["subject"].as_str().unwrap().contains("PQMJ8E"));
    let res = app.get("/api/v1/outbox", &app.agent_token).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn insufficient_balance_is_a_create_failure(app: TestApp) {
    let poor = crate::helpers::new_agency(&app.app, "Poor", "NPR", "1").await;
    let agent = app
        .app
        .create_user(&op(), "poor", "poor-password", tessera_core::user::Role::Agent, Some(poor.id))
        .await
        .unwrap();
    let token = app.app.issue_token(&agent).unwrap().access_token;
    app.book(&token, &example("oneway")).await;
    let (status, body) = create(&app, Some(&token), &json!({"booking_code": "PQMJ8E"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["message"].as_str().unwrap().starts_with("Create ticket fail: insufficient balance"), "{body}");
    assert_eq!(app.balance(&poor).await, "1.00");
}

async fn tickets_are_emailed_with_their_pdfs(backend: Backend) {
    let sink = SmtpSink::start();
    let app = spawn_app_with(backend, Options { smtp_url: Some(sink.url()), ..Default::default() }).await;
    let vnd = crate::helpers::new_agency(&app.app, "Hanoi", "VND", "100000000").await;
    let agent = app
        .app
        .create_user(&op(), "hanoi", "hanoi-password", tessera_core::user::Role::Agent, Some(vnd.id))
        .await
        .unwrap();
    let token = app.app.issue_token(&agent).unwrap().access_token;
    app.book(&token, &example("family")).await;
    assert_eq!(create(&app, Some(&token), &json!({"booking_code": "ABC123"})).await.0, StatusCode::CREATED);
    assert_eq!(
        download(&app, Some(&token), "?booking_code=ABC123").await,
        (StatusCode::OK, says(true, "created success"))
    );
    let received = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.to, vec!["booker@example.vn".to_owned()]);
    assert!(mail.from.contains("tickets@tessera.test"), "{}", mail.from);
    assert!(mail.subject.contains("ABC123"), "{}", mail.subject);
    assert!(mail.text.as_deref().is_some_and(|t| t.contains("ABC123")));
    assert!(mail.html.as_deref().is_some_and(|h| h.contains("ABC123")));
    // One PDF per ticket (4 TKT + 2 EMD), each byte-identical to the stored document.
    assert_eq!(mail.attachments.len(), 6);
    let issuance: Value = app.get("/api/v1/bookings?pnr=ABC123", &token).await.json().await.unwrap();
    assert_eq!(issuance["bookings"][0]["status"], "ticketed");
    for (name, content_type, bytes) in &mail.attachments {
        assert_eq!(content_type, "application/pdf");
        let number = name.trim_end_matches(".pdf").rsplit('-').next().unwrap();
        let stored = app.get(&format!("/api/v1/tickets/{number}/pdf"), &token).await;
        assert_eq!(stored.status(), StatusCode::OK, "{name}");
        let etag = stored.headers()["etag"].to_str().unwrap().to_owned();
        assert_eq!(etag, format!("\"{}\"", hex::encode(Sha256::digest(bytes))), "{name}");
    }
    let messages = outbox(&app).await;
    assert_eq!((messages[0]["status"].as_str(), messages[0]["attempts"].as_u64()), (Some("sent"), Some(1)));
}

async fn smtp_down_then_back_delivers_exactly_once(backend: Backend) {
    let mut sink = SmtpSink::start();
    let app = spawn_app_with(backend, Options { smtp_url: Some(sink.url()), ..Default::default() }).await;
    app.book(&app.agent_token, &example("oneway")).await;
    assert_eq!(create(&app, Some(&app.agent_token), &json!({"booking_code": "PQMJ8E"})).await.0, StatusCode::CREATED);
    sink.stop();
    let (status, body) = download(&app, Some(&app.agent_token), "?booking_code=PQMJ8E").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body["message"].as_str().unwrap().starts_with("Send Email fail: "), "{body}");
    assert_eq!(body["status"], false);
    let messages = outbox(&app).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["status"], "queued");
    assert!(messages[0]["attempts"].as_u64().unwrap() >= 1);
    assert!(messages[0]["last_error"].as_str().is_some_and(|e| !e.is_empty()));
    sink.restart();
    let received = sink.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(received.len(), 1);
    // Give the worker time to (wrongly) send it again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.messages().len(), 1, "delivered exactly once");
    let messages = outbox(&app).await;
    assert_eq!(messages[0]["status"], "sent");
}

async fn booking_status(app: &TestApp, token: &str, pnr: &str) -> Value {
    let found: Value = app.get(&format!("/api/v1/bookings?pnr={pnr}"), token).await.json().await.expect("json");
    found["bookings"][0]["status"].clone()
}

/// A new API key for `user` through the native admin API: (its id, the key).
async fn new_api_key(app: &TestApp, user: &str) -> (String, String) {
    let url = app.url(&format!("/api/v1/users/{user}/api-keys"));
    let res = app.client.post(url).bearer_auth(&app.admin_token).send().await.expect("request");
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.expect("json");
    (body["id"].as_str().unwrap().to_owned(), body["key"].as_str().unwrap().to_owned())
}

/// The group API takes an agency's API key in `x-access-token` as well as a JWT; a key that is unknown or
/// revoked is refused like a forged token, and a customer's key like a customer's token.
async fn an_api_key_works_in_x_access_token(app: TestApp) {
    app.book(&app.agent_token, &example("oneway")).await;
    let code = json!({"booking_code": "PQMJ8E"});
    let (key_id, key) = new_api_key(&app, &app.agent.id.to_string()).await;
    let invalid = (StatusCode::UNAUTHORIZED, says(false, "Invalid signature"));
    let unknown = format!("tsk_{}", "0".repeat(48));
    assert_eq!(create(&app, Some(&unknown), &code).await, invalid);
    assert_eq!(download(&app, Some(&unknown), "?booking_code=PQMJ8E").await, invalid);
    assert_eq!(create(&app, Some("tsk_"), &code).await, invalid);
    let (_, customer_key) = new_api_key(&app, &app.customer.id.to_string()).await;
    let refused = (StatusCode::BAD_REQUEST, says(false, "Authorization fail. you are customer."));
    assert_eq!(create(&app, Some(&customer_key), &code).await, refused);
    assert_eq!(app.balance(&app.agency).await, "1000000.00");

    assert_eq!(create(&app, Some(&key), &code).await, (StatusCode::CREATED, says(true, "ticket created")));
    assert_eq!(app.balance(&app.agency).await, "958107.00");
    let sent = download(&app, Some(&key), "?booking_code=PQMJ8E").await;
    assert_eq!(sent, (StatusCode::OK, says(true, "created success")));
    // The issuance is recorded as the key's user's.
    let audit: Value = app.get("/api/v1/audit", &app.admin_token).await.json().await.expect("json");
    let issued = audit["entries"].as_array().unwrap().iter().find(|e| e["action"] == "issuance.create").cloned();
    assert_eq!(issued.map(|e| e["username"].clone()), Some(json!(app.agent.username)), "{audit}");

    let revoked = app.client.delete(app.url(&format!("/api/v1/api-keys/{key_id}"))).bearer_auth(&app.admin_token);
    assert_eq!(revoked.send().await.expect("request").status(), StatusCode::NO_CONTENT);
    assert_eq!(download(&app, Some(&key), "?booking_code=PQMJ8E").await, invalid);
    assert_eq!(outbox(&app).await.len(), 1, "the revoked key sent nothing");
}

/// Each failure has its own status: a customer is refused before the body is read, and documents that
/// cannot be stored are the server's failure (500), not a conflict; nothing changes.
async fn each_failure_has_its_own_status(app: TestApp) {
    app.book(&app.agent_token, &example("oneway")).await;
    let refused = (StatusCode::BAD_REQUEST, says(false, "Authorization fail. you are customer."));
    assert_eq!(create(&app, Some(&app.customer_token), &json!({})).await, refused);
    assert_eq!(download(&app, Some(&app.customer_token), "").await, refused);
    let res = app
        .client
        .post(app.url("/tickets"))
        .header("x-access-token", &app.agent_token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(res.json::<Value>().await.unwrap(), says(false, "Create ticket fail: booking_code is required"));

    // An unwritable document store does not lose the issuance: its documents are rendered when first read.
    let docs = app.data_dir.path().join("documents");
    std::fs::remove_dir_all(&docs).unwrap();
    std::fs::write(&docs, b"not a folder").unwrap();
    let created = create(&app, Some(&app.agent_token), &json!({"booking_code": "PQMJ8E"})).await;
    assert_eq!(created, (StatusCode::CREATED, says(true, "ticket created")));
    assert_eq!(app.balance(&app.agency).await, "958107.00");
    assert_eq!(booking_status(&app, &app.agent_token, "PQMJ8E").await, "ticketed");
    std::fs::remove_file(&docs).unwrap();
}

/// The SMTP server's own words (addresses, ports, errors) stay in the log and the outbox; the client gets a
/// fixed message.
async fn smtp_failure_text_is_not_sent_to_the_client(backend: Backend) {
    let mut sink = SmtpSink::start();
    let app = spawn_app_with(backend, Options { smtp_url: Some(sink.url()), ..Default::default() }).await;
    app.book(&app.agent_token, &example("oneway")).await;
    assert_eq!(create(&app, Some(&app.agent_token), &json!({"booking_code": "PQMJ8E"})).await.0, StatusCode::CREATED);
    sink.stop();
    let failed = download(&app, Some(&app.agent_token), "?booking_code=PQMJ8E").await;
    assert_eq!(
        failed,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            says(false, "Send Email fail: the mail server did not accept the message; it will be retried")
        )
    );
    let messages = outbox(&app).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["status"], "queued");
    let reason = messages[0]["last_error"].as_str().unwrap_or_default().to_owned();
    assert!(!reason.is_empty() && !failed.1["message"].as_str().unwrap().contains(&reason), "{reason}");
}

both_backends!(
    every_response_of_the_seed,
    insufficient_balance_is_a_create_failure,
    an_api_key_works_in_x_access_token,
    each_failure_has_its_own_status,
);
both_backends_custom!(
    tickets_are_emailed_with_their_pdfs,
    smtp_down_then_back_delivers_exactly_once,
    smtp_failure_text_is_not_sent_to_the_client,
);
