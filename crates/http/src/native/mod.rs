//! The native profile: Tessera's own REST API under `/api/v1`, errors as RFC 9457 problem details.

mod admin;
mod audit;
mod bookings;
mod error;
mod extract;
mod invoices;
mod issuance;
mod lifecycle;
mod openapi;
mod orders;
mod outbox;
mod sign_in;
mod tickets;
mod wire;

use axum::routing::{delete, get, post, put};
use axum::Router;

pub(crate) use error::classify;
pub use error::ApiError;
pub use openapi::ApiDoc;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/sign-in", post(sign_in::sign_in))
        .route("/api/v1/bookings", post(bookings::create).get(bookings::list))
        .route("/api/v1/bookings/{id}", get(bookings::get))
        .route("/api/v1/bookings/{id}/issue", post(issuance::issue))
        .route("/api/v1/bookings/{id}/invoices", get(invoices::list))
        .route("/api/v1/bookings/{id}/invoices/{number}/pdf", get(invoices::pdf))
        .route("/api/v1/issuances/{id}", get(issuance::get))
        .route("/api/v1/issuances/{id}/pdf", get(tickets::issuance_pdf))
        .route("/api/v1/issuances/{id}/link", post(tickets::issuance_link))
        .route("/api/v1/tickets/{number}", get(tickets::get))
        .route("/api/v1/tickets/{number}/pdf", get(tickets::ticket_pdf))
        .route("/api/v1/tickets/{number}/link", post(tickets::ticket_link))
        .route("/api/v1/tickets/{number}/void", post(lifecycle::void))
        .route("/api/v1/tickets/{number}/refund", post(lifecycle::refund))
        .route("/api/v1/tickets/{number}/refund/approve", post(lifecycle::approve))
        .route("/api/v1/tickets/{number}/refund/reject", post(lifecycle::reject))
        .route("/api/v1/tickets/{number}/exchange", post(lifecycle::exchange))
        .route("/api/v1/tickets/{number}/coupons/{coupon}/use", post(lifecycle::use_coupon))
        .route("/api/v1/checkin", post(lifecycle::checkin))
        .route("/api/v1/agencies", post(admin::create_agency).get(admin::list_agencies))
        .route("/api/v1/agencies/{id}", get(admin::get_agency))
        .route("/api/v1/agencies/{id}/top-ups", post(admin::top_up))
        .route("/api/v1/agencies/{id}/ledger", get(admin::ledger))
        .route("/api/v1/agencies/{id}/agreements", get(admin::agreements))
        .route("/api/v1/agencies/{id}/agreements/{carrier}", put(admin::set_agreement))
        .route("/api/v1/agencies/{id}/tour-codes", post(admin::add_tour_code))
        .route("/api/v1/agencies/{id}/corporate-accounts", post(admin::add_corporate_account))
        .route("/api/v1/agencies/{id}/booker-codes", post(admin::add_booker_code))
        .route("/api/v1/users", post(admin::create_user).get(admin::list_users))
        .route("/api/v1/users/{id}/api-keys", post(admin::create_api_key).get(admin::list_api_keys))
        .route("/api/v1/api-keys/{id}", delete(admin::revoke_api_key))
        .route("/api/v1/audit", get(audit::list))
        .route("/api/v1/outbox", get(outbox::list))
        .route("/api/v1/downloads", get(orders::downloads))
        .route("/api/v1/booking-orders/{order}/items/{item}/distribution-channel", put(orders::set_channel))
        .route("/api/v1/booking-orders/{order}/items/{item}/void", post(lifecycle::void_item))
        .route("/api/v1/booking-orders/{order}/items/{item}/refund", post(lifecycle::refund_item))
        .route("/api/v1/booking-orders/{order}/items/{item}/refund/approve", post(lifecycle::approve_item))
        .route("/api/v1/booking-orders/{order}/items/{item}/refund/reject", post(lifecycle::reject_item))
        .route("/api/v1/agencies/{id}/refund-approval", put(admin::set_refund_approval))
}

/// Unknown paths answer in the native envelope too.
pub(crate) async fn not_found() -> ApiError {
    ApiError(tessera_app::AppError::NotFound("resource"))
}
