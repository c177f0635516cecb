//! The agent API (a B2B agent API): `POST /issue-ticket` and `POST /download-ticket`, answering
//! `{"success": bool, "data": {...}}` with the vendor's exact error strings. A thin adapter over the core's
//! issuance and documents: every rule it enforces lives in `tessera-core` / `tessera-app`.

mod error;
mod summary;

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::routing::post;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tessera_app::issuing::IssueCommand;
use tessera_app::policy::UserType;
use tessera_app::{AppError, Principal};
use tessera_core::issuance::Expectations;

pub use error::{AgentError, Missing};
pub use summary::Logos;

use crate::extract;
use crate::meta::RequestMeta;
use crate::numbers::JsonNumber;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/issue-ticket", post(issue_ticket)).route("/download-ticket", post(download_ticket))
}

/// The authenticated caller; a missing or bad credential answers "Unauthenticated." in the envelope.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = AgentError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AgentError> {
        extract::caller(parts, state).await.map(Self)
    }
}

/// A JSON body; anything else is "Invalid Ticket Parameters.".
pub struct AgentJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for AgentJson<T> {
    type Rejection = AgentError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AgentError> {
        extract::json(req, state).await.map(Self)
    }
}

/// `{"success": true, "data": ...}`
#[derive(Serialize)]
struct Success<T> {
    success: bool,
    data: T,
}

fn success<T>(data: T) -> Json<Success<T>> {
    Json(Success { success: true, data })
}

/// The seed's request table: `bookingReferenceID`, `tripType` and `currency` required, the rest optional.
#[derive(Deserialize)]
struct IssueTicket {
    user_type: Option<UserType>,
    #[serde(rename = "bookingReferenceID")]
    booking_reference_id: String,
    #[serde(rename = "tripType")]
    trip_type: String,
    currency: String,
    #[serde(rename = "PNR")]
    pnr: Option<String>,
    amount: Option<JsonNumber>,
    #[serde(rename = "referenceCode")]
    reference_code: Option<String>,
}

#[derive(Deserialize)]
struct DownloadTicket {
    #[serde(rename = "ticketReferenceID")]
    ticket_reference_id: String,
}

#[derive(Serialize)]
struct TicketLink {
    #[serde(rename = "eticketLink")]
    eticket_link: String,
}

async fn issue_ticket(
    State(state): State<AppState>,
    meta: RequestMeta,
    Caller(who): Caller,
    AgentJson(request): AgentJson<IssueTicket>,
) -> Result<Json<Success<summary::IssueSummary>>, AgentError> {
    who.acting_as(request.user_type)?;
    let booking_id = request.booking_reference_id.trim().parse().map_err(|_| AppError::NotFound("booking"))?;
    let amount = request.amount.map(|n| n.to_decimal().ok_or_else(error::invalid)).transpose()?;
    let command = IssueCommand {
        reference_code: request.reference_code,
        expect: Expectations {
            trip_type: Some(request.trip_type),
            currency: Some(request.currency),
            pnr: request.pnr,
            amount,
            ..Default::default()
        },
        profile: tessera_app::telemetry::Profile::Agent,
        ..Default::default()
    };
    let issued = state.app.issue(&who, booking_id, command, meta.actor(Some(&who))).await?;
    let link = state.app.issued_link(&issued).await?;
    Ok(success(summary::build(&issued, link.url, &state.logos)?))
}

async fn download_ticket(
    State(state): State<AppState>,
    Caller(who): Caller,
    AgentJson(request): AgentJson<DownloadTicket>,
) -> Result<Json<Success<TicketLink>>, AgentError> {
    let id = request
        .ticket_reference_id
        .trim()
        .parse()
        .map_err(|_| AgentError::about_ticket(AppError::NotFound("issuance")))?;
    let link = state.app.issuance_link(&who, id).await.map_err(AgentError::about_ticket)?;
    Ok(success(TicketLink { eticket_link: link.url }))
}

/// Fuzz target (bolero): this profile's request bodies, as the extractors read them.
#[cfg(test)]
mod fuzz {
    #[test]
    fn request_bodies() {
        bolero::check!().for_each(|bytes: &[u8]| {
            crate::extract::fuzz_body::<super::IssueTicket>(bytes);
            crate::extract::fuzz_body::<super::DownloadTicket>(bytes);
        });
    }
}
