//! Middleware every request passes: a request id, a tracing span named by the matched route, a body size cap and
//! read deadline, and a panic guard that answers 500 instead of dropping the connection.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{HeaderName, Request, Response, StatusCode};
use axum::Router;
use tower::util::MapRequestLayer;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::HttpConfig;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest client-chosen request id kept; it is echoed and logged, so it must stay short and printable.
const MAX_REQUEST_ID_LEN: usize = 128;

/// A client's `X-Request-Id` is kept only when short and made of visible ASCII; otherwise it is dropped and a new
/// one is generated, so nothing a client sends can flood or forge log lines.
fn drop_unusable_request_id<B>(mut request: Request<B>) -> Request<B> {
    let usable = |v: &axum::http::HeaderValue| {
        let bytes = v.as_bytes();
        !bytes.is_empty() && bytes.len() <= MAX_REQUEST_ID_LEN && bytes.iter().all(u8::is_ascii_graphic)
    };
    let headers = request.headers_mut();
    let all_usable =
        headers.get_all(REQUEST_ID_HEADER).iter().count() == 1 && headers.get(REQUEST_ID_HEADER).is_some_and(usable);
    if !all_usable {
        headers.remove(REQUEST_ID_HEADER);
    }
    request
}

pub(crate) fn apply(router: Router, config: &HttpConfig) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request<_>| {
            let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
            let id = req.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            tracing::info_span!("request", method = %req.method(), route = %route, request_id = %id)
        })
        .on_response(|res: &Response<_>, latency: Duration, _span: &Span| {
            tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_secs_f64() * 1000.0, "response");
        });
    router.layer(DefaultBodyLimit::max(config.max_body_bytes)).layer(
        ServiceBuilder::new()
            .layer(MapRequestLayer::new(drop_unusable_request_id))
            .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
            .layer(PropagateRequestIdLayer::new(request_id))
            .layer(trace)
            .layer(RequestBodyTimeoutLayer::new(config.body_read_timeout))
            .layer(CatchPanicLayer::custom(|_| {
                tracing::error!("handler panicked");
                let body =
                    r#"{"type":"about:blank","title":"Internal Server Error","status":500,"code":"internal_error"}"#;
                Response::builder()
                    .status(StatusCode::INTERNAL_SERVER_ERROR)
                    .header("content-type", "application/problem+json")
                    .body(axum::body::Body::from(body))
                    .unwrap_or_default()
            })),
    )
}
