//! What the vendor profiles (agent, GDS, group) take from a request, written once: the authenticated caller
//! and a JSON body. Each profile names its one error type by implementing [`Refusal`], and wraps these
//! functions in its own extractors, so a refusal always answers in that profile's envelope.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;
use tessera_app::{AppError, Principal};
use tessera_core::intake::ValidationErrors;

use crate::auth::authenticate;
use crate::AppState;

/// A profile's error type, as seen by the shared extractors.
pub trait Refusal: IntoResponse + Sized {
    /// What a refusal needs to know about its request, taken before the body is read (the GDS envelope echoes
    /// the request id and time); `()` for most.
    type Context: Send;

    fn context(parts: &Parts, state: &AppState) -> Self::Context;

    fn refuse(error: AppError, context: Self::Context) -> Self;

    /// How a body that is not the profile's documented JSON is described.
    fn malformed(error: serde_json::Error) -> AppError;
}

/// The authenticated caller, or the profile's refusal (401 in its envelope).
pub async fn caller<E: Refusal>(parts: &Parts, state: &AppState) -> Result<Principal, E> {
    authenticate(&state.app, &parts.headers).await.map_err(|f| E::refuse(f.into(), E::context(parts, state)))
}

/// The body parsed as `T`; an over-limit body is [`AppError::PayloadTooLarge`] (not axum's plain-text 413), any
/// other problem is the profile's [`Refusal::malformed`].
pub async fn json<E: Refusal, T: DeserializeOwned>(req: Request, state: &AppState) -> Result<T, E> {
    let (parts, body) = req.into_parts();
    let context = E::context(&parts, state);
    let parts_headers = parts.headers.clone();
    let read = Bytes::from_request(Request::from_parts(parts, body), state).await;
    let parsed = match read {
        Ok(bytes) => match crate::edge::screen_json(&parts_headers, &bytes) {
            Ok(()) => serde_json::from_slice(&bytes).map_err(E::malformed),
            Err(refused) => Err(refused),
        },
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::PayloadTooLarge),
        Err(_) => Err(AppError::Validation(ValidationErrors::single("", "the body could not be read"))),
    };
    parsed.map_err(|e| E::refuse(e, context))
}

/// A serde path as an RFC 6901 pointer into the body: `passengers[0].name` → `/passengers/0/name`; the root is
/// the empty pointer.
pub fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{}", crate::edge::escape(key))),
            Segment::Enum { variant } => Some(format!("/{}", crate::edge::escape(variant))),
            Segment::Unknown => None,
        })
        .collect()
}

/// serde's description of a body it could not read, in words a client understands: Rust type names
/// (`expected struct IssueRequest`, `expected u32`) become what the wire needs (`an object`, `a whole number`),
/// and the position in the text is dropped when it adds nothing (a one-line body).
pub fn in_words(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let text = match text.rfind(" at line ") {
        Some(at) if error.line() <= 1 => text[..at].to_owned(),
        _ => text,
    };
    text_in_words(&text)
}

/// [`in_words`] for any deserializer's message (query strings too).
pub fn text_in_words(text: &str) -> String {
    let tokens: Vec<&str> = text.split(' ').collect();
    let mut words: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let (core, tail) = split_punctuation(tokens[i]);
        // `struct X`, `tuple struct X`, `unit struct X`, `enum X`: a kind, then the type's name.
        let prefixed =
            matches!(core, "tuple" | "unit") && tokens.get(i + 1).map(|t| split_punctuation(t).0) == Some("struct");
        if matches!(core, "struct" | "enum") || prefixed {
            let at = i + 1 + usize::from(prefixed);
            if let Some((name, tail)) = tokens.get(at).map(|t| split_punctuation(t)) {
                if name.chars().next().is_some_and(char::is_uppercase) {
                    let kind = match core {
                        "enum" => "one of the documented values",
                        "tuple" => "a list",
                        "unit" => "null",
                        _ => "an object",
                    };
                    words.push(format!("{kind}{tail}"));
                    i = at + 1;
                    continue;
                }
            }
        }
        let replaced = match core {
            "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number of zero or more",
            "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
            "f32" | "f64" => "a number",
            "bool" => "true or false",
            "char" => "a single character",
            _ => core,
        };
        words.push(format!("{replaced}{tail}"));
        i += 1;
    }
    words.join(" ")
}

fn split_punctuation(token: &str) -> (&str, &str) {
    let end = token.trim_end_matches([',', '.', ';', ':']).len();
    token.split_at(end)
}

/// A fuzz target's body for one request type `T` of a profile: the edge's checks and the parse, as the
/// extractors run them. Nothing may panic, a refusal names its field by a pointer, and its words never name `T`.
#[cfg(test)]
pub(crate) fn fuzz_body<T: DeserializeOwned>(bytes: &[u8]) {
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    let _ = crate::edge::screen_json(&headers, bytes);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    if let Err(e) = serde_path_to_error::deserialize::<_, T>(&mut de) {
        let at = pointer(e.path());
        assert!(at.is_empty() || at.starts_with('/'), "{at}");
        let words = in_words(e.inner());
        let name = std::any::type_name::<T>().rsplit("::").next().unwrap_or_default();
        // Not counting the caller's own text quoted back (`invalid type: string "struct X"`, found by the fuzzer).
        let named = format!("struct {name}");
        let quoted = String::from_utf8_lossy(bytes).matches(named.as_str()).count();
        assert!(words.matches(named.as_str()).count() <= quoted, "{words}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct IssueRequest {
        limit: u32,
        items: Vec<Item>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        flag: bool,
    }

    fn described(body: &str) -> (String, String) {
        let mut de = serde_json::Deserializer::from_str(body);
        let e = serde_path_to_error::deserialize::<_, IssueRequest>(&mut de).unwrap_err();
        (pointer(e.path()), in_words(e.inner()))
    }

    #[test]
    fn errors_name_no_rust_types_and_point_in_one_style() {
        let (at, why) = described("null");
        assert_eq!((at.as_str(), why.as_str()), ("", "invalid type: null, expected an object"));
        let (at, why) = described(r#"{"limit": -1, "items": []}"#);
        assert_eq!(at, "/limit");
        assert!(why.contains("expected a whole number of zero or more"), "{why}");
        let (at, why) = described(r#"{"limit": 1, "items": [{"flag": "yes"}]}"#);
        assert_eq!(at, "/items/0/flag");
        assert!(why.ends_with("expected a boolean"), "{why}");
        for body in ["null", "[]", r#"{"limit": "x"}"#, r#"{"limit": 1, "items": [3]}"#] {
            let (_, why) = described(body);
            assert!(!why.contains("IssueRequest") && !why.contains("Item") && !why.contains("u32"), "{why}");
        }
    }
}
