//! Error bodies pinned as insta snapshots: a change to what clients parse shows up as a reviewed diff.
//! Both backends share each snapshot, so they must answer byte for byte alike.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{example, TestApp};

async fn body(res: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status);
    res.json().await.expect("json")
}

async fn error_bodies(app: TestApp) {
    let mut doc = example("oneway");
    doc["pnr"] = json!("bad");
    doc["fares"][0]["total"] = json!(1);
    doc["passengers"][0]["type"] = json!("XXX");
    let invalid =
        body(app.post("/api/v1/bookings", &app.agent_token, &doc).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    insta::assert_json_snapshot!("native_invalid_booking", invalid);

    let unauthenticated =
        body(app.client.get(app.url("/api/v1/bookings")).send().await.expect("request"), StatusCode::UNAUTHORIZED)
            .await;
    insta::assert_json_snapshot!("native_unauthenticated", unauthenticated);

    let booking = app.book(&app.agent_token, &example("oneway")).await;
    let path = format!("/api/v1/bookings/{}/issue", booking["id"].as_str().expect("id"));
    assert_eq!(app.post(&path, &app.agent_token, &json!({})).await.status(), StatusCode::CREATED);
    let again = body(app.post(&path, &app.agent_token, &json!({})).await, StatusCode::CONFLICT).await;
    insta::assert_json_snapshot!("native_already_issued", again);

    let request =
        json!({"bookingReferenceID": booking["id"], "tripType": "oneway", "currency": "NPR", "PNR": "WRONG1"});
    let agent =
        body(app.post("/issue-ticket", &app.agent_token, &request).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    insta::assert_json_snapshot!("agent_invalid_pnr", agent);
}

both_backends!(error_bodies);
