//! The lifecycle of event tickets (order items): a refunded or voided ticket leaves its order's zip bundle
//! (new `zip_sha`), gets a credit invoice listed in `invoices`, and can no longer be downloaded; gates check
//! tickets in by their QR payload, first scan accepted, later ones told when the first was.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::orders::DownloadItemId;

use crate::events::{items, names, pdf_text, s, setup, sha256_hex, unzip, Events};
use crate::helpers::{expect_problem, TestApp};
use crate::lifecycle::act;

async fn item_action(ev: &Events, order: &str, item: &str, action: &str, body: Value) -> (StatusCode, Value) {
    act(&ev.app, &ev.token, &format!("/api/v1/booking-orders/{order}/items/{item}/{action}"), body).await
}

async fn scan(ev: &Events, payload: String) -> (StatusCode, Value) {
    act(&ev.app, &ev.token, "/api/v1/checkin", json!({ "payload": payload })).await
}

async fn payload(ev: &Events, download: &str) -> String {
    let id = DownloadItemId::parse(download).expect("download item id");
    ev.app.app.gate_payload(&tessera_app::Principal::operator(), &id).await.expect("payload")
}

async fn refunding_an_event_ticket_drops_it_from_the_zip_and_credits_its_invoice(app: TestApp) {
    let ev = setup(app).await;
    let orders = ev.issue().await;
    let lfc = &orders[0];
    let order = s(&lfc["bookingorder_id"]).to_owned();
    let (john, jane) = (&items(lfc)[0], &items(lfc)[1]);
    let jane_id = s(&jane["orderitem_id"]).to_owned();
    let billed: Vec<Value> = lfc["invoices"].as_array().unwrap().clone();
    assert_eq!(billed.len(), 1);
    let ledger_before = ev.app.ledger(&ev.agency).await.len();

    let (status, body) = item_action(&ev, &order, &jane_id, "refund", json!({"penalty": 9})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["order_item"]["status"].as_str(), body["order_item"]["ticket_status"].as_str()),
        (Some("refunded"), Some("RFND"))
    );
    assert_eq!(
        (body["ledger_entry"]["kind"].as_str(), body["ledger_entry"]["amount"].as_str()),
        (Some("refund_credit"), Some("180.00"))
    );
    assert_eq!(
        (body["invoice"]["kind"].as_str(), body["invoice"]["gross"].as_str()),
        (Some("credit"), Some("-180.00"))
    );
    assert_eq!(body["invoice"]["credits"].as_u64().map(|n| n.to_string()), billed[0].as_str().map(str::to_owned));
    assert_eq!(ev.app.ledger(&ev.agency).await.len(), ledger_before + 1);

    let after = &ev.orders().await[0];
    let credit = body["invoice"]["number"].as_u64().unwrap().to_string();
    assert_eq!(after["invoices"], json!([billed[0], credit]), "the credit invoice is listed with the order");
    assert_eq!(items(after)[1]["status"], "refunded");
    assert_eq!(items(after)[1]["download_link"], "", "a refunded ticket has no link");
    assert_ne!(after["zip_sha"], lfc["zip_sha"], "the bundle changed");
    let (_, zip) = ev.zip(&order).await;
    assert_eq!(sha256_hex(&zip.bytes), s(&after["zip_sha"]));
    assert_eq!(names(&unzip(&zip.bytes)), ["01 Main Stand Cat 1 (03-02) - John Doe.pdf"]);
    let jane_pdf = format!("/v1/etickets/download/{order}/{jane_id}/url/{}", s(&jane["download_link"]));
    assert_eq!(ev.get(&jane_pdf).await.status(), StatusCode::NOT_FOUND);
    let john_pdf = ev.pdf(&order, s(&john["orderitem_id"]), s(&john["download_link"])).await;
    assert_eq!(sha256_hex(&john_pdf.bytes), s(&john["ticket_sha"]), "the other ticket is untouched");

    let invoice = ev.get(&format!("/v1/bookingorders/{order}/invoice/{credit}")).await;
    assert_eq!(invoice.status(), StatusCode::OK);
    let text = pdf_text(&invoice.bytes().await.unwrap());
    assert!(text.contains("Credit invoice") && text.contains("-180.00"), "{text}");

    let res =
        ev.app.post(&format!("/api/v1/booking-orders/{order}/items/{jane_id}/refund"), &ev.token, &json!({})).await;
    let problem = expect_problem(res, StatusCode::CONFLICT, "invalid_ticket_status").await;
    assert_eq!(problem["detail"], "a ticket in status RFND cannot be refunded");
    assert_eq!(ev.app.ledger(&ev.agency).await.len(), ledger_before + 1, "nothing moved");
}

async fn voiding_a_pass_empties_its_bundle(app: TestApp) {
    let ev = setup(app).await;
    let orders = ev.issue().await;
    let f1 = &orders[1];
    let order = s(&f1["bookingorder_id"]).to_owned();
    let pass = s(&items(f1)[0]["orderitem_id"]).to_owned();
    let (status, body) = item_action(&ev, &order, &pass, "void", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ledger_entry"]["amount"], "649.50");
    let statuses: Vec<&str> =
        body["order_item"]["coupons"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["V", "V", "V"]);
    let after = &ev.orders().await[1];
    assert_eq!(items(after)[0]["status"], "void");
    let (_, zip) = ev.zip(&order).await;
    // The organiser's ticket was never in it and the pass is gone: an empty archive (its end record alone).
    assert!(zip.bytes.len() == 22 && zip.bytes.starts_with(b"PK\x05\x06"), "{:?}", zip.bytes);
    assert_ne!(after["zip_sha"], f1["zip_sha"]);
    // Other agencies and unknown items are not found; the change cannot be repeated.
    let path = format!("/api/v1/booking-orders/{order}/items/{pass}/void");
    expect_problem(ev.app.post(&path, &ev.app.other_token, &json!({})).await, StatusCode::NOT_FOUND, "not_found").await;
    let ghost = format!("/api/v1/booking-orders/{order}/items/{}_bkd/void", "0".repeat(32));
    expect_problem(ev.app.post(&ghost, &ev.token, &json!({})).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_problem(ev.app.post(&path, &ev.token, &json!({})).await, StatusCode::CONFLICT, "invalid_ticket_status")
        .await;
}

async fn an_order_not_yet_issued_has_nothing_to_act_on(app: TestApp) {
    let ev = setup(app).await;
    let orders = ev.orders().await;
    let order = s(&orders[0]["bookingorder_id"]);
    let item = s(&items(&orders[0])[0]["orderitem_id"]);
    let res = ev.app.post(&format!("/api/v1/booking-orders/{order}/items/{item}/void"), &ev.token, &json!({})).await;
    expect_problem(res, StatusCode::CONFLICT, "not_completed").await;
}

async fn the_first_scan_is_accepted_and_later_ones_hear_when_it_was(app: TestApp) {
    let ev = setup(app).await;
    let orders = ev.issue().await;
    let (lfc, f1) = (&orders[0], &orders[1]);
    let who = ev.app.app.authenticate_api_key(&ev.key).await.expect("principal");
    let record = ev.app.app.get_order(&who, s(&lfc["bookingorder_id"])).await.expect("order");
    let john_dwn = record.order.items[0].downloads[0].id.to_string();

    let (status, first) = scan(&ev, payload(&ev, &john_dwn).await).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!((first["result"].as_str(), first["order_item"]["status"].as_str()), (Some("accepted"), Some("used")));
    let used_at = first["order_item"]["coupons"][0]["used_at"].clone();
    assert!(used_at.is_string());
    let res = ev.app.post("/api/v1/checkin", &ev.token, &json!({"payload": payload(&ev, &john_dwn).await})).await;
    let problem = expect_problem(res, StatusCode::CONFLICT, "already_used").await;
    assert_eq!(problem["used_at"], used_at, "{problem}");
    assert!(problem["detail"].as_str().unwrap().starts_with("already used at "), "{problem}");

    let mut forged = payload(&ev, &john_dwn).await;
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [forged, "TSR1.nonsense".to_owned(), String::new()] {
        expect_problem(
            ev.app.post("/api/v1/checkin", &ev.token, &json!({"payload": bad})).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    let jane_dwn = record.order.items[1].downloads[0].id.to_string();
    let res =
        ev.app.post("/api/v1/checkin", &ev.app.other_token, &json!({"payload": payload(&ev, &jane_dwn).await})).await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;

    // A three-day pass is used day by day; the listing shows when each day was first scanned.
    let f1_record = ev.app.app.get_order(&who, s(&f1["bookingorder_id"])).await.expect("order");
    let days: Vec<String> = f1_record.order.items[0].downloads.iter().map(|d| d.id.to_string()).collect();
    for (n, day) in days.iter().enumerate() {
        let (status, body) = scan(&ev, payload(&ev, day).await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let expected = if n + 1 == days.len() { "used" } else { "active" };
        assert_eq!(body["order_item"]["status"], expected);
    }
    let listed = &ev.orders().await[1];
    let activated: Vec<&Value> =
        items(listed)[0]["download_items"].as_array().unwrap().iter().map(|d| &d["activated"]).collect();
    assert!(activated.iter().all(|a| a.is_string()), "{activated:?}");

    // A refunded ticket does not get in.
    let jane = s(&items(lfc)[1]["orderitem_id"]);
    item_action(&ev, s(&lfc["bookingorder_id"]), jane, "refund", json!({})).await;
    let res = ev.app.post("/api/v1/checkin", &ev.token, &json!({"payload": payload(&ev, &jane_dwn).await})).await;
    let problem = expect_problem(res, StatusCode::CONFLICT, "invalid_ticket_status").await;
    assert_eq!(problem["detail"], "a ticket in status RFND cannot be used");
}

async fn event_refunds_wait_for_approval_and_stay_downloadable_meanwhile(app: TestApp) {
    let ev = setup(app).await;
    let setting = format!("/api/v1/agencies/{}/refund-approval", ev.agency.id);
    let res = ev
        .app
        .client
        .put(ev.app.url(&setting))
        .bearer_auth(&ev.app.admin_token)
        .json(&json!({"required": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let orders = ev.issue().await;
    let lfc = &orders[0];
    let order = s(&lfc["bookingorder_id"]).to_owned();
    let (john, jane) = (s(&items(lfc)[0]["orderitem_id"]).to_owned(), s(&items(lfc)[1]["orderitem_id"]).to_owned());
    let ledger = ev.app.ledger(&ev.agency).await.len();

    let (status, body) = item_action(&ev, &order, &jane, "refund", json!({"penalty": 20})).await;
    assert_eq!((status, body["order_item"]["status"].as_str()), (StatusCode::OK, Some("refund_pending")), "{body}");
    assert!(body["ledger_entry"].is_null() && body["invoice"].is_null(), "{body}");
    let pending = &ev.orders().await[0];
    assert_eq!(pending["zip_sha"], lfc["zip_sha"], "a pending refund leaves the bundle as it is");
    assert_eq!(items(pending)[1]["status"], "refund_pending");

    let approve = format!("/api/v1/booking-orders/{order}/items/{jane}/refund/approve");
    expect_problem(ev.app.post(&approve, &ev.token, &json!({})).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(ev.app.ledger(&ev.agency).await.len(), ledger);
    let (status, body) = act(&ev.app, &ev.app.admin_token, &approve, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["order_item"]["status"].as_str(), body["ledger_entry"]["amount"].as_str()),
        (Some("refunded"), Some("169.00"))
    );
    assert_eq!(body["invoice"]["gross"], "-169.00");
    let after = &ev.orders().await[0];
    assert_ne!(after["zip_sha"], lfc["zip_sha"], "approved: the ticket leaves the bundle");

    item_action(&ev, &order, &john, "refund", json!({})).await;
    let reject = format!("/api/v1/booking-orders/{order}/items/{john}/refund/reject");
    let (status, body) = act(&ev.app, &ev.app.admin_token, &reject, json!({})).await;
    assert_eq!((status, body["order_item"]["status"].as_str()), (StatusCode::OK, Some("active")), "{body}");
    let res = ev.app.post(&reject, &ev.app.admin_token, &json!({})).await;
    let problem = expect_problem(res, StatusCode::CONFLICT, "invalid_ticket_status").await;
    assert_eq!(problem["detail"], "a ticket in status OPEN cannot be rejected for refund");
    assert_eq!(ev.app.ledger(&ev.agency).await.len(), ledger + 1, "one entry: the approved refund");
}

both_backends!(
    event_refunds_wait_for_approval_and_stay_downloadable_meanwhile,
    refunding_an_event_ticket_drops_it_from_the_zip_and_credits_its_invoice,
    voiding_a_pass_empties_its_bundle,
    an_order_not_yet_issued_has_nothing_to_act_on,
    the_first_scan_is_accepted_and_later_ones_hear_when_it_was,
);
