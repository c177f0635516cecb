//! `Idempotency-Key` on every state-changing POST of the native API, written once as a route layer: the
//! same key with the same request (method, path and body) answers the first answer again, with no second
//! effect; with another request it is refused (`422 idempotency_key_reused`); while the first copy still
//! holds the key, `409 idempotency_in_progress` with `Retry-After`.
//!
//! The request runs under its claim, so the write it makes records its effect on the claim in the same
//! transaction (see `tessera_storage::scripts::with_claim`). A success is stored and replayed byte for byte;
//! a refusal releases the key. If the process died after the commit but before storing the answer, the
//! next copy rebuilds the answer from the recorded effect (the resource as it is now) and stores that.

use axum::body::Bytes;
use axum::extract::{FromRequest, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tessera_app::idempotency::{invalid_key, request_hash, Idempotent};
use tessera_app::{AppError, Principal};

use super::admin::agency_id;
use super::bookings::parse_booking_id;
use super::extract::Body;
use super::issuance::parse_issuance_id;
use super::lifecycle::answer;
use super::wire::{BookingBody, IssuanceBody, LedgerBody};
use super::ApiError;
use crate::auth::authenticate;
use crate::AppState;

/// The routes (as declared) whose POST takes an `Idempotency-Key`: every state-changing action on
/// bookings, tickets, event tickets and balances.
const GUARDED: [&str; 13] = [
    "/api/v1/bookings",
    "/api/v1/bookings/{id}/issue",
    "/api/v1/tickets/{number}/void",
    "/api/v1/tickets/{number}/refund",
    "/api/v1/tickets/{number}/refund/approve",
    "/api/v1/tickets/{number}/refund/reject",
    "/api/v1/tickets/{number}/exchange",
    "/api/v1/tickets/{number}/coupons/{coupon}/use",
    "/api/v1/booking-orders/{order}/items/{item}/void",
    "/api/v1/booking-orders/{order}/items/{item}/refund",
    "/api/v1/booking-orders/{order}/items/{item}/refund/approve",
    "/api/v1/booking-orders/{order}/items/{item}/refund/reject",
    "/api/v1/agencies/{id}/top-ups",
];

/// Header naming a replayed answer.
const REPLAYED: &str = "idempotent-replayed";

pub(crate) async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    guard(&state, request, next).await.unwrap_or_else(IntoResponse::into_response)
}

async fn guard(state: &AppState, request: Request, next: Next) -> Result<Response, ApiError> {
    let guarded = request.method() == Method::POST
        && request.extensions().get::<MatchedPath>().is_some_and(|p| GUARDED.contains(&p.as_str()));
    let Some(value) = request.headers().get("idempotency-key").filter(|_| guarded).cloned() else {
        return Ok(next.run(request).await);
    };
    let who = authenticate(&state.app, request.headers()).await.map_err(AppError::from)?;
    // Non-ASCII bytes make the header unreadable as text: the key is malformed, not reused.
    let key = value.to_str().map_err(|_| invalid_key())?;
    let (parts, body) = request.into_parts();
    let Body(bytes) = Body::from_request(Request::from_parts(parts.clone(), body), state).await?;
    let hash = request_hash(parts.method.as_str(), parts.uri.path(), &bytes);
    match state.app.idempotency_claim(&who, key, &hash).await? {
        Idempotent::Replay { status, body } => Ok(replay(status, body)),
        Idempotent::InProgress { retry_after_secs } => {
            let mut response = ApiError(AppError::IdempotencyInProgress).into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            Ok(response)
        }
        Idempotent::Rebuild { effect, guard } => {
            let (status, body) = rebuild(state, &who, &effect).await?;
            state.app.idempotency_complete(guard, status.as_u16(), &body).await?;
            Ok(replay(status.as_u16(), body))
        }
        Idempotent::Run(guard) => {
            let request = Request::from_parts(parts, axum::body::Body::from(bytes));
            let response = state.app.idempotency_run(&guard, next.run(request)).await;
            if !response.status().is_success() {
                state.app.idempotency_release(guard).await;
                return Ok(response);
            }
            let (head, body) = response.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX)
                .await
                .map_err(|e| AppError::Internal(format!("reading an answer to store: {e}")))?;
            // The effect has committed: failing to store its answer must not turn a success into an error,
            // the next copy rebuilds the answer from the effect.
            if let Err(e) = state.app.idempotency_complete(guard, head.status.as_u16(), &body).await {
                tracing::error!(error = %e, "could not store an idempotent answer; it will be rebuilt from its effect");
            }
            Ok(Response::from_parts(head, axum::body::Body::from(body)))
        }
    }
}

fn replay(status: u16, body: impl Into<Bytes>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body.into()).into_response();
    response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// The answer of a request whose effect committed but whose answer was never stored, from the effect the
/// write script recorded: the same JSON the endpoint answers, built from the resource as it is now.
async fn rebuild(
    state: &AppState,
    who: &Principal,
    effect: &serde_json::Value,
) -> Result<(StatusCode, Vec<u8>), ApiError> {
    let text = |name: &str| effect[name].as_str();
    let (status, body) = if let Some(id) = text("issuance") {
        let (record, tickets) = state.app.get_issuance(who, parse_issuance_id(id)?).await?;
        (StatusCode::CREATED, serde_json::to_vec(&IssuanceBody::new(&record, &tickets)))
    } else if let Some(id) = text("booking") {
        let booking = state.app.get_booking(who, parse_booking_id(id)?).await?;
        (StatusCode::CREATED, serde_json::to_vec(&BookingBody::from(&booking)))
    } else if let (Some(id), Some(agency)) = (effect["ledger"].as_i64(), text("agency")) {
        let entries = state.app.ledger(who, agency_id(agency)?).await?;
        let entry = entries.iter().find(|e| e.id == id).ok_or(AppError::NotFound("ledger entry"))?;
        (StatusCode::CREATED, serde_json::to_vec(&LedgerBody::from(entry)))
    } else {
        let changed = state.app.changed_from_effect(who, effect).await?;
        (StatusCode::OK, serde_json::to_vec(&answer(&changed)))
    };
    Ok((status, body.map_err(|e| AppError::Internal(e.to_string()))?))
}

/// Declares the `Idempotency-Key` header on every guarded operation of the OpenAPI document, from the same
/// list the layer guards, so the document and the behaviour cannot disagree.
pub(super) fn describe(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};

    for path in GUARDED {
        let Some(operation) = document.paths.paths.get_mut(path).and_then(|item| item.post.as_mut()) else {
            continue;
        };
        let parameters = operation.parameters.get_or_insert_with(Vec::new);
        if parameters.iter().any(|p| p.name.eq_ignore_ascii_case("idempotency-key")) {
            continue;
        }
        parameters.push(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "1-255 visible ASCII characters; the same key and request: the same answer, no second effect \
                     (docs/api.md, Idempotency)",
                ))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(255))))
                .build(),
        );
    }
}

#[cfg(test)]
mod tests {
    /// Every guarded route exists as a POST, so a renamed route cannot silently lose its idempotency.
    #[test]
    fn every_guarded_route_is_a_post_that_documents_the_key() {
        let document = super::super::openapi_document();
        for path in super::GUARDED {
            let post = document.paths.paths.get(path).and_then(|item| item.post.as_ref());
            let post = post.unwrap_or_else(|| panic!("{path} is not a POST route"));
            let names: Vec<_> = post.parameters.iter().flatten().map(|p| p.name.as_str()).collect();
            assert!(names.contains(&"Idempotency-Key"), "{path}: {names:?}");
        }
    }
}
