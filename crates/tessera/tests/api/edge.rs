//! Bad input is a 4xx on both backends, in every profile's own envelope: NUL and other control characters in
//! query, path and body values (PostgreSQL used to answer 500), out-of-range page sizes refused rather than
//! clamped, a required body required, 415 for a body not sent as JSON, and messages without Rust type names.

use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{example, expect_problem, TestApp};

async fn status_and_json(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    (status, res.json().await.expect("json body"))
}

fn pointers(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().expect("errors").iter().map(|e| e["pointer"].as_str().unwrap().to_owned()).collect()
}

async fn audit_count(app: &TestApp) -> usize {
    let body: Value = app.get("/api/v1/audit?limit=1000", &app.admin_token).await.json().await.unwrap();
    body["entries"].as_array().unwrap().len()
}

async fn nul_bytes_are_refused_in_every_profile(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let code = booking["booking_code"].as_str().or(booking["pnr"].as_str()).unwrap().to_owned();
    let before = audit_count(&app).await;

    // Native: query and path parameters, with the parameter's pointer.
    for (path, pointer) in [
        ("/api/v1/audit?action=a%00b", "/query/action"),
        ("/api/v1/bookings?pnr=a%00b", "/query/pnr"),
        ("/api/v1/bookings?cursor=%1b", "/query/cursor"),
        ("/api/v1/bookings/a%00b", "/path/id"),
        ("/api/v1/tickets/%7f/pdf", "/path/number"),
    ] {
        let problem = expect_problem(
            app.get(path, &app.admin_token).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(pointers(&problem), [pointer], "{path}: {problem}");
        assert_eq!(problem["errors"][0]["reason"], "must not contain control characters", "{path}");
    }
    // Native: a JSON body's strings, nested ones included, with an RFC 6901 pointer.
    let mut doc = example("oneway");
    doc["passengers"][0]["surname"] = json!("Nul\u{0}");
    let problem = expect_problem(
        app.post("/api/v1/bookings", &app.agent_token, &doc).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), ["/passengers/0/surname"]);

    // Events API: 400 in its own envelope, naming the parameter.
    for (query, name) in [("booking_code=a%00b", "booking_code"), ("event_id=a%00b", "event_id")] {
        let res = app
            .client
            .get(app.url(&format!("/v1/bookingorders?{query}")))
            .bearer_auth(&app.agent_token)
            .send()
            .await
            .unwrap();
        let (status, body) = status_and_json(res).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(
            body,
            json!({"error": "bad_request", "message": format!("{name}: must not contain control characters")})
        );
    }
    let res = app.client.get(app.url("/v1/bookingorders/a%00b")).bearer_auth(&app.agent_token).send().await.unwrap();
    let (status, body) = status_and_json(res).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")), "{body}");

    // Group API: the seed's envelope and statuses for each endpoint.
    let res = app
        .client
        .get(app.url("/tickets?booking_code=a%00b"))
        .header("x-access-token", &app.agent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(res).await,
        (StatusCode::BAD_REQUEST, json!({"status": false, "message": "Can not generate ticket"}))
    );
    let res = app
        .client
        .post(app.url("/tickets"))
        .header("x-access-token", &app.agent_token)
        .json(&json!({"booking_code": "a\u{0}b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(res).await,
        (
            StatusCode::CONFLICT,
            json!({"status": false, "message": "Create ticket fail: booking_code must not contain control characters"})
        )
    );

    // GDS API: INVALID_REQUEST in its envelope.
    let res = app
        .client
        .post(app.url("/api/v1/flight/issueticket"))
        .header("x-access-token", &app.agent_token)
        .json(&json!({"bookingCode": "a\u{0}b"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        (body["status"].as_bool(), body["error"]["code"].as_str()),
        (Some(false), Some("INVALID_REQUEST")),
        "{body}"
    );
    assert_eq!(body["error"]["message"], "/bookingCode must not contain control characters");

    // Agent API: the seed's one refusal.
    let issue = json!({"bookingReferenceID": booking["id"], "tripType": "O\u{0}W", "currency": "NPR"});
    let res = app
        .client
        .post(app.url("/issue-ticket"))
        .header("x-access-token", &app.agent_token)
        .json(&issue)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_json(res).await,
        (StatusCode::UNPROCESSABLE_ENTITY, json!({"success": false, "data": {"error": "Invalid Ticket Parameters."}}))
    );

    // Nothing was issued or recorded by any of it.
    let after: Value = app
        .get(&format!("/api/v1/bookings/{}", booking["id"].as_str().unwrap()), &app.agent_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["status"], "confirmed", "{after} ({code})");
    assert_eq!(audit_count(&app).await, before);
}

async fn page_sizes_out_of_range_are_refused_not_clamped(app: TestApp) {
    for (path, max) in
        [("/api/v1/bookings", 200), ("/api/v1/audit", 1000), ("/api/v1/downloads", 1000), ("/api/v1/outbox", 1000)]
    {
        let over = (max + 1).to_string();
        for limit in ["0", over.as_str(), "1e6", "1000000", "-1", "abc"] {
            let res = app.get(&format!("{path}?limit={limit}"), &app.admin_token).await;
            let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
            assert_eq!(pointers(&problem), ["/query/limit"], "{path}?limit={limit}");
            assert_eq!(
                problem["errors"][0]["reason"],
                format!("must be a whole number from 1 to {max}"),
                "{path}?limit={limit}"
            );
        }
        for limit in ["1", &max.to_string()] {
            assert_eq!(app.get(&format!("{path}?limit={limit}"), &app.admin_token).await.status(), StatusCode::OK);
        }
    }
    // A query value that is not one of a filter's words names the parameter the same way.
    let problem = expect_problem(
        app.get("/api/v1/bookings?status=open", &app.agent_token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(pointers(&problem), ["/query/status"]);
}

async fn agreements(app: &TestApp) -> Value {
    let path = format!("/api/v1/agencies/{}/agreements", app.agency.id);
    app.get(&path, &app.admin_token).await.json().await.unwrap()
}

async fn an_agreement_needs_a_body(app: TestApp) {
    let path = format!("/api/v1/agencies/{}/agreements/QR", app.agency.id);
    let set = app
        .client
        .put(app.url(&path))
        .bearer_auth(&app.admin_token)
        .json(&json!({"authorized": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);
    let before = agreements(&app).await;
    let empty = app.client.put(app.url(&path)).bearer_auth(&app.admin_token).send().await.unwrap();
    let problem = expect_problem(empty, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/authorized"]);
    assert_eq!(problem["errors"][0]["reason"], "missing field `authorized`");
    let braces = app.client.put(app.url(&path)).bearer_auth(&app.admin_token).json(&json!({})).send().await.unwrap();
    let problem = expect_problem(braces, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(pointers(&problem), ["/authorized"]);
    assert_eq!(agreements(&app).await, before, "the carrier stays unauthorized");
}

async fn a_body_not_sent_as_json_is_415_in_every_profile(app: TestApp) {
    let sign_in = r#"{"username": "agent", "password": "agent-password"}"#;
    let res = app
        .client
        .post(app.url("/api/v1/sign-in"))
        .header("content-type", "text/plain")
        .body(sign_in)
        .send()
        .await
        .unwrap();
    let problem = expect_problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    assert_eq!(problem["detail"], "the request body must be JSON, sent with Content-Type: application/json");
    let res = app.client.post(app.url("/api/v1/sign-in")).body(sign_in).send().await.unwrap();
    expect_problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    // The same body declared as JSON signs in.
    let res = app
        .client
        .post(app.url("/api/v1/sign-in"))
        .header("content-type", "application/json; charset=utf-8")
        .body(sign_in)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let send = |path: &'static str, body: &'static str| {
        app.client
            .post(app.url(path))
            .header("x-access-token", &app.agent_token)
            .header("content-type", "text/plain")
            .body(body)
            .send()
    };
    let (status, body) = status_and_json(send("/issue-ticket", r#"{"bookingReferenceID": "x"}"#).await.unwrap()).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"success": false, "data": {"error": "Request body must be JSON (Content-Type: application/json)."}})
        )
    );
    let (status, body) =
        status_and_json(send("/api/v1/flight/issueticket", r#"{"bookingCode": "x"}"#).await.unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("INVALID_REQUEST")),
        "{body}"
    );
    let (status, body) = status_and_json(send("/tickets", r#"{"booking_code": "x"}"#).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    assert_eq!(body["status"], false);
}

async fn messages_name_no_rust_types(app: TestApp) {
    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let path = format!("/api/v1/bookings/{}/issue", booking["id"].as_str().unwrap());
    for (body, pointer) in
        [("null", ""), ("[]", ""), (r#"{"commission": 5}"#, "/commission"), (r#"{"tour_code": 7}"#, "/tour_code")]
    {
        let res = app
            .client
            .post(app.url(&path))
            .bearer_auth(&app.agent_token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(pointers(&problem), [pointer], "{body}: {problem}");
        let reason = problem["errors"][0]["reason"].as_str().unwrap();
        assert!(
            !reason.contains("struct") && !reason.contains("Request") && !reason.contains("enum "),
            "{body}: {reason}"
        );
    }
    let res = app
        .client
        .post(app.url("/api/v1/flight/issueticket"))
        .header("x-access-token", &app.agent_token)
        .json(&json!(null))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["message"], "invalid request: invalid type: null, expected an object", "{body}");
}

both_backends!(
    nul_bytes_are_refused_in_every_profile,
    page_sizes_out_of_range_are_refused_not_clamped,
    an_agreement_needs_a_body,
    a_body_not_sent_as_json_is_415_in_every_profile,
    messages_name_no_rust_types,
);
