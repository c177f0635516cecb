//! The group API (group tickets by booking code): `POST /tickets` issues the booking with that booking code, and
//! `GET /tickets?booking_code=` e-mails its ticket PDFs to the booking's contact. Answers are
//! `{"status": bool, "message": "..."}` with the seed's status codes and messages.

mod error;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tessera_app::policy::StaffDesk;
use tessera_core::intake::ValidationErrors;

pub use error::GroupError;
use error::Said;

use crate::extract;
use crate::meta::RequestMeta;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/tickets", post(create).get(download))
}

/// The caller at the agency's ticketing desk: authenticated (401 otherwise) and staff, not a customer (the
/// seed's 400 "Authorization fail. you are customer.").
pub struct Staff(pub StaffDesk);

impl FromRequestParts<AppState> for Staff {
    type Rejection = GroupError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, GroupError> {
        let who = extract::caller::<GroupError>(parts, state).await?;
        Ok(Self(state.app.staff_desk(who)?))
    }
}

/// A JSON body; one that is not the documented object says which field is required.
pub struct GroupJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for GroupJson<T> {
    type Rejection = GroupError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, GroupError> {
        extract::json(req, state).await.map(Self)
    }
}

#[derive(Deserialize)]
struct CreateTickets {
    booking_code: String,
}

async fn create(
    meta: RequestMeta,
    Staff(desk): Staff,
    GroupJson(request): GroupJson<CreateTickets>,
) -> Result<Said, GroupError> {
    desk.issue_by_code(&request.booking_code, meta.actor(Some(desk.who()))).await?;
    Ok(Said(StatusCode::CREATED, "ticket created"))
}

#[derive(Deserialize)]
struct DownloadQuery {
    booking_code: Option<String>,
}

async fn download(Staff(desk): Staff, query: Result<Query<DownloadQuery>, QueryRejection>) -> Result<Said, GroupError> {
    let code = query.ok().and_then(|q| q.0.booking_code).filter(|c| !c.trim().is_empty());
    let Some(code) = code else {
        return Err(GroupError::Send(ValidationErrors::single("/query/booking_code", "is required").into()));
    };
    desk.email_tickets_by_code(&code).await.map_err(GroupError::Send)?;
    Ok(Said(StatusCode::OK, "created success"))
}

/// Fuzz target (bolero): this profile's request bodies, as the extractors read them.
#[cfg(test)]
mod fuzz {
    #[test]
    fn request_bodies() {
        bolero::check!().for_each(|bytes: &[u8]| {
            crate::extract::fuzz_body::<super::CreateTickets>(bytes);
        });
    }
}
