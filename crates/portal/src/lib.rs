//! The agency portal: server-rendered HTML pages for agents, admins and customers at `/portal/`.
//!
//! Every page calls the same `tessera-app` services the APIs call, as the signed-in user, so what a page may show
//! or do is decided there (agency scope, roles, ownership), never here. This crate only turns forms into service
//! calls and outcomes into HTML. Sessions, CSRF and cookies are in [`session`]; the page shell, the headers every
//! page carries (CSP without inline scripts) and the embedded assets in [`layout`]. See docs/portal.md.
#![forbid(unsafe_code)]

mod admin;
mod admin_create;
mod agency;
mod agent;
mod auth;
mod exchange;
mod form;
mod keys;
mod layout;
mod orders;
pub mod session;
mod tickets;
mod users;
mod webhooks;

use axum::routing::{get, post};
use axum::Router;
use tessera_app::Tessera;

/// Where the portal is mounted; links and redirects are absolute under it.
pub const BASE: &str = "/portal";

/// The portal's routes, relative to [`BASE`] (the wiring nests them there).
pub fn router(app: Tessera) -> Router {
    Router::new()
        .route("/", get(agent::home))
        .route("/sign-in", get(auth::sign_in_page).post(auth::sign_in))
        .route("/sign-out", post(auth::sign_out))
        .route("/bookings", get(agent::bookings))
        .route("/bookings/{id}", get(agent::booking))
        .route("/bookings/{id}/issue", get(agent::confirm_issue).post(agent::issue))
        .route("/bookings/{id}/invoices/{number}/pdf", get(tickets::invoice_pdf))
        .route("/issuances/{id}/pdf", get(tickets::issuance_pdf))
        .route("/orders/{order}/zip", get(orders::zip))
        .route("/orders/{order}/items/{item}/pdf/{link}", get(orders::pdf))
        .route("/orders/{order}/items/{item}/void", post(orders::void))
        .route("/orders/{order}/items/{item}/refund", post(orders::refund))
        .route("/tickets/{number}", get(tickets::ticket))
        .route("/tickets/{number}/pdf", get(tickets::ticket_pdf))
        .route("/tickets/{number}/link", post(tickets::link))
        .route("/tickets/{number}/void", post(tickets::void))
        .route("/tickets/{number}/refund", post(tickets::refund))
        .route("/tickets/{number}/exchange", get(exchange::form).post(exchange::exchange))
        .route("/tickets/{number}/refund/approve", post(tickets::approve_refund))
        .route("/tickets/{number}/refund/reject", post(tickets::reject_refund))
        .route("/tickets/{number}/coupons/{coupon}/use", post(tickets::use_coupon))
        .route("/ledger", get(agent::ledger))
        .route("/ledger.csv", get(agent::ledger_csv))
        .route("/keys", get(keys::keys).post(keys::create))
        .route("/keys/{id}/revoke", post(keys::revoke))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/{id}", get(webhooks::show))
        .route("/webhooks/{id}/rotate-secret", post(webhooks::rotate))
        .route("/webhooks/{id}/delete", post(webhooks::delete))
        .route("/webhooks/{id}/deliveries/{delivery}/retry", post(webhooks::retry))
        .route("/agencies", get(admin::agencies))
        .route("/agencies/new", get(admin_create::new_agency).post(admin_create::create_agency))
        .route("/users", get(users::users))
        .route("/users/new", get(admin_create::new_user).post(admin_create::create_user))
        .route("/users/{id}/end-sessions", post(users::end_sessions))
        .route("/agencies/{id}", get(agency::agency))
        .route("/agencies/{id}/settings", post(agency::settings))
        .route("/agencies/{id}/agreements", post(agency::agreement))
        .route("/agencies/{id}/tour-codes", post(agency::tour_code))
        .route("/agencies/{id}/corporate-accounts", post(agency::corporate_account))
        .route("/agencies/{id}/booker-codes", post(agency::booker_code))
        .route("/agencies/{id}/remove", post(agency::remove_entry))
        .route("/agencies/{id}/top-up", post(admin::top_up))
        .route("/outbox", get(admin::outbox))
        .route("/audit", get(admin::audit))
        .route("/assets/{file}", get(layout::asset))
        .fallback(layout::not_found)
        .layer(axum::middleware::from_fn(layout::security_headers))
        .with_state(app)
}
