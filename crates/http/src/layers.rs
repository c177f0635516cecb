//! Middleware every request passes: a request id, request metrics and a tracing span named by the matched route, a
//! body size cap and read deadline, and a panic guard that answers 500 instead of dropping the connection.

use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{HeaderName, Method, Request, Response, StatusCode};
use axum::middleware::Next;
use axum::Router;
use tessera_app::telemetry::{HTTP_DURATION, HTTP_REQUESTS};
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

/// The `route` label of a request no route matched: one fixed value, so probing random paths cannot create series.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// A method label from a fixed set: a client may send any token as its method.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts the request and times it, labelled by the route *template* (`/api/v1/bookings/{id}`), never the path.
/// `Router::layer` wraps each route, so the router has set `MatchedPath` by the time this runs.
async fn record_metrics(request: axum::extract::Request, next: Next) -> axum::response::Response {
    let start = Instant::now();
    let method = method_label(request.method());
    let route: metrics::SharedString = match request.extensions().get::<MatchedPath>() {
        Some(path) => path.as_str().to_owned().into(),
        None => UNMATCHED_ROUTE.into(),
    };
    let response = next.run(request).await;
    let status: metrics::SharedString = response.status().as_str().to_owned().into();
    let labels = [("method", metrics::SharedString::const_str(method)), ("route", route), ("status", status)];
    let labels: Vec<metrics::Label> = labels.into_iter().map(|(k, v)| metrics::Label::new(k, v)).collect();
    metrics::counter!(HTTP_REQUESTS, labels.clone()).increment(1);
    metrics::histogram!(HTTP_DURATION, labels).record(start.elapsed().as_secs_f64());
    response
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
            .layer(axum::middleware::from_fn(record_metrics))
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
