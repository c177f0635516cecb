//! Tessera's HTTP edge: one axum router serving every API profile on one port.
//!
//! Each profile module only translates its wire format into `tessera-app` calls and [`tessera_app::AppError`]s
//! into its own envelope. Cross-cutting concerns (request ids, tracing spans, body limits, panics) live here.
#![forbid(unsafe_code)]

pub mod agent;
mod assets;
mod auth;
mod contract;
mod download;
mod edge;
pub mod events;
mod extract;
pub mod gds;
pub mod group;
mod health;
mod keys;
mod layers;
mod meta;
pub mod native;
mod numbers;
pub mod rate_limit;
mod serve;

use std::sync::Arc;

use axum::Router;
use tessera_app::Tessera;

pub use layers::REQUEST_ID_HEADER;
pub use serve::{default_max_connections, serve, ConnectionLimits};

/// Settings of the HTTP edge itself.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Larger request bodies are refused with 413 before they are read.
    pub max_body_bytes: usize,
    /// A request body must arrive whole within this time.
    pub body_read_timeout: std::time::Duration,
    /// Carrier logo URL template for the agent profile, with `{code}` for the IATA code.
    pub carrier_logo_url: String,
    /// Requests per credential on the events profile.
    pub rate_limit: rate_limit::RateLimit,
}

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub app: Tessera,
    pub config: Arc<HttpConfig>,
    pub(crate) logos: agent::Logos,
    pub(crate) rate_limiter: rate_limit::Limiter,
}

/// The whole API: health probes, signed links and every profile.
pub fn router(app: Tessera, config: HttpConfig) -> Router {
    let logos = agent::Logos(config.carrier_logo_url.clone());
    let rate_limiter = rate_limit::Limiter::for_app(&app, config.rate_limit);
    let state = AppState { app, config: Arc::new(config.clone()), logos, rate_limiter };
    let routes = Router::new()
        .merge(health::routes())
        .merge(keys::routes())
        .merge(download::routes())
        .merge(native::routes(&state))
        .merge(agent::routes())
        .merge(gds::routes())
        .merge(group::routes())
        .merge(events::routes())
        .merge(assets::routes())
        // The agency portal (HTML for people) shares this edge's layers; `/` leads there.
        .nest_service(tessera_portal::BASE, tessera_portal::router(state.app.clone()))
        .route("/", axum::routing::get(|| async { axum::response::Redirect::to("/portal/") }))
        .fallback(native::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), edge::screen))
        .with_state(state);
    layers::apply(routes, &config)
}
