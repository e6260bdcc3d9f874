//! A `ferry standalone` process under test, living in its own temp dir
//! (worker.properties, connector files, offsets file, log).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::broker::TestBroker;
use crate::names::free_port;
use crate::rest::RestClient;
use crate::wait::{wait_until, wait_until_ok, DEFAULT_TIMEOUT};

/// Environment variable with the path of the `ferry` binary under test.
const BIN_ENV: &str = "FERRY_BIN";

/// Builds the files of a [`Ferry`] before starting it.
#[derive(Debug)]
pub struct FerryBuilder {
    dir: TempDir,
    rest_port: u16,
    worker: BTreeMap<String, String>,
    connector_files: Vec<PathBuf>,
}

impl FerryBuilder {
    fn new(broker: &TestBroker) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ferry-test-")
            .tempdir()
            .expect("create a temp dir for ferry");
        let rest_port = free_port();
        let offsets = dir.path().join("connect.offsets");
        let json = "org.apache.kafka.connect.json.JsonConverter";
        // Kafka's config/connect-standalone.properties, with a private REST
        // port and offsets file, and a short flush interval for quick tests.
        let worker = [
            ("bootstrap.servers", broker.bootstrap().to_owned()),
            ("listeners", format!("http://127.0.0.1:{rest_port}")),
            ("key.converter", json.to_owned()),
            ("value.converter", json.to_owned()),
            ("key.converter.schemas.enable", "true".to_owned()),
            ("value.converter.schemas.enable", "true".to_owned()),
            (
                "offset.storage.file.filename",
                offsets.display().to_string(),
            ),
            ("offset.flush.interval.ms", "1000".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        FerryBuilder {
            dir,
            rest_port,
            worker,
            connector_files: Vec::new(),
        }
    }

    /// The temp dir the worker will live in (put input files here).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Sets (or overrides) a worker.properties key.
    pub fn worker(mut self, key: &str, value: impl Into<String>) -> Self {
        self.worker.insert(key.to_owned(), value.into());
        self
    }

    /// Removes a worker.properties key (to test a default).
    pub fn without_worker(mut self, key: &str) -> Self {
        self.worker.remove(key);
        self
    }

    /// Adds a connector given as a `.properties` file on the command line.
    /// The file is named after the `name` key.
    pub fn connector_properties(mut self, config: &[(&str, &str)]) -> Self {
        let name = config.iter().find(|(k, _)| *k == "name").map_or_else(
            || format!("connector-{}", self.connector_files.len()),
            |(_, v)| (*v).to_owned(),
        );
        let path = self.dir.path().join(format!("{name}.properties"));
        write_file(
            &path,
            &properties_text(config.iter().map(|(k, v)| (*k, *v))),
        );
        self.connector_files.push(path);
        self
    }

    /// Adds a connector given as a `.json` file (`{"name": .., "config": {..}}`,
    /// the body of `POST /connectors`) on the command line.
    pub fn connector_json(mut self, connector: &Value) -> Self {
        let name = connector["name"].as_str().map_or_else(
            || format!("connector-{}", self.connector_files.len()),
            str::to_owned,
        );
        let path = self.dir.path().join(format!("{name}.json"));
        let text = serde_json::to_string_pretty(connector).expect("JSON value serialises");
        write_file(&path, &text);
        self.connector_files.push(path);
        self
    }

    /// Writes worker.properties, starts the process and waits until its REST
    /// API answers `GET /` with 200.
    pub fn start(self) -> Ferry {
        let mut ferry = self.spawn();
        ferry.wait_ready();
        ferry
    }

    /// Starts the process without waiting for it (for tests of start-up
    /// failures: follow with [`Ferry::wait_exit`]).
    pub fn spawn(self) -> Ferry {
        let worker_file = self.dir.path().join("worker.properties");
        write_file(
            &worker_file,
            &properties_text(self.worker.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        );
        let mut args = vec![worker_file];
        args.extend(self.connector_files);
        let mut ferry = Ferry {
            rest: RestClient::new(format!("http://127.0.0.1:{}", self.rest_port)),
            dir: self.dir,
            bin: ferry_bin(),
            args,
            child: None,
        };
        ferry.spawn_process();
        ferry
    }
}

/// A running (or stopped) `ferry standalone` worker. Dropping it kills the
/// process and removes its temp dir.
#[derive(Debug)]
pub struct Ferry {
    dir: TempDir,
    bin: PathBuf,
    /// worker.properties, then the connector files.
    args: Vec<PathBuf>,
    child: Option<Child>,
    rest: RestClient,
}

impl Ferry {
    /// Files for a worker on `broker`; see [`FerryBuilder`].
    pub fn builder(broker: &TestBroker) -> FerryBuilder {
        FerryBuilder::new(broker)
    }

    /// A worker on `broker` with no connectors, started and ready.
    pub fn start(broker: &TestBroker) -> Ferry {
        FerryBuilder::new(broker).start()
    }

    /// The REST client for this worker.
    pub fn rest(&self) -> &RestClient {
        &self.rest
    }

    /// The worker's temp dir.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The standalone offsets file (`offset.storage.file.filename`).
    pub fn offsets_file(&self) -> PathBuf {
        self.dir.path().join("connect.offsets")
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Everything the process wrote to stdout and stderr, over all restarts.
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Polls `GET /health` until it answers 200 (start-up complete: stored and
    /// command-line connectors created). Panics with the log if the process
    /// exits first or the deadline passes.
    pub fn wait_ready(&mut self) {
        wait_until(
            DEFAULT_TIMEOUT,
            "ferry's REST API to answer GET /health with 200",
            || {
                if !self.is_running() {
                    panic!(
                        "ferry exited before its REST API was ready; log:\n{}",
                        self.log()
                    );
                }
                matches!(self.rest.request("GET", "/health", None), Ok((200, _))).then_some(())
            },
        );
    }

    /// Polls `GET /connectors/{name}/status` until the connector and at least
    /// one task are RUNNING, and returns that status body. Panics early, with
    /// the status, if anything is FAILED.
    pub fn wait_connector_running(&self, name: &str) -> Value {
        let path = format!("/connectors/{name}/status");
        wait_until_ok(
            DEFAULT_TIMEOUT,
            &format!("connector {name} RUNNING"),
            || {
                let (code, status) = self.rest.get(&path);
                let states: Vec<&str> = std::iter::once(&status["connector"])
                    .chain(status["tasks"].as_array().into_iter().flatten())
                    .filter_map(|s| s["state"].as_str())
                    .collect();
                if states.contains(&"FAILED") {
                    panic!("connector {name} FAILED: {status}");
                }
                if code == 200 && states.len() > 1 && states.iter().all(|s| *s == "RUNNING") {
                    Ok(status)
                } else {
                    Err(format!("HTTP {code}: {status}"))
                }
            },
        )
    }

    /// Waits for the process to exit by itself and returns its status.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("ferry is not running");
        let status = wait_until(timeout, "ferry to exit", || {
            child.try_wait().expect("wait for ferry")
        });
        self.child = None;
        status
    }

    /// SIGKILL: a crash, with no chance to flush offsets.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Already exited is fine: kill fails, wait reaps it.
            let _ = child.kill();
            child.wait().expect("reap killed ferry");
        }
    }

    /// SIGTERM, then waits for a clean exit and returns its status.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = self.pid().expect("ferry is not running");
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("run kill -TERM");
        assert!(sent.success(), "kill -TERM {pid} failed");
        self.wait_exit(DEFAULT_TIMEOUT)
    }

    /// Stops the process (SIGTERM if running) and starts it again with the
    /// same files and REST port, waiting until it is ready.
    pub fn restart(&mut self) {
        if self.is_running() {
            self.terminate();
        }
        self.child = None;
        self.spawn_process();
        self.wait_ready();
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("ferry.log")
    }

    fn spawn_process(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_file())
            .expect("open ferry.log");
        let child = Command::new(&self.bin)
            .arg("standalone")
            .args(&self.args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "start {}: {e} (build it with `cargo build -p ferry`, or set {BIN_ENV})",
                    self.bin.display()
                )
            });
        self.child = Some(child);
    }
}

impl Drop for Ferry {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `FERRY_BIN`, else the debug build in the workspace's target dir.
pub(crate) fn ferry_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os(BIN_ENV) {
        return PathBuf::from(bin);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("debug/ferry")
}

fn write_file(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Java `.properties` text, escaped so that `Properties.load` reads back the
/// same keys and values.
fn properties_text<'a>(entries: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in entries {
        let _ = writeln!(out, "{}={}", escape(k, true), escape(v, false));
    }
    out
}

fn escape(text: &str, is_key: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '=' | ':' | '#' | '!' if is_key => {
                out.push('\\');
                out.push(c);
            }
            ' ' if is_key || i == 0 => out.push_str("\\ "),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_escape_what_java_would_misread() {
        let cases = [
            (("file", "/tmp/in.txt"), "file=/tmp/in.txt\n"),
            (
                ("transforms.a.regex", "a=b:c"),
                "transforms.a.regex=a=b:c\n",
            ),
            (("k", " lead"), "k=\\ lead\n"),
            (("k", "a\\b\nc"), "k=a\\\\b\\nc\n"),
            (("a key:x", "v"), "a\\ key\\:x=v\n"),
        ];
        for ((k, v), expected) in cases {
            assert_eq!(properties_text([(k, v)].into_iter()), expected, "{k}={v}");
        }
    }
}
