//! Money and numbers under concurrency: many requests really in flight at once (`join_all` over reqwest), and
//! afterwards no double issuance, no overdraft, no duplicate or missing ticket numbers and a ledger that adds up.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::agency::Agency;
use tessera_core::user::Role;

use crate::helpers::{example, op, TestApp};

/// One oneway fare of the example booking, in minor units (41,893.00 NPR).
const FARE: i64 = 4_189_300;

/// A decimal string with two places ("-41893.00") as exact minor units.
fn minor(text: &str) -> i64 {
    let (units, cents) = text.split_once('.').unwrap_or_else(|| panic!("`{text}` has no decimal point"));
    assert_eq!(cents.len(), 2, "`{text}` should have two decimal places");
    format!("{units}{cents}").parse().unwrap_or_else(|_| panic!("`{text}` is not a decimal"))
}

/// A 6-character PNR (A-Z0-9) unique per `n`.
fn pnr(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rest = n + 36usize.pow(4);
    (0..6)
        .map(|_| {
            let c = ALPHABET[rest % 36] as char;
            rest /= 36;
            c
        })
        .collect()
}

/// Creates `count` oneway bookings with distinct PNRs as `token`; returns their ids.
async fn bookings(app: &TestApp, token: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let mut doc = example("oneway");
        doc["pnr"] = json!(pnr(n));
        ids.push(app.book(token, &doc).await["id"].as_str().unwrap().to_owned());
    }
    ids
}

/// Every entry's amount is the step from the previous `balance_after`, and the amounts sum to the balance.
async fn assert_ledger_consistent(app: &TestApp, agency: &Agency) -> Vec<Value> {
    let ledger = app.ledger(agency).await;
    let mut running = 0;
    for entry in &ledger {
        running += minor(entry["amount"].as_str().unwrap());
        assert_eq!(running, minor(entry["balance_after"].as_str().unwrap()), "running sum vs balance_after at {entry}");
    }
    let ids: Vec<i64> = ledger.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ledger in order: {ids:?}");
    assert_eq!(running, minor(&app.balance(agency).await), "sum of the ledger vs the balance");
    ledger
}

fn debits(ledger: &[Value]) -> usize {
    ledger.iter().filter(|e| e["kind"] == "issuance_debit").count()
}

/// Ticket numbers of every 201 answer.
fn numbers(results: &[(StatusCode, Value)]) -> Vec<String> {
    results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .flat_map(|(_, b)| b["tickets"].as_array().unwrap().iter().map(|t| t["number"].as_str().unwrap().to_owned()))
        .collect()
}

fn count(results: &[(StatusCode, Value)], status: StatusCode, code: Option<&str>) -> usize {
    results.iter().filter(|(s, b)| *s == status && code.is_none_or(|c| b["code"] == c)).count()
}

async fn fifty_concurrent_issues_of_one_booking_issue_it_once(app: TestApp) {
    let before = minor(&app.balance(&app.agency).await);
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let id = booking["id"].as_str().unwrap();
    let results = join_all((0..50).map(|_| app.issue(&app.agent_token, id, json!({})))).await;
    assert_eq!(count(&results, StatusCode::CREATED, None), 1, "{results:?}");
    assert_eq!(count(&results, StatusCode::CONFLICT, Some("already_issued")), 49, "{results:?}");
    let ledger = assert_ledger_consistent(&app, &app.agency).await;
    assert_eq!(debits(&ledger), 1);
    assert_eq!(minor(&app.balance(&app.agency).await), before - FARE);
    assert_eq!(numbers(&results).len(), 1);
}

/// 50 bookings race for money that covers exactly 10 of them (part of it possibly credit).
async fn race_for_money(app: &TestApp, balance: &str, credit_limit: &str, final_balance: &str) {
    let agency = app
        .app
        .create_agency(
            &op(),
            &tessera_app::admin::AgencyInput {
                name: "Race Travel".into(),
                currency: "NPR".into(),
                balance: Some(balance.into()),
                credit_limit: Some(credit_limit.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let agent = app.app.create_user(&op(), "racer", "racer-password", Role::Agent, Some(agency.id)).await.unwrap();
    let token = app.app.issue_token(&agent).unwrap().access_token;
    let ids = bookings(app, &token, 50).await;
    let results = join_all(ids.iter().map(|id| app.issue(&token, id, json!({})))).await;
    assert_eq!(count(&results, StatusCode::CREATED, None), 10, "{results:?}");
    assert_eq!(count(&results, StatusCode::PAYMENT_REQUIRED, Some("insufficient_balance")), 40, "{results:?}");
    let body = app.agency_body(&agency).await;
    assert_eq!(body["balance"], final_balance, "{body}");
    assert_eq!(body["available"], "0.00", "{body}");
    assert!(minor(final_balance) >= -minor(credit_limit));
    let ledger = assert_ledger_consistent(app, &agency).await;
    assert_eq!(debits(&ledger), 10);
    let mut numbers = numbers(&results);
    assert!(numbers.iter().all(|n| n.starts_with("157-")), "{numbers:?}");
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 10, "ticket numbers are unique");
    // The 40 refused bookings are still confirmed and can be issued once money arrives.
    let refused = ids.iter().zip(&results).find(|(_, (s, _))| *s == StatusCode::PAYMENT_REQUIRED).unwrap().0;
    let booking: Value = app.get(&format!("/api/v1/bookings/{refused}"), &token).await.json().await.unwrap();
    assert_eq!(booking["status"], "confirmed");
}

async fn fifty_bookings_racing_for_ten_fares_issue_exactly_ten(app: TestApp) {
    race_for_money(&app, "418930.00", "0.00", "0.00").await;
}

async fn fifty_bookings_racing_for_seven_fares_plus_three_of_credit_issue_exactly_ten(app: TestApp) {
    // 7 x 41,893.00 = 293,251.00 of balance, 3 x 41,893.00 = 125,679.00 of credit.
    race_for_money(&app, "293251.00", "125679.00", "-125679.00").await;
}

async fn thirty_concurrent_issuances_get_distinct_gapless_ticket_numbers(app: TestApp) {
    app.app.top_up(&op(), app.agency.id, "1000000", None).await.unwrap();
    let ids = bookings(&app, &app.agent_token, 30).await;
    let results = join_all(ids.iter().map(|id| app.issue(&app.agent_token, id, json!({})))).await;
    assert_eq!(count(&results, StatusCode::CREATED, None), 30, "{results:?}");
    let mut serials: Vec<u64> = numbers(&results)
        .iter()
        .map(|n| {
            let (prefix, serial) = n.split_once('-').unwrap();
            assert_eq!(prefix, "157");
            serial.parse().unwrap()
        })
        .collect();
    serials.sort_unstable();
    serials.dedup();
    assert_eq!(serials.len(), 30, "30 distinct numbers");
    assert_eq!(serials[29] - serials[0], 29, "a contiguous range of serials: {serials:?}");
    let ledger = assert_ledger_consistent(&app, &app.agency).await;
    assert_eq!(debits(&ledger), 30);
    // 2,000,000.00 - 30 x 41,893.00
    assert_eq!(app.balance(&app.agency).await, "743210.00");
}

async fn twenty_concurrent_top_ups_all_count(app: TestApp) {
    let before = minor(&app.balance(&app.agency).await);
    let path = format!("/api/v1/agencies/{}/top-ups", app.agency.id);
    let body = json!({"amount": "0.01"});
    let responses = join_all((0..20).map(|_| app.post(&path, &app.admin_token, &body))).await;
    for res in responses {
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    assert_eq!(minor(&app.balance(&app.agency).await), before + 20);
    let ledger = assert_ledger_consistent(&app, &app.agency).await;
    let top_ups: Vec<&Value> = ledger.iter().filter(|e| e["kind"] == "top_up" && e["amount"] == "0.01").collect();
    assert_eq!(top_ups.len(), 20);
}

async fn concurrent_retries_with_one_idempotency_key_have_one_effect(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let url = app.url(&format!("/api/v1/bookings/{}/issue", booking["id"].as_str().unwrap()));
    let send = || async {
        let res = app
            .client
            .post(&url)
            .bearer_auth(&app.agent_token)
            .header("Idempotency-Key", "retry-storm")
            .json(&json!({"reference_code": "STORM"}))
            .send()
            .await
            .unwrap();
        let replayed = res.headers().get("idempotent-replayed").is_some();
        (res.status(), replayed, res.json::<Value>().await.unwrap())
    };
    let results = join_all((0..10).map(|_| send())).await;
    let originals: Vec<&Value> =
        results.iter().filter(|(s, r, _)| *s == StatusCode::CREATED && !r).map(|(_, _, b)| b).collect();
    assert_eq!(originals.len(), 1, "exactly one request ran: {results:?}");
    let first = originals[0];
    for (status, replayed, body) in &results {
        match *status {
            StatusCode::CREATED if *replayed => assert_eq!(body, first, "a replay is the first answer"),
            StatusCode::CREATED => {}
            StatusCode::CONFLICT => assert_eq!(body["code"], "idempotency_in_progress", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    // Once settled, the key replays the first answer.
    let (status, replayed, body) = send().await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true));
    assert_eq!(&body, first);
    let ledger = assert_ledger_consistent(&app, &app.agency).await;
    assert_eq!(debits(&ledger), 1);
    assert_eq!(app.balance(&app.agency).await, "958107.00");
}

async fn racing_duplicates_get_one_201_and_clean_409s(app: TestApp) {
    let doc = example("oneway");
    let responses = join_all((0..20).map(|_| app.post("/api/v1/bookings", &app.agent_token, &doc))).await;
    let statuses: Vec<StatusCode> = responses.iter().map(|r| r.status()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "one PNR, one booking: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 19, "{statuses:?}");
    let list: Value = app.get("/api/v1/bookings?pnr=PQMJ8E", &app.agent_token).await.json().await.unwrap();
    assert_eq!(list["bookings"].as_array().unwrap().len(), 1);
    let agency = app.agency.id.to_string();
    let user = json!({"username": "twin", "password": "twin-password", "role": "agent", "agency_id": agency});
    let responses = join_all((0..10).map(|_| app.post("/api/v1/users", &app.admin_token, &user))).await;
    let statuses: Vec<StatusCode> = responses.iter().map(|r| r.status()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::CREATED).count(),
        1,
        "one username, one user: {statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 9, "{statuses:?}");
}

both_backends!(
    fifty_concurrent_issues_of_one_booking_issue_it_once,
    fifty_bookings_racing_for_ten_fares_issue_exactly_ten,
    fifty_bookings_racing_for_seven_fares_plus_three_of_credit_issue_exactly_ten,
    thirty_concurrent_issuances_get_distinct_gapless_ticket_numbers,
    twenty_concurrent_top_ups_all_count,
    concurrent_retries_with_one_idempotency_key_have_one_effect,
    racing_duplicates_get_one_201_and_clean_409s,
);
