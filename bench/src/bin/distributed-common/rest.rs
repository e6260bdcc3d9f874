//! Polling one worker's REST API for the cluster's [`Layout`].

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::layout::Layout;

/// A worker's REST API (`http://host:port`).
#[derive(Debug)]
pub(crate) struct Worker {
    base: String,
    agent: ureq::Agent,
}

impl Worker {
    pub(crate) fn new(base: &str) -> Worker {
        Worker {
            base: base.trim_end_matches('/').to_owned(),
            // Short timeouts: a probe that hangs on one request would inflate the measured time.
            agent: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(1))
                .timeout(Duration::from_secs(5))
                .build(),
        }
    }

    /// The body of `GET /connectors?expand=status`.
    pub(crate) fn expanded_status(&self) -> Result<Value, String> {
        let url = format!("{}/connectors?expand=status", self.base);
        let response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| format!("GET {url}: {e}"))?;
        response
            .into_json()
            .map_err(|e| format!("GET {url}: body is not JSON: {e}"))
    }

    /// The cluster's layout as this worker reports it.
    pub(crate) fn layout(&self) -> Result<Layout, String> {
        Layout::from_expanded_status(&self.expanded_status()?)
    }

    /// Polls every `interval` until `done` answers None (and returns that layout with the body
    /// it came from) or `timeout` passes (exits the process with the last reason and layout: a
    /// benchmark cannot go on).
    pub(crate) fn wait_for(
        &self,
        interval: Duration,
        timeout: Duration,
        what: &str,
        mut done: impl FnMut(&Layout) -> Option<String>,
    ) -> Settled {
        let start = Instant::now();
        loop {
            let asked = Instant::now();
            let answer = self
                .expanded_status()
                .and_then(|body| Ok((Layout::from_expanded_status(&body)?, body)));
            let request = asked.elapsed();
            let why = match answer {
                Ok((layout, body)) => match done(&layout) {
                    None => {
                        return Settled {
                            layout,
                            body,
                            request,
                        }
                    }
                    Some(why) => format!("{why} ({})", layout.describe_counts()),
                },
                Err(e) => e,
            };
            if start.elapsed() > timeout {
                eprintln!("timed out after {timeout:?} waiting for {what}: {why}");
                std::process::exit(1);
            }
            std::thread::sleep(interval);
        }
    }
}

/// The answer that met a [`Worker::wait_for`] condition.
#[derive(Debug)]
pub(crate) struct Settled {
    pub(crate) layout: Layout,
    /// The raw body, for `--save`.
    pub(crate) body: Value,
    /// How long that request took: the state it shows was reached at most this long before the
    /// probe saw it (the measurement's resolution, with the poll interval).
    pub(crate) request: Duration,
}

/// Milliseconds since the Unix epoch: the clock shared with the shell script (`date +%s%3N`)
/// and the workers' log timestamps.
pub(crate) fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
