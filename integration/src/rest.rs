//! A tiny blocking client for Ferry's REST API: every call answers
//! `(status, body as JSON)`, so tests assert status codes and error bodies as
//! plainly as successes.

use std::time::Duration;

use serde_json::Value;

/// Blocking REST client bound to one base URL (`http://127.0.0.1:PORT`).
#[derive(Debug, Clone)]
pub struct RestClient {
    base: String,
    agent: ureq::Agent,
}

impl RestClient {
    pub fn new(base_url: impl Into<String>) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build();
        RestClient {
            base: base_url.into().trim_end_matches('/').to_owned(),
            agent,
        }
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.expect("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.expect("POST", path, Some(body))
    }

    pub fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.expect("PUT", path, Some(body))
    }

    /// `PUT` without a body (e.g. `/connectors/{name}/pause`).
    pub fn put_empty(&self, path: &str) -> (u16, Value) {
        self.expect("PUT", path, None)
    }

    pub fn delete(&self, path: &str) -> (u16, Value) {
        self.expect("DELETE", path, None)
    }

    /// Any request; `Err` only when no HTTP answer came (connection refused,
    /// timeout) — the case a readiness poll expects while a server starts.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let url = format!("{}{path}", self.base);
        let request = self.agent.request(method, &url);
        let result = match body {
            Some(body) => request.send_json(body),
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(e)) => return Err(format!("{method} {url}: {e}")),
        };
        let status = response.status();
        let text = response
            .into_string()
            .map_err(|e| format!("{method} {url}: reading the body: {e}"))?;
        Ok((status, parse_body(&text)))
    }

    fn expect(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.request(method, path, body)
            .unwrap_or_else(|e| panic!("no HTTP answer: {e}"))
    }
}

/// Empty body → `Null`; JSON → its value; anything else → a JSON string, so a
/// wrong content type shows up in the test's assertion rather than a panic.
fn parse_body(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_parse_to_json_null_or_string() {
        let cases = [
            ("", Value::Null),
            ("  \n", Value::Null),
            (
                r#"{"error_code":404,"message":"x"}"#,
                json!({"error_code": 404, "message": "x"}),
            ),
            ("[]", json!([])),
            ("plain text", json!("plain text")),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_body(text), expected, "body {text:?}");
        }
    }
}
