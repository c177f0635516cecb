//! `Idempotency-Key` on every state-changing POST of the native API (issue 13): the same key and body
//! replay the first answer with no second effect; another body is refused; a claim whose request died is
//! taken over once its lease ends; a live lease answers 409 with `Retry-After`; an effect that committed
//! without its answer stored is answered from the effect.

use reqwest::header::HeaderValue;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tessera_app::idempotency::{request_hash, Idempotent};
use tessera_app::issuing::IssueCommand;
use tessera_app::lifecycle::Command;
use tessera_app::Principal;
use tessera_core::codes::TicketNumber;
use tessera_core::user::Scope;
use tessera_storage::Actor;

use crate::helpers::{example, expect_problem, TestApp};
use crate::lifecycle::{exchange_body, issued_round_trip};

async fn send(app: &TestApp, token: &str, path: &str, key: &[u8], body: &Value) -> Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", HeaderValue::from_bytes(key).expect("header value"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).expect("json"))
        .send()
        .await
        .expect("request")
}

/// What a replay must leave untouched: the agency's money and its bookings.
async fn state(app: &TestApp) -> (String, usize, Value) {
    let bookings = app.get("/api/v1/bookings?limit=200", &app.admin_token).await.json::<Value>().await.expect("json");
    (app.balance(&app.agency).await, app.ledger(&app.agency).await.len(), bookings)
}

/// Sends `body` to `path` twice with one key: the second answer is the first, byte for byte, with nothing
/// changed; the key with another body is refused, with nothing changed. Returns the answer.
async fn once(app: &TestApp, token: &str, path: &str, key: &str, body: Value, status: StatusCode) -> Value {
    let first = send(app, token, path, key.as_bytes(), &body).await;
    assert_eq!(first.status(), status, "{path}");
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = first.bytes().await.expect("body");
    let after = state(app).await;

    let again = send(app, token, path, key.as_bytes(), &body).await;
    assert_eq!(again.status(), status, "{path}");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.bytes().await.expect("body"), first, "{path}: the same answer");
    assert_eq!(state(app).await, after, "{path}: no second effect");

    let mut other = body.clone();
    other["__other"] = json!(true);
    let res = send(app, token, path, key.as_bytes(), &other).await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").await;
    assert_eq!(state(app).await, after, "{path}: a reused key changes nothing");
    serde_json::from_slice(&first).expect("json")
}

fn agent(app: &TestApp) -> Principal {
    Principal { user: app.agent.clone(), scope: Scope::Agency(app.agency.id), api_key: None }
}

fn actor() -> Actor {
    Actor { user_id: None, username: "test".into(), client_addr: None, tracking_id: None }
}

async fn every_state_changing_post_replays_its_first_answer(app: TestApp) {
    let mut doc = example("oneway");
    doc["pnr"] = json!("IDEMPO");
    let booking = once(&app, &app.agent_token, "/api/v1/bookings", "intake-1", doc, StatusCode::CREATED).await;
    let id = booking["id"].as_str().unwrap();
    let issued = once(
        &app,
        &app.agent_token,
        &format!("/api/v1/bookings/{id}/issue"),
        "issue-1",
        json!({}),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(issued["tickets"].as_array().unwrap().len(), 1);
    let top_up = format!("/api/v1/agencies/{}/top-ups", app.agency.id);
    let entry =
        once(&app, &app.admin_token, &top_up, "top-up-1", json!({"amount": "10.00"}), StatusCode::CREATED).await;
    assert_eq!(entry["kind"], "top_up");

    let (tkt, emd) = issued_round_trip(&app, "IDEMPA", true).await;
    let ok = StatusCode::OK;
    let used =
        once(&app, &app.agent_token, &format!("/api/v1/tickets/{tkt}/coupons/1/use"), "use-1", json!({}), ok).await;
    assert_eq!(used["action"], "use");
    let voided = once(&app, &app.agent_token, &format!("/api/v1/tickets/{emd}/void"), "void-1", json!({}), ok).await;
    assert_eq!(voided["ledger_entry"]["kind"], "void_credit");
    let refunded =
        once(&app, &app.agent_token, &format!("/api/v1/tickets/{tkt}/refund"), "refund-1", json!({"penalty": 1}), ok)
            .await;
    assert_eq!(refunded["ticket"]["status"], "RFND");

    let (tkt, _) = issued_round_trip(&app, "IDEMPB", true).await;
    let exchanged = once(
        &app,
        &app.agent_token,
        &format!("/api/v1/tickets/{tkt}/exchange"),
        "exchange-1",
        exchange_body("2027-08-02", 46_000, 1_500),
        ok,
    )
    .await;
    assert_eq!(exchanged["ticket"]["status"], "EXCH");

    let setting = format!("/api/v1/agencies/{}/refund-approval", app.agency.id);
    let res = app.client.put(app.url(&setting)).bearer_auth(&app.admin_token).json(&json!({"required": true}));
    assert_eq!(res.send().await.unwrap().status(), StatusCode::OK);
    let (tkt, emd) = issued_round_trip(&app, "IDEMPC", true).await;
    for number in [&tkt, &emd] {
        let res = app.post(&format!("/api/v1/tickets/{number}/refund"), &app.agent_token, &json!({})).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let approved =
        once(&app, &app.admin_token, &format!("/api/v1/tickets/{tkt}/refund/approve"), "approve-1", json!({}), ok)
            .await;
    assert_eq!(approved["ticket"]["status"], "RFND");
    let rejected =
        once(&app, &app.admin_token, &format!("/api/v1/tickets/{emd}/refund/reject"), "reject-1", json!({}), ok).await;
    assert_eq!(rejected["action"], "refund_reject");
}

async fn a_malformed_key_is_a_validation_error_and_changes_nothing(app: TestApp) {
    let before = state(&app).await;
    for key in [b"".as_slice(), "caf\u{e9}".as_bytes(), &[b'k'; 256], b"two words"] {
        let res = send(&app, &app.agent_token, "/api/v1/bookings", key, &example("oneway")).await;
        let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(
            problem["errors"],
            json!([{"pointer": "/headers/Idempotency-Key", "reason": "must be 1-255 visible ASCII characters"}]),
            "{problem}"
        );
    }
    assert_eq!(state(&app).await, before);
    // A refused request releases its key: the same key may be used once the cause is fixed.
    let mut doc = example("oneway");
    doc["pnr"] = json!("");
    let res = send(&app, &app.agent_token, "/api/v1/bookings", b"fixable", &doc).await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = send(&app, &app.agent_token, "/api/v1/bookings", b"fixable", &example("oneway")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

async fn a_stranded_claim_is_refused_while_its_lease_lives_then_taken_over(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let path = format!("/api/v1/bookings/{}/issue", booking["id"].as_str().unwrap());
    let body = json!({"reference_code": "R1"});
    // A request that claimed the key and died (nothing done, never completed or released).
    let hash = request_hash("POST", &path, &serde_json::to_vec(&body).unwrap());
    let claimed = app.app.idempotency_claim(&agent(&app), "stranded", &hash).await.expect("claim");
    assert!(matches!(claimed, Idempotent::Run(_)));
    let before = state(&app).await;

    let res = send(&app, &app.agent_token, &path, b"stranded", &body).await;
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((29..=30).contains(&retry_after), "{retry_after}");
    expect_problem(res, StatusCode::CONFLICT, "idempotency_in_progress").await;
    assert_eq!(state(&app).await, before);

    app.clock.advance(chrono::TimeDelta::seconds(31));
    let res = send(&app, &app.agent_token, &path, b"stranded", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "taken over and run");
    let first: Value = res.json().await.unwrap();
    let again = send(&app, &app.agent_token, &path, b"stranded", &body).await;
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let debits = app.ledger(&app.agency).await.into_iter().filter(|e| e["kind"] == "issuance_debit").count();
    assert_eq!(debits, 1);
}

async fn an_effect_without_a_stored_answer_is_answered_from_the_effect(app: TestApp) {
    // Each: the request ran under its claim and committed, then "crashed" before storing its answer.
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let booking_id = booking["id"].as_str().unwrap();
    let path = format!("/api/v1/bookings/{booking_id}/issue");
    let hash = request_hash("POST", &path, b"{}");
    let Idempotent::Run(guard) = app.app.idempotency_claim(&agent(&app), "issue-crash", &hash).await.unwrap() else {
        panic!("claimed")
    };
    let command = IssueCommand::default();
    let issued = app
        .app
        .idempotency_run(&guard, app.app.issue(&agent(&app), booking_id.parse().unwrap(), command, actor()))
        .await
        .expect("issue");
    let (tkt, _) = issued_round_trip(&app, "CRASHV", true).await;
    let void = format!("/api/v1/tickets/{tkt}/void");
    let Idempotent::Run(void_guard) =
        app.app.idempotency_claim(&agent(&app), "void-crash", &request_hash("POST", &void, b"{}")).await.unwrap()
    else {
        panic!("claimed")
    };
    let number = TicketNumber::parse(&tkt).unwrap();
    app.app
        .idempotency_run(&void_guard, app.app.ticket_command(&agent(&app), &number, Command::Void, actor()))
        .await
        .expect("void");
    let top_up = format!("/api/v1/agencies/{}/top-ups", app.agency.id);
    let top_up_body = json!({"amount": "5.00"});
    let admin = Principal { user: app.admin.clone(), scope: Scope::All, api_key: None };
    let hash = request_hash("POST", &top_up, &serde_json::to_vec(&top_up_body).unwrap());
    let Idempotent::Run(top_up_guard) = app.app.idempotency_claim(&admin, "top-up-crash", &hash).await.unwrap() else {
        panic!("claimed")
    };
    let posted = app.app.idempotency_run(&top_up_guard, app.app.top_up(&admin, app.agency.id, "5.00", None)).await;
    posted.expect("top-up");
    let before = state(&app).await;

    // While the lease lives the holder may still be storing its answer.
    let res = send(&app, &app.agent_token, &path, b"issue-crash", &json!({})).await;
    expect_problem(res, StatusCode::CONFLICT, "idempotency_in_progress").await;

    app.clock.advance(chrono::TimeDelta::seconds(31));
    let res = send(&app, &app.agent_token, &path, b"issue-crash", &json!({})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    let rebuilt: Value = res.json().await.unwrap();
    let view = app.get(&format!("/api/v1/issuances/{}", issued.record.id), &app.agent_token).await;
    assert_eq!(rebuilt, view.json::<Value>().await.unwrap(), "the issuance as the endpoint answers it");

    let res = send(&app, &app.agent_token, &void, b"void-crash", &json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let rebuilt: Value = res.json().await.unwrap();
    let mut ticket: Value = app.get(&format!("/api/v1/tickets/{tkt}"), &app.agent_token).await.json().await.unwrap();
    // The ticket view lists the ticket's invoices; an action's answer shows the one it created instead.
    ticket.as_object_mut().unwrap().remove("invoices");
    assert_eq!(rebuilt["action"], "void");
    assert_eq!(rebuilt["ticket"], ticket);
    assert_eq!(rebuilt["ledger_entry"]["kind"], "void_credit");
    assert_eq!(rebuilt["invoice"]["kind"], "credit", "{rebuilt}");
    let res = send(&app, &app.admin_token, &top_up, b"top-up-crash", &top_up_body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let rebuilt: Value = res.json().await.unwrap();
    assert_eq!(&rebuilt, app.ledger(&app.agency).await.last().unwrap(), "the ledger entry as the endpoint answers it");
    assert_eq!(state(&app).await, before, "answered, not run again");

    // The rebuilt answer is stored: later copies replay it byte for byte.
    let first = send(&app, &app.agent_token, &void, b"void-crash", &json!({})).await.bytes().await.unwrap();
    let again = send(&app, &app.agent_token, &void, b"void-crash", &json!({})).await.bytes().await.unwrap();
    assert_eq!(first, again);
}

async fn event_ticket_actions_replay_too(app: TestApp) {
    let ev = crate::events::setup(app).await;
    let orders = ev.issue().await;
    let order = orders[0]["bookingorder_id"].as_str().unwrap().to_owned();
    let item = orders[0]["items"][0]["orderitem_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/booking-orders/{order}/items/{item}/void");
    let first = send(&ev.app, &ev.token, &path, b"event-void", &json!({})).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = first.bytes().await.unwrap();
    let ledger = ev.app.ledger(&ev.agency).await;
    let again = send(&ev.app, &ev.token, &path, b"event-void", &json!({})).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.bytes().await.unwrap(), first);
    assert_eq!(ev.app.ledger(&ev.agency).await, ledger, "credited once");
}

both_backends!(
    event_ticket_actions_replay_too,
    every_state_changing_post_replays_its_first_answer,
    a_malformed_key_is_a_validation_error_and_changes_nothing,
    a_stranded_claim_is_refused_while_its_lease_lives_then_taken_over,
    an_effect_without_a_stored_answer_is_answered_from_the_effect,
);
