//! Booking intake and lookup: `POST/GET /api/v1/bookings`, `GET /api/v1/bookings/{id}`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use tessera_app::AppError;
use tessera_core::booking::BookingStatus;
use tessera_core::ids::BookingId;
use tessera_core::intake::ValidationErrors;
use utoipa::IntoParams;

use super::error::Problem;
use super::extract::{Auth, Body, Limit, NativePath, ValidQuery};
use super::wire::{BookingBody, BookingList};
use super::ApiError;
use crate::meta::RequestMeta;
use crate::AppState;

#[utoipa::path(post, path = "/api/v1/bookings", tag = "bookings",
    request_body(content = Object, description = "A booking document as in the intake contract (examples/bookings/*.json). Optional `language`: BCP-47 tag of the language of the booking's documents and e-mails, `en` or `vi` (a region such as `vi-VN` is accepted and dropped; any other language is refused with 422 at `/language`); without it, the agency's `default_language`. The booking answers with the language it was given."),
    responses((status = 201, body = BookingBody), (status = 422, description = "every offending field, as JSON pointers", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "the agency already has a booking with this PNR / booking code", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    meta: RequestMeta,
    Body(body): Body,
) -> Result<impl IntoResponse, ApiError> {
    let booking = state.app.create_booking(&who, &body, meta.actor(Some(&who))).await?;
    let location = format!("/api/v1/bookings/{}", booking.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(BookingBody::from(&booking))))
}

pub(crate) fn parse_booking_id(text: &str) -> Result<BookingId, AppError> {
    // A malformed id cannot name anything the caller may see: answer like a missing booking.
    text.parse().map_err(|_| AppError::NotFound("booking"))
}

#[utoipa::path(get, path = "/api/v1/bookings/{id}", tag = "bookings",
    params(("id" = String, Path, description = "booking id (the agent profile's bookingReferenceID)")),
    responses((status = 200, body = BookingBody), (status = 404, description = "no such booking within your reach", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Auth(who): Auth,
    NativePath(id): NativePath<String>,
) -> Result<Json<BookingBody>, ApiError> {
    let booking = state.app.get_booking(&who, parse_booking_id(&id)?).await?;
    Ok(Json(BookingBody::from(&booking)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-16 characters without control characters; surrounding white space is ignored
    #[param(
        pattern = "^[ \\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*[^\\u0000-\\u0020\\u007F-\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]([^\\u0000-\\u001F\\u007F-\\u009F]{0,14}[^\\u0000-\\u0020\\u007F-\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000])?[ \\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$"
    )]
    pub pnr: Option<String>,
    #[param(value_type = Option<String>, pattern = "^(confirmed|ticketed|cancelled)$")]
    pub status: Option<String>,
    /// 1-200, default 50
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit<200>>,
    /// `next_cursor` of the previous page
    #[param(format = Uuid)]
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/bookings", tag = "bookings", params(ListQuery),
    responses((status = 200, body = BookingList)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    ValidQuery(q): ValidQuery<ListQuery>,
) -> Result<Json<BookingList>, ApiError> {
    let status = match q.status.as_deref() {
        Some(s) => Some(BookingStatus::parse(s).ok_or_else(|| {
            AppError::Validation(ValidationErrors::single(
                "/query/status",
                "must be `confirmed`, `ticketed` or `cancelled`",
            ))
        })?),
        None => None,
    };
    let page = state.app.list_bookings(&who, q.pnr, status, q.limit.map(|l| l.0), q.cursor.as_deref()).await?;
    Ok(Json(BookingList {
        bookings: page.bookings.iter().map(BookingBody::from).collect(),
        next_cursor: page.next_cursor,
    }))
}
