//! `/connectors/…` (Connect's `ConnectorsResource`): connector CRUD, status, lifecycle, topics
//! and offsets, with Connect's idiosyncratic status codes (COMPAT §1.2, §12 item 7).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ferry_api::Props;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::{body, call, flag, AppState, QueryPairs};
use crate::herder::{ConnectorInfo, ConnectorOffsets, Created, InternalSignature, TargetState};

/// Connect's message when PATCH offsets has nothing to apply.
const NO_OFFSETS: &str = "Partitions / offsets need to be provided for an alter offsets request";

/// `GET /connectors`: names, or with `?expand=` an object keyed by name holding the requested
/// expansions (`status`, `info`; others ignored). Connectors deleted meanwhile are skipped.
pub(crate) async fn list(
    State(s): State<AppState>,
    Query(q): Query<QueryPairs>,
) -> Result<Response, ApiError> {
    let names = s.herder.connectors().await;
    let expansions: Vec<&str> = q
        .iter()
        .filter(|(k, _)| k == "expand")
        .map(|(_, v)| v.as_str())
        .collect();
    if expansions.is_empty() {
        return Ok(Json(names).into_response());
    }
    let mut out = Map::new();
    'connectors: for name in names {
        let mut entry = Map::new();
        for expansion in &expansions {
            let value = match *expansion {
                "status" => s
                    .herder
                    .connector_status(&name)
                    .await
                    .map(serde_json::to_value),
                "info" => s
                    .herder
                    .connector_info(&name)
                    .await
                    .map(serde_json::to_value),
                other => {
                    tracing::info!("Ignoring unknown expansion type {other}");
                    continue;
                }
            };
            match value {
                Ok(v) => {
                    entry.insert((*expansion).to_owned(), v.map_err(internal)?);
                }
                Err(e) if e.status() == 404 => continue 'connectors,
                Err(e) => return Err(e.into()),
            }
        }
        out.insert(name, Value::Object(entry));
    }
    Ok(Json(Value::Object(out)).into_response())
}

fn internal(e: serde_json::Error) -> ApiError {
    ApiError::new(500, e.to_string())
}

/// Connect's `checkAndPutConnectorConfigName`: a `name` in the config must equal the connector's
/// name; a missing one is filled in.
fn check_and_put_name(name: &str, config: &mut Props) -> Result<(), ApiError> {
    match config.get("name") {
        Some(included) if included != name => Err(ApiError::bad_request(format!(
            "Connector name configuration ({included}) doesn't match connector name in the URL ({name})"
        ))),
        Some(_) => Ok(()),
        None => {
            config.insert("name".to_owned(), name.to_owned());
            Ok(())
        }
    }
}

/// Percent-encodes a connector name for a path, as JAX-RS `UriBuilder.path` does (slashes kept).
fn encode_path(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A 201 with `Location`. JAX-RS resolves the relative location against the request's base URI,
/// so Connect answers with an absolute URL; without a `Host` header the path alone is sent.
fn created(headers: &HeaderMap, name: &str, info: ConnectorInfo) -> Response {
    let path = format!("/connectors/{}", encode_path(name));
    let location = match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => format!("http://{host}{path}"),
        None => path,
    };
    let mut response = (StatusCode::CREATED, Json(info)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// `initial_state` of a creation request: RUNNING, PAUSED or STOPPED, case-insensitive.
fn initial_state(value: Option<&Value>) -> Result<Option<TargetState>, ApiError> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid initial state: {other}"
            )))
        }
    };
    match text.to_ascii_uppercase().as_str() {
        "RUNNING" => Ok(Some(TargetState::Started)),
        "PAUSED" => Ok(Some(TargetState::Paused)),
        "STOPPED" => Ok(Some(TargetState::Stopped)),
        _ => Err(ApiError::bad_request(format!(
            "Invalid initial state: {text}. Valid values are RUNNING, PAUSED and STOPPED"
        ))),
    }
}

/// `POST /connectors`: 201 + Location + ConnectorInfo; 409 if it exists.
pub(crate) async fn create(
    State(s): State<AppState>,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let request = body::object(
        body::json(&headers, &raw)?,
        "a connector creation request (a JSON object with \"name\" and \"config\")",
    )?;
    // Connect trims the name and lets the herder's validation reject an empty one.
    let name = match request.get("name") {
        Some(v) => body::config_value("name", v)?
            .unwrap_or_default()
            .trim()
            .to_owned(),
        None => String::new(),
    };
    let mut config = match request.get("config") {
        Some(Value::Object(map)) => body::config(map)?,
        None | Some(Value::Null) => {
            return Err(ApiError::bad_request(
                "Connector configuration (\"config\") must be provided",
            ))
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Connector configuration must be a JSON object, not {other}"
            )))
        }
    };
    let state = initial_state(request.get("initial_state"))?;
    check_and_put_name(&name, &mut config)?;
    let Created { result, .. } =
        call(s.herder.put_connector_config(&name, config, false, state)).await?;
    Ok(created(&headers, &name, result))
}

/// `GET /connectors/{c}`.
pub(crate) async fn info(
    State(s): State<AppState>,
    Path(c): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(call(s.herder.connector_info(&c)).await?).into_response())
}

/// `GET /connectors/{c}/config`: the raw config.
pub(crate) async fn get_config(
    State(s): State<AppState>,
    Path(c): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(call(s.herder.connector_config(&c)).await?).into_response())
}

/// `PUT /connectors/{c}/config`: 201 + Location when created, 200 when updated.
pub(crate) async fn put_config(
    State(s): State<AppState>,
    Path(c): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let map = body::object(
        body::json(&headers, &raw)?,
        "a connector configuration (a JSON object)",
    )?;
    let mut config = body::config(&map)?;
    check_and_put_name(&c, &mut config)?;
    let outcome = call(s.herder.put_connector_config(&c, config, true, None)).await?;
    if outcome.created {
        Ok(created(&headers, &c, outcome.result))
    } else {
        Ok(Json(outcome.result).into_response())
    }
}

/// `PATCH /connectors/{c}/config`: null deletes a key; 200 + the patched ConnectorInfo.
pub(crate) async fn patch_config(
    State(s): State<AppState>,
    Path(c): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let map = body::object(
        body::json(&headers, &raw)?,
        "a connector configuration patch (a JSON object)",
    )?;
    let patch = body::config_patch(&map)?;
    Ok(Json(call(s.herder.patch_connector_config(&c, patch)).await?).into_response())
}

/// `GET /connectors/{c}/status`.
pub(crate) async fn status(
    State(s): State<AppState>,
    Path(c): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(call(s.herder.connector_status(&c)).await?).into_response())
}

/// `GET /connectors/{c}/tasks`: `[{"id":{…},"config":{…}}]`.
pub(crate) async fn tasks(
    State(s): State<AppState>,
    Path(c): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(call(s.herder.task_configs(&c)).await?).into_response())
}

/// `POST /connectors/{c}/tasks` (internal, COMPAT §1.8): a JSON array of task configs from
/// the worker running the connector, for the leader to write; 204. `?forward=` as §1.5.
pub(crate) async fn put_task_configs(
    State(s): State<AppState>,
    Path(c): Path<String>,
    Query(q): Query<QueryPairs>,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let Some(Value::Array(items)) = body::json(&headers, &raw)? else {
        return Err(ApiError::bad_request(
            "Request body must be a list of task configurations (JSON objects)",
        ));
    };
    let configs = items
        .into_iter()
        .map(|item| {
            body::config(&body::object(
                Some(item),
                "a task configuration (a JSON object)",
            )?)
        })
        .collect::<Result<Vec<Props>, ApiError>>()?;
    let forward = super::first_param(&q, "forward").map(|v| v.eq_ignore_ascii_case("true"));
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let signature = InternalSignature {
        algorithm: header("X-Connect-Request-Signature-Algorithm"),
        signature: header("X-Connect-Authorization"),
        body: raw,
    };
    call(s.herder.put_task_configs(&c, configs, forward, signature)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /connectors/{c}/tasks-config`: `{"c-0":{…}}` (deprecated in Connect 3.7, kept).
pub(crate) async fn tasks_config(
    State(s): State<AppState>,
    Path(c): Path<String>,
) -> Result<Response, ApiError> {
    let tasks = call(s.herder.task_configs(&c)).await?;
    let out: Map<String, Value> = tasks
        .into_iter()
        .map(|t| {
            Ok((
                t.id.to_string(),
                serde_json::to_value(t.config).map_err(internal)?,
            ))
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(Json(Value::Object(out)).into_response())
}

/// A task number from the path; anything but a number is JAX-RS's plain 404 (no such resource).
fn task_number(t: &str) -> Result<u32, ApiError> {
    t.parse().map_err(|_| ApiError::http(StatusCode::NOT_FOUND))
}

/// `GET /connectors/{c}/tasks/{t}/status`.
pub(crate) async fn task_status(
    State(s): State<AppState>,
    Path((c, t)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let task = task_number(&t)?;
    Ok(Json(call(s.herder.task_status(&c, task)).await?).into_response())
}

/// `POST /connectors/{c}/tasks/{t}/restart`: 204.
pub(crate) async fn restart_task(
    State(s): State<AppState>,
    Path((c, t)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let task = task_number(&t)?;
    call(s.herder.restart_task(&c, task)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /connectors/{c}/restart`: 204 for the plain restart, 202 + status when `includeTasks`
/// or `onlyFailed` is true (KIP-745).
pub(crate) async fn restart(
    State(s): State<AppState>,
    Path(c): Path<String>,
    Query(q): Query<QueryPairs>,
) -> Result<Response, ApiError> {
    let include_tasks = flag(&q, "includeTasks", false);
    let only_failed = flag(&q, "onlyFailed", false);
    match call(s.herder.restart_connector(&c, include_tasks, only_failed)).await? {
        Some(state) if include_tasks || only_failed => {
            Ok((StatusCode::ACCEPTED, Json(state)).into_response())
        }
        _ => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

async fn set_state(
    s: &AppState,
    c: &str,
    state: TargetState,
    status: StatusCode,
) -> Result<Response, ApiError> {
    call(s.herder.set_target_state(c, state)).await?;
    Ok(status.into_response())
}

/// `PUT /connectors/{c}/pause`: 202, no body.
pub(crate) async fn pause(
    State(s): State<AppState>,
    Path(c): Path<String>,
) -> Result<Response, ApiError> {
    set_state(&s, &c, TargetState::Paused, StatusCode::ACCEPTED).await
}

/// `PUT /connectors/{c}/resume`: 202, no body (also leaves STOPPED).
pub(crate) async fn resume(
    State(s): State<AppState>,
    Path(c): Path<String>,
) -> Result<Response, ApiError> {
    set_state(&s, &c, TargetState::Started, StatusCode::ACCEPTED).await
}

/// `PUT /connectors/{c}/stop`: 204.
pub(crate) async fn stop(
    State(s): State<AppState>,
    Path(c): Path<String>,
) -> Result<Response, ApiError> {
    set_state(&s, &c, TargetState::Stopped, StatusCode::NO_CONTENT).await
}

/// `DELETE /connectors/{c}`: 204.
pub(crate) async fn delete(
    State(s): State<AppState>,
    Path(c): Path<String>,
) -> Result<Response, ApiError> {
    call(s.herder.delete_connector(&c)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /connectors/{c}/topics`: `{"c":{"topics":[…]}}`.
pub(crate) async fn topics(
    State(s): State<AppState>,
    Path(c): Path<String>,
) -> Result<Response, ApiError> {
    let topics = call(s.herder.active_topics(&c)).await?;
    Ok(Json(serde_json::json!({ c: { "topics": topics } })).into_response())
}

/// `PUT /connectors/{c}/topics/reset`: 202, no body.
pub(crate) async fn reset_topics(
    State(s): State<AppState>,
    Path(c): Path<String>,
) -> Result<Response, ApiError> {
    call(s.herder.reset_active_topics(&c)).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `GET /connectors/{c}/offsets`.
pub(crate) async fn offsets(
    State(s): State<AppState>,
    Path(c): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(call(s.herder.connector_offsets(&c)).await?).into_response())
}

fn message(text: String) -> Response {
    Json(serde_json::json!({ "message": text })).into_response()
}

/// `PATCH /connectors/{c}/offsets`: 200 + `{"message":…}`; 400 when no offsets are given.
pub(crate) async fn alter_offsets(
    State(s): State<AppState>,
    Path(c): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Response, ApiError> {
    let mut request = match body::json(&headers, &raw)? {
        None => return Err(ApiError::bad_request(NO_OFFSETS)),
        value => body::object(value, "an offsets request (a JSON object with \"offsets\")")?,
    };
    let entries = match request.remove("offsets") {
        None | Some(Value::Null) => return Err(ApiError::bad_request(NO_OFFSETS)),
        Some(Value::Array(a)) if a.is_empty() => return Err(ApiError::bad_request(NO_OFFSETS)),
        Some(entries) => entries,
    };
    let offsets: ConnectorOffsets =
        serde_json::from_value(serde_json::json!({ "offsets": entries }))
            .map_err(|e| ApiError::bad_request(format!("Invalid offsets request: {e}")))?;
    Ok(message(
        call(s.herder.alter_connector_offsets(&c, offsets)).await?,
    ))
}

/// `DELETE /connectors/{c}/offsets`: 200 + `{"message":…}`.
pub(crate) async fn reset_offsets(
    State(s): State<AppState>,
    Path(c): Path<String>,
) -> Result<Response, ApiError> {
    Ok(message(call(s.herder.reset_connector_offsets(&c)).await?))
}
