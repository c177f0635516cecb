//! The native profile: Tessera's own REST API under `/api/v1`, errors as RFC 9457 problem details.

mod admin;
mod agreements;
mod audit;
mod booking_schema;
mod bookings;
mod error;
mod extract;
mod idempotency;
mod invoices;
mod issuance;
mod lifecycle;
mod openapi;
mod orders;
mod outbox;
mod records;
mod sign_in;
mod tickets;
mod wallet;
mod webhooks;
mod wire;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) use booking_schema::install as install_booking_schema;
pub(crate) use error::classify;
pub use error::ApiError;

use crate::AppState;

/// Every native route, each declared once: the router and the OpenAPI document are built from the same
/// `#[utoipa::path]` annotations, and the document is served at `/api/v1/openapi.json` (completed by
/// `contract.rs`, which also serves the vendor APIs' documents).
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let (router, mut document) = api().split_for_parts();
    idempotency::describe(&mut document);
    router
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::layer))
        .merge(crate::contract::routes(crate::contract::native_document(&document)))
}

/// The native API's OpenAPI 3.1 document as annotated (`contract::native_document` completes it for serving).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut document = api().into_openapi();
    idempotency::describe(&mut document);
    document
}

fn api() -> OpenApiRouter<AppState> {
    openapi::router()
        .routes(routes!(sign_in::sign_in))
        .routes(routes!(bookings::create, bookings::list))
        .routes(routes!(bookings::get))
        .routes(routes!(issuance::issue))
        .routes(routes!(invoices::list))
        .routes(routes!(invoices::pdf))
        .routes(routes!(issuance::get))
        .routes(routes!(tickets::issuance_pdf))
        .routes(routes!(tickets::issuance_link))
        .routes(routes!(tickets::get))
        .routes(routes!(tickets::ticket_pdf))
        .routes(routes!(tickets::ticket_link))
        .routes(routes!(wallet::coupon_pkpass))
        .routes(routes!(wallet::event_pkpass))
        .routes(routes!(wallet::coupon_google))
        .routes(routes!(wallet::event_google))
        .routes(routes!(lifecycle::void))
        .routes(routes!(lifecycle::refund))
        .routes(routes!(lifecycle::approve))
        .routes(routes!(lifecycle::reject))
        .routes(routes!(lifecycle::exchange))
        .routes(routes!(lifecycle::use_coupon))
        .routes(routes!(lifecycle::checkin))
        .routes(routes!(admin::create_agency, admin::list_agencies))
        .routes(routes!(admin::get_agency))
        .routes(routes!(admin::top_up))
        .routes(routes!(admin::ledger))
        .routes(routes!(admin::agreements))
        .routes(routes!(admin::set_agreement, agreements::remove_agreement))
        .routes(routes!(admin::add_tour_code))
        .routes(routes!(admin::add_corporate_account))
        .routes(routes!(admin::add_booker_code))
        .routes(routes!(agreements::remove_tour_code))
        .routes(routes!(agreements::remove_corporate_account))
        .routes(routes!(agreements::remove_booker_code))
        .routes(routes!(admin::set_refund_approval))
        .routes(routes!(admin::set_default_language))
        .routes(routes!(admin::update_settings))
        .routes(routes!(admin::create_user, admin::list_users))
        .routes(routes!(admin::create_api_key, admin::list_api_keys))
        .routes(routes!(admin::revoke_api_key))
        .routes(routes!(admin::end_sessions))
        .routes(routes!(audit::list))
        .routes(routes!(outbox::list))
        .routes(routes!(orders::downloads))
        .routes(routes!(orders::set_channel))
        .routes(routes!(lifecycle::void_item))
        .routes(routes!(lifecycle::refund_item))
        .routes(routes!(lifecycle::approve_item))
        .routes(routes!(lifecycle::reject_item))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::retry))
        .routes(routes!(webhooks::get_threshold, webhooks::set_threshold))
}

/// Unknown paths answer in the native envelope too.
pub(crate) async fn not_found() -> ApiError {
    ApiError(tessera_app::AppError::NotFound("resource"))
}
