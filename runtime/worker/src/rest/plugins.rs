//! `/connector-plugins/…` (Connect's `ConnectorPluginsResource`): the bundled plugins, their
//! declared keys, and config validation.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::ApiError;
use super::{body, call, flag, AppState, QueryPairs};
use crate::herder::ConfigKeyInfo;

/// `GET /connector-plugins?connectorsOnly=`: connectors only unless `connectorsOnly=false`.
pub(crate) async fn list(State(s): State<AppState>, Query(q): Query<QueryPairs>) -> Response {
    let connectors_only = flag(&q, "connectorsOnly", true);
    Json(s.herder.plugins().plugin_infos(connectors_only)).into_response()
}

/// `GET /connector-plugins/{p}/config`: the plugin's declared keys; 404 for an unknown plugin.
pub(crate) async fn config_def(
    State(s): State<AppState>,
    Path(p): Path<String>,
) -> Result<Response, ApiError> {
    let def = s
        .herder
        .plugins()
        .plugin_config_def(&p)
        .ok_or_else(|| ApiError::not_found(format!("Unknown plugin {p}.")))?;
    let keys: Vec<ConfigKeyInfo> = def.keys().iter().map(ConfigKeyInfo::from).collect();
    Ok(Json(keys).into_response())
}

/// Connect's `normalizedPluginName`: a name ending in `Connector` loses that suffix, so a full
/// class name and its short alias compare by suffix.
fn normalized(name: &str) -> &str {
    match name.strip_suffix("Connector") {
        Some(short) if !short.is_empty() => short,
        _ => name,
    }
}

/// `PUT /connector-plugins/{p}/config/validate`: the ConfigInfos answer (its `name` echoes
/// `connector.class` verbatim); 400 when `connector.class` is missing or names another plugin.
pub(crate) async fn validate(
    State(s): State<AppState>,
    Path(p): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let map = body::object(
        body::json(&headers, &raw)?,
        "a connector configuration (a JSON object)",
    )?;
    let config = body::config(&map)?;
    let Some(class) = config.get("connector.class") else {
        return Err(ApiError::bad_request(format!(
            "Connector config {} contains no connector type",
            body::java_map_string(&config)
        )));
    };
    if !normalized(class).ends_with(normalized(&p)) {
        return Err(ApiError::bad_request(format!(
            "Included connector type {class} does not match request type {p}"
        )));
    }
    Ok(Json(call(s.herder.validate_connector_config(&config)).await?).into_response())
}

#[cfg(test)]
mod tests {
    use super::normalized;

    #[test]
    fn plugin_names_normalize_like_connect() {
        let table = [
            (
                "org.apache.kafka.connect.file.FileStreamSinkConnector",
                "org.apache.kafka.connect.file.FileStreamSink",
            ),
            ("FileStreamSinkConnector", "FileStreamSink"),
            ("FileStreamSink", "FileStreamSink"),
            ("Connector", "Connector"),
        ];
        for (name, want) in table {
            assert_eq!(normalized(name), want, "{name}");
        }
    }
}
