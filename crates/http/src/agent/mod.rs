//! The agent profile (seeds 002 and 000): `POST /issue-ticket` and `POST /download-ticket`, answering
//! `{"success": bool, "data": {...}}` with the vendor's exact error strings. A thin adapter over the core's
//! issuance and documents: every rule it enforces lives in `tessera-core` / `tessera-app`.

mod error;
mod summary;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use tessera_app::issuing::IssueCommand;
use tessera_app::{AppError, Principal};
use tessera_core::issuance::{Expectations, IssueError};
use tessera_core::user::{Role, Scope};
use tessera_storage::DocumentOwner;

pub use error::{AgentError, Missing};
pub use summary::Logos;

use crate::auth::authenticate;
use crate::meta::RequestMeta;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/issue-ticket", post(issue_ticket)).route("/download-ticket", post(download_ticket))
}

/// The seed's request table: `bookingReferenceID`, `tripType` and `currency` required, the rest optional.
#[derive(Deserialize)]
struct IssueTicket {
    user_type: Option<String>,
    #[serde(rename = "bookingReferenceID")]
    booking_reference_id: String,
    #[serde(rename = "tripType")]
    trip_type: String,
    currency: String,
    #[serde(rename = "PNR")]
    pnr: Option<String>,
    amount: Option<serde_json::Number>,
    #[serde(rename = "referenceCode")]
    reference_code: Option<String>,
}

#[derive(Deserialize)]
struct DownloadTicket {
    #[serde(rename = "ticketReferenceID")]
    ticket_reference_id: String,
}

fn invalid() -> AppError {
    AppError::Issue(IssueError::RequestMismatch("request"))
}

/// Bodies that are not the documented JSON are "Invalid Ticket Parameters.", like any other bad field.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(body).map_err(|_| invalid())
}

async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Principal, AppError> {
    authenticate(&state.app, headers).await.map_err(AppError::from)
}

/// `user_type` must describe the caller: an agent ticketing for its agency, or a customer for itself.
fn check_user_type(who: &Principal, user_type: Option<&str>) -> Result<(), AppError> {
    match (user_type, who.role()) {
        (None, _) | (Some("agent"), Role::Admin | Role::Agent) | (Some("customer"), Role::Customer | Role::Admin) => {
            Ok(())
        }
        _ => Err(invalid()),
    }
}

async fn issue_ticket(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match issue(&state, &meta, &headers, body).await {
        Ok(data) => (StatusCode::OK, Json(json!({"success": true, "data": data}))).into_response(),
        Err(e) => AgentError(e, Missing::Booking).into_response(),
    }
}

async fn issue(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<serde_json::Value, AppError> {
    let who = caller(state, headers).await?;
    let request: IssueTicket = parse(&crate::body::bytes(body)?)?;
    check_user_type(&who, request.user_type.as_deref())?;
    let booking_id = request.booking_reference_id.trim().parse().map_err(|_| AppError::NotFound("booking"))?;
    let amount = match &request.amount {
        Some(n) => Some(n.to_string().parse::<Decimal>().map_err(|_| invalid())?),
        None => None,
    };
    let command = IssueCommand {
        reference_code: request.reference_code,
        expect: Expectations {
            trip_type: Some(request.trip_type),
            currency: Some(request.currency),
            pnr: request.pnr,
            amount,
            ..Default::default()
        },
        ..Default::default()
    };
    let issued = state.app.issue(&who, booking_id, command, meta.actor(Some(&who))).await?;
    let link = state.app.sign_link(Scope::All, DocumentOwner::Issuance(issued.record.id)).await?;
    let summary =
        summary::build(&issued, link.url, &state.logos).ok_or_else(|| AppError::Internal("not a flight".into()))?;
    serde_json::to_value(summary).map_err(|e| AppError::Internal(e.to_string()))
}

async fn download_ticket(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let who = caller(&state, &headers).await?;
        let request: DownloadTicket = parse(&crate::body::bytes(body)?)?;
        let id = request.ticket_reference_id.trim().parse().map_err(|_| AppError::NotFound("issuance"))?;
        state.app.get_issuance(&who, id).await?;
        state.app.sign_link(who.scope, DocumentOwner::Issuance(id)).await
    }
    .await;
    match result {
        Ok(link) => (StatusCode::OK, Json(json!({"success": true, "data": {"eticketLink": link.url}}))).into_response(),
        Err(e) => AgentError(e, Missing::Ticket).into_response(),
    }
}
