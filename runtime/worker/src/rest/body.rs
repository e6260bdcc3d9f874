//! Request bodies: the JSON-only rule (415), malformed JSON (400), and Jackson's leniency that
//! users rely on — a number or boolean where Connect expects a string is taken as its text
//! (`"tasks.max": 1` means `"1"`).

use std::collections::BTreeMap;

use axum::http::{header, HeaderMap, StatusCode};
use ferry_api::Props;
use serde_json::{Map, Value};

use super::error::ApiError;

/// Parses a request body as JSON. An empty body is `None`; a body with a content type other than
/// JSON is a 415 (JAX-RS `@Consumes(application/json)`); a body without a content type is
/// accepted, as Jersey does.
pub(crate) fn json(headers: &HeaderMap, body: &[u8]) -> Result<Option<Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("");
        let essence = ct.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::http(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| ApiError::bad_request(format!("Request body is not valid JSON: {e}")))
}

/// The body as a JSON object; `what` names the expected shape in the error.
pub(crate) fn object(value: Option<Value>, what: &str) -> Result<Map<String, Value>, ApiError> {
    match value {
        Some(Value::Object(map)) => Ok(map),
        None => Err(ApiError::bad_request(format!(
            "Request body must contain {what}"
        ))),
        Some(other) => Err(ApiError::bad_request(format!(
            "Request body must be {what}, not {}",
            json_kind(&other)
        ))),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A config value as Jackson reads it into a `String`: strings as they are, numbers and booleans
/// as their JSON text, null as None. Arrays and objects are an error naming the key.
pub(crate) fn config_value(key: &str, value: &Value) -> Result<Option<String>, ApiError> {
    match value {
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Null => Ok(None),
        Value::Array(_) | Value::Object(_) => Err(ApiError::bad_request(format!(
            "Invalid value {value} for configuration {key}: connector configuration values must be strings, numbers or booleans"
        ))),
    }
}

/// A flat connector config (POST/PUT/validate). JSON null is rejected naming the key: a
/// config cannot hold a missing value.
pub(crate) fn config(map: &Map<String, Value>) -> Result<Props, ApiError> {
    map.iter()
        .map(|(k, v)| match config_value(k, v)? {
            Some(s) => Ok((k.clone(), s)),
            None => Err(ApiError::bad_request(format!(
                "Invalid value null for configuration {k}: connector configuration values must not be null"
            ))),
        })
        .collect()
}

/// A config patch (PATCH): JSON null deletes the key.
pub(crate) fn config_patch(
    map: &Map<String, Value>,
) -> Result<BTreeMap<String, Option<String>>, ApiError> {
    map.iter()
        .map(|(k, v)| Ok((k.clone(), config_value(k, v)?)))
        .collect()
}

/// Java's `Map.toString()` of a config (`{a=1, b=2}`), which Connect puts in some messages.
pub(crate) fn java_map_string(config: &Props) -> String {
    let items: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", items.join(", "))
}
