//! Ticket lifecycle over the native API (issue #7): void, refund, approval, exchange and coupon use on flight
//! tickets and EMDs, each refusal with its exact answer and proof that nothing changed, and money that moves
//! exactly once.

use futures::future::join_all;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{example, expect_problem, op, readable_text, spawn_app_with, Backend, Options, TestApp};

/// A round trip (two coupons) with a paid bag (an EMD), issued by the agent: (TKT number, EMD number).
pub(crate) async fn issued_round_trip(app: &TestApp, pnr: &str, refundable: bool) -> (String, String) {
    let mut doc = example("round");
    doc["pnr"] = json!(pnr);
    doc["refundable"] = json!(refundable);
    doc["services"] = json!([{"passenger_id": "p1", "type": "BAGGAGE", "code": "XBAG", "description": "10 Kg extra", "amount": 2500}]);
    let booking = app.book(&app.agent_token, &doc).await;
    let (status, issued) = app.issue(&app.agent_token, booking["id"].as_str().unwrap(), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let tickets = issued["tickets"].as_array().unwrap();
    let number = |kind: &str| {
        tickets.iter().find(|t| t["type"] == kind).map(|t| t["number"].as_str().unwrap().to_owned()).unwrap()
    };
    (number("TKT"), number("EMD"))
}

pub(crate) async fn act(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let res = app.post(path, token, &body).await;
    let status = res.status();
    (status, res.json().await.expect("json"))
}

async fn ticket(app: &TestApp, number: &str) -> Value {
    let res = app.get(&format!("/api/v1/tickets/{number}"), &app.agent_token).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("json")
}

fn coupon_statuses(ticket: &Value) -> Vec<&str> {
    ticket["coupons"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect()
}

/// The ticket PDF's ETag (its SHA-256) and text.
async fn pdf(app: &TestApp, number: &str) -> (String, String) {
    let res = app.get(&format!("/api/v1/tickets/{number}/pdf"), &app.agent_token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = res.bytes().await.unwrap();
    (etag, readable_text(&bytes).split_whitespace().collect::<Vec<_>>().join(" "))
}

/// What a refusal must leave untouched: the ticket, the ledger and the agency's balance.
struct Snapshot {
    ticket: Value,
    ledger: usize,
    balance: String,
}

async fn snapshot(app: &TestApp, number: &str) -> Snapshot {
    Snapshot {
        ticket: ticket(app, number).await,
        ledger: app.ledger(&app.agency).await.len(),
        balance: app.balance(&app.agency).await,
    }
}

async fn assert_unchanged(app: &TestApp, number: &str, before: &Snapshot) {
    let after = snapshot(app, number).await;
    assert_eq!(after.ticket, before.ticket, "the ticket changed");
    assert_eq!((after.ledger, &after.balance), (before.ledger, &before.balance), "money moved");
}

async fn refused(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Value,
    status: StatusCode,
    code: &str,
    detail: &str,
) -> Value {
    let res: Response = app.post(path, token, &body).await;
    let problem = expect_problem(res, status, code).await;
    assert_eq!(problem["detail"], json!(detail), "{problem}");
    problem
}

async fn void_credits_what_was_charged_and_rerenders_the_ticket(app: TestApp) {
    let (tkt, emd) = issued_round_trip(&app, "VOIDAA", true).await;
    let before = ticket(&app, &tkt).await;
    let balance_before = app.balance(&app.agency).await;
    let (etag_before, _) = pdf(&app, &tkt).await;
    assert_eq!(before["status"], "OPEN");
    assert_eq!(before["charged"], "74514.00");
    let billed = before["invoices"].as_array().unwrap();
    assert_eq!(billed.len(), 1, "{before}");
    assert_eq!((billed[0]["kind"].as_str(), billed[0]["covers"].as_array().unwrap().len()), (Some("invoice"), 2));

    let (status, body) = act(&app, &app.agent_token, &format!("/api/v1/tickets/{tkt}/void"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ticket"]["status"], "VOID");
    assert_eq!(coupon_statuses(&body["ticket"]), ["V", "V"]);
    assert_eq!(body["ledger_entry"]["kind"], "void_credit");
    assert_eq!(body["ledger_entry"]["amount"], "74514.00");
    assert_eq!(body["invoice"]["kind"], "credit");
    assert_eq!(body["invoice"]["credits"], billed[0]["number"]);
    assert_eq!(body["invoice"]["number"], json!(billed[0]["number"].as_u64().unwrap() + 1), "gapless numbers");
    assert_eq!(body["invoice"]["gross"], "-74514.00");

    let after = ticket(&app, &tkt).await;
    let kinds: Vec<&str> = after["invoices"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["invoice", "credit"]);
    let balance_after = app.balance(&app.agency).await;
    let step: f64 = balance_after.parse::<f64>().unwrap() - balance_before.parse::<f64>().unwrap();
    assert!((step - 74_514.0).abs() < 0.001, "{balance_before} → {balance_after}");
    let (etag_after, text) = pdf(&app, &tkt).await;
    assert_ne!(etag_after, etag_before, "a voided ticket is a new document");
    assert!(text.contains("VOID"), "{text}");
    // The EMD is untouched by its ticket's void.
    assert_eq!(ticket(&app, &emd).await["status"], "OPEN");

    let audit = app.get(&format!("/api/v1/audit?ticket={tkt}"), &app.admin_token).await;
    let audit: Value = audit.json().await.unwrap();
    let entries = audit["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["action"] == "ticket.void" && e["outcome"] == "success"), "{audit}");

    // The booking's invoices, and each one's PDF.
    let booking = before["booking_id"].as_str().unwrap();
    let res = app.get(&format!("/api/v1/bookings/{booking}/invoices"), &app.agent_token).await;
    let invoices: Value = res.json().await.unwrap();
    assert_eq!(invoices.as_array().unwrap().len(), 2, "{invoices}");
    for (invoice, expected) in invoices.as_array().unwrap().iter().zip([
        vec!["Invoice", "E-ticket MAHARJAN/RABI MR (ADT) KTM-DOH-KTM", "EMD XBAG 10 Kg extra", "77,014.00"],
        vec!["Credit invoice", "Void of ticket", "-74,514.00"],
    ]) {
        let path = format!("/api/v1/bookings/{booking}/invoices/{}/pdf", invoice["number"]);
        let res = app.get(&path, &app.agent_token).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let text = readable_text(&res.bytes().await.unwrap()).split_whitespace().collect::<Vec<_>>().join(" ");
        for e in expected {
            assert!(text.contains(e), "{path} should show {e:?}:\n{text}");
        }
        expect_problem(app.get(&path, &app.other_token).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    let missing = format!("/api/v1/bookings/{booking}/invoices/99/pdf");
    expect_problem(app.get(&missing, &app.agent_token).await, StatusCode::NOT_FOUND, "not_found").await;
}

async fn illegal_transitions_are_refused_and_change_nothing(app: TestApp) {
    let (tkt, _) = issued_round_trip(&app, "ILLEGA", true).await;
    let path = |action: &str| format!("/api/v1/tickets/{tkt}/{action}");
    let (status, _) = act(&app, &app.agent_token, &path("void"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let before = snapshot(&app, &tkt).await;
    let conflict = StatusCode::CONFLICT;
    let cases = [
        ("void", json!({}), "a ticket in status VOID cannot be voided"),
        ("refund", json!({}), "a ticket in status VOID cannot be refunded"),
        ("exchange", exchange_body("2027-08-02", 80_000, 0), "a ticket in status VOID cannot be exchanged"),
        ("coupons/1/use", json!({}), "a ticket in status VOID cannot be used"),
    ];
    for (action, body, detail) in cases {
        refused(&app, &app.agent_token, &path(action), body, conflict, "invalid_ticket_status", detail).await;
        assert_unchanged(&app, &tkt, &before).await;
    }
    let audit = app.get(&format!("/api/v1/audit?ticket={tkt}&action=ticket.refund"), &app.admin_token).await;
    let audit: Value = audit.json().await.unwrap();
    let entries = audit["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["outcome"] == "refused:invalid_ticket_status"), "{audit}");
}

async fn a_used_coupon_blocks_the_void_and_the_last_one_makes_the_ticket_used(app: TestApp) {
    let (tkt, _) = issued_round_trip(&app, "USEDAA", true).await;
    let (status, body) = act(&app, &app.agent_token, &format!("/api/v1/tickets/{tkt}/coupons/1/use"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["ticket"]["status"].as_str(), coupon_statuses(&body["ticket"])), (Some("OPEN"), vec!["F", "O"]));
    assert!(body["ledger_entry"].is_null() && body["invoice"].is_null(), "use moves no money: {body}");
    let first_use = body["ticket"]["coupons"][0]["used_at"].clone();
    assert!(first_use.is_string(), "{body}");
    let before = snapshot(&app, &tkt).await;
    let void = format!("/api/v1/tickets/{tkt}/void");
    refused(
        &app,
        &app.agent_token,
        &void,
        json!({}),
        StatusCode::CONFLICT,
        "coupon_used",
        "a ticket with a used coupon cannot be voided",
    )
    .await;
    assert_unchanged(&app, &tkt, &before).await;
    let again = format!("/api/v1/tickets/{tkt}/coupons/1/use");
    let problem =
        expect_problem(app.post(&again, &app.agent_token, &json!({})).await, StatusCode::CONFLICT, "already_used")
            .await;
    assert_eq!(problem["used_at"], first_use, "a second use answers with the first one's time");
    for (missing, code) in [("3", "coupon_not_found"), ("0", "coupon_not_found"), ("01", "not_found")] {
        let path = format!("/api/v1/tickets/{tkt}/coupons/{missing}/use");
        expect_problem(app.post(&path, &app.agent_token, &json!({})).await, StatusCode::NOT_FOUND, code).await;
    }
    let (status, body) = act(&app, &app.agent_token, &format!("/api/v1/tickets/{tkt}/coupons/2/use"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["ticket"]["status"].as_str(), coupon_statuses(&body["ticket"])), (Some("USED"), vec!["F", "F"]));
    refused(
        &app,
        &app.agent_token,
        &void,
        json!({}),
        StatusCode::CONFLICT,
        "invalid_ticket_status",
        "a ticket in status USED cannot be voided",
    )
    .await;
    refused(
        &app,
        &app.agent_token,
        &format!("/api/v1/tickets/{tkt}/refund"),
        json!({}),
        StatusCode::CONFLICT,
        "invalid_ticket_status",
        "a ticket in status USED cannot be refunded",
    )
    .await;
}

async fn refunds_prorate_unused_coupons_less_the_penalty(app: TestApp) {
    let (tkt, _) = issued_round_trip(&app, "REFUND", true).await;
    act(&app, &app.agent_token, &format!("/api/v1/tickets/{tkt}/coupons/1/use"), json!({})).await;
    let path = format!("/api/v1/tickets/{tkt}/refund");
    let before = snapshot(&app, &tkt).await;
    // One of two coupons unused: 74,514.00 / 2 = 37,257.00 is the most a penalty may take.
    refused(
        &app,
        &app.agent_token,
        &path,
        json!({"penalty": "37257.01"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_penalty",
        "the penalty must be between 0 and 37257.00 NPR",
    )
    .await;
    refused(
        &app,
        &app.agent_token,
        &path,
        json!({"penalty": -1}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_penalty",
        "the penalty must be between 0 and 37257.00 NPR",
    )
    .await;
    expect_problem(
        app.post(&path, &app.agent_token, &json!({"penalty": "lots"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_unchanged(&app, &tkt, &before).await;

    let (status, body) = act(&app, &app.agent_token, &path, json!({"penalty": 257})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["ticket"]["status"].as_str(), coupon_statuses(&body["ticket"])), (Some("RFND"), vec!["F", "R"]));
    assert_eq!(
        (body["ledger_entry"]["kind"].as_str(), body["ledger_entry"]["amount"].as_str()),
        (Some("refund_credit"), Some("37000.00"))
    );
    assert_eq!(body["invoice"]["gross"], "-37000.00");
    let after = snapshot(&app, &tkt).await;
    assert_eq!(after.ledger, before.ledger + 1, "exactly one ledger entry");
    refused(
        &app,
        &app.agent_token,
        &path,
        json!({}),
        StatusCode::CONFLICT,
        "invalid_ticket_status",
        "a ticket in status RFND cannot be refunded",
    )
    .await;
}

async fn non_refundable_fares_need_an_admin_override(app: TestApp) {
    let (tkt, _) = issued_round_trip(&app, "NONREF", false).await;
    let path = format!("/api/v1/tickets/{tkt}/refund");
    let before = snapshot(&app, &tkt).await;
    refused(
        &app,
        &app.agent_token,
        &path,
        json!({}),
        StatusCode::CONFLICT,
        "non_refundable",
        "the ticket is non-refundable",
    )
    .await;
    let body = json!({"override_non_refundable": true});
    expect_problem(app.post(&path, &app.agent_token, &body).await, StatusCode::FORBIDDEN, "forbidden").await;
    // A customer reaches only the bookings they made, so the agent's ticket is not there for them.
    expect_problem(app.post(&path, &app.customer_token, &json!({})).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_problem(app.post(&path, &app.other_token, &json!({})).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_unchanged(&app, &tkt, &before).await;
    let (status, body) = act(&app, &app.admin_token, &path, body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ledger_entry"]["amount"], "74514.00");
}

async fn refunds_wait_for_approval_when_the_agency_requires_it(app: TestApp) {
    let setting = format!("/api/v1/agencies/{}/refund-approval", app.agency.id);
    let res = app
        .client
        .put(app.url(&setting))
        .bearer_auth(&app.agent_token)
        .json(&json!({"required": true}))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .client
        .put(app.url(&setting))
        .bearer_auth(&app.admin_token)
        .json(&json!({"required": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["refund_approval"], true);

    let (tkt, emd) = issued_round_trip(&app, "APPROV", true).await;
    let before = snapshot(&app, &tkt).await;
    let (status, body) =
        act(&app, &app.agent_token, &format!("/api/v1/tickets/{tkt}/refund"), json!({"penalty": 14.5})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["ticket"]["status"].as_str(), body["ticket"]["pending_penalty"].as_str()),
        (Some("TORFND"), Some("14.50"))
    );
    assert!(body["ledger_entry"].is_null(), "no money moves before approval: {body}");
    assert_eq!(app.ledger(&app.agency).await.len(), before.ledger);
    let pending = snapshot(&app, &tkt).await;
    refused(
        &app,
        &app.agent_token,
        &format!("/api/v1/tickets/{tkt}/coupons/1/use"),
        json!({}),
        StatusCode::CONFLICT,
        "invalid_ticket_status",
        "a ticket in status TORFND cannot be used",
    )
    .await;
    let approve = format!("/api/v1/tickets/{tkt}/refund/approve");
    expect_problem(app.post(&approve, &app.agent_token, &json!({})).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_unchanged(&app, &tkt, &pending).await;
    let (status, body) = act(&app, &app.admin_token, &approve, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["ticket"]["status"].as_str(), body["ledger_entry"]["amount"].as_str()),
        (Some("RFND"), Some("74499.50"))
    );
    refused(
        &app,
        &app.admin_token,
        &approve,
        json!({}),
        StatusCode::CONFLICT,
        "invalid_ticket_status",
        "a ticket in status RFND cannot be approved for refund",
    )
    .await;

    // A rejected request leaves the EMD open, as it was.
    act(&app, &app.agent_token, &format!("/api/v1/tickets/{emd}/refund"), json!({})).await;
    let (status, body) = act(&app, &app.admin_token, &format!("/api/v1/tickets/{emd}/refund/reject"), json!({})).await;
    assert_eq!((status, body["ticket"]["status"].as_str()), (StatusCode::OK, Some("OPEN")), "{body}");
}

async fn approval_endpoints_need_an_agency_that_approves(app: TestApp) {
    let (tkt, _) = issued_round_trip(&app, "NOAPPR", true).await;
    let before = snapshot(&app, &tkt).await;
    for action in ["approve", "reject"] {
        let path = format!("/api/v1/tickets/{tkt}/refund/{action}");
        refused(
            &app,
            &app.admin_token,
            &path,
            json!({}),
            StatusCode::CONFLICT,
            "no_approval_required",
            "the agency does not require refund approval",
        )
        .await;
    }
    assert_unchanged(&app, &tkt, &before).await;
}

/// The example's QR 653 KTM→DOH moved to `day`, at a new fare (base + 2,000.00 tax), with a change fee.
pub(crate) fn exchange_body(day: &str, base: i64, fee: i64) -> Value {
    json!({
        "journeys": [{"segments": [{"carrier": "QR", "flight_number": "655", "booking_class": "M", "fare_basis": "MLR1NP",
            "departure": {"airport": "KTM", "time": format!("{day}T10:10:00+05:45")},
            "arrival": {"airport": "DOH", "time": format!("{day}T12:25:00+03:00")}}]}],
        "fares": [{"passenger_type": "ADT", "base": base, "taxes": [{"code": "NP", "amount": 2000}], "total": base + 2000}],
        "change_fee": fee,
    })
}

async fn exchange_issues_the_new_ticket_and_collects_the_difference(app: TestApp) {
    let mut doc = example("oneway");
    doc["pnr"] = json!("EXCHAA");
    let booking = app.book(&app.agent_token, &doc).await;
    let (_, issued) = app.issue(&app.agent_token, booking["id"].as_str().unwrap(), json!({})).await;
    let old = issued["tickets"][0]["number"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tickets/{old}/exchange");
    let before = snapshot(&app, &old).await;
    let bad = refused(
        &app,
        &app.agent_token,
        &path,
        json!({"journeys": [], "fares": []}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        "invalid request",
    )
    .await;
    assert!(
        bad["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["pointer"] == "/journeys/0/segments" || e["pointer"] == "/fares"),
        "{bad}"
    );
    assert_unchanged(&app, &old, &before).await;

    // Residual 41,893.00; new 48,000.00 + fee 1,500.00 → 7,607.00 collected.
    let (status, body) = act(&app, &app.agent_token, &path, exchange_body("2027-08-02", 46_000, 1_500)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new = body["new_ticket"]["number"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            body["ticket"]["status"].as_str(),
            body["ticket"]["related_number"].as_str(),
            body["ticket"]["related_type"].as_str()
        ),
        (Some("EXCH"), Some(new.as_str()), Some("EXCH"))
    );
    assert_eq!(
        (
            body["new_ticket"]["status"].as_str(),
            body["new_ticket"]["related_number"].as_str(),
            body["new_ticket"]["related_type"].as_str()
        ),
        (Some("OPEN"), Some(old.as_str()), Some("ORGN"))
    );
    assert_eq!(body["exchange"]["add_collect"], "7607.00");
    assert_eq!(
        (body["ledger_entry"]["kind"].as_str(), body["ledger_entry"]["amount"].as_str()),
        (Some("exchange_debit"), Some("-7607.00"))
    );
    assert_eq!(
        (body["invoice"]["kind"].as_str(), body["invoice"]["gross"].as_str()),
        (Some("invoice"), Some("7607.00"))
    );
    assert_eq!(coupon_statuses(&body["ticket"]), ["E"]);
    assert_eq!(body["new_ticket"]["coupons"][0]["flight_number"], "655");
    let (_, text) = pdf(&app, &new).await;
    assert!(text.contains("QR 655") && text.contains("02 Aug 2027"), "the new itinerary: {text}");
    assert!(pdf(&app, &old).await.1.contains("EXCH"), "the old ticket shows it was exchanged");

    refused(
        &app,
        &app.agent_token,
        &path,
        exchange_body("2027-08-03", 46_000, 0),
        StatusCode::CONFLICT,
        "invalid_ticket_status",
        "a ticket in status EXCH cannot be exchanged",
    )
    .await;
    refused(
        &app,
        &app.agent_token,
        &format!("/api/v1/tickets/{new}/void"),
        json!({}),
        StatusCode::CONFLICT,
        "reissue_not_voidable",
        "a ticket issued in an exchange cannot be voided; refund it instead",
    )
    .await;

    // Cheaper again: the residual of the new ticket (48,000.00) pays for 30,000.00; 18,000.00 comes back.
    let (status, body) =
        act(&app, &app.agent_token, &format!("/api/v1/tickets/{new}/exchange"), exchange_body("2027-08-04", 28_000, 0))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["ledger_entry"]["kind"].as_str(), body["ledger_entry"]["amount"].as_str()),
        (Some("exchange_credit"), Some("18000.00"))
    );
    assert_eq!(
        (body["invoice"]["kind"].as_str(), body["invoice"]["gross"].as_str()),
        (Some("credit"), Some("-18000.00"))
    );
}

async fn an_exchange_the_agency_cannot_pay_is_refused_and_changes_nothing(app: TestApp) {
    let poor = crate::helpers::new_agency(&app.app, "Poor Travel", "NPR", "41893").await;
    let agent = app
        .app
        .create_user(&op(), "poor", "poor-password", tessera_core::user::Role::Agent, Some(poor.id))
        .await
        .unwrap();
    let token = app.app.issue_token(&agent).unwrap().access_token;
    let mut doc = example("oneway");
    doc["pnr"] = json!("POORAA");
    let booking = app.book(&token, &doc).await;
    let (_, issued) = app.issue(&token, booking["id"].as_str().unwrap(), json!({})).await;
    let old = issued["tickets"][0]["number"].as_str().unwrap().to_owned();
    let ledger = app.ledger(&poor).await.len();
    let res =
        app.post(&format!("/api/v1/tickets/{old}/exchange"), &token, &exchange_body("2027-08-02", 46_000, 0)).await;
    expect_problem(res, StatusCode::PAYMENT_REQUIRED, "insufficient_balance").await;
    assert_eq!((app.ledger(&poor).await.len(), app.balance(&poor).await), (ledger, "0.00".to_owned()));
    let res = app.get(&format!("/api/v1/tickets/{old}"), &token).await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "OPEN");
}

async fn emds_follow_the_same_rules(app: TestApp) {
    let (_, emd) = issued_round_trip(&app, "EMDSAA", true).await;
    let (status, body) = act(&app, &app.agent_token, &format!("/api/v1/tickets/{emd}/void"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["ticket"]["status"].as_str(), coupon_statuses(&body["ticket"])), (Some("VOID"), vec!["V"]));
    assert_eq!(body["ledger_entry"]["amount"], "2500.00");
    assert!(pdf(&app, &emd).await.1.contains("VOID"));
    refused(
        &app,
        &app.agent_token,
        &format!("/api/v1/tickets/{emd}/exchange"),
        exchange_body("2027-08-02", 1, 0),
        StatusCode::CONFLICT,
        "not_exchangeable",
        "only flight tickets can be exchanged",
    )
    .await;
}

async fn the_void_window_closes_at_the_end_of_the_local_issue_day(backend: Backend) {
    let app = spawn_app_with(backend, Options { void_window_days: Some(0), ..Default::default() }).await;
    let (tkt, _) = issued_round_trip(&app, "WINDOW", true).await;
    app.clock.advance(chrono::TimeDelta::days(1));
    // Tokens signed yesterday have expired by now.
    let app = TestApp {
        agent_token: app.app.issue_token(&app.agent).unwrap().access_token,
        admin_token: app.app.issue_token(&app.admin).unwrap().access_token,
        ..app
    };
    let before = snapshot(&app, &tkt).await;
    let res = app.post(&format!("/api/v1/tickets/{tkt}/void"), &app.agent_token, &json!({})).await;
    let problem = expect_problem(res, StatusCode::CONFLICT, "void_window_closed").await;
    assert!(problem["detail"].as_str().unwrap().starts_with("the void window closed at "), "{problem}");
    assert_unchanged(&app, &tkt, &before).await;
    // A refund is still possible.
    let (status, _) = act(&app, &app.agent_token, &format!("/api/v1/tickets/{tkt}/refund"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
}

async fn other_agencies_and_customers_cannot_act(app: TestApp) {
    let (tkt, _) = issued_round_trip(&app, "ISOLAT", true).await;
    let before = snapshot(&app, &tkt).await;
    for action in ["void", "refund", "coupons/1/use", "exchange"] {
        let path = format!("/api/v1/tickets/{tkt}/{action}");
        expect_problem(app.post(&path, &app.other_token, &json!({})).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_problem(app.post(&path, &app.customer_token, &json!({})).await, StatusCode::NOT_FOUND, "not_found")
            .await;
        let res = app.client.post(app.url(&path)).send().await.unwrap();
        expect_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    expect_problem(
        app.post("/api/v1/tickets/1571234567890/void", &app.agent_token, &json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_unchanged(&app, &tkt, &before).await;
}

async fn twenty_concurrent_voids_void_once_and_credit_once(app: TestApp) {
    let (tkt, _) = issued_round_trip(&app, "RACEVD", true).await;
    let ledger = app.ledger(&app.agency).await.len();
    let path = format!("/api/v1/tickets/{tkt}/void");
    let results = join_all((0..20).map(|_| act(&app, &app.agent_token, &path, json!({})))).await;
    let ok = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let conflicts =
        results.iter().filter(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "invalid_ticket_status").count();
    assert_eq!((ok, conflicts), (1, 19), "{results:?}");
    let entries = app.ledger(&app.agency).await;
    assert_eq!(entries.len(), ledger + 1);
    assert_eq!(entries.iter().filter(|e| e["kind"] == "void_credit").count(), 1);
}

async fn the_agent_profile_hands_out_the_current_document(app: TestApp) {
    let (tkt, _) = issued_round_trip(&app, "AGENTV", true).await;
    let reference = ticket(&app, &tkt).await["ticketReferenceID"].clone();
    act(&app, &app.agent_token, &format!("/api/v1/tickets/{tkt}/void"), json!({})).await;
    let res = app.post("/download-ticket", &app.agent_token, &json!({"ticketReferenceID": reference})).await;
    let body: Value = res.json().await.unwrap();
    let link = body["data"]["eticketLink"].as_str().unwrap_or_else(|| panic!("{body}"));
    let pdf = app.client.get(link).send().await.unwrap().bytes().await.unwrap();
    let text = readable_text(&pdf);
    assert!(text.contains("Status: VOID") && text.contains("VOID"), "the itinerary shows the void:\n{text}");
}

both_backends!(
    the_agent_profile_hands_out_the_current_document,
    void_credits_what_was_charged_and_rerenders_the_ticket,
    illegal_transitions_are_refused_and_change_nothing,
    a_used_coupon_blocks_the_void_and_the_last_one_makes_the_ticket_used,
    refunds_prorate_unused_coupons_less_the_penalty,
    non_refundable_fares_need_an_admin_override,
    refunds_wait_for_approval_when_the_agency_requires_it,
    approval_endpoints_need_an_agency_that_approves,
    exchange_issues_the_new_ticket_and_collects_the_difference,
    an_exchange_the_agency_cannot_pay_is_refused_and_changes_nothing,
    emds_follow_the_same_rules,
    other_agencies_and_customers_cannot_act,
    twenty_concurrent_voids_void_once_and_credit_once,
);

both_backends_custom!(the_void_window_closes_at_the_end_of_the_local_issue_day);
