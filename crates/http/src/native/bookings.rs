//! Booking intake and lookup: `POST/GET /api/v1/bookings`, `GET /api/v1/bookings/{id}`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use tessera_app::bookings::BookingQuery;
use tessera_app::AppError;
use tessera_core::booking::BookingStatus;
use tessera_core::ids::BookingId;
use tessera_core::intake::ValidationErrors;
use tessera_core::search::BookingSort;
use utoipa::IntoParams;

use super::error::Problem;
use super::extract::{Auth, Body, Limit, NativePath, ValidQuery};
use super::wire::{BookingBody, BookingList};
use super::ApiError;
use crate::meta::RequestMeta;
use crate::AppState;

#[utoipa::path(post, path = "/api/v1/bookings", tag = "bookings",
    request_body(content = Object, description = "A booking document (its schema, `BookingDocument`, is put in by `booking_schema`)"),
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
    /// Part of a passenger's or guest's name (1-64 characters): any case, accents optional, so `nguyen van`
    /// finds `NGUYỄN/VĂN`; it never matches across two people
    #[param(
        pattern = "^[ \\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*[^\\u0000-\\u0020\\u007F-\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]([^\\u0000-\\u001F\\u007F-\\u009F]{0,62}[^\\u0000-\\u0020\\u007F-\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000])?[ \\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]*$"
    )]
    pub name: Option<String>,
    /// Bookings travelling on or after this day: a flight's first departure as booked, an event booking's
    /// earliest event, in local time
    #[param(value_type = Option<String>, format = Date)]
    pub travel_from: Option<String>,
    /// Bookings travelling on or before this day (not before `travel_from`)
    #[param(value_type = Option<String>, format = Date)]
    pub travel_to: Option<String>,
    /// `created` (oldest first, the default), `-created` (newest first), `travel` (soonest travel first) or
    /// `-travel`
    #[param(value_type = Option<String>, pattern = "^-?(created|travel)$")]
    pub sort: Option<String>,
    /// 1-200, default 50
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<Limit<200>>,
    /// `next_cursor` of the previous page, with the same filters and `sort`
    pub cursor: Option<String>,
}

fn query_date(text: Option<&str>, pointer: &str) -> Result<Option<NaiveDate>, AppError> {
    text.map(|t| {
        tessera_core::intake::parse_date(t)
            .ok_or_else(|| AppError::Validation(ValidationErrors::single(pointer, "must be a date, YYYY-MM-DD")))
    })
    .transpose()
}

#[utoipa::path(get, path = "/api/v1/bookings", tag = "bookings", params(ListQuery),
    responses((status = 200, body = BookingList),
        (status = 422, description = "a parameter out of its domain (`travel_to` before `travel_from`, a cursor of another `sort`), named by its pointer", body = Problem, content_type = "application/problem+json")))]
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
    let sort = match q.sort.as_deref() {
        Some(text) => BookingSort::parse(text).ok_or_else(|| {
            AppError::Validation(ValidationErrors::single(
                "/query/sort",
                "must be `created`, `-created`, `travel` or `-travel`",
            ))
        })?,
        None => BookingSort::default(),
    };
    let query = BookingQuery {
        pnr: q.pnr,
        name: q.name,
        status,
        travel_from: query_date(q.travel_from.as_deref(), "/query/travel_from")?,
        travel_to: query_date(q.travel_to.as_deref(), "/query/travel_to")?,
        sort,
        limit: q.limit.map(|l| l.0),
        cursor: q.cursor,
    };
    let page = state.app.list_bookings(&who, &query).await?;
    Ok(Json(BookingList {
        bookings: page.bookings.iter().map(BookingBody::from).collect(),
        next_cursor: page.next_cursor,
    }))
}
