//! Input no handler should ever see, refused in one place for every profile: control characters (NUL included)
//! in a query parameter, a path parameter or any string of a JSON body, and a body that is not JSON where JSON is
//! read (415). A refusal answers in the envelope of the profile the path belongs to, with a pointer in the one
//! style of docs/api.md: `/query/<name>`, `/path/<name>`, or an RFC 6901 pointer into the body (`/passengers/0/name`).
//!
//! Why at the edge: PostgreSQL cannot store a NUL in text (it answered 500), and no field of any contract has a
//! use for control characters, so refusing them before any lookup keeps both backends alike.

use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tessera_app::AppError;
use tessera_core::intake::ValidationErrors;

use crate::extract::Refusal;
use crate::AppState;

/// What a refused value is told, wherever it was.
pub const CONTROL_CHARACTERS: &str = "must not contain control characters";

/// Which API a path belongs to, so a refusal answers in that API's envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Native,
    Agent,
    Gds,
    Group,
    Events,
}

impl Profile {
    pub fn of(path: &str) -> Self {
        match path {
            "/api/v1/flight/issueticket" => Self::Gds,
            "/issue-ticket" | "/download-ticket" => Self::Agent,
            "/tickets" => Self::Group,
            p if p.starts_with("/v1/") => Self::Events,
            _ => Self::Native,
        }
    }
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// The first query or path parameter holding a control character, as a pointer.
fn offending_parameter(parts: &Parts, path_params: Option<&RawPathParams>) -> Option<String> {
    if let Some(query) = parts.uri.query() {
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if has_control(&name) || has_control(&value) {
                return Some(format!("/query/{}", escape(&name)));
            }
        }
    }
    path_params?.iter().find(|(_, value)| has_control(value)).map(|(name, _)| format!("/path/{}", escape(name)))
}

/// Refuses a request whose query or path parameters hold control characters, before any handler runs.
pub async fn screen(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let params = RawPathParams::from_request_parts(&mut parts, &state).await.ok();
    match offending_parameter(&parts, params.as_ref()) {
        Some(pointer) => refuse(&parts, &state, invalid(pointer, CONTROL_CHARACTERS)),
        None => next.run(Request::from_parts(parts, body)).await,
    }
}

fn invalid(pointer: String, reason: &str) -> AppError {
    AppError::Validation(ValidationErrors::single(pointer, reason))
}

/// The refusal in the envelope of the profile the request is addressed to.
fn refuse(parts: &Parts, state: &AppState, error: AppError) -> Response {
    match Profile::of(parts.uri.path()) {
        Profile::Native => crate::native::ApiError(error).into_response(),
        Profile::Agent => crate::agent::AgentError::from(error).into_response(),
        Profile::Gds => {
            let context = crate::gds::GdsError::context(parts, state);
            crate::gds::GdsError::refuse(error, context).into_response()
        }
        Profile::Group if parts.method == Method::GET => crate::group::GroupError::Send(error).into_response(),
        Profile::Group => crate::group::GroupError::Create(error).into_response(),
        Profile::Events => crate::events::EventsError::BadRequest(match &error {
            AppError::Validation(v) => {
                v.0.iter()
                    .map(|f| format!("{}: {}", parameter_name(&f.pointer), f.reason))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            other => other.to_string(),
        })
        .into_response(),
    }
}

/// `/query/event_id` → `event_id`: the events API names parameters plainly in its messages.
fn parameter_name(pointer: &str) -> &str {
    pointer.rsplit('/').next().unwrap_or(pointer)
}

/// RFC 6901: `~` and `/` inside a name are escaped.
pub fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// Whether a request's declared content type is JSON (`application/json`, or any `+json` type).
pub fn declares_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The checks every JSON body passes before it is parsed into a request type: a body with content must say it
/// is JSON (415 otherwise), and no string or key in it may hold a control character. A body that is not valid
/// JSON passes here and is described by the parser that reads it.
pub fn screen_json(headers: &axum::http::HeaderMap, bytes: &[u8]) -> Result<(), AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    if !declares_json(headers) {
        return Err(AppError::UnsupportedMediaType);
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => match control_in(&value, &mut String::new()) {
            Some(pointer) => Err(invalid(pointer, CONTROL_CHARACTERS)),
            None => Ok(()),
        },
        Err(_) => Ok(()),
    }
}

/// The pointer of the first string (or key) holding a control character.
fn control_in(value: &Value, at: &mut String) -> Option<String> {
    match value {
        Value::String(s) if has_control(s) => Some(at.clone()),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| within(at, &i.to_string(), item)),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            if has_control(key) {
                return Some(at.clone());
            }
            within(at, &escape(key), item)
        }),
        _ => None,
    }
}

fn within(at: &mut String, segment: &str, item: &Value) -> Option<String> {
    let len = at.len();
    at.push('/');
    at.push_str(segment);
    let found = control_in(item, at);
    at.truncate(len);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;
    use serde_json::json;

    fn json_headers() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, "application/json; charset=utf-8".parse().unwrap());
        h
    }

    #[test]
    fn control_characters_are_found_with_their_pointer() {
        let body = json!({"a": [{"b": "ok"}, {"c/d": "x\u{0}y"}]}).to_string();
        match screen_json(&json_headers(), body.as_bytes()) {
            Err(AppError::Validation(v)) => assert_eq!(v.0[0].pointer, "/a/1/c~1d"),
            other => panic!("{other:?}"),
        }
        let fine = json!({"a": "é ✓ \u{202e}", "n": 1}).to_string();
        assert!(screen_json(&json_headers(), fine.as_bytes()).is_ok());
        for text in ["\u{7f}", "\u{85}", "tab\there", "line\n"] {
            let body = json!({ "k": text }).to_string();
            assert!(screen_json(&json_headers(), body.as_bytes()).is_err(), "{text:?}");
        }
    }

    #[test]
    fn a_body_must_say_it_is_json() {
        let mut headers = HeaderMap::new();
        assert!(screen_json(&headers, b"  \n").is_ok(), "no body, nothing to declare");
        assert!(matches!(screen_json(&headers, b"{}"), Err(AppError::UnsupportedMediaType)));
        headers.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(matches!(screen_json(&headers, b"{}"), Err(AppError::UnsupportedMediaType)));
        headers.insert(header::CONTENT_TYPE, "application/merge-patch+json".parse().unwrap());
        assert!(screen_json(&headers, b"{}").is_ok());
    }

    #[test]
    fn paths_name_their_profile() {
        assert_eq!(Profile::of("/api/v1/flight/issueticket"), Profile::Gds);
        assert_eq!(Profile::of("/api/v1/audit"), Profile::Native);
        assert_eq!(Profile::of("/v1/bookingorders"), Profile::Events);
        assert_eq!(Profile::of("/tickets"), Profile::Group);
        assert_eq!(Profile::of("/issue-ticket"), Profile::Agent);
    }
}
