//! GDS API: `POST /api/v1/flight/issueticket` answers BookingTicket records whose every field has
//! the documented type and whose amounts add up; each business rule refuses with its own code and changes nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tessera_core::agency::Agency;
use tessera_core::user::Role;

use crate::helpers::{example, op, TestApp};

const PATH: &str = "/api/v1/flight/issueticket";

/// A Hanoi agency (VND) with a 5% VN commission cap, tour code PROMO2024 and corporate account CORP001, its agent's
/// token, and the family booking (2 ADT, CHD, INF, two paid services).
async fn hanoi(app: &TestApp) -> (Agency, String) {
    let agency = app
        .app
        .create_agency(
            &op(),
            &tessera_app::admin::AgencyInput {
                name: "Hanoi Travel".into(),
                currency: "VND".into(),
                balance: Some("100000000".into()),
                office_id: Some("HANVN28DB".into()),
                iata_number: Some("37963973".into()),
                timezone: Some("Asia/Ho_Chi_Minh".into()),
                ..Default::default()
            },
        )
        .await
        .expect("agency");
    app.app.set_agreement(&op(), agency.id, "VN", true, Some("5")).await.expect("agreement");
    app.app
        .add_tour_code(&op(), agency.id, "VN", "PROMO2024", Some("2026-01-01"), Some("2027-12-31"))
        .await
        .expect("tour");
    app.app
        .add_tour_code(&op(), agency.id, "VN", "OLD2020", Some("2020-01-01"), Some("2020-12-31"))
        .await
        .expect("tour");
    app.app.add_tour_code(&op(), agency.id, "QR", "QRONLY", None, None).await.expect("tour");
    app.app.add_corporate_account(&op(), agency.id, "CORP001").await.expect("ca");
    app.app.add_booker_code(&op(), agency.id, "AGENT001").await.expect("booker");
    let agent =
        app.app.create_user(&op(), "hanoi", "hanoi-password", Role::Agent, Some(agency.id)).await.expect("agent");
    let token = app.app.issue_token(&agent).expect("token").access_token;
    (agency, token)
}

fn request() -> Value {
    json!({"system": "VN", "bookingCode": "ABC123", "comAmount": 5.0, "comPercentage": true,
           "bookerCode": "AGENT001", "tourCode": "PROMO2024", "caCode": "CORP001"})
}

async fn call(app: &TestApp, token: &str, body: &Value, trace: &str) -> (StatusCode, Value) {
    let res = app
        .client
        .post(app.url(PATH))
        .bearer_auth(token)
        .header("x-request-id", trace)
        .json(body)
        .send()
        .await
        .expect("request");
    assert_eq!(res.headers()["x-request-id"], trace);
    let status = res.status();
    (status, res.json().await.expect("json"))
}

fn num(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

async fn family_issue_returns_full_booking_tickets(app: TestApp) {
    let (agency, token) = hanoi(&app).await;
    app.book(&token, &example("family")).await;
    let (status, body) = call(&app, &token, &request(), "gds-trace-1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["system"], "VN");
    assert_eq!(body["status"], true);
    assert_eq!(body["error"], Value::Null);
    assert_eq!(body["description"], Value::Null);
    assert_eq!(body["trackingId"], "gds-trace-1");
    let time = body["trackingTime"].as_str().unwrap();
    assert!(time.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{time}");
    let tickets = body["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 6);
    let expected = [
        ("pax-001", "ADT", "TKT"),
        ("pax-002", "ADT", "TKT"),
        ("pax-003", "CHD", "TKT"),
        ("pax-004", "INF", "TKT"),
        ("pax-001", "ADT", "EMD"),
        ("pax-002", "ADT", "EMD"),
    ];
    for (i, (t, (pax, kind, ticket_type))) in tickets.iter().zip(expected).enumerate() {
        assert_eq!(t["index"], i + 1);
        assert_eq!(t["passengerId"], pax);
        assert_eq!(t["passengerType"], kind);
        assert_eq!(t["ticketType"], ticket_type);
        assert_eq!(t["ticketStatus"], "OPEN");
        assert_eq!(t["bookingCode"], "ABC123");
        assert_eq!(t["currency"], "VND");
        assert_eq!(t["endorsement"], "NON-REFUNDABLE");
        assert_eq!(t["relatedNumber"], Value::Null);
        assert_eq!(t["relatedType"], Value::Null);
        let number = t["ticketNumber"].as_str().unwrap();
        assert!(
            number.len() == 13 && number.starts_with("738") && number.bytes().all(|b| b.is_ascii_digit()),
            "{number}"
        );
        assert!(is_hanoi_ticket_info(t["ticketInfo"].as_str().unwrap()), "{}", t["ticketInfo"]);
        assert!(t["ticketInfo"].as_str().unwrap().contains(&format!("738-{}", &number[3..])));
        assert!(chrono::NaiveDateTime::parse_from_str(t["issueDate"].as_str().unwrap(), "%Y-%m-%dT%H:%M:%S").is_ok());
        for field in ["surname", "givenName", "serviceType", "serviceCode", "faceTicket"] {
            assert!(t[field].is_string(), "{field}: {t}");
        }
        let tax_sum: i64 = t["taxDetails"].as_array().unwrap().iter().map(|x| num(&x["amount"])).sum();
        assert_eq!(num(&t["taxes"]), tax_sum);
        assert_eq!(num(&t["totalFare"]), num(&t["baseFare"]) + num(&t["taxes"]));
        assert!(t["faceTicket"].as_str().unwrap().contains(&format!("738-{}", &number[3..])));
        let coupons = t["couponInfos"].as_array().unwrap();
        assert_eq!(coupons.len(), 1);
        assert_eq!(coupons[0]["couponNumber"], 1);
        assert_eq!(coupons[0]["status"], "O");
    }
    assert_eq!(tickets[0]["serviceType"], "FLIGHT");
    assert_eq!(tickets[0]["serviceCode"], "");
    assert_eq!(tickets[0]["surname"], "NGUYEN");
    assert_eq!(tickets[0]["givenName"], "VAN A");
    assert_eq!(num(&tickets[0]["baseFare"]), 2_000_000);
    assert_eq!(
        tickets[0]["taxDetails"],
        json!([{"code": "AX", "amount": 200000}, {"code": "C4", "amount": 100000}, {"code": "YR", "amount": 50000}])
    );
    let c = &tickets[0]["couponInfos"][0];
    assert_eq!(
        (c["origin"].as_str(), c["destination"].as_str(), c["carrier"].as_str()),
        (Some("HAN"), Some("SGN"), Some("VN"))
    );
    assert_eq!((c["flightNumber"].as_str(), c["departureDate"].as_str()), (Some("213"), Some("2027-04-10")));
    assert_eq!((c["bookingClass"].as_str(), c["fareBasis"].as_str()), (Some("R"), Some("RPXVNF")));
    assert_eq!(num(&tickets[3]["totalFare"]), 200_000);
    assert_eq!(tickets[3]["taxDetails"], json!([]));
    assert_eq!(
        (tickets[4]["serviceType"].as_str(), tickets[4]["serviceCode"].as_str()),
        (Some("BAGGAGE"), Some("XBAG"))
    );
    assert_eq!((tickets[5]["serviceType"].as_str(), tickets[5]["serviceCode"].as_str()), (Some("SEAT"), Some("SEAT")));
    assert_eq!(num(&tickets[4]["totalFare"]), 250_000);
    let face = tickets[0]["faceTicket"].as_str().unwrap();
    for text in ["ABC123", "NGUYEN/VAN A MR", "TOUR CODE PROMO2024", "CA CODE CORP001", "BOOKER AGENT001", "HANSGN"] {
        assert!(face.contains(text), "{text} missing from\n{face}");
    }
    // 6,990,000 payable less 5% of 5,700,000 base fares.
    assert_eq!(app.balance(&agency).await, "93295000");
    // Every audit entry of the request carries its tracking id.
    let audit: Value = app.get("/api/v1/audit?tracking_id=gds-trace-1", &token).await.json().await.unwrap();
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["action"], "issuance.create");
    assert_eq!(entries[0]["outcome"], "success");
    assert_eq!(entries[0]["detail"]["attributes"]["booker_code"], "AGENT001");
    assert_eq!(entries[0]["detail"]["attributes"]["corporate_code"], "CORP001");
}

/// `PAX 738-<10 digits>/ETVN/<DDMMMYY>/HANVN28DB/37963973`, checked by hand so the tests need no regex crate.
fn is_hanoi_ticket_info(s: &str) -> bool {
    {
        let parts: Vec<&str> = s.split('/').collect();
        parts.len() == 5
            && parts[0].len() == 18
            && parts[0].starts_with("PAX 738-")
            && parts[0][8..].bytes().all(|b| b.is_ascii_digit())
            && parts[1] == "ETVN"
            && parts[2].len() == 7
            && parts[2][..2].bytes().all(|b| b.is_ascii_digit())
            && parts[2][2..5].bytes().all(|b| b.is_ascii_uppercase())
            && parts[3] == "HANVN28DB"
            && parts[4] == "37963973"
    }
}

async fn every_rule_refuses_with_its_code_and_changes_nothing(app: TestApp) {
    let (agency, token) = hanoi(&app).await;
    let booking = app.book(&token, &example("family")).await;
    let with = |key: &str, value: Value| {
        let mut r = request();
        r[key] = value;
        r
    };
    let cases = [
        (with("comAmount", json!(6)), StatusCode::UNPROCESSABLE_ENTITY, "COMMISSION_EXCEEDS_AGREEMENT"),
        (with("comAmount", json!(-1)), StatusCode::UNPROCESSABLE_ENTITY, "COMMISSION_INVALID"),
        (with("tourCode", json!("NOPE")), StatusCode::UNPROCESSABLE_ENTITY, "TOUR_CODE_UNKNOWN"),
        (with("tourCode", json!("QRONLY")), StatusCode::UNPROCESSABLE_ENTITY, "TOUR_CODE_CARRIER_MISMATCH"),
        (with("tourCode", json!("OLD2020")), StatusCode::UNPROCESSABLE_ENTITY, "TOUR_CODE_INACTIVE"),
        (with("caCode", json!("CORP999")), StatusCode::UNPROCESSABLE_ENTITY, "CORPORATE_CODE_UNKNOWN"),
        (with("bookerCode", json!("AGENT999")), StatusCode::UNPROCESSABLE_ENTITY, "BOOKER_CODE_UNKNOWN"),
        (with("system", json!("1A")), StatusCode::UNPROCESSABLE_ENTITY, "SYSTEM_MISMATCH"),
        (with("bookingCode", json!("ZZZ999")), StatusCode::NOT_FOUND, "BOOKING_NOT_FOUND"),
        (with("bookingCode", Value::Null), StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
        (with("comAmount", json!("five")), StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
    ];
    for (i, (body, status, code)) in cases.into_iter().enumerate() {
        let trace = format!("refusal-{i}");
        let (got, answer) = call(&app, &token, &body, &trace).await;
        assert_eq!(got, status, "{code}: {answer}");
        assert_eq!(answer["status"], false);
        assert_eq!(answer["error"]["code"], code, "{answer}");
        assert!(answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(answer["description"], answer["error"]["message"]);
        assert_eq!(answer["tickets"], Value::Null);
        assert_eq!(answer["trackingId"], trace);
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            let audit: Value =
                app.get(&format!("/api/v1/audit?tracking_id={trace}"), &token).await.json().await.unwrap();
            assert!(audit["entries"][0]["outcome"].as_str().unwrap().starts_with("refused:"), "{audit}");
        }
    }
    // A booking of another agency is not found either.
    let (status, answer) = call(&app, &app.agent_token, &request(), "other-agency").await;
    assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("BOOKING_NOT_FOUND")));
    // The carrier agreement can be withdrawn.
    app.app.set_agreement(&op(), agency.id, "VN", false, None).await.unwrap();
    let (status, answer) = call(&app, &token, &request(), "unauthorized").await;
    assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("CARRIER_NOT_AUTHORIZED")));
    app.app.set_agreement(&op(), agency.id, "VN", true, Some("5")).await.unwrap();
    // Nothing changed: full balance, no tickets, booking still confirmed.
    assert_eq!(app.balance(&agency).await, "100000000");
    let b: Value =
        app.get(&format!("/api/v1/bookings/{}", booking["id"].as_str().unwrap()), &token).await.json().await.unwrap();
    assert_eq!(b["status"], "confirmed");
    let (status, _) = call(&app, &token, &request(), "finally").await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = call(&app, &token, &request(), "twice").await;
    assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("BOOKING_ALREADY_TICKETED")));
    assert_eq!(app.balance(&agency).await, "93295000");
}

async fn booking_state_rules(app: TestApp) {
    let (agency, token) = hanoi(&app).await;
    let mut late = example("family");
    late["pnr"] = json!("LATE01");
    late["ticketing_deadline"] = json!("2020-01-01T00:00:00Z");
    let mut incomplete = example("family");
    incomplete["pnr"] = json!("NODOB1");
    incomplete["passengers"][2].as_object_mut().unwrap().remove("date_of_birth");
    let mut ndc = example("family");
    ndc["pnr"] = json!("NDC001");
    ndc["distribution"] = json!("ndc");
    for (doc, code) in [
        (late, "TICKETING_TIME_LIMIT_EXPIRED"),
        (incomplete, "PASSENGER_INFO_INCOMPLETE"),
        (ndc, "NDC_PAYMENT_REQUIRED"),
    ] {
        app.book(&token, &doc).await;
        let body = json!({"bookingCode": doc["pnr"]});
        let (status, answer) = call(&app, &token, &body, code).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{answer}"
        );
    }
    let mut paid = example("family");
    paid["pnr"] = json!("NDC002");
    paid["distribution"] = json!("ndc");
    paid["payment"] = json!({"type": "agency_account"});
    app.book(&token, &paid).await;
    let (status, _) = call(&app, &token, &json!({"bookingCode": "NDC002"}), "ndc-paid").await;
    assert_eq!(status, StatusCode::OK);
    // Poor agency: insufficient balance, nothing debited.
    let poor = crate::helpers::new_agency(&app.app, "Poor", "NPR", "10").await;
    let agent = app.app.create_user(&op(), "poor", "poor-password", Role::Agent, Some(poor.id)).await.unwrap();
    let poor_token = app.app.issue_token(&agent).unwrap().access_token;
    app.book(&poor_token, &example("oneway")).await;
    let (status, answer) = call(&app, &poor_token, &json!({"bookingCode": "PQMJ8E"}), "poor").await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::PAYMENT_REQUIRED, Some("INSUFFICIENT_BALANCE"))
    );
    assert_eq!(answer["system"], "1A");
    assert_eq!(app.balance(&poor).await, "10.00");
    assert_ne!(app.balance(&agency).await, "100000000");
}

async fn both_auth_headers_and_auth_failures(app: TestApp) {
    let (_, token) = hanoi(&app).await;
    app.book(&token, &example("family")).await;
    let res = app.client.post(app.url(PATH)).json(&request()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert_eq!((body["status"].as_bool(), body["error"]["code"].as_str()), (Some(false), Some("AUTH_REQUIRED")));
    let res = app.client.post(app.url(PATH)).bearer_auth("not.a.token").json(&request()).send().await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "AUTH_INVALID");
    let hanoi_user = app.app.find_user_by_username("hanoi").await.unwrap();
    let (_, key) = app.app.create_api_key(&op(), hanoi_user.id).await.unwrap();
    let res = app.client.post(app.url(PATH)).header("X-API-KEY", &key).json(&request()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["tickets"].as_array().map(Vec::len), Some(6));
}

both_backends!(
    family_issue_returns_full_booking_tickets,
    every_rule_refuses_with_its_code_and_changes_nothing,
    booking_state_rules,
    both_auth_headers_and_auth_failures,
);
