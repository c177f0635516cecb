//! The OpenAPI documents as served: the native one (built from the routes' annotations) completed with what the
//! edge does for every operation, and one hand-written document per vendor API (`openapi/*.json` in this crate),
//! each served next to the native one:
//!
//! | document | path |
//! |---|---|
//! | native | `/api/v1/openapi.json` |
//! | agent | `/openapi/agent.json` |
//! | group | `/openapi/group.json` |
//! | GDS | `/openapi/gds.json` |
//! | events | `/openapi/events.json` |
//!
//! What every document gets here, so no annotation can forget it: every string a request can carry is declared
//! free of control characters (the edge refuses them, see `edge.rs`), and the native operations list the
//! refusals the edge and the extractors answer for any operation (401, 403, 404, 413, 415, 422) with the
//! problem+json schema.

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::AppState;

/// A string without control characters (C0, DEL, C1), as a JSON Schema pattern.
pub const NO_CONTROL_CHARACTERS: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";

/// Operations anyone may call: no credential is needed, so none is declared.
const PUBLIC: [&str; 1] = ["/api/v1/sign-in"];

/// The vendor documents, by the name they are served under.
const VENDOR: [(&str, &str); 4] = [
    ("agent", include_str!("../openapi/agent.json")),
    ("group", include_str!("../openapi/group.json")),
    ("gds", include_str!("../openapi/gds.json")),
    ("events", include_str!("../openapi/events.json")),
];

/// Every vendor document, parsed and completed; a document that does not parse is a bug caught by the tests.
pub fn vendor_documents() -> Vec<(&'static str, Value)> {
    VENDOR
        .iter()
        .map(|(name, text)| {
            let mut doc: Value = serde_json::from_str(text).unwrap_or_else(|_| json!({}));
            forbid_control_characters(&mut doc);
            (*name, doc)
        })
        .collect()
}

/// The native document as served.
pub fn native_document(document: &utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(document).unwrap_or_else(|_| json!({}));
    crate::native::install_booking_schema(&mut doc);
    complete_native(&mut doc);
    forbid_control_characters(&mut doc);
    doc
}

/// `GET` routes for every document.
pub fn routes(native: Value) -> Router<AppState> {
    let mut router = Router::new();
    let native = Arc::new(native);
    router = router.route("/api/v1/openapi.json", get(move || async move { Json(native.as_ref().clone()) }));
    for (name, doc) in vendor_documents() {
        let doc = Arc::new(doc);
        router = router.route(&format!("/openapi/{name}.json"), get(move || async move { Json(doc.as_ref().clone()) }));
    }
    router
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

/// Adds to each native operation the refusals any request can meet, unless the operation already says more.
fn complete_native(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            if !matches!(method.as_str(), "get" | "post" | "put" | "delete" | "patch") {
                continue;
            }
            let Some(op) = op.as_object_mut() else { continue };
            let public = PUBLIC.contains(&path.as_str());
            if public {
                op.insert("security".into(), json!([]));
            }
            let has_params = op.get("parameters").and_then(Value::as_array).is_some_and(|p| !p.is_empty());
            let has_body = op.contains_key("requestBody");
            let responses = op.entry("responses").or_insert_with(|| json!({}));
            let Some(responses) = responses.as_object_mut() else { continue };
            let mut add = |status: &str, description: &str| {
                responses.entry(status.to_owned()).or_insert_with(|| problem(description));
            };
            if public {
                add("401", "invalid_credentials");
            } else {
                add("401", "unauthenticated: no credential, or one that is invalid or expired");
                add("403", "forbidden: the caller's role may not do this");
            }
            if path.contains('{') {
                add("404", "not_found: nothing by that id within the caller's reach");
            }
            if has_params || has_body {
                add("422", "validation_failed: every offending field or parameter, as JSON pointers");
            }
            if has_body {
                add("413", "payload_too_large");
                add("415", "unsupported_media_type: a body not sent as application/json");
            }
        }
    }
}

/// Declares every request string free of control characters: the schemas of parameters and request bodies,
/// and the component schemas those reach.
fn forbid_control_characters(doc: &mut Value) {
    let mut reached = Vec::new();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for op in item.values_mut() {
                for p in op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
                    if let Some(schema) = p.get_mut("schema") {
                        tighten(schema, &mut reached);
                    }
                }
                let content =
                    op.get_mut("requestBody").and_then(|b| b.get_mut("content")).and_then(Value::as_object_mut);
                for media in content.into_iter().flat_map(Map::values_mut) {
                    if let Some(schema) = media.get_mut("schema") {
                        tighten(schema, &mut reached);
                    }
                }
            }
        }
    }
    let Some(root) = doc.as_object_mut() else { return };
    let components = root.entry("components").or_insert_with(|| json!({}));
    let Some(schemas) =
        components.as_object_mut().and_then(|c| c.entry("schemas").or_insert_with(|| json!({})).as_object_mut())
    else {
        return;
    };
    let mut done = Vec::new();
    while let Some(name) = reached.pop() {
        if done.contains(&name) {
            continue;
        }
        if name == CLEAN_JSON {
            schemas.insert(CLEAN_JSON.to_owned(), clean_json_schema());
        } else if let Some(schema) = schemas.get_mut(&name) {
            tighten(schema, &mut reached);
        }
        done.push(name);
    }
}

/// Any JSON value whose strings and keys hold no control character: what an object that admits properties it does
/// not name may carry in them (the server ignores such properties, but still refuses control characters).
const CLEAN_JSON: &str = "JsonWithoutControlCharacters";

fn clean_json_schema() -> Value {
    let this = json!({"$ref": format!("#/components/schemas/{CLEAN_JSON}")});
    json!({
        "description": "any JSON value whose strings and keys hold no control character",
        "anyOf": [
            {"type": ["null", "boolean", "number"]},
            {"type": "string", "pattern": NO_CONTROL_CHARACTERS},
            {"type": "array", "items": this},
            {"type": "object", "propertyNames": {"pattern": NO_CONTROL_CHARACTERS}, "additionalProperties": this}
        ]
    })
}

/// Adds the pattern to every free-form string in `schema`, and notes the components it refers to. An object that
/// admits properties it does not name admits them only free of control characters.
fn tighten(schema: &mut Value, reached: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            let is_object = map.get("type").is_some_and(|t| t == "object") || map.contains_key("properties");
            if is_object && !map.contains_key("additionalProperties") {
                map.insert(
                    "additionalProperties".into(),
                    json!({"$ref": format!("#/components/schemas/{CLEAN_JSON}")}),
                );
                map.insert("propertyNames".into(), json!({"pattern": NO_CONTROL_CHARACTERS}));
                reached.push(CLEAN_JSON.to_owned());
            }
            if let Some(Value::String(r)) = map.get("$ref") {
                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                    reached.push(name.to_owned());
                }
            }
            let is_string = match map.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
                _ => false,
            };
            let free = !["format", "enum", "const", "pattern"].iter().any(|k| map.contains_key(*k));
            if is_string && free {
                map.insert("pattern".into(), json!(NO_CONTROL_CHARACTERS));
            }
            for (key, value) in map.iter_mut() {
                if key != "example" && key != "examples" && key != "default" {
                    tighten(value, reached);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| tighten(v, reached)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_documents_parse_and_are_openapi_3_1() {
        for (name, text) in VENDOR {
            let doc: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{name}");
            assert!(doc["paths"].as_object().is_some_and(|p| !p.is_empty()), "{name}");
        }
    }

    #[test]
    fn request_strings_refuse_control_characters() {
        let mut doc = json!({
            "paths": {"/x/{id}": {"post": {
                "parameters": [{"name": "id", "in": "path", "schema": {"type": "string"}}],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}},
                "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Out"}}}}}
            }}},
            "components": {"schemas": {
                "In": {"type": "object", "properties": {"a": {"type": ["string", "null"]}, "d": {"type": "string", "format": "date"}}},
                "Out": {"type": "object", "properties": {"b": {"type": "string"}}}
            }}
        });
        forbid_control_characters(&mut doc);
        assert_eq!(
            doc.pointer("/paths/~1x~1{id}/post/parameters/0/schema/pattern"),
            Some(&json!(NO_CONTROL_CHARACTERS))
        );
        assert_eq!(doc.pointer("/components/schemas/In/properties/a/pattern"), Some(&json!(NO_CONTROL_CHARACTERS)));
        assert_eq!(doc.pointer("/components/schemas/In/properties/d/pattern"), None, "formats say enough");
        assert_eq!(doc.pointer("/components/schemas/Out/properties/b/pattern"), None, "responses are ours");
        // Properties the request does not name may come, but free of control characters too.
        let extra = doc.pointer("/components/schemas/In/additionalProperties/$ref").and_then(Value::as_str);
        assert_eq!(extra, Some("#/components/schemas/JsonWithoutControlCharacters"));
        assert!(doc.pointer("/components/schemas/JsonWithoutControlCharacters/anyOf").is_some());
    }
}
