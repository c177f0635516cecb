//! Facts about the request itself that the audit trail records: client address and request id.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use tessera_app::Principal;
use tessera_storage::Actor;

use crate::layers::REQUEST_ID_HEADER;

#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
}

impl RequestMeta {
    pub fn actor(&self, who: Option<&Principal>) -> Actor {
        Actor {
            user_id: who.map(|p| p.user.id),
            username: who.map_or_else(|| "anonymous".to_owned(), |p| p.user.username.clone()),
            client_addr: self.client_addr.clone(),
            tracking_id: self.request_id.clone(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let client_addr = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        let request_id = parts.headers.get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(Self { client_addr, request_id })
    }
}
