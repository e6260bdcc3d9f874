//! Sending a REST request on to the worker that can serve it (the owner of a task), and
//! relaying its answer as a [`HerderError`] or success.

use std::time::Duration;

use ferry_worker::herder::{HerderError, HerderResult};

/// How long a forwarded request may take (Connect's forwarding timeout is 90 s; a task restart
/// answers as soon as the task is restarted).
const TIMEOUT: Duration = Duration::from_secs(90);

/// `s` percent-encoded for one URL path segment (connector names may hold any character).
pub(super) fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `?forward=` value for sending a leader-only request on (COMPAT §1.5): a request from a
/// client (None) goes to the leader with `true`; one already forwarded once (`true`) goes on
/// with `false`; one marked `false` must not travel again (None: answer 409).
pub(super) fn next_hop(forward: Option<bool>) -> Option<bool> {
    match forward {
        None => Some(true),
        Some(true) => Some(false),
        Some(false) => None,
    }
}

/// Sends a leader-only request on to `leader` (its URL), with the next `?forward=` hop after
/// the one the REST request being served carried (`forward`, or the request's own when None);
/// 409 when the request must not travel again.
pub(super) async fn to_leader(
    leader: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
    forward: Option<bool>,
) -> HerderResult<(u16, serde_json::Value)> {
    let hop = next_hop(forward.or_else(ferry_worker::rest::forward_param))
        .ok_or_else(|| HerderError::Conflict(super::REBALANCE_CONFLICT.into()))?;
    let separator = if path.contains('?') { '&' } else { '?' };
    request(
        leader,
        method,
        &format!("{path}{separator}forward={hop}"),
        body,
    )
    .await
}

/// [`to_leader`] for a request whose body must travel byte for byte (a signed internal
/// request), with extra `headers`.
pub(super) async fn raw_to_leader(
    leader: &str,
    method: &str,
    path: &str,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
    forward: Option<bool>,
) -> HerderResult<(u16, serde_json::Value)> {
    let hop = next_hop(forward.or_else(ferry_worker::rest::forward_param))
        .ok_or_else(|| HerderError::Conflict(super::REBALANCE_CONFLICT.into()))?;
    let separator = if path.contains('?') { '&' } else { '?' };
    let path = format!("{path}{separator}forward={hop}");
    raw_request(leader, method, &path, Some(body), headers).await
}

/// Sends `method path` with an optional JSON body to the worker at `base_url` (its advertised
/// URL, e.g. `http://10.0.0.5:8083/`). Returns the 2xx status and JSON body (Null when empty);
/// any other answer becomes the same status and message here.
pub(super) async fn request(
    base_url: &str,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> HerderResult<(u16, serde_json::Value)> {
    let body = body.map(|b| b.to_string().into_bytes());
    raw_request(base_url, method, path, body, Vec::new()).await
}

/// [`request`] with the body as bytes (sent as JSON) and extra `headers`.
pub(super) async fn raw_request(
    base_url: &str,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
    headers: Vec<(&'static str, String)>,
) -> HerderResult<(u16, serde_json::Value)> {
    let url = format!("{}{path}", base_url.trim_end_matches('/'));
    tracing::info!("forwarding {method} {path} to {url}");
    let method = method.to_owned();
    tokio::task::spawn_blocking(move || {
        let agent = ureq::AgentBuilder::new().timeout(TIMEOUT).build();
        let mut call = agent.request(&method, &url);
        for (name, value) in &headers {
            call = call.set(name, value);
        }
        let result = match body {
            Some(b) => call.set("Content-Type", "application/json").send_bytes(&b),
            None => call.call(),
        };
        match result {
            Ok(response) => {
                let status = response.status();
                let text = response.into_string().unwrap_or_default();
                let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
                Ok((status, body))
            }
            Err(ureq::Error::Status(status, response)) => {
                let body: serde_json::Value = response.into_json().unwrap_or_default();
                let message = body["message"].as_str().map_or_else(
                    || format!("{method} {url} answered {status}"),
                    str::to_owned,
                );
                Err(error_for(status, message))
            }
            Err(ureq::Error::Transport(e)) => Err(HerderError::Internal(format!(
                "could not forward the request to {url}: {e}"
            ))),
        }
    })
    .await
    .map_err(|e| HerderError::Internal(e.to_string()))?
}

/// A forwarded answer's body as `T`.
pub(super) fn parse<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> HerderResult<T> {
    serde_json::from_value(body)
        .map_err(|e| HerderError::Internal(format!("the leader's answer does not parse: {e}")))
}

/// The herder error that answers with `status`.
fn error_for(status: u16, message: String) -> HerderError {
    match status {
        400 => HerderError::BadRequest(message),
        403 => HerderError::Forbidden(message),
        404 => HerderError::NotFound(message),
        409 => HerderError::Conflict(message),
        503 => HerderError::Unavailable(message),
        _ => HerderError::Internal(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        for (name, encoded) in [
            ("inventory-source", "inventory-source"),
            ("a b/c", "a%20b%2Fc"),
            ("ümlaut?", "%C3%BCmlaut%3F"),
        ] {
            assert_eq!(path_segment(name), encoded, "{name}");
        }
    }

    #[test]
    fn a_request_is_forwarded_at_most_twice() {
        assert_eq!(next_hop(None), Some(true));
        assert_eq!(next_hop(Some(true)), Some(false));
        assert_eq!(next_hop(Some(false)), None);
    }

    #[test]
    fn forwarded_statuses_keep_their_meaning() {
        for (status, expected) in [
            (400, 400),
            (403, 403),
            (404, 404),
            (409, 409),
            (503, 503),
            (502, 500),
        ] {
            assert_eq!(error_for(status, "m".into()).status(), expected);
        }
    }
}
