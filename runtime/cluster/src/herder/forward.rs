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

/// POSTs to `path` on the worker `worker_id` (`host:port`); a 2xx answer is success, any
/// other answer becomes the same status and message here.
pub(super) async fn post(worker_id: &str, path: &str) -> HerderResult<()> {
    let url = format!("http://{worker_id}{path}");
    tokio::task::spawn_blocking(move || {
        let agent = ureq::AgentBuilder::new().timeout(TIMEOUT).build();
        match agent.post(&url).call() {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(status, response)) => {
                let body: serde_json::Value = response.into_json().unwrap_or_default();
                let message = body["message"]
                    .as_str()
                    .map_or_else(|| format!("{url} answered {status}"), str::to_owned);
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
