//! Webhooks over real HTTP: a real receiver process (`tests/support/webhook_receiver.py`) verifies every
//! delivery with the `standardwebhooks` package; retries after errors, manual redelivery, secret rotation,
//! agency isolation and the validation of what an agency registers.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{example, expect_problem, spawn_app_with, Backend, Options, TestApp};
use crate::lifecycle::{act, issued_round_trip};
use crate::webhook_receiver::Receiver;

/// Registers an endpoint as `token`, asserting 201; returns its body (with the secret).
async fn register(app: &TestApp, token: &str, url: &str, events: &[&str]) -> Value {
    let res = app.post("/api/v1/webhooks", token, &json!({"url": url, "events": events, "description": "test"})).await;
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn issue_oneway(app: &TestApp, pnr: &str) -> Value {
    let mut doc = example("oneway");
    doc["pnr"] = json!(pnr);
    let booking = app.book(&app.agent_token, &doc).await;
    let (status, issued) = app.issue(&app.agent_token, booking["id"].as_str().unwrap(), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    issued
}

async fn deliveries(app: &TestApp, webhook: &str) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/webhooks/{webhook}/deliveries"), &app.agent_token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    body["deliveries"].as_array().expect("deliveries").clone()
}

/// Polls the deliveries API until the newest delivery has `status` (the worker records after it sends).
async fn wait_for_status(app: &TestApp, webhook: &str, status: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found = deliveries(app, webhook).await;
        if found.first().is_some_and(|d| d["status"] == status) {
            return found;
        }
        assert!(std::time::Instant::now() < deadline, "no delivery became {status}: {found:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn issuance_created_arrives_signed(app: TestApp) {
    let receiver = Receiver::start();
    let hook = register(&app, &app.agent_token, &receiver.url("/hooks/a"), &["issuance.created"]).await;
    let secret = hook["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{hook}");
    assert_eq!(hook["status"], "active");
    assert_eq!(hook["agency_id"], json!(app.agency.id.to_string()));
    receiver.add_secret("/hooks/a", secret).await;
    // Subscribed to something else: gets nothing from an issuance.
    let other = register(&app, &app.agent_token, &receiver.url("/hooks/b"), &["ticket.voided"]).await;
    // The secret is shown once: reads never include it.
    let read: Value = app
        .get(&format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap()), &app.agent_token)
        .await
        .json()
        .await
        .unwrap();
    assert!(read.get("secret").is_none(), "{read}");

    let issued = issue_oneway(&app, "WHK001").await;
    let got = receiver.wait_for("/hooks/a", 1).await;
    let delivery = &got[0];
    assert_eq!(delivery["verified_by"], json!(0), "{delivery}");
    assert_eq!(delivery["answered"], json!(200));
    let body = &delivery["body"];
    assert_eq!(body["type"], "issuance.created");
    assert!(chrono::DateTime::parse_from_rfc3339(body["timestamp"].as_str().unwrap()).is_ok(), "{body}");
    assert_eq!(body["data"]["issuance_id"], issued["ticketReferenceID"], "{body}");
    assert_eq!(body["data"]["agency_id"], json!(app.agency.id.to_string()));
    let numbers: Vec<&Value> = issued["tickets"].as_array().unwrap().iter().map(|t| &t["number"]).collect();
    let sent: Vec<&Value> = body["data"]["tickets"].as_array().unwrap().iter().map(|t| &t["number"]).collect();
    assert_eq!(sent, numbers);
    let timestamp: i64 = delivery["headers"]["webhook-timestamp"].as_str().unwrap().parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 300);

    let listed = wait_for_status(&app, hook["id"].as_str().unwrap(), "delivered").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["type"], "issuance.created");
    assert_eq!(listed[0]["event_id"], delivery["headers"]["webhook-id"]);
    assert_eq!(listed[0]["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["attempts"][0]["outcome"], "success");
    assert_eq!(listed[0]["attempts"][0]["response_code"], 200);
    assert!(listed[0]["attempts"][0]["latency_ms"].is_u64());
    assert!(deliveries(&app, other["id"].as_str().unwrap()).await.is_empty());
}

async fn a_failed_delivery_is_retried_given_up_and_redelivered(app: TestApp) {
    let receiver = Receiver::start();
    let hook = register(&app, &app.agent_token, &receiver.url("/hooks/r"), &["issuance.created"]).await;
    let id = hook["id"].as_str().unwrap();
    receiver.add_secret("/hooks/r", hook["secret"].as_str().unwrap()).await;

    // One 500, then the retry gets through, with the same webhook-id.
    receiver.fail_next("/hooks/r", 1, 500).await;
    issue_oneway(&app, "WHK002").await;
    let got = receiver.wait_for("/hooks/r", 2).await;
    assert_eq!(got[0]["answered"], 500);
    assert_eq!(got[1]["answered"], 200);
    assert_eq!(got[0]["headers"]["webhook-id"], got[1]["headers"]["webhook-id"]);
    assert_eq!(got[1]["verified_by"], json!(0));
    let listed = wait_for_status(&app, id, "delivered").await;
    let attempts = listed[0]["attempts"].as_array().unwrap();
    assert_eq!(
        attempts.iter().map(|a| (a["outcome"].clone(), a["response_code"].clone())).collect::<Vec<_>>(),
        vec![(json!("failure"), json!(500)), (json!("success"), json!(200))]
    );

    // Seven 503s: the first attempt and every retry (six in the tests' schedule) fail; the delivery is given up
    // and the endpoint marked failing.
    receiver.fail_next("/hooks/r", 7, 503).await;
    issue_oneway(&app, "WHK003").await;
    receiver.wait_for("/hooks/r", 9).await;
    let listed = wait_for_status(&app, id, "failed").await;
    assert_eq!(listed[0]["attempts"].as_array().unwrap().len(), 7);
    assert_eq!(listed[0]["last_response_code"], 503);
    let endpoint: Value = app.get(&format!("/api/v1/webhooks/{id}"), &app.agent_token).await.json().await.unwrap();
    assert_eq!(endpoint["status"], "failing");

    // A manual redelivery sends it once more; it gets through and the endpoint is active again.
    let delivery = listed[0]["id"].as_str().unwrap();
    let (status, retried) =
        act(&app, &app.agent_token, &format!("/api/v1/webhooks/{id}/deliveries/{delivery}/retry"), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{retried}");
    assert_eq!(retried["status"], "pending");
    let got = receiver.wait_for("/hooks/r", 10).await;
    assert_eq!(got[9]["answered"], 200);
    assert_eq!(got[9]["headers"]["webhook-id"], got[8]["headers"]["webhook-id"]);
    let listed = wait_for_status(&app, id, "delivered").await;
    assert_eq!(listed[0]["attempts"].as_array().unwrap().len(), 8);
    let endpoint: Value = app.get(&format!("/api/v1/webhooks/{id}"), &app.agent_token).await.json().await.unwrap();
    assert_eq!(endpoint["status"], "active");
}

async fn a_rotated_secret_signs_from_then_on(app: TestApp) {
    let receiver = Receiver::start();
    let hook = register(&app, &app.agent_token, &receiver.url("/hooks/s"), &["issuance.created"]).await;
    let id = hook["id"].as_str().unwrap();
    let old = hook["secret"].as_str().unwrap().to_owned();
    receiver.add_secret("/hooks/s", &old).await;
    let (status, rotated) =
        act(&app, &app.agent_token, &format!("/api/v1/webhooks/{id}/rotate-secret"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new = rotated["secret"].as_str().unwrap();
    assert!(new.starts_with("whsec_") && new != old);
    receiver.add_secret("/hooks/s", new).await;
    issue_oneway(&app, "WHK004").await;
    let got = receiver.wait_for("/hooks/s", 1).await;
    // Index 1 is the new secret; the old one (index 0) does not verify it.
    assert_eq!(got[0]["verified_by"], json!(1), "{}", got[0]);
}

async fn lifecycle_and_low_balance_events_arrive(app: TestApp) {
    let receiver = Receiver::start();
    let events = ["issuance.created", "ticket.voided", "coupon.used", "balance.low"];
    let hook = register(&app, &app.agent_token, &receiver.url("/hooks/l"), &events).await;
    receiver.add_secret("/hooks/l", hook["secret"].as_str().unwrap()).await;
    let path = format!("/api/v1/agencies/{}/low-balance-threshold", app.agency.id);
    let res = app
        .client
        .put(app.url(&path))
        .bearer_auth(&app.agent_token)
        .json(&json!({"threshold": "999999"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"threshold": "999999.00", "currency": "NPR"}));

    // The issuance takes the balance from 1,000,000.00 below 999,999.00: balance.low, once.
    let (tkt, emd) = issued_round_trip(&app, "WHK005", true).await;
    let (status, body) = act(&app, &app.agent_token, &format!("/api/v1/tickets/{emd}/void"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = act(&app, &app.agent_token, &format!("/api/v1/tickets/{tkt}/coupons/1/use"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let got = receiver.wait_for("/hooks/l", 4).await;
    let mut types: Vec<&str> = got.iter().map(|g| g["body"]["type"].as_str().unwrap()).collect();
    types.sort();
    assert_eq!(types, ["balance.low", "coupon.used", "issuance.created", "ticket.voided"]);
    assert!(got.iter().all(|g| g["verified_by"] == json!(0)));
    let by_type = |t: &str| got.iter().find(|g| g["body"]["type"] == t).unwrap()["body"]["data"].clone();
    assert_eq!(by_type("balance.low")["threshold"], json!({"amount": "999999.00", "currency": "NPR"}));
    assert_eq!(by_type("ticket.voided")["status"], "VOID");
    assert_eq!(by_type("coupon.used")["coupons"], json!([1]));
    // The void credits a little back, but the balance stays below the threshold: no second balance.low.
    assert_eq!(receiver.received().await.len(), 4);
}

async fn another_agencys_webhook_is_not_found(app: TestApp) {
    let hook = register(&app, &app.agent_token, "http://127.0.0.1:9/x", &["issuance.created"]).await;
    let id = hook["id"].as_str().unwrap();
    let before: Value = app.get(&format!("/api/v1/webhooks/{id}"), &app.agent_token).await.json().await.unwrap();
    let other = &app.other_token;
    let zero = "00000000-0000-0000-0000-000000000000";
    for res in [
        app.get(&format!("/api/v1/webhooks/{id}"), other).await,
        app.client
            .patch(app.url(&format!("/api/v1/webhooks/{id}")))
            .bearer_auth(other)
            .json(&json!({"url": "http://127.0.0.1:9/y"}))
            .send()
            .await
            .unwrap(),
        app.client.delete(app.url(&format!("/api/v1/webhooks/{id}"))).bearer_auth(other).send().await.unwrap(),
        app.post(&format!("/api/v1/webhooks/{id}/rotate-secret"), other, &json!({})).await,
        app.get(&format!("/api/v1/webhooks/{id}/deliveries"), other).await,
        app.post(&format!("/api/v1/webhooks/{id}/deliveries/{zero}/retry"), other, &json!({})).await,
    ] {
        let body = expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        assert_eq!(body["detail"], "webhook not found");
    }
    let listed: Value = app.get("/api/v1/webhooks", other).await.json().await.unwrap();
    assert_eq!(listed, json!([]));
    // Creating one for another agency is refused as if the agency did not exist.
    let res = app
        .post(
            "/api/v1/webhooks",
            other,
            &json!({"url": "http://127.0.0.1:9/x", "events": ["balance.low"], "agency_id": app.agency.id.to_string()}),
        )
        .await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    // Customers manage no webhooks.
    expect_problem(app.get("/api/v1/webhooks", &app.customer_token).await, StatusCode::FORBIDDEN, "forbidden").await;
    // Nothing changed; the admin sees it among every agency's.
    let after: Value = app.get(&format!("/api/v1/webhooks/{id}"), &app.agent_token).await.json().await.unwrap();
    assert_eq!(before, after);
    let all: Value = app.get("/api/v1/webhooks", &app.admin_token).await.json().await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
    // The agent's own changes and deletion work.
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/webhooks/{id}")))
        .bearer_auth(&app.agent_token)
        .json(&json!({"events": ["ticket.refunded", "ticket.refunded"], "description": ""}))
        .send()
        .await
        .unwrap();
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["events"], json!(["ticket.refunded"]));
    assert_eq!(patched["description"], Value::Null);
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/webhooks/{id}")))
        .bearer_auth(&app.agent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    expect_problem(
        app.get(&format!("/api/v1/webhooks/{id}"), &app.agent_token).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

fn invalid(pointer: &str, reason: &str) -> Value {
    json!({"type": "about:blank", "title": "Unprocessable Entity", "status": 422, "code": "validation_failed",
        "detail": "invalid request", "errors": [{"pointer": pointer, "reason": reason}]})
}

async fn what_an_agency_registers_is_validated(backend: Backend) {
    let app = spawn_app_with(backend, Options { webhooks_allow_private: Some(false), ..Default::default() }).await;
    let cases = [
        (
            json!({"url": "ftp://hooks.example.com/x", "events": ["issuance.created"]}),
            invalid("/url", "must be an http:// or https:// URL, not ftp://"),
        ),
        (
            json!({"url": "http://127.0.0.1:8080/x", "events": ["issuance.created"]}),
            invalid("/url", "must not point at a loopback, private or link-local address"),
        ),
        (
            json!({"url": "http://169.254.169.254/latest", "events": ["issuance.created"]}),
            invalid("/url", "must not point at a loopback, private or link-local address"),
        ),
        (
            json!({"url": "http://localhost/x", "events": ["issuance.created"]}),
            invalid("/url", "must not point at a loopback, private or link-local address"),
        ),
        (
            json!({"url": "https://user:pw@hooks.example.com/x", "events": ["issuance.created"]}),
            invalid("/url", "must not contain credentials"),
        ),
        (
            json!({"url": "https://hooks.example.com/x", "events": []}),
            invalid("/events", "must list at least one event type"),
        ),
        (
            json!({"url": "https://hooks.example.com/x", "events": ["issuance.created", "ticket.lost"]}),
            invalid("/events/1", "unknown event type `ticket.lost`"),
        ),
    ];
    for (body, expected) in cases {
        let res = app.post("/api/v1/webhooks", &app.agent_token, &body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(res.json::<Value>().await.unwrap(), expected, "{body}");
    }
    // An admin names the agency.
    let res = app
        .post(
            "/api/v1/webhooks",
            &app.admin_token,
            &json!({"url": "https://hooks.example.com/x", "events": ["balance.low"]}),
        )
        .await;
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        invalid("/agency_id", "required: name the agency the endpoint belongs to")
    );
    // Nothing was registered.
    let listed: Value = app.get("/api/v1/webhooks", &app.admin_token).await.json().await.unwrap();
    assert_eq!(listed, json!([]));
    // A public URL is fine, and a PATCH is checked the same way.
    let hook = register(&app, &app.agent_token, "https://hooks.example.com/x", &["balance.low"]).await;
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap())))
        .bearer_auth(&app.agent_token)
        .json(&json!({"url": "http://10.0.0.8/x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        invalid("/url", "must not point at a loopback, private or link-local address")
    );
    let read: Value = app
        .get(&format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap()), &app.agent_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["url"], "https://hooks.example.com/x");
}

both_backends!(
    issuance_created_arrives_signed,
    a_failed_delivery_is_retried_given_up_and_redelivered,
    a_rotated_secret_signs_from_then_on,
    lifecycle_and_low_balance_events_arrive,
    another_agencys_webhook_is_not_found,
);
both_backends_custom!(what_an_agency_registers_is_validated);
