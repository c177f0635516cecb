//! Issuance through `POST /api/v1/bookings/{id}/issue`: tickets, money, atomicity and every refusal.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{example, expect_problem, op, TestApp};

async fn issuing_a_oneway_booking_creates_a_ticket_debits_once_and_marks_it_ticketed(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let id = booking["id"].as_str().unwrap();
    let (status, body) = app.issue(&app.agent_token, id, json!({"reference_code": "KFIKDHKSKDH"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["amount_charged"], "41893.00");
    assert_eq!(body["currency"], "NPR");
    let tickets = body["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 1);
    let number = tickets[0]["number"].as_str().unwrap();
    assert!(number.starts_with("157-") && number.len() == 14, "{number}");
    assert_eq!(tickets[0]["type"], "TKT");
    assert_eq!(tickets[0]["status"], "OPEN");
    assert_eq!(tickets[0]["passenger_id"], "p1");
    let coupon = &tickets[0]["coupons"][0];
    assert_eq!(coupon["number"], 1);
    assert_eq!(coupon["status"], "O");
    assert_eq!(coupon["origin"], "KTM");
    assert_eq!(coupon["destination"], "DOH");

    assert_eq!(app.balance(&app.agency).await, "958107.00");
    let ledger = app.ledger(&app.agency).await;
    let debits: Vec<&Value> = ledger.iter().filter(|e| e["kind"] == "issuance_debit").collect();
    assert_eq!(debits.len(), 1);
    assert_eq!(debits[0]["amount"], "-41893.00");
    assert_eq!(debits[0]["ticketReferenceID"], body["ticketReferenceID"]);

    let booking: Value = app.get(&format!("/api/v1/bookings/{id}"), &app.agent_token).await.json().await.unwrap();
    assert_eq!(booking["status"], "ticketed");
    let ticket: Value = app.get(&format!("/api/v1/tickets/{number}"), &app.agent_token).await.json().await.unwrap();
    assert_eq!(ticket["total"], "41893.00");
    assert_eq!(ticket["taxes"], json!([{"code": "YQ", "amount": "4893.00"}, {"code": "NP", "amount": "2000.00"}]));
    let compact = number.replace('-', "");
    assert_eq!(app.get(&format!("/api/v1/tickets/{compact}"), &app.agent_token).await.status(), StatusCode::OK);
    let reference = body["ticketReferenceID"].as_str().unwrap();
    let issuance: Value =
        app.get(&format!("/api/v1/issuances/{reference}"), &app.agent_token).await.json().await.unwrap();
    assert_eq!(issuance["tickets"][0]["number"], number);
    // The audit trail names who did it and the tracking id of the request.
    let audit: Value = app.get(&format!("/api/v1/audit?booking={id}"), &app.agent_token).await.json().await.unwrap();
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["booking.create", "issuance.create"]);
    let issued = &audit["entries"][1];
    assert_eq!(issued["outcome"], "success");
    assert_eq!(issued["username"], "agent");
    assert!(issued["tracking_id"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(issued["detail"]["attributes"]["reference_code"], "KFIKDHKSKDH");
}

async fn family_booking_gets_a_ticket_per_passenger_and_an_emd_per_service(app: TestApp) {
    let vnd = crate::helpers::new_agency(&app.app, "Hanoi Travel", "VND", "100000000").await;
    let agent = app
        .app
        .create_user(&op(), "hanoi", "hanoi-password", tessera_core::user::Role::Agent, Some(vnd.id))
        .await
        .unwrap();
    let token = app.app.issue_token(&agent).unwrap().access_token;
    let booking = app.book(&token, &example("family")).await;
    let (status, body) = app.issue(&token, booking["id"].as_str().unwrap(), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let tickets = body["tickets"].as_array().unwrap();
    let kinds: Vec<&str> = tickets.iter().map(|t| t["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["TKT", "TKT", "TKT", "TKT", "EMD", "EMD"]);
    let mut numbers: Vec<&str> = tickets.iter().map(|t| t["number"].as_str().unwrap()).collect();
    assert!(numbers.iter().all(|n| n.starts_with("738-")));
    numbers.dedup();
    assert_eq!(numbers.len(), 6, "numbers are unique");
    // 2 x 2,350,000 + 1,750,000 + 200,000 + EMDs 250,000 + 90,000
    assert_eq!(body["amount_charged"], "6990000");
    assert_eq!(app.balance(&vnd).await, "93010000");
    assert_eq!(tickets[4]["service"]["code"], "XBAG");
    assert_eq!(tickets[4]["coupons"][0]["service_code"], "XBAG");
}

async fn a_second_issue_is_refused_and_charges_nothing(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let id = booking["id"].as_str().unwrap();
    assert_eq!(app.issue(&app.agent_token, id, json!({})).await.0, StatusCode::CREATED);
    let res = app.post(&format!("/api/v1/bookings/{id}/issue"), &app.agent_token, &json!({})).await;
    let problem = expect_problem(res, StatusCode::CONFLICT, "already_issued").await;
    assert_eq!(problem["detail"], "the booking is already ticketed");
    assert_eq!(app.balance(&app.agency).await, "958107.00");
}

async fn insufficient_balance_is_refused_and_changes_nothing(app: TestApp) {
    let poor = crate::helpers::new_agency(&app.app, "Poor Travel", "NPR", "41892.99").await;
    let agent = app
        .app
        .create_user(&op(), "poor", "poor-password", tessera_core::user::Role::Agent, Some(poor.id))
        .await
        .unwrap();
    let token = app.app.issue_token(&agent).unwrap().access_token;
    let booking = app.book(&token, &example("oneway")).await;
    let id = booking["id"].as_str().unwrap();
    let res = app.post(&format!("/api/v1/bookings/{id}/issue"), &token, &json!({})).await;
    expect_problem(res, StatusCode::PAYMENT_REQUIRED, "insufficient_balance").await;
    assert_eq!(app.balance(&poor).await, "41892.99");
    assert_eq!(app.ledger(&poor).await.len(), 1, "only the opening top-up");
    let after: Value = app.get(&format!("/api/v1/bookings/{id}"), &token).await.json().await.unwrap();
    assert_eq!(after["status"], "confirmed");
    let audit: Value = app.get(&format!("/api/v1/audit?booking={id}"), &token).await.json().await.unwrap();
    assert_eq!(audit["entries"][1]["outcome"], "refused:insufficient_balance");
    // One cent more and it goes through.
    let res =
        app.post(&format!("/api/v1/agencies/{}/top-ups", poor.id), &app.admin_token, &json!({"amount": "0.01"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(app.issue(&token, id, json!({})).await.0, StatusCode::CREATED);
    assert_eq!(app.balance(&poor).await, "0.00");
}

/// Two bookings issued at once when the balance covers one: one is ticketed, the other is a 402 refusal (a
/// business outcome, never a 500) that debits nothing.
async fn a_balance_race_refuses_the_loser_with_insufficient_balance(app: TestApp) {
    let tight = crate::helpers::new_agency(&app.app, "Tight Travel", "NPR", "41893.00").await;
    let agent = app
        .app
        .create_user(&op(), "tight", "tight-password", tessera_core::user::Role::Agent, Some(tight.id))
        .await
        .unwrap();
    let token = app.app.issue_token(&agent).unwrap().access_token;
    let mut ids = Vec::new();
    for pnr in ["RACE01", "RACE02"] {
        let mut doc = example("oneway");
        doc["pnr"] = json!(pnr);
        ids.push(app.book(&token, &doc).await["id"].as_str().unwrap().to_owned());
    }
    let (paths, body) = (ids.iter().map(|id| format!("/api/v1/bookings/{id}/issue")).collect::<Vec<_>>(), json!({}));
    let (first, second) = tokio::join!(app.post(&paths[0], &token, &body), app.post(&paths[1], &token, &body));
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::PAYMENT_REQUIRED]);
    let loser = if first.status() == StatusCode::PAYMENT_REQUIRED { first } else { second };
    let problem = expect_problem(loser, StatusCode::PAYMENT_REQUIRED, "insufficient_balance").await;
    assert_eq!(problem["status"], 402);
    assert_eq!(app.balance(&tight).await, "0.00");
    assert_eq!(app.ledger(&tight).await.len(), 2, "the opening top-up and one debit");
}

async fn business_rules_refuse_with_stable_codes_and_change_nothing(app: TestApp) {
    let mut past = example("oneway");
    past["pnr"] = json!("PAST01");
    past["ticketing_deadline"] = json!("2020-01-01T00:00:00Z");
    let mut incomplete = example("oneway");
    incomplete["pnr"] = json!("NOGIVN");
    incomplete["passengers"][0].as_object_mut().unwrap().remove("given_name");
    let mut commission = example("oneway");
    commission["pnr"] = json!("COMMIS");
    let cases = [
        (past, json!({}), StatusCode::UNPROCESSABLE_ENTITY, "ticketing_deadline_passed"),
        (incomplete, json!({}), StatusCode::UNPROCESSABLE_ENTITY, "passenger_incomplete"),
        (
            commission.clone(),
            json!({"commission": {"percent": 8}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "commission_above_cap",
        ),
        (commission.clone(), json!({"tour_code": "NOPE"}), StatusCode::UNPROCESSABLE_ENTITY, "unknown_tour_code"),
        (commission, json!({"corporate_code": "NOPE"}), StatusCode::UNPROCESSABLE_ENTITY, "unknown_corporate_account"),
    ];
    for (doc, request, status, code) in cases {
        let existing =
            app.get(&format!("/api/v1/bookings?pnr={}", doc["pnr"].as_str().unwrap()), &app.agent_token).await;
        let list: Value = existing.json().await.unwrap();
        let id = match list["bookings"].as_array().unwrap().first() {
            Some(b) => b["id"].as_str().unwrap().to_owned(),
            None => app.book(&app.agent_token, &doc).await["id"].as_str().unwrap().to_owned(),
        };
        let res = app.post(&format!("/api/v1/bookings/{id}/issue"), &app.agent_token, &request).await;
        expect_problem(res, status, code).await;
    }
    assert_eq!(app.balance(&app.agency).await, "1000000.00");
    assert_eq!(app.ledger(&app.agency).await.len(), 1);
}

async fn commission_within_the_cap_reduces_the_charge(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    // Base 35,000.00; 7% cap = 2,450.00
    let (status, body) =
        app.issue(&app.agent_token, booking["id"].as_str().unwrap(), json!({"commission": {"percent": "7"}})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["commission"], "2450.00");
    assert_eq!(body["amount_charged"], "39443.00");
    assert_eq!(app.balance(&app.agency).await, "960557.00");
}

async fn an_unauthorized_carrier_is_refused(app: TestApp) {
    app.app.set_agreement(&op(), app.agency.id, "QR", false, None).await.unwrap();
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let res = app
        .post(&format!("/api/v1/bookings/{}/issue", booking["id"].as_str().unwrap()), &app.agent_token, &json!({}))
        .await;
    expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "carrier_not_authorized").await;
}

async fn another_agencys_booking_is_not_found(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let id = booking["id"].as_str().unwrap();
    let res = app.post(&format!("/api/v1/bookings/{id}/issue"), &app.other_token, &json!({})).await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    expect_problem(
        app.get(&format!("/api/v1/bookings/{id}"), &app.other_token).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let (_, issued) = app.issue(&app.agent_token, id, json!({})).await;
    let number = issued["tickets"][0]["number"].as_str().unwrap();
    let reference = issued["ticketReferenceID"].as_str().unwrap();
    for path in [
        format!("/api/v1/tickets/{number}"),
        format!("/api/v1/tickets/{number}/pdf"),
        format!("/api/v1/issuances/{reference}"),
        format!("/api/v1/issuances/{reference}/pdf"),
    ] {
        expect_problem(app.get(&path, &app.other_token).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    let res = app.post(&format!("/api/v1/tickets/{number}/link"), &app.other_token, &json!({})).await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(app.balance(&app.other_agency).await, "1000000.00");
}

async fn idempotency_key_replays_the_first_answer_without_a_second_effect(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let path = app.url(&format!("/api/v1/bookings/{}/issue", booking["id"].as_str().unwrap()));
    let send = |key: &'static str, body: Value| {
        app.client.post(&path).bearer_auth(&app.agent_token).header("Idempotency-Key", key).json(&body).send()
    };
    let first = send("key-1", json!({"reference_code": "A"})).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = send("key-1", json!({"reference_code": "A"})).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    let other = send("key-1", json!({"reference_code": "B"})).await.unwrap();
    expect_problem(other, StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").await;
    let debits = app.ledger(&app.agency).await.into_iter().filter(|e| e["kind"] == "issuance_debit").count();
    assert_eq!(debits, 1);
}

both_backends!(
    issuing_a_oneway_booking_creates_a_ticket_debits_once_and_marks_it_ticketed,
    family_booking_gets_a_ticket_per_passenger_and_an_emd_per_service,
    a_second_issue_is_refused_and_charges_nothing,
    insufficient_balance_is_refused_and_changes_nothing,
    a_balance_race_refuses_the_loser_with_insufficient_balance,
    business_rules_refuse_with_stable_codes_and_change_nothing,
    commission_within_the_cap_reduces_the_charge,
    an_unauthorized_carrier_is_refused,
    another_agencys_booking_is_not_found,
    idempotency_key_replays_the_first_answer_without_a_second_effect,
);
