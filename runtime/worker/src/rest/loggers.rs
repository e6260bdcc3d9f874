//! `/admin/loggers/…` (Connect's `LoggingResource`, KIP-495 and KIP-976 scopes).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::ApiError;
use super::{body, first_param, AppState, QueryPairs};
use crate::logging::Log4jLevel;

/// `GET /admin/loggers`: root plus every explicitly set logger, sorted by name.
pub(crate) async fn list(State(s): State<AppState>) -> Response {
    Json(s.logs.all()).into_response()
}

/// `GET /admin/loggers/{logger}`: 404 for a logger whose level was never set.
pub(crate) async fn get(
    State(s): State<AppState>,
    Path(logger): Path<String>,
) -> Result<Response, ApiError> {
    let level = s
        .logs
        .get(&logger)
        .ok_or_else(|| ApiError::not_found(format!("Logger {logger} not found.")))?;
    Ok(Json(level).into_response())
}

/// `PUT /admin/loggers/{logger}?scope=`: `worker` (the default, and what an unknown scope means)
/// answers 200 + the affected logger names; `cluster` answers 204. A missing `level` is a 400,
/// an unknown level a 404 (sic, as Connect).
///
/// A cluster-scope change is applied to this worker only: that is the whole cluster in
/// standalone mode; a distributed herder will have to publish it to the other workers.
pub(crate) async fn set(
    State(s): State<AppState>,
    Path(logger): Path<String>,
    Query(q): Query<QueryPairs>,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let level_text = match body::json(&headers, &raw)? {
        Some(value) => {
            let map = body::object(Some(value), "a JSON object with \"level\"")?;
            match map.get("level") {
                Some(v) => body::config_value("level", v)?,
                None => None,
            }
        }
        None => None,
    };
    let Some(level_text) = level_text else {
        return Err(ApiError::bad_request(
            "Desired 'level' parameter was not specified in request.",
        ));
    };
    let level: Log4jLevel = level_text.parse().map_err(ApiError::not_found)?;
    let scope = first_param(&q, "scope").unwrap_or("worker");
    match scope.to_ascii_lowercase().as_str() {
        "cluster" => {
            s.logs.set(&logger, level);
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        other => {
            if other != "worker" {
                tracing::warn!(
                    "Received invalid scope '{scope}' in request to adjust logging level; will default to worker"
                );
            }
            Ok(Json(s.logs.set(&logger, level)).into_response())
        }
    }
}
