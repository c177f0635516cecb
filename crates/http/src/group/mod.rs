//! The group-tickets profile (seed 001): `POST /tickets` issues the booking with that booking code, and
//! `GET /tickets?booking_code=` e-mails its ticket PDFs to the booking's contact. Answers are
//! `{"status": bool, "message": "..."}` with the seed's status codes and messages.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tessera_app::issuing::IssueCommand;
use tessera_app::{AppError, Principal};
use tessera_core::user::Role;

use crate::auth::{authenticate, AuthFailure};
use crate::meta::RequestMeta;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/tickets", post(create).get(download))
}

fn reply(status: StatusCode, ok: bool, message: impl Into<String>) -> Response {
    (status, Json(json!({"status": ok, "message": message.into()}))).into_response()
}

/// Authenticates and refuses customers, in the seed's words.
async fn staff(state: &AppState, headers: &HeaderMap) -> Result<Principal, Response> {
    match authenticate(&state.app, headers).await {
        Ok(who) if who.role() == Role::Customer => {
            Err(reply(StatusCode::BAD_REQUEST, false, format!("Authorization fail. you are {}.", who.role().as_str())))
        }
        Ok(who) => Ok(who),
        Err(AuthFailure::Missing) => Err(reply(StatusCode::UNAUTHORIZED, false, "No token provided")),
        Err(AuthFailure::Invalid) => Err(reply(StatusCode::UNAUTHORIZED, false, "Invalid signature")),
    }
}

#[derive(Deserialize)]
struct CreateTickets {
    booking_code: String,
}

/// Why creating tickets failed, in words for the `Create ticket fail: ...` message.
fn create_failure(e: &AppError) -> String {
    match e {
        AppError::Issue(i) => i.to_string(),
        AppError::NotFound(_) => "booking not found".into(),
        AppError::Validation(v) => {
            v.0.iter()
                .map(|f| format!("{} {}", f.pointer.trim_start_matches('/'), f.reason))
                .collect::<Vec<_>>()
                .join("; ")
        }
        AppError::DocumentGeneration(_) => "the ticket documents could not be generated".into(),
        other => other.to_string(),
    }
}

async fn create(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let who = match staff(&state, &headers).await {
        Ok(who) => who,
        Err(response) => return response,
    };
    let result = async {
        let body = crate::body::bytes(body)?;
        let request: CreateTickets = serde_json::from_slice(&body).map_err(|_| {
            AppError::Validation(tessera_core::intake::ValidationErrors::single("/booking_code", "is required"))
        })?;
        let booking = state.app.find_booking_by_code(&who, request.booking_code.trim()).await?;
        state.app.issue_booking(booking, IssueCommand::default(), meta.actor(Some(&who))).await
    }
    .await;
    match result {
        Ok(_) => reply(StatusCode::CREATED, true, "ticket created"),
        Err(e @ AppError::Internal(_)) => {
            tracing::error!(error = %e, "group profile: ticket creation failed");
            reply(StatusCode::INTERNAL_SERVER_ERROR, false, "Create ticket fail: internal error")
        }
        Err(AppError::PayloadTooLarge) => {
            reply(StatusCode::PAYLOAD_TOO_LARGE, false, "Create ticket fail: the request body is too large")
        }
        Err(e) => reply(StatusCode::CONFLICT, false, format!("Create ticket fail: {}", create_failure(&e))),
    }
}

#[derive(Deserialize)]
struct DownloadQuery {
    booking_code: Option<String>,
}

async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<DownloadQuery>, QueryRejection>,
) -> Response {
    let who = match staff(&state, &headers).await {
        Ok(who) => who,
        Err(response) => return response,
    };
    let code = query.ok().and_then(|q| q.0.booking_code).map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    let Some(code) = code else { return reply(StatusCode::BAD_REQUEST, false, "Can not generate ticket") };
    let result = async {
        let booking = state.app.find_booking_by_code(&who, &code).await?;
        state.app.email_tickets(&who, &booking).await
    }
    .await;
    match result {
        Ok(_) => reply(StatusCode::OK, true, "created success"),
        Err(AppError::NotFound(_) | AppError::NothingToSend) => {
            reply(StatusCode::BAD_REQUEST, false, "Can not generate ticket")
        }
        Err(AppError::MailFailed(reason)) => {
            reply(StatusCode::INTERNAL_SERVER_ERROR, false, format!("Send Email fail: {reason}"))
        }
        Err(e) => {
            tracing::error!(error = %e, "group profile: sending tickets failed");
            reply(StatusCode::INTERNAL_SERVER_ERROR, false, "Send Email fail: internal error")
        }
    }
}
