//! Liveness and readiness probes for load balancers and orchestrators.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// The process is up.
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// The process can serve: the database and the document store both answer. The body names each and its state,
/// so an operator sees which one a node lacks.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let (database, documents) = tokio::join!(state.app.ping(), state.app.documents().check());
    if let Err(e) = &database {
        tracing::warn!(error = ?e, "readiness: the database does not answer");
    }
    if let Err(e) = &documents {
        tracing::warn!(error = %e, "readiness: the document store does not answer");
    }
    let state_of = |ok: bool| if ok { "ok" } else { "unavailable" };
    let ready = database.is_ok() && documents.is_ok();
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "database": state.app.backend(),
        "database_status": state_of(database.is_ok()),
        "documents": state.app.documents().location(),
        "documents_status": state_of(documents.is_ok()),
    });
    (if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}
