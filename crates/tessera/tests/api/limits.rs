//! The edges: body size cap, malformed input of every kind never answered with a 5xx, path junk, health probes,
//! request ids and the OpenAPI document.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use tessera_core::user::Role;

use crate::helpers::{example, expect_problem, new_agency, op, spawn_app_with, Backend, Options, TestApp};

async fn booking_count(app: &TestApp) -> usize {
    let list: Value = app.get("/api/v1/bookings", &app.admin_token).await.json().await.unwrap();
    list["bookings"].as_array().unwrap().len()
}

async fn a_body_over_the_limit_is_413_and_stores_nothing(backend: Backend) {
    let app = spawn_app_with(backend, Options { max_body_bytes: Some(4096), ..Default::default() }).await;
    let mut big = example("oneway");
    big["endorsement"] = json!("X".repeat(5000));
    let res = app.post("/api/v1/bookings", &app.agent_token, &big).await;
    let problem = expect_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert!(problem.get("errors").is_none(), "{problem}");
    assert_eq!(booking_count(&app).await, 0);
    // Every JSON endpoint has the same cap.
    let sign_in = json!({"username": "agent", "password": "p".repeat(5000)});
    let res = app.client.post(app.url("/api/v1/sign-in")).json(&sign_in).send().await.unwrap();
    expect_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let top_up = json!({"amount": "1", "note": "n".repeat(5000)});
    let res = app.post(&format!("/api/v1/agencies/{}/top-ups", app.agency.id), &app.admin_token, &top_up).await;
    expect_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(app.balance(&app.agency).await, "1000000.00");
    // The cap is exact: a document padded with JSON whitespace to 4097 bytes is refused, to 4096 bytes accepted.
    let padded = |len: usize| {
        let mut body = serde_json::to_vec(&example("oneway")).unwrap();
        body.resize(len, b' ');
        body
    };
    let send = |body: Vec<u8>| {
        let request = app.client.post(app.url("/api/v1/bookings")).bearer_auth(&app.agent_token);
        request.header("content-type", "application/json").body(body).send()
    };
    let res = send(padded(4097)).await.unwrap();
    expect_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(booking_count(&app).await, 0);
    let res = send(padded(4096)).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(booking_count(&app).await, 1);
}

/// Bodies no client should send: seeded random bytes, deep nesting, huge numbers, wrong types, nulls, junk text.
fn malformed_bodies() -> Vec<(String, Vec<u8>)> {
    let mut rng = StdRng::seed_from_u64(0x07e5_5e7a);
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for n in 0..6 {
        let len = [1, 7, 64, 513, 2048, 9000][n];
        out.push((format!("random {len} bytes"), (0..len).map(|_| rng.gen::<u8>()).collect()));
    }
    let mut printable = String::new();
    for _ in 0..400 {
        printable.push(char::from(rng.gen_range(0x20u8..0x7f)));
    }
    out.push(("random printable".into(), printable.into_bytes()));
    let depth = 10_000;
    out.push(("10k nested arrays".into(), format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()));
    out.push(("10k nested objects".into(), format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth)).into_bytes()));
    out.push((
        "nested under a field".into(),
        format!(r#"{{"type":"flight","amount":{}{}}}"#, "[".repeat(depth), "]".repeat(depth)).into_bytes(),
    ));
    let texts = [
        ("empty", ""),
        ("whitespace", " \n\t "),
        ("empty object", "{}"),
        ("empty array", "[]"),
        ("null", "null"),
        ("true", "true"),
        ("a string", r#""hello""#),
        ("bare huge number", "1e400"),
        ("huge amounts", r#"{"amount": 1e400, "balance": 1e400, "base": 1e400, "commission": {"percent": 1e400}, "type": "flight", "name": "x", "currency": "NPR"}"#),
        ("huge integer", r#"{"amount": 123456789012345678901234567890, "balance": 123456789012345678901234567890, "name": "x", "currency": "NPR"}"#),
        ("amount at i64 max", r#"{"amount": "92233720368547758.07", "balance": "92233720368547758.07", "name": "x", "currency": "NPR"}"#),
        ("negative zero and exponents", r#"{"amount": -0.0, "commission": {"amount": 1e-400}, "commission_cap": -1e10}"#),
        ("wrong types", r#"{"username": 1, "password": [], "name": {}, "currency": 5, "amount": true, "authorized": "yes", "role": 7, "carrier": [], "code": {}}"#),
        ("wrong nested types", r#"{"type": "flight", "passengers": {"a": 1}, "journeys": "none", "fares": 3, "contact": []}"#),
        ("nulls", r#"{"type": null, "username": null, "password": null, "name": null, "currency": null, "amount": null, "authorized": null, "carrier": null, "code": null, "role": null, "commission": null}"#),
        ("event of nulls", r#"{"type": "event", "orders": [null, {"items": [null]}], "contact": null}"#),
        ("unknown type", r#"{"type": {"nested": true}}"#),
        ("truncated", r#"{"type": "flight", "pnr": "ABC"#),
        ("trailing garbage", r#"{"username": "a", "password": "b"} trailing"#),
        ("duplicate keys", r#"{"username": "a", "username": "b", "password": "c"}"#),
        ("lone surrogate", r#"{"username": "\ud800", "name": "\udfff", "type": "\ud83d"}"#),
        ("escaped nul and controls", r#"{"username": "\u0000", "password": "\u0007\u001b", "name": "\u0000", "currency": "N\u0000R", "code": "\u0000"}"#),
        ("bidi and zero-width", "{\"name\": \"\u{202e}evil\u{200b}\", \"currency\": \"\u{ff2e}PR\", \"username\": \"\u{202e}\", \"password\": \"\u{fffd}\", \"carrier\": \"\u{0051}\u{0301}R\", \"code\": \"\u{1f600}\"}"),
    ];
    out.extend(texts.iter().map(|(name, text)| ((*name).to_owned(), text.as_bytes().to_vec())));
    let long = format!(
        r#"{{"name": "{}", "currency": "NPR", "username": "{}", "password": "x", "code": "{}", "carrier": "QR"}}"#,
        "𝕏".repeat(20_000),
        "ß".repeat(10_000),
        "Ễ".repeat(5000)
    );
    out.push(("long unicode".into(), long.into_bytes()));
    out.push((
        "BOM then JSON".into(),
        [&[0xEF, 0xBB, 0xBF][..], br#"{"username": "agent", "password": "x"}"#].concat(),
    ));
    out.push((
        "invalid UTF-8 in a string".into(),
        [&br#"{"username": ""#[..], &[0xff, 0xfe, 0xc0], br#"", "name": "x"}"#].concat(),
    ));
    out
}

/// Not a 5xx, and any error is a problem+json document whose `status` matches; otherwise what went wrong.
async fn mishandled(res: Response, what: &str) -> Option<String> {
    let status = res.status();
    let content_type = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body = res.bytes().await.unwrap_or_default();
    let shown: String = String::from_utf8_lossy(&body).chars().take(200).collect();
    if status.is_server_error() {
        return Some(format!("{what}: {status}: {shown}"));
    }
    if !status.is_client_error() {
        return None;
    }
    if content_type != "application/problem+json" {
        return Some(format!("{what}: {status} as {content_type:?}: {shown}"));
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(p) if p["status"] == json!(status.as_u16()) && p["code"].as_str().is_some_and(|c| !c.is_empty()) => None,
        _ => Some(format!("{what}: {status}: not a problem document: {shown}")),
    }
}

/// Well-formed JSON with values at or past the edges, aimed at one endpoint's own fields.
fn edge_values(endpoint: &str) -> Vec<Value> {
    let max = "92233720368547758.07"; // i64::MAX minor units of a 2-decimal currency
    let decimal_max = "79228162514264337593543950335";
    match endpoint {
        "sign-in" => vec![
            json!({"username": "ß".repeat(10_000), "password": "x".repeat(10_000)}),
            json!({"username": "\u{0}", "password": ""}),
        ],
        "bookings" => {
            let mut huge = example("oneway");
            huge["pnr"] = json!("HUGE01");
            huge["fares"][0] = json!({"passenger_type": "ADT", "base": decimal_max, "taxes": [{"code": "YQ", "amount": decimal_max}], "total": decimal_max});
            let mut overflow = example("oneway");
            overflow["pnr"] = json!("HUGE02");
            overflow["fares"][0] =
                json!({"passenger_type": "ADT", "base": max, "taxes": [{"code": "YQ", "amount": max}], "total": "0"});
            let mut crowd = example("oneway");
            crowd["pnr"] = json!("CROWD1");
            crowd["passengers"] =
                (0..2000).map(|i| json!({"id": format!("p{i}"), "type": "ADT", "surname": "X"})).collect();
            let mut times = example("oneway");
            times["pnr"] = json!("TIMES1");
            times["journeys"][0]["segments"][0]["departure"]["time"] = json!("+999999-12-31T23:59:59+99:99");
            times["ticketing_deadline"] = json!("9999-12-31T23:59:59-23:59");
            vec![huge, overflow, crowd, times]
        }
        "issue" => vec![
            json!({"commission": {"percent": "1e400"}}),
            json!({"commission": {"percent": decimal_max}}),
            json!({"commission": {"amount": max}}),
            json!({"commission": {"amount": "-5"}}),
            json!({"commission": {"percent": -5}}),
            json!({"commission": {"percent": 5, "amount": 5}}),
            json!({"tour_code": "\u{0}".repeat(100), "corporate_code": "Ễ".repeat(1000)}),
        ],
        "agencies" => vec![
            json!({"name": "Max", "currency": "NPR", "balance": max}),
            json!({"name": "Min", "currency": "NPR", "balance": "-92233720368547758.08"}),
            json!({"name": "Credit", "currency": "NPR", "credit_limit": max, "balance": max}),
            json!({"name": "", "currency": "ZZZ"}),
            json!({"name": "Mars", "currency": "NPR", "timezone": "Mars/Olympus_Mons"}),
            json!({"name": "Nul", "currency": "NPR", "iata_number": "\u{0}", "office_id": "Ễ".repeat(300)}),
            json!({"name": "Nul\u{0}Travel", "currency": "NPR"}),
        ],
        "top-ups" => vec![
            json!({"amount": max}),
            json!({"amount": "-1"}),
            json!({"amount": "0"}),
            json!({"amount": "0.001"}),
            json!({"amount": 1e-7}),
            json!({"amount": decimal_max}),
        ],
        "users" => vec![
            json!({"username": "u1", "password": "p", "role": "root"}),
            json!({"username": "agent", "password": "agent-password", "role": "agent"}),
            json!({"username": "ghost", "password": "p", "role": "agent", "agency_id": "00000000-0000-0000-0000-000000000000"}),
            json!({"username": "x", "password": "p", "role": "agent", "agency_id": "not-a-uuid"}),
            json!({"username": "", "password": "", "role": "customer"}),
            json!({"username": "nul\u{0}user", "password": "p\u{0}", "role": "customer"}),
        ],
        "tour-codes" => vec![
            json!({"carrier": "QR", "code": "T1", "valid_from": "2027-13-45"}),
            json!({"carrier": "??", "code": ""}),
            json!({"carrier": "QR", "code": "T2", "valid_from": "2028-01-01", "valid_to": "2027-01-01"}),
            json!({"carrier": "ZZ", "code": "Ễ".repeat(500)}),
            json!({"carrier": "QR", "code": "T\u{0}3"}),
        ],
        "agreements" => vec![
            json!({"authorized": true, "commission_cap": "1e400"}),
            json!({"commission_cap": "-1"}),
            json!({"commission_cap": decimal_max}),
            json!({"commission_cap": "100.0000001"}),
        ],
        other => panic!("no edge values for {other}"),
    }
}

async fn malformed_bodies_never_cause_a_server_error(app: TestApp) {
    // Issue attempts go to a booking of an agency that cannot pay, so every one reaches the business rules and
    // none can succeed.
    let poor = new_agency(&app.app, "Poor Travel", "NPR", "0.01").await;
    let poor_agent = app.app.create_user(&op(), "poor", "poor-password", Role::Agent, Some(poor.id)).await.unwrap();
    let poor_token = app.app.issue_token(&poor_agent).unwrap().access_token;
    let booking = app.book(&poor_token, &example("oneway")).await;
    let (agency, booking_id) = (app.agency.id, booking["id"].as_str().unwrap().to_owned());
    let endpoints = [
        ("sign-in", Method::POST, "/api/v1/sign-in".to_owned(), None),
        ("bookings", Method::POST, "/api/v1/bookings".to_owned(), Some(&app.agent_token)),
        ("issue", Method::POST, format!("/api/v1/bookings/{booking_id}/issue"), Some(&poor_token)),
        ("agencies", Method::POST, "/api/v1/agencies".to_owned(), Some(&app.admin_token)),
        ("top-ups", Method::POST, format!("/api/v1/agencies/{agency}/top-ups"), Some(&app.admin_token)),
        ("users", Method::POST, "/api/v1/users".to_owned(), Some(&app.admin_token)),
        ("tour-codes", Method::POST, format!("/api/v1/agencies/{agency}/tour-codes"), Some(&app.admin_token)),
        ("agreements", Method::PUT, format!("/api/v1/agencies/{agency}/agreements/QR"), Some(&app.admin_token)),
    ];
    let bodies = malformed_bodies();
    let mut failures = Vec::new();
    for (endpoint, method, path, token) in &endpoints {
        let edges = edge_values(endpoint).into_iter().map(|v| {
            let shown: String = v.to_string().chars().take(160).collect();
            (format!("edge value {shown}"), serde_json::to_vec(&v).unwrap())
        });
        for (name, body) in bodies.iter().cloned().chain(edges) {
            let mut request =
                app.client.request(method.clone(), app.url(path)).header("content-type", "application/json");
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let res = request.body(body).send().await.unwrap_or_else(|e| panic!("{method} {path} with {name}: {e}"));
            failures.extend(mishandled(res, &format!("{method} {endpoint} with {name}")).await);
        }
    }
    // Free text that reaches storage as is: a NUL in an issuance's reference code.
    let other = app.book(&app.other_token, &example("oneway")).await;
    let path = format!("/api/v1/bookings/{}/issue", other["id"].as_str().unwrap());
    let res = app.post(&path, &app.other_token, &json!({"reference_code": "REF\u{0}1"})).await;
    failures.extend(mishandled(res, "POST issue with a NUL in reference_code").await);

    // The server is still fine afterwards, and the money is where it was: every junk top-up was refused.
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), StatusCode::OK);
    for (agency, expected) in [(&app.agency, "1000000.00"), (&poor, "0.01")] {
        let kinds: Vec<String> =
            app.ledger(agency).await.iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect();
        if kinds != ["top_up"] || app.balance(agency).await != expected {
            failures.push(format!("{}: ledger changed to {kinds:?}", agency.name));
        }
    }
    assert!(failures.is_empty(), "{} mishandled:\n{}", failures.len(), failures.join("\n"));
}

async fn junk_in_paths_and_queries_is_a_client_error(app: TestApp) {
    let long = "9".repeat(5000);
    let paths = [
        "/api/v1/tickets/%00".to_owned(),
        "/api/v1/tickets/%00/pdf".to_owned(),
        "/api/v1/bookings/..%2f..%2fetc".to_owned(),
        "/api/v1/bookings/..%2F..%2Fetc%2Fpasswd".to_owned(),
        "/api/v1/bookings/%E2%80%AE".to_owned(),
        "/api/v1/bookings/%ff%fe".to_owned(),
        "/api/v1/issuances/%ff/pdf".to_owned(),
        "/api/v1/issuances/00000000-0000-0000-0000-000000000000/pdf".to_owned(),
        "/api/v1/agencies/%00/ledger".to_owned(),
        format!("/api/v1/tickets/{long}/pdf"),
        "/d/garbage".to_owned(),
        "/d/a.b".to_owned(),
        "/d/..%2f..%2fetc%2fpasswd".to_owned(),
        "/d/%ff.%fe".to_owned(),
        format!("/d/{long}.{long}"),
        "/api/v1/nope".to_owned(),
    ];
    let mut failures = Vec::new();
    for path in &paths {
        let res = app.get(path, &app.agent_token).await;
        let status = res.status();
        if !status.is_client_error() {
            failures.push(format!("{path}: {status}"));
        }
        failures.extend(mishandled(res, path).await);
    }
    // Junk in a filter may match nothing (200) or be refused (4xx), never break the server.
    let queries = [
        "/api/v1/bookings?pnr=%00",
        "/api/v1/bookings?limit=-1",
        "/api/v1/bookings?limit=99999999999999999999",
        "/api/v1/bookings?cursor=%00",
        "/api/v1/bookings?status=%ff",
        "/api/v1/audit?tracking_id=%00",
        "/api/v1/audit?ticket=%00&booking=..%2f",
    ];
    for query in queries {
        failures.extend(mishandled(app.get(query, &app.agent_token).await, query).await);
    }
    assert!(failures.is_empty(), "{} mishandled:\n{}", failures.len(), failures.join("\n"));
    let res = app.get("/api/v1/bookings/..%2f..%2fetc", &app.agent_token).await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    for path in ["/d/garbage", "/d/a.b"] {
        expect_problem(app.client.get(app.url(path)).send().await.unwrap(), StatusCode::FORBIDDEN, "link_invalid")
            .await;
    }
}

async fn probes_request_ids_and_the_openapi_document(app: TestApp) {
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let database = match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let ready: Value = res.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], database);

    // Every answer carries a request id, whatever route and status; a new one each time.
    let requests = [
        app.client.get(app.url("/healthz")),
        app.client.get(app.url("/readyz")),
        app.client.get(app.url("/api/v1/openapi.json")),
        app.client.get(app.url("/api/v1/bookings")),
        app.client.get(app.url("/api/v1/bookings")).bearer_auth(&app.agent_token),
        app.client.get(app.url("/api/v1/nowhere")),
        app.client.get(app.url("/d/garbage")),
        app.client.post(app.url("/api/v1/bookings")).bearer_auth(&app.agent_token).body("{"),
        app.client.post(app.url("/api/v1/bookings")).bearer_auth(&app.agent_token).json(&example("oneway")),
    ];
    let mut ids = Vec::new();
    for request in requests {
        let res = request.send().await.unwrap();
        let id = res.headers().get("x-request-id").map(|v| v.to_str().unwrap().to_owned());
        assert!(id.as_ref().is_some_and(|i| !i.is_empty()), "{} {} has no x-request-id", res.url(), res.status());
        ids.push(id.unwrap());
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    // A client's own id is echoed back and becomes the audit trail's tracking id.
    let mut doc = example("oneway");
    doc["pnr"] = json!("TRACE1");
    let res = app
        .client
        .post(app.url("/api/v1/bookings"))
        .bearer_auth(&app.agent_token)
        .header("x-request-id", "client-trace-42")
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers().get("x-request-id").unwrap(), "client-trace-42");
    let booking: Value = res.json().await.unwrap();
    let audit: Value = app
        .get(&format!("/api/v1/audit?booking={}", booking["id"].as_str().unwrap()), &app.agent_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(audit["entries"][0]["tracking_id"], "client-trace-42", "{audit}");
    let res = app.client.get(app.url("/api/v1/nowhere")).header("x-request-id", "lost-7").send().await.unwrap();
    assert_eq!(res.headers().get("x-request-id").unwrap(), "lost-7");

    let res = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.get("/api/v1/bookings/{id}/issue").is_some_and(|p| p.get("post").is_some()), "{:?}", paths.keys());
    assert!(paths.get("/api/v1/sign-in").is_some_and(|p| p.get("post").is_some()), "{:?}", paths.keys());
    assert!(paths.get("/api/v1/bookings").is_some_and(|p| p.get("get").is_some() && p.get("post").is_some()));
}

both_backends!(
    malformed_bodies_never_cause_a_server_error,
    junk_in_paths_and_queries_is_a_client_error,
    probes_request_ids_and_the_openapi_document,
);

both_backends_custom!(a_body_over_the_limit_is_413_and_stores_nothing);

/// The vendor profiles answer an oversized body in their own envelopes, not as plain text.
async fn vendor_profiles_refuse_oversized_bodies_in_their_envelopes(backend: Backend) {
    let app = spawn_app_with(backend, Options { max_body_bytes: Some(4096), ..Default::default() }).await;
    let big = json!({"padding": "x".repeat(5000)});
    let send = |path: &'static str, header: &'static str| {
        let token = app.agent_token.clone();
        let client = app.client.clone();
        let url = app.url(path);
        let big = big.clone();
        async move {
            let res = client.post(url).header(header, token).json(&big).send().await.expect("request");
            (res.status(), res.json::<Value>().await.expect("json"))
        }
    };
    let (status, body) = send("/issue-ticket", "x-access-token").await;
    assert_eq!(
        (status, body),
        (StatusCode::PAYLOAD_TOO_LARGE, json!({"success": false, "data": {"error": "Request body too large."}}))
    );
    let (status, body) = send("/api/v1/flight/issueticket", "x-access-token").await;
    assert_eq!(
        (status, body["status"].as_bool(), body["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some(false), Some("INVALID_REQUEST"))
    );
    let (status, body) = send("/tickets", "x-access-token").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"status": false, "message": "Create ticket fail: the request body is too large"})
        )
    );
}

mod oversized {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::vendor_profiles_refuse_oversized_bodies_in_their_envelopes(crate::helpers::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::vendor_profiles_refuse_oversized_bodies_in_their_envelopes(crate::helpers::Backend::Postgres).await;
    }
}
