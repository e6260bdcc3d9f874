//! `GET /` and `GET /health` (Connect's `RootResource`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::AppState;

/// The Connect version Ferry's REST API matches; tools gate features on it.
pub const CONNECT_VERSION: &str = "3.9.0";

/// `GET /`: `{"version","commit","kafka_cluster_id"}`. `commit` names the Ferry build, since
/// there is no Kafka commit to report.
///
/// Connect learns the cluster id before it serves any request; Ferry serves REST at once (so
/// `/health` can say "starting") and looks the id up in the background, so this answer waits for
/// it (up to 10 s) rather than ever reporting `null`.
pub(crate) async fn server_info(State(s): State<AppState>) -> Response {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut cluster_id = s.herder.kafka_cluster_id();
    while cluster_id.is_none() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        cluster_id = s.herder.kafka_cluster_id();
    }
    Json(json!({
        "version": CONNECT_VERSION,
        "commit": concat!("ferry-", env!("CARGO_PKG_VERSION")),
        "kafka_cluster_id": cluster_id,
    }))
    .into_response()
}

/// `GET /metrics` (Ferry extension): Prometheus text exposition format.
pub(crate) async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.herder.metrics().await,
    )
        .into_response()
}

/// How long `/health` waits for the herder's liveness probe (Connect's health-check timeout).
const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// `GET /health` (KIP-1017): 503 until the herder finished start-up; then 200, or 500
/// "unhealthy" when the herder's liveness probe fails or does not answer within 10 s.
pub(crate) async fn health(State(s): State<AppState>) -> Response {
    if !s.herder.is_ready() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "starting", "message": "Worker is still starting up." })),
        )
            .into_response();
    }
    let unhealthy = match tokio::time::timeout(HEALTH_TIMEOUT, s.herder.health_check()).await {
        Ok(Ok(())) => None,
        Ok(Err(details)) => Some(details),
        Err(_) => Some(format!(
            "The herder did not answer the health check within {} s.",
            HEALTH_TIMEOUT.as_secs()
        )),
    };
    match unhealthy {
        None => Json(json!({
            "status": "healthy",
            "message": "Worker has completed startup and is ready to handle requests.",
        }))
        .into_response(),
        Some(details) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({
                "status": "unhealthy",
                "message": format!(
                    "Worker was unable to handle this request and may be unable to handle other requests. {details}"
                ),
            })),
        )
            .into_response(),
    }
}
