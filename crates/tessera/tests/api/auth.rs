//! Identity: sign-in, token and API-key headers, roles and agency isolation.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{expect_problem, spawn_app_with, Backend, Options, TestApp};

async fn sign_in_returns_a_bearer_jwt_with_the_documented_claims(app: TestApp) {
    let res = app
        .client
        .post(app.url("/api/v1/sign-in"))
        .json(&json!({"username": "agent", "password": "agent-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value = serde_json::from_slice(&engine.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "HS256");
    let claims: Value = serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["sub"], json!(app.agent.id.to_string()));
    assert_eq!(claims["agency"], json!(app.agency.id.to_string()));
    assert_eq!(claims["roles"], json!(["agent"]));
    assert_eq!(claims["sv"], json!(0), "the user's first session generation");
    for claim in ["iat", "exp", "jti"] {
        assert!(claims.get(claim).is_some(), "missing {claim}");
    }
    let me = app.get("/api/v1/bookings", token).await;
    assert_eq!(me.status(), StatusCode::OK);
}

async fn wrong_password_and_unknown_user_answer_401(app: TestApp) {
    for body in
        [json!({"username": "agent", "password": "nope"}), json!({"username": "ghost", "password": "agent-password"})]
    {
        let res = app.client.post(app.url("/api/v1/sign-in")).json(&body).send().await.unwrap();
        let problem = expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        assert_eq!(problem["detail"], "invalid or expired credentials");
    }
    let res = app.client.post(app.url("/api/v1/sign-in")).json(&json!({"username": "agent"})).send().await.unwrap();
    let problem = expect_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(problem["errors"][0]["reason"].as_str().unwrap().contains("password"), "{problem}");
}

async fn missing_malformed_and_forged_tokens_answer_401(app: TestApp) {
    let res = app.client.get(app.url("/api/v1/bookings")).send().await.unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let res = app.client.get(app.url("/api/v1/bookings")).header("authorization", "Basic abc").send().await.unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let res = app.get("/api/v1/bookings", "not.a.jwt").await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    // Same claims, signature from another key.
    let mut parts: Vec<String> = app.agent_token.split('.').map(str::to_owned).collect();
    parts[2] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 32]);
    let res = app.get("/api/v1/bookings", &parts.join(".")).await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    // alg: none is never accepted.
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let none =
        format!("{}.{}.", engine.encode(br#"{"alg":"none","typ":"JWT"}"#), app.agent_token.split('.').nth(1).unwrap());
    let res = app.get("/api/v1/bookings", &none).await;
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

async fn expired_tokens_answer_401(backend: Backend) {
    let app = spawn_app_with(backend, Options { token_ttl: Some(1), ..Default::default() }).await;
    let token = app.app.issue_token(&app.agent).unwrap().access_token;
    assert_eq!(app.get("/api/v1/bookings", &token).await.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    expect_problem(app.get("/api/v1/bookings", &token).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

async fn every_header_form_is_accepted(app: TestApp) {
    let res =
        app.client.get(app.url("/api/v1/bookings")).header("x-access-token", &app.agent_token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let key = create_key(&app, &app.agent_token, &app.agent.id.to_string()).await;
    for header in ["X-API-KEY", "X-Api-Key", "x-api-key"] {
        let res = app.client.get(app.url("/api/v1/bookings")).header(header, &key).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{header}");
    }
    let res = app.client.get(app.url("/api/v1/bookings")).header("x-api-key", "tsk_0000").send().await.unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

async fn create_key(app: &TestApp, token: &str, user: &str) -> String {
    let res =
        app.client.post(app.url(&format!("/api/v1/users/{user}/api-keys"))).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    body["key"].as_str().unwrap().to_owned()
}

async fn revoked_api_keys_stop_working_and_are_listed_without_the_key(app: TestApp) {
    let key = create_key(&app, &app.admin_token, &app.agent.id.to_string()).await;
    let list: Value =
        app.get(&format!("/api/v1/users/{}/api-keys", app.agent.id), &app.agent_token).await.json().await.unwrap();
    let entry = &list[0];
    assert!(entry.get("key").is_none(), "the key is shown only once: {entry}");
    assert!(key.starts_with(entry["prefix"].as_str().unwrap()));
    // Someone else's keys are invisible.
    let res = app.get(&format!("/api/v1/users/{}/api-keys", app.agent.id), &app.other_token).await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let id = entry["id"].as_str().unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/api-keys/{id}")))
        .bearer_auth(&app.other_token)
        .send()
        .await
        .unwrap();
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/api-keys/{id}")))
        .bearer_auth(&app.agent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.client.get(app.url("/api/v1/bookings")).header("x-api-key", &key).send().await.unwrap();
    expect_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

async fn roles_limit_what_each_caller_may_do(app: TestApp) {
    let body = json!({"name": "X", "currency": "NPR"});
    expect_problem(app.post("/api/v1/agencies", &app.agent_token, &body).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
    expect_problem(app.post("/api/v1/agencies", &app.customer_token, &body).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
    expect_problem(app.get("/api/v1/agencies", &app.agent_token).await, StatusCode::FORBIDDEN, "forbidden").await;
    // An agent reads its own agency, with amounts as decimal strings...
    let res = app.get(&format!("/api/v1/agencies/{}", app.agency.id), &app.agent_token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let agency: Value = res.json().await.unwrap();
    assert_eq!(agency["balance"], "1000000.00");
    assert_eq!(agency["credit_limit"], "0.00");
    assert_eq!(agency["currency"], "NPR");
    // ...but another agency is simply not there.
    let res = app.get(&format!("/api/v1/agencies/{}", app.other_agency.id), &app.agent_token).await;
    expect_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app.get(&format!("/api/v1/agencies/{}", app.agency.id), &app.customer_token).await;
    expect_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> String {
    let body = json!({"username": username, "password": password});
    let res = app.client.post(app.url("/api/v1/sign-in")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

async fn end_sessions(app: &TestApp, token: &str, user: &str) -> reqwest::Response {
    app.client.delete(app.url(&format!("/api/v1/users/{user}/sessions"))).bearer_auth(token).send().await.unwrap()
}

/// Ending a user's sessions refuses every token issued to them before (their next sign-in works), keeps their API
/// keys, and touches nobody else; only the user and admins may, another's answers 404 and changes nothing.
async fn ending_sessions_refuses_every_earlier_token(app: TestApp) {
    let agent = app.agent.id.to_string();
    let first = sign_in(&app, "agent", "agent-password").await;
    let key = create_key(&app, &first, &agent).await;

    // Another agent, a customer, an unknown user and a malformed id: 404, and the agent's tokens still work.
    for (token, user) in [
        (&app.other_token, agent.clone()),
        (&app.customer_token, agent.clone()),
        (&app.agent_token, uuid::Uuid::new_v4().to_string()),
        (&app.agent_token, "not-a-user".to_owned()),
    ] {
        expect_problem(end_sessions(&app, token, &user).await, StatusCode::NOT_FOUND, "not_found").await;
    }
    assert_eq!(app.get("/api/v1/bookings", &first).await.status(), StatusCode::OK);

    // The agent ends their own sessions: both earlier tokens are refused, the key and other users go on.
    assert_eq!(end_sessions(&app, &first, &agent).await.status(), StatusCode::NO_CONTENT);
    for token in [&first, &app.agent_token] {
        expect_problem(app.get("/api/v1/bookings", token).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let with_key = app.client.get(app.url("/api/v1/bookings")).header("x-api-key", &key).send().await.unwrap();
    assert_eq!(with_key.status(), StatusCode::OK, "API keys are not sessions");
    assert_eq!(app.get("/api/v1/bookings", &app.customer_token).await.status(), StatusCode::OK);

    // A new sign-in works; an admin ends it too.
    let second = sign_in(&app, "agent", "agent-password").await;
    assert_eq!(app.get("/api/v1/bookings", &second).await.status(), StatusCode::OK);
    assert_eq!(end_sessions(&app, &app.admin_token, &agent).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/bookings", &second).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/v1/agencies", &app.admin_token).await.status(), StatusCode::OK, "the admin's own stays");
}

both_backends!(
    sign_in_returns_a_bearer_jwt_with_the_documented_claims,
    wrong_password_and_unknown_user_answer_401,
    missing_malformed_and_forged_tokens_answer_401,
    every_header_form_is_accepted,
    revoked_api_keys_stop_working_and_are_listed_without_the_key,
    roles_limit_what_each_caller_may_do,
    ending_sessions_refuses_every_earlier_token,
);

both_backends_custom!(expired_tokens_answer_401);
