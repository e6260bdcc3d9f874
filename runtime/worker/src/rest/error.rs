//! Connect's error body, `{"error_code":404,"message":"…"}`, for every non-2xx answer.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::herder::HerderError;

/// An error answer: the HTTP status and Connect's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status (also the body's `error_code`).
    pub status: u16,
    /// Human-readable message.
    pub message: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error_code: u16,
    message: &'a str,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, message)
    }
    /// 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(404, message)
    }
    /// The message JAX-RS gives its own errors (`HTTP 404 Not Found`), for statuses the router
    /// produces itself (unknown path, wrong method, unsupported media type).
    pub fn http(status: StatusCode) -> Self {
        ApiError::new(
            status.as_u16(),
            format!(
                "HTTP {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error")
            ),
        )
    }
}

impl From<HerderError> for ApiError {
    fn from(e: HerderError) -> Self {
        ApiError::new(e.status(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error_code: status.as_u16(),
            message: &self.message,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = Response::new(Body::from(bytes));
        *response.status_mut() = status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// Turns every error the router or an extractor produced on its own (plain-text or empty
/// bodies: 404 for an unknown path, 405, 413, a bad path parameter) into Connect's error body,
/// keeping the status. Answers that already carry JSON pass unchanged.
pub(crate) async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let mut error = ApiError::http(status);
    if !text.trim().is_empty() {
        error.message = text.trim().to_owned();
    }
    let mut out = error.into_response();
    // Keep headers such as `Allow` on a 405.
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
