//! Agent API (the B2B agent API): the response has the seed sample's exact structure for each trip type,
//! values come from the booking, and every documented error string answers in the profile's envelope.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{example, op, TestApp};

fn fixture(name: &str) -> Value {
    let text = match name {
        "oneway" => include_str!("../fixtures/agent/oneway.json"),
        "round" => include_str!("../fixtures/agent/round.json"),
        _ => include_str!("../fixtures/agent/multicity.json"),
    };
    serde_json::from_str(text).expect("fixture")
}

/// Same keys in the same order, same JSON types, recursively; every array element is compared with the sample's
/// element at the same position (or its first one when ours is longer).
fn same_shape(ours: &Value, sample: &Value, path: &str) {
    match (ours, sample) {
        (Value::Object(a), Value::Object(b)) => {
            let (ka, kb): (Vec<_>, Vec<_>) = (a.keys().collect(), b.keys().collect());
            assert_eq!(ka, kb, "keys differ at {path}");
            for (k, v) in a {
                same_shape(v, &b[k], &format!("{path}/{k}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert!(!a.is_empty(), "empty array at {path}");
            for (i, v) in a.iter().enumerate() {
                same_shape(v, b.get(i).or(b.first()).expect("sample element"), &format!("{path}/{i}"));
            }
        }
        (a, b) => {
            let kind = |v: &Value| match v {
                Value::Null => "null",
                Value::Bool(_) => "bool",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                _ => "container",
            };
            assert_eq!(kind(a), kind(b), "type differs at {path}: {a} vs {b}");
        }
    }
}

async fn issue_ticket(app: &TestApp, token: &str, body: &Value) -> (StatusCode, Value) {
    let res = app.post("/issue-ticket", token, body).await;
    let status = res.status();
    (status, res.json().await.expect("json"))
}

fn request(booking: &Value) -> Value {
    json!({
        "user_type": "agent",
        "bookingReferenceID": booking["id"],
        "tripType": booking["trip_type"],
        "referenceCode": "KFIKDHKSKDH",
        "PNR": booking["pnr"],
        "currency": booking["currency"],
    })
}

async fn expect_error(app: &TestApp, token: &str, body: &Value, status: StatusCode, message: &str) {
    let (got, body) = issue_ticket(app, token, body).await;
    assert_eq!(got, status, "{body}");
    assert_eq!(body, json!({"success": false, "data": {"error": message}}));
}

async fn oneway_matches_the_seed_and_the_booking(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let mut req = request(&booking);
    req["amount"] = json!(41893);
    let (status, body) = issue_ticket(&app, &app.agent_token, &req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    same_shape(&body, &fixture("oneway"), "");
    let d = &body["data"];
    assert_eq!(d["ticketSummary"]["PNR"], "PQMJ8E");
    assert_eq!(d["ticketSummary"]["tripType"], "oneway");
    let issued = d["ticketSummary"]["issued_date"].as_str().unwrap();
    assert!(chrono::NaiveDate::parse_from_str(issued, "%a, %b %d, %Y").is_ok(), "{issued}");
    let f = &d["flightSummary"];
    assert_eq!(f["departure_time"], "10:10 AM");
    assert_eq!(f["arrival_time"], "12:25 PM");
    assert_eq!(f["total_flying_hours"], "05 Hr 00 Min");
    assert_eq!(f["depart_city_name"], "Kathmandu");
    assert_eq!(f["dest_city_country"], "Qatar");
    assert_eq!(f["carrierName"], "Qatar Airways");
    assert_eq!(f["flight_segments"][0]["seg_total_flying_hours"], "05:00:00");
    assert_eq!(f["flight_segments"][0]["seg_connection_time"], false);
    assert_eq!(f["flight_segments"][0]["seg_departure_terminal"], "I");
    assert_eq!(
        d["fareInformation"],
        json!({"total_adt": 41893, "total_chd": 0, "total_inf": 0, "total_cost": 41893, "cashBack": 300})
    );
    assert_eq!(d["baggageDetails"], json!({"cabin": "7 Kg", "baggage": "30 Kg"}));
    let pax = &d["passengers"][0];
    assert_eq!(pax["passenger_name"], "Maharjan Rabi");
    assert!(pax["eticket_number"].as_str().unwrap().starts_with("157-"));
    assert_eq!(d["contactDetails"], json!({"email": "traveller@example.com", "phone": "9849932310"}));
    assert_eq!(app.balance(&app.agency).await, "958107.00");

    // The link needs no header and serves the issuance's combined PDF.
    let link = d["eticketLink"].as_str().unwrap();
    let pdf = app.client.get(link).send().await.unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    let bytes = pdf.bytes().await.unwrap();
    let reference = d["ticketSummary"]["ticketReferenceID"].as_str().unwrap();
    let stored = app.get(&format!("/api/v1/issuances/{reference}/pdf"), &app.agent_token).await;
    let etag = stored.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", hex::encode(Sha256::digest(&bytes))));
    // The reference code is kept in the audit trail.
    let audit: Value = app
        .get(&format!("/api/v1/audit?booking={}", booking["id"].as_str().unwrap()), &app.agent_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["entries"][1]["detail"]["attributes"]["reference_code"], "KFIKDHKSKDH");
}

async fn round_trip_matches_the_seed(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("round")).await;
    let (status, body) = issue_ticket(&app, &app.agent_token, &request(&booking)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    same_shape(&body, &fixture("round"), "");
    let f = &body["data"]["flightSummary"];
    assert_eq!(f["return_departure_time"], "00:35 AM");
    assert_eq!(f["return_arrival_time"], "08:05 AM");
    assert_eq!(f["return_total_flying_hours"], "04 Hr 45 Min");
    assert_eq!(f["return_dest_city_airport_code"], "KTM");
    assert_eq!(f["flight_segments_return"][0]["flight_number"], "652");
    assert_eq!(body["data"]["baggageDetails"]["return"], json!({"cabin": "7 Kg", "baggage": "25 Kg"}));
    assert_eq!(body["data"]["fareInformation"]["total_adt"], 74514);
}

async fn multicity_matches_the_seed_with_connections_and_date_change(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("multicity")).await;
    let (status, body) = issue_ticket(&app, &app.agent_token, &request(&booking)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    same_shape(&body, &fixture("multicity"), "");
    let journeys = body["data"]["flightSummary"]["flight_segments"].as_array().unwrap();
    assert_eq!(journeys.len(), 3);
    let first = &journeys[0];
    // KTM 15:45 (+05:45) to DEL 03:20 (+05:30) the next day, via Dubai: 11h50m door to door.
    assert_eq!(first["seg_departure_date"], "2027-08-01");
    assert_eq!(first["seg_arrival_date"], "2027-08-02");
    assert_eq!(first["seg_total_flying_hours"], "11 Hr 50 Min");
    let legs = first["connecting_segments"].as_array().unwrap();
    assert_eq!(legs[0]["seg_connection_time"], false);
    assert_eq!(legs[1]["seg_connection_time"], "03 hr 20 min");
    assert_eq!(legs[1]["seg_total_flying_hours"], "03:40:00");
    assert_eq!(body["data"]["passengers"][0]["airlines_confirmation"], "197IJB");
    assert!(body["data"]["passengers"][0]["eticket_number"].as_str().unwrap().starts_with("141-"));
}

async fn download_ticket_gives_a_fresh_link(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let (_, issued) = issue_ticket(&app, &app.agent_token, &request(&booking)).await;
    let reference = issued["data"]["ticketSummary"]["ticketReferenceID"].clone();
    let res = app.post("/download-ticket", &app.agent_token, &json!({"ticketReferenceID": reference})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["success"], true);
    let link = body["data"]["eticketLink"].as_str().unwrap();
    let pdf = app.client.get(link).send().await.unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    for (token, body, status, message) in [
        (
            &app.agent_token,
            json!({"ticketReferenceID": "29f27b24-3f33-4190-9835-9859c790fc47"}),
            StatusCode::NOT_FOUND,
            "Ticket Records Not Found.",
        ),
        (&app.other_token, json!({"ticketReferenceID": reference}), StatusCode::NOT_FOUND, "Ticket Records Not Found."),
        (
            &app.agent_token,
            json!({"ticketReferenceID": "not-a-uuid"}),
            StatusCode::NOT_FOUND,
            "Ticket Records Not Found.",
        ),
        (&app.agent_token, json!({}), StatusCode::UNPROCESSABLE_ENTITY, "Invalid Ticket Parameters."),
    ] {
        let res = app.post("/download-ticket", token, &body).await;
        assert_eq!(res.status(), status);
        assert_eq!(res.json::<Value>().await.unwrap(), json!({"success": false, "data": {"error": message}}));
    }
    let res = app
        .client
        .post(app.url("/download-ticket"))
        .json(&json!({"ticketReferenceID": reference}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn every_error_string_of_the_seed(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let ok = request(&booking);
    let with = |key: &str, value: Value| {
        let mut r = ok.clone();
        r[key] = value;
        r
    };
    let without = |key: &str| {
        let mut r = ok.clone();
        r.as_object_mut().unwrap().remove(key);
        r
    };
    let invalid = "Invalid Ticket Parameters.";
    let t = &app.agent_token;
    expect_error(&app, t, &without("tripType"), StatusCode::UNPROCESSABLE_ENTITY, invalid).await;
    expect_error(&app, t, &without("currency"), StatusCode::UNPROCESSABLE_ENTITY, invalid).await;
    expect_error(&app, t, &without("bookingReferenceID"), StatusCode::UNPROCESSABLE_ENTITY, invalid).await;
    expect_error(&app, t, &with("tripType", json!("round")), StatusCode::UNPROCESSABLE_ENTITY, invalid).await;
    expect_error(&app, t, &with("currency", json!("USD")), StatusCode::UNPROCESSABLE_ENTITY, invalid).await;
    expect_error(&app, t, &with("amount", json!(42149)), StatusCode::UNPROCESSABLE_ENTITY, invalid).await;
    expect_error(&app, t, &with("amount", json!("41893")), StatusCode::UNPROCESSABLE_ENTITY, invalid).await;
    expect_error(&app, t, &with("user_type", json!("customer")), StatusCode::UNPROCESSABLE_ENTITY, invalid).await;
    expect_error(&app, t, &with("user_type", json!("pilot")), StatusCode::UNPROCESSABLE_ENTITY, invalid).await;
    expect_error(&app, t, &with("PNR", json!("ZZZZZZ")), StatusCode::UNPROCESSABLE_ENTITY, "Invalid PNR record").await;
    let missing = "Booking Records Not Found.";
    expect_error(
        &app,
        t,
        &with("bookingReferenceID", json!("e1caec16-f675-48ea-a40c-5e1d05741300")),
        StatusCode::NOT_FOUND,
        missing,
    )
    .await;
    expect_error(&app, t, &with("bookingReferenceID", json!("nope")), StatusCode::NOT_FOUND, missing).await;
    expect_error(&app, &app.other_token, &ok, StatusCode::NOT_FOUND, missing).await;
    expect_error(&app, &app.customer_token, &with("user_type", json!("customer")), StatusCode::NOT_FOUND, missing)
        .await;
    let res = app.client.post(app.url("/issue-ticket")).json(&ok).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"success": false, "data": {"error": "Unauthenticated."}}));
    expect_error(&app, "garbage.token.here", &ok, StatusCode::UNAUTHORIZED, "Unauthenticated.").await;
    let declared = app.client.post(app.url("/issue-ticket")).bearer_auth(t).header("content-type", "application/json");
    let res = declared.body("{not json").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The same body not declared as JSON is refused for its type first.
    let res = app.client.post(app.url("/issue-ticket")).bearer_auth(t).body("{not json").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Nothing above changed anything.
    assert_eq!(app.balance(&app.agency).await, "1000000.00");
    let (status, _) = issue_ticket(&app, t, &ok).await;
    assert_eq!(status, StatusCode::OK);
    expect_error(&app, t, &ok, StatusCode::CONFLICT, "Ticket already issued.").await;
    assert_eq!(app.balance(&app.agency).await, "958107.00");

    let mut late = example("oneway");
    late["pnr"] = json!("LATE01");
    late["ticketing_deadline"] = json!("2020-01-01T00:00:00Z");
    let late = app.book(t, &late).await;
    let sorry = "Sorry! Flight has been booked or not available. Please try with another flight.";
    expect_error(&app, t, &request(&late), StatusCode::CONFLICT, sorry).await;
}

async fn insufficient_balance_and_customers(app: TestApp) {
    let poor = crate::helpers::new_agency(&app.app, "Poor", "NPR", "100").await;
    let agent = app
        .app
        .create_user(&op(), "poor", "poor-password", tessera_core::user::Role::Agent, Some(poor.id))
        .await
        .unwrap();
    let token = app.app.issue_token(&agent).unwrap().access_token;
    let booking = app.book(&token, &example("oneway")).await;
    expect_error(
        &app,
        &token,
        &request(&booking),
        StatusCode::PAYMENT_REQUIRED,
        "Insufficient balance amount. Please top up and continue.",
    )
    .await;
    assert_eq!(app.balance(&poor).await, "100.00");
    // A customer tickets the customer's own booking.
    let own = app.book(&app.customer_token, &example("round")).await;
    let mut req = request(&own);
    req["user_type"] = json!("customer");
    let (status, body) = issue_ticket(&app, &app.customer_token, &req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Documents are a cache: a document store that cannot be written does not refuse or undo an issuance (its
/// money and numbers are on disk); the e-ticket answers 503 while the store is broken and is rendered, stored and
/// served once it is back, with the same bytes every time.
async fn unwritable_document_store_keeps_the_issuance(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    // Make the document store unwritable: its folder becomes a plain file.
    let docs = app.data_dir.path().join("documents");
    std::fs::remove_dir_all(&docs).unwrap();
    std::fs::write(&docs, b"not a folder").unwrap();
    let (status, body) = issue_ticket(&app, &app.agent_token, &request(&booking)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.balance(&app.agency).await, "958107.00");
    let number = body["data"]["passengers"][0]["eticket_number"].as_str().expect("a ticket number").to_owned();
    let issued: Value = app
        .get(&format!("/api/v1/bookings/{}", booking["id"].as_str().unwrap()), &app.agent_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(issued["status"], "ticketed");
    let pdf = format!("/api/v1/tickets/{number}/pdf");
    assert_eq!(app.get(&pdf, &app.agent_token).await.status(), StatusCode::SERVICE_UNAVAILABLE);

    std::fs::remove_file(&docs).unwrap();
    let first = app.get(&pdf, &app.agent_token).await;
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let bytes = first.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert_eq!(etag, format!("\"{}\"", tessera_documents::sha256_hex(&bytes)));
    let again = app.get(&pdf, &app.agent_token).await;
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(again.bytes().await.unwrap(), bytes);
    // Issuing again is refused as already done; nothing is charged twice.
    let (status, _) = issue_ticket(&app, &app.agent_token, &request(&booking)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(app.balance(&app.agency).await, "958107.00");
}

/// Amounts with a fraction are answered exactly, as bare numbers: read from the request's own text and written
/// from the booking's decimals, never through a float.
async fn fractional_amounts_are_exact_numbers(app: TestApp) {
    let mut doc = example("oneway");
    doc["fares"][0]["base"] = json!("35000.25");
    doc["fares"][0]["total"] = json!("41893.25");
    doc["cashback"] = json!("300.75");
    let booking = app.book(&app.agent_token, &doc).await;
    let mut req = request(&booking);
    req["amount"] = json!(41893.2);
    expect_error(&app, &app.agent_token, &req, StatusCode::UNPROCESSABLE_ENTITY, "Invalid Ticket Parameters.").await;
    assert_eq!(app.balance(&app.agency).await, "1000000.00");
    let res = app
        .client
        .post(app.url("/issue-ticket"))
        .bearer_auth(&app.agent_token)
        .header("content-type", "application/json")
        .body(req.to_string().replace("41893.2", "4189325e-2"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.expect("body");
    let fares = r#""fareInformation":{"total_adt":41893.25,"total_chd":0,"total_inf":0,"total_cost":41893.25,"cashBack":300.75}"#;
    assert!(text.contains(fares), "{text}");
    assert_eq!(app.balance(&app.agency).await, "958106.75");
}

both_backends!(
    fractional_amounts_are_exact_numbers,
    oneway_matches_the_seed_and_the_booking,
    round_trip_matches_the_seed,
    multicity_matches_the_seed_with_connections_and_date_change,
    download_ticket_gives_a_fresh_link,
    every_error_string_of_the_seed,
    insufficient_balance_and_customers,
    unwritable_document_store_keeps_the_issuance,
);
