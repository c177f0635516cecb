//! Operator endpoints over HTTP: agencies, top-ups and the ledger, agreements, users, and the audit trail.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{example, expect_problem, TestApp};

/// The JSON pointers a 422 names, sorted.
async fn pointers(res: reqwest::Response) -> Vec<String> {
    let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let mut pointers: Vec<String> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap().to_owned()).collect();
    for error in problem["errors"].as_array().unwrap() {
        assert!(!error["reason"].as_str().unwrap().is_empty(), "{problem}");
    }
    pointers.sort();
    pointers
}

async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status);
    res.json().await.unwrap()
}

async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.client.put(app.url(path)).bearer_auth(token).json(body).send().await.unwrap()
}

async fn admins_create_agencies_with_exact_amounts_and_everyone_else_is_refused(app: TestApp) {
    let body = json!({"name": "Pokhara Travel", "currency": "NPR", "balance": "2500.5", "credit_limit": 100,
                      "office_id": "PKRNP2100", "iata_number": "35123457", "timezone": "Asia/Kathmandu"});
    let created = json_of(app.post("/api/v1/agencies", &app.admin_token, &body).await, StatusCode::CREATED).await;
    assert_eq!(created["name"], "Pokhara Travel");
    assert_eq!(created["currency"], "NPR");
    assert_eq!(created["balance"], "2500.50");
    assert_eq!(created["credit_limit"], "100.00");
    assert_eq!(created["available"], "2600.50");
    assert_eq!(created["office_id"], "PKRNP2100");
    assert_eq!(created["iata_number"], "35123457");
    assert_eq!(created["timezone"], "Asia/Kathmandu");
    let id = created["id"].as_str().unwrap();
    let fetched = json_of(app.get(&format!("/api/v1/agencies/{id}"), &app.admin_token).await, StatusCode::OK).await;
    assert_eq!(fetched, created);
    let all = json_of(app.get("/api/v1/agencies", &app.admin_token).await, StatusCode::OK).await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    // The opening balance is a ledger entry like any other.
    let ledger =
        json_of(app.get(&format!("/api/v1/agencies/{id}/ledger"), &app.admin_token).await, StatusCode::OK).await;
    assert_eq!(ledger[0]["kind"], "top_up");
    assert_eq!(ledger[0]["amount"], "2500.50");
    // Without optional fields: zero balance, UTC.
    let bare = json_of(
        app.post("/api/v1/agencies", &app.admin_token, &json!({"name": "Bare", "currency": "EUR"})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (&bare["balance"], &bare["credit_limit"], &bare["timezone"]),
        (&json!("0.00"), &json!("0.00"), &json!("UTC"))
    );
    assert_eq!(bare["office_id"], Value::Null);

    let bad = json!({"name": "X", "currency": "rupees", "iata_number": "123", "timezone": "Mars/Base"});
    assert_eq!(
        pointers(app.post("/api/v1/agencies", &app.admin_token, &bad).await).await,
        ["/currency", "/iata_number", "/timezone"]
    );
    let bad = json!({"name": "", "currency": "NPR", "balance": "-5", "credit_limit": "1.001", "office_id": "x"});
    assert_eq!(
        pointers(app.post("/api/v1/agencies", &app.admin_token, &bad).await).await,
        ["/balance", "/credit_limit", "/name", "/office_id"]
    );
    let bad = json!({"name": "X", "currency": "NPR", "balance": "1.001"});
    assert_eq!(pointers(app.post("/api/v1/agencies", &app.admin_token, &bad).await).await, ["/balance"]);
    let bad = json!({"name": "X", "currency": "NPR", "colour": "red"});
    assert_eq!(pointers(app.post("/api/v1/agencies", &app.admin_token, &bad).await).await.len(), 1);
    for token in [&app.agent_token, &app.customer_token] {
        expect_problem(app.post("/api/v1/agencies", token, &body).await, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let all = json_of(app.get("/api/v1/agencies", &app.admin_token).await, StatusCode::OK).await;
    assert_eq!(all.as_array().unwrap().len(), 4, "nothing was created by the refused requests");
}

async fn top_ups_post_ledger_entries_that_sum_to_the_balance(app: TestApp) {
    let path = format!("/api/v1/agencies/{}/top-ups", app.agency.id);
    let entry = json_of(
        app.post(&path, &app.admin_token, &json!({"amount": "250.50", "note": "wire 42"})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(entry["kind"], "top_up");
    assert_eq!(entry["amount"], "250.50");
    assert_eq!(entry["balance_after"], "1000250.50");
    assert_eq!(entry["currency"], "NPR");
    assert_eq!(entry["note"], "wire 42");
    let entry = json_of(app.post(&path, &app.admin_token, &json!({"amount": 99})).await, StatusCode::CREATED).await;
    assert_eq!(entry["balance_after"], "1000349.50");
    for amount in [json!("0"), json!(0), json!("-1"), json!("0.001"), json!("lots")] {
        let res = app.post(&path, &app.admin_token, &json!({"amount": amount})).await;
        assert_eq!(pointers(res).await, ["/amount"], "{amount}");
    }
    let res = app.post(&path, &app.admin_token, &json!({})).await;
    assert_eq!(pointers(res).await.len(), 1, "a missing amount is named");
    let ghost = format!("/api/v1/agencies/{}/top-ups", uuid::Uuid::new_v4());
    expect_problem(
        app.post(&ghost, &app.admin_token, &json!({"amount": "1"})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app.post("/api/v1/agencies/not-a-uuid/top-ups", &app.admin_token, &json!({"amount": "1"})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app.post(&path, &app.agent_token, &json!({"amount": "1"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    let ledger = app.ledger(&app.agency).await;
    let amounts: Vec<&str> = ledger.iter().map(|e| e["amount"].as_str().unwrap()).collect();
    assert_eq!(amounts, ["1000000.00", "250.50", "99.00"]);
    let ids: Vec<i64> = ledger.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let minor = |s: &str| s.replace('.', "").parse::<i64>().unwrap();
    let sum: i64 = amounts.iter().map(|a| minor(a)).sum();
    assert_eq!(sum, minor(&app.balance(&app.agency).await));
    assert_eq!(ledger.last().unwrap()["balance_after"], "1000349.50");
    // The agent reads its own ledger; another agency's is not there.
    let own =
        json_of(app.get(&format!("/api/v1/agencies/{}/ledger", app.agency.id), &app.agent_token).await, StatusCode::OK)
            .await;
    assert_eq!(own.as_array().unwrap().len(), 3);
    let res = app.get(&format!("/api/v1/agencies/{}/ledger", app.agency.id), &app.other_token).await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
}

async fn agreements_tour_codes_and_corporate_accounts_are_managed_by_admins(app: TestApp) {
    let base = format!("/api/v1/agencies/{}", app.agency.id);
    let res = put(
        &app,
        &format!("{base}/agreements/QR"),
        &app.admin_token,
        &json!({"authorized": true, "commission_cap": "5"}),
    )
    .await;
    let agreement = json_of(res, StatusCode::OK).await;
    assert_eq!(agreement["carrier"], "QR");
    assert_eq!(agreement["authorized"], true);
    let res = put(&app, &format!("{base}/agreements/EK"), &app.admin_token, &json!({"authorized": false})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = put(
        &app,
        &format!("{base}/agreements/QR"),
        &app.admin_token,
        &json!({"authorized": true, "commission_cap": "101"}),
    )
    .await;
    assert_eq!(pointers(res).await, ["/commission_cap"]);
    let res = put(
        &app,
        &format!("{base}/agreements/QR"),
        &app.admin_token,
        &json!({"authorized": true, "commission_cap": "-1"}),
    )
    .await;
    assert_eq!(pointers(res).await, ["/commission_cap"]);
    let res = put(&app, &format!("{base}/agreements/QRX"), &app.admin_token, &json!({"authorized": true})).await;
    assert_eq!(pointers(res).await, ["/path/carrier"]);
    let res = put(&app, &format!("{base}/agreements/QR"), &app.agent_token, &json!({"authorized": true})).await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;

    let tour = json!({"carrier": "QR", "code": "QRSPRING", "valid_from": "2027-01-01", "valid_to": "2027-06-30"});
    let created =
        json_of(app.post(&format!("{base}/tour-codes"), &app.admin_token, &tour).await, StatusCode::CREATED).await;
    assert_eq!(created["code"], "QRSPRING");
    assert_eq!(created["valid_to"], "2027-06-30");
    let backwards = json!({"carrier": "QR", "code": "QRBACK", "valid_from": "2027-06-30", "valid_to": "2027-01-01"});
    assert_eq!(
        pointers(app.post(&format!("{base}/tour-codes"), &app.admin_token, &backwards).await).await,
        ["/valid_to"]
    );
    let not_a_date = json!({"carrier": "QR", "code": "QRBAD", "valid_from": "30/06/2027"});
    assert_eq!(
        pointers(app.post(&format!("{base}/tour-codes"), &app.admin_token, &not_a_date).await).await,
        ["/valid_from"]
    );
    let res = app.post(&format!("{base}/corporate-accounts"), &app.admin_token, &json!({"code": "CORP42"})).await;
    assert_eq!(json_of(res, StatusCode::CREATED).await, json!({"code": "CORP42"}));
    let res = app.post(&format!("{base}/corporate-accounts"), &app.admin_token, &json!({"code": "no spaces"})).await;
    assert_eq!(pointers(res).await, ["/code"]);

    let agreements = json_of(app.get(&format!("{base}/agreements"), &app.agent_token).await, StatusCode::OK).await;
    let qr = agreements["carriers"].as_array().unwrap().iter().find(|c| c["carrier"] == "QR").unwrap();
    assert_eq!(qr["authorized"], true);
    assert_eq!(qr["commission_cap_percent"].as_str().map(|c| c.parse::<f64>().unwrap()), Some(5.0), "{qr}");
    let ek = agreements["carriers"].as_array().unwrap().iter().find(|c| c["carrier"] == "EK").unwrap();
    assert_eq!(ek["authorized"], false);
    let tours = agreements["tour_codes"].as_array().unwrap();
    assert_eq!(tours.len(), 1, "the refused tour codes were not stored: {agreements}");
    assert_eq!(tours[0]["code"], "QRSPRING");
    assert_eq!(tours[0]["valid_from"], "2027-01-01");
    assert_eq!(agreements["corporate_accounts"], json!(["CORP42"]));
    let res = app.get(&format!("{base}/agreements"), &app.other_token).await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app.get(&format!("{base}/agreements"), &app.customer_token).await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}

async fn admins_create_users_who_can_then_sign_in(app: TestApp) {
    let agency = app.agency.id.to_string();
    let new = |username: &str, role: &str, agency: Option<&str>| {
        let password = format!("{username}-password");
        json!({"username": username, "password": password, "role": role, "agency_id": agency})
    };
    for (username, role, agency) in [
        ("clerk", "agent", Some(agency.as_str())),
        ("traveller", "customer", Some(agency.as_str())),
        ("boss", "admin", None),
    ] {
        let user = json_of(
            app.post("/api/v1/users", &app.admin_token, &new(username, role, agency)).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(user["username"], username);
        assert_eq!(user["role"], role);
        assert_eq!(user["agency_id"], json!(agency));
        assert!(user["id"].as_str().unwrap().parse::<uuid::Uuid>().is_ok());
        assert!(user.get("password").is_none() && user.get("password_hash").is_none(), "{user}");
    }
    let res = app.post("/api/v1/users", &app.admin_token, &new("clerk", "agent", Some(&agency))).await;
    expect_problem(res, StatusCode::CONFLICT, "conflict").await;
    let short = json!({"username": "shorty", "password": "1234567", "role": "agent", "agency_id": agency});
    assert_eq!(pointers(app.post("/api/v1/users", &app.admin_token, &short).await).await, ["/password"]);
    assert_eq!(
        pointers(app.post("/api/v1/users", &app.admin_token, &new("loner", "agent", None)).await).await,
        ["/agency_id"]
    );
    assert_eq!(
        pointers(app.post("/api/v1/users", &app.admin_token, &new("ruler", "king", Some(&agency))).await).await,
        ["/role"]
    );
    assert_eq!(
        pointers(app.post("/api/v1/users", &app.admin_token, &new("two words", "agent", Some(&agency))).await).await,
        ["/username"]
    );
    let res = app.post("/api/v1/users", &app.agent_token, &new("sneaky", "admin", None)).await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;

    let listed =
        json_of(app.get(&format!("/api/v1/users?agency_id={agency}"), &app.admin_token).await, StatusCode::OK).await;
    let mut names: Vec<&str> = listed.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["agent", "clerk", "customer", "traveller"]);
    let everyone = json_of(app.get("/api/v1/users", &app.admin_token).await, StatusCode::OK).await;
    assert_eq!(everyone.as_array().unwrap().len(), 7);
    expect_problem(app.get("/api/v1/users", &app.agent_token).await, StatusCode::FORBIDDEN, "forbidden").await;

    let res = app
        .client
        .post(app.url("/api/v1/sign-in"))
        .json(&json!({"username": "clerk", "password": "clerk-password"}))
        .send()
        .await
        .unwrap();
    let token = json_of(res, StatusCode::OK).await["access_token"].as_str().unwrap().to_owned();
    let booking = app.book(&token, &example("oneway")).await;
    assert_eq!(booking["agency_id"], json!(agency));
    let res = app
        .client
        .post(app.url("/api/v1/sign-in"))
        .json(&json!({"username": "shorty", "password": "1234567"}))
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

async fn the_audit_trail_is_scoped_to_the_agency_and_found_by_tracking_id(app: TestApp) {
    expect_problem(app.get("/api/v1/audit", &app.customer_token).await, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app
        .client
        .post(app.url("/api/v1/bookings"))
        .bearer_auth(&app.agent_token)
        .header("x-request-id", "my-trace-123")
        .json(&example("oneway"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers().get("x-request-id").unwrap(), "my-trace-123");
    let ours = json_of(res, StatusCode::CREATED).await;
    let theirs = app.book(&app.other_token, &example("round")).await;

    let audit = json_of(app.get("/api/v1/audit", &app.agent_token).await, StatusCode::OK).await;
    let entries = audit["entries"].as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|e| e["agency_id"] == json!(app.agency.id.to_string())), "{audit}");
    assert!(entries.iter().any(|e| e["booking_id"] == ours["id"]));
    assert!(entries.iter().all(|e| e["booking_id"] != theirs["id"]), "{audit}");
    let audit = json_of(app.get("/api/v1/audit", &app.other_token).await, StatusCode::OK).await;
    let entries = audit["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["booking_id"] == theirs["id"]));
    assert!(entries.iter().all(|e| e["agency_id"] == json!(app.other_agency.id.to_string())), "{audit}");
    let res = app.get(&format!("/api/v1/audit?booking={}", ours["id"].as_str().unwrap()), &app.other_token).await;
    assert_eq!(json_of(res, StatusCode::OK).await["entries"], json!([]));
    let audit = json_of(app.get("/api/v1/audit", &app.admin_token).await, StatusCode::OK).await;
    let booked: Vec<&Value> =
        audit["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "booking.create").collect();
    assert_eq!(booked.len(), 2, "the admin sees both agencies");

    let traced =
        json_of(app.get("/api/v1/audit?tracking_id=my-trace-123", &app.agent_token).await, StatusCode::OK).await;
    let entries = traced["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{traced}");
    assert_eq!(entries[0]["tracking_id"], "my-trace-123");
    assert_eq!(entries[0]["action"], "booking.create");
    assert_eq!(entries[0]["booking_id"], ours["id"]);
    assert_eq!(entries[0]["username"], "agent");
    assert_eq!(entries[0]["outcome"], "success");
    let traced =
        json_of(app.get("/api/v1/audit?tracking_id=my-trace-123", &app.other_token).await, StatusCode::OK).await;
    assert_eq!(traced["entries"], json!([]), "another agency's trace is invisible");
    // Without an x-request-id the server makes one up and records it.
    let res = app
        .post(&format!("/api/v1/bookings/{}/issue", ours["id"].as_str().unwrap()), &app.agent_token, &json!({}))
        .await;
    let generated = res.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
    assert_eq!(res.status(), StatusCode::CREATED);
    let traced =
        json_of(app.get(&format!("/api/v1/audit?tracking_id={generated}"), &app.agent_token).await, StatusCode::OK)
            .await;
    assert_eq!(traced["entries"][0]["action"], "issuance.create", "{traced}");
}

/// Bad input is a 422, never a 500 (docs/api.md: 500 means "a bug or an outage"), even when the amount itself fits
/// but the balance it would make does not (balances are i64 minor units: at most 92,233,720,368,547,758.07).
async fn a_top_up_that_would_overflow_the_balance_is_refused_as_invalid(app: TestApp) {
    let path = format!("/api/v1/agencies/{}/top-ups", app.agency.id);
    let res = app.post(&path, &app.admin_token, &json!({"amount": "99999999999999999999999"})).await;
    assert_eq!(pointers(res).await, ["/amount"], "an amount that does not fit on its own");
    let res = app.post(&path, &app.admin_token, &json!({"amount": "90000000000000000"})).await;
    assert_eq!(res.status(), StatusCode::CREATED, "the first one fits");
    let res = app.post(&path, &app.admin_token, &json!({"amount": "90000000000000000"})).await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the second would overflow the balance: bad input, not a 500"
    );
    assert_eq!(pointers(res).await, ["/amount"]);
    assert_eq!(app.balance(&app.agency).await, "90000000001000000.00", "nothing changed");
    assert_eq!(app.ledger(&app.agency).await.len(), 2);
}

/// The app decides who may act before it reads what they sent: a non-admin learns nothing about the body.
async fn non_admins_are_refused_before_their_input_is_validated(app: TestApp) {
    let bad_role = json!({"username": "x", "password": "long-enough", "role": "king"});
    for token in [&app.agent_token, &app.customer_token] {
        let res = app.post("/api/v1/users", token, &bad_role).await;
        expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
        let path = "/api/v1/booking-orders/00000000000000000000000000000000_bkn/items/x/distribution-channel";
        let res = app.client.put(app.url(path)).bearer_auth(token).json(&json!({"distribution_channel": "mail"}));
        expect_problem(res.send().await.unwrap(), StatusCode::FORBIDDEN, "forbidden").await;
    }
    assert_eq!(pointers(app.post("/api/v1/users", &app.admin_token, &bad_role).await).await, ["/role"]);
}

/// The settings change together or not at all: every refused field is named and nothing is written; only admins
/// may; an unknown agency is not found.
async fn agency_settings_change_together_or_not_at_all(app: TestApp) {
    let path = format!("/api/v1/agencies/{}/settings", app.agency.id);
    let before = app.agency_body(&app.agency).await;
    let good = json!({"vat_percent": "12.5", "refund_approval": true, "default_language": "vi"});
    for token in [&app.agent_token, &app.customer_token] {
        expect_problem(put(&app, &path, token, &good).await, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let bad = json!({"vat_percent": 100, "refund_approval": true, "default_language": "de"});
    assert_eq!(pointers(put(&app, &path, &app.admin_token, &bad).await).await, ["/default_language", "/vat_percent"]);
    let half_bad = json!({"vat_percent": "7.125", "refund_approval": true, "default_language": "vi"});
    assert_eq!(pointers(put(&app, &path, &app.admin_token, &half_bad).await).await, ["/vat_percent"]);
    let unknown = format!("/api/v1/agencies/{}/settings", uuid::Uuid::new_v4());
    expect_problem(put(&app, &unknown, &app.admin_token, &good).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(app.agency_body(&app.agency).await, before, "nothing changed");

    let changed = json_of(put(&app, &path, &app.admin_token, &good).await, StatusCode::OK).await;
    assert_eq!(
        (&changed["vat_percent"], &changed["refund_approval"], &changed["default_language"]),
        (&json!("12.5"), &json!(true), &json!("vi")),
        "{changed}"
    );
    assert_eq!(app.agency_body(&app.agency).await, changed);
    assert_eq!(changed["balance"], before["balance"], "money is not a setting");
}

async fn agreements_of(app: &TestApp, base: &str) -> Value {
    json_of(app.get(&format!("{base}/agreements"), &app.admin_token).await, StatusCode::OK).await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client.delete(app.url(path)).bearer_auth(token).send().await.unwrap()
}

/// Each entry of an agency's agreements is removed on its own (204, then 404); only admins may; another agency's
/// entries and the agency's other entries stay; what is not a carrier is no entry (404).
async fn agreement_entries_are_removed_by_admins(app: TestApp) {
    let base = format!("/api/v1/agencies/{}", app.agency.id);
    let other = format!("/api/v1/agencies/{}", app.other_agency.id);
    for b in [&base, &other] {
        let tour = json!({"carrier": "QR", "code": "QRSPRING"});
        assert_eq!(app.post(&format!("{b}/tour-codes"), &app.admin_token, &tour).await.status(), StatusCode::CREATED);
        let code = json!({"code": "CORP42"});
        let res = app.post(&format!("{b}/corporate-accounts"), &app.admin_token, &code).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let res = app.post(&format!("{b}/booker-codes"), &app.admin_token, &code).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let before = agreements_of(&app, &base).await;
    let others = agreements_of(&app, &other).await;
    let entries = ["agreements/QR", "tour-codes/QR/QRSPRING", "corporate-accounts/CORP42", "booker-codes/CORP42"];
    for entry in entries {
        let path = format!("{base}/{entry}");
        for token in [&app.agent_token, &app.customer_token] {
            expect_problem(delete(&app, &path, token).await, StatusCode::FORBIDDEN, "forbidden").await;
        }
    }
    assert_eq!(agreements_of(&app, &base).await, before, "refused removals remove nothing");
    for entry in entries {
        let path = format!("{base}/{entry}");
        assert_eq!(delete(&app, &path, &app.admin_token).await.status(), StatusCode::NO_CONTENT, "{entry}");
        expect_problem(delete(&app, &path, &app.admin_token).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    for missing in ["agreements/Q!", "tour-codes/QR/NOPE", "booker-codes/NOPE"] {
        let res = delete(&app, &format!("{base}/{missing}"), &app.admin_token).await;
        expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    let unknown = format!("/api/v1/agencies/{}/corporate-accounts/CORP42", uuid::Uuid::new_v4());
    expect_problem(delete(&app, &unknown, &app.admin_token).await, StatusCode::NOT_FOUND, "not_found").await;

    let after = agreements_of(&app, &base).await;
    let carriers: Vec<&str> =
        after["carriers"].as_array().unwrap().iter().map(|c| c["carrier"].as_str().unwrap()).collect();
    assert_eq!(carriers, ["FZ"], "the QR agreement is gone, FZ's stays: {after}");
    assert_eq!(
        (&after["tour_codes"], &after["corporate_accounts"], &after["booker_codes"]),
        (&json!([]), &json!([]), &json!([]))
    );
    assert_eq!(agreements_of(&app, &other).await, others, "another agency's entries stay");
}

both_backends!(
    admins_create_agencies_with_exact_amounts_and_everyone_else_is_refused,
    non_admins_are_refused_before_their_input_is_validated,
    top_ups_post_ledger_entries_that_sum_to_the_balance,
    agreements_tour_codes_and_corporate_accounts_are_managed_by_admins,
    admins_create_users_who_can_then_sign_in,
    the_audit_trail_is_scoped_to_the_agency_and_found_by_tracking_id,
    a_top_up_that_would_overflow_the_balance_is_refused_as_invalid,
    agency_settings_change_together_or_not_at_all,
    agreement_entries_are_removed_by_admins,
);
