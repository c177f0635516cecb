//! The events API (a ticket distributor's): booking orders of event bookings, their ticket PDFs, zip bundles and
//! e-invoices, under `/v1`. Every call needs a credential (the seed's `X-Api-Key`; a JWT works too) and
//! counts against that credential's rate limit.

mod downloads;
mod error;
mod orders;
mod query;
mod wire;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::get;
use axum::Router;
use tessera_app::Principal;

use crate::auth::authenticate;
use crate::rate_limit::retry_after_secs;
use crate::AppState;
pub use error::EventsError;
pub(crate) use wire::{order as order_json, OrderBody};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/bookingorders", get(orders::list))
        .route("/v1/bookingorders/{bookingorder_id}", get(orders::get))
        .route("/v1/bookingorders/{bookingorder_id}/invoice/{invoice_id}", get(downloads::invoice))
        .route("/v1/etickets/download/zip/{bookingorder_id}", get(downloads::zip))
        .route("/v1/etickets/download/{bookingorder_id}/{orderitem_id}/url/{download_link}", get(downloads::ticket))
}

/// An authenticated caller within its rate limit. A missing or bad credential is a 401 before any limit is
/// counted, so nobody can exhaust another client's budget.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = EventsError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let who = authenticate(&state.app, &parts.headers).await.map_err(tessera_app::AppError::from)?;
        state
            .rate_limiter
            .check(&state.app, &who.credential_key())
            .await?
            .map_err(|wait| EventsError::RateLimited(retry_after_secs(wait)))?;
        Ok(Self(who))
    }
}
