//! Route-level tests of the HTTP mapping: a real server on a loopback port, a minimal HTTP/1.1
//! client, and an in-memory [`Herder`] — status codes, headers, bodies and error bodies, not
//! herder behaviour (that is tested end to end in `integration/`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectRecord, Connector, ConnectorContext, ConnectorPlugin,
    Predicate, PredicatePlugin, Props, SinkTask, TaskFactory,
};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::RestServer;
use crate::herder::*;
use crate::logging::tests::{detached, NOW};
use crate::logging::LogLevels;
use crate::plugins::Plugins;

// ---------------------------------------------------------------------------------------------
// An in-memory herder.

const WORKER: &str = "127.0.0.1:8083";
const SINK_CLASS: &str = "org.example.MemorySinkConnector";

struct Conn {
    config: Props,
    state: TargetState,
    topics: Vec<String>,
    offsets: ConnectorOffsets,
}

struct MemHerder {
    ready: AtomicBool,
    topic_tracking: AtomicBool,
    plugins: Plugins,
    connectors: Mutex<BTreeMap<String, Conn>>,
    /// What the REST layer handed over, one line per call, for asserting the mapping.
    calls: Mutex<Vec<String>>,
}

struct MemConnector;

#[async_trait]
impl Connector for MemConnector {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("memory.size", ConfigType::Int)
                .default("10")
                .doc("Slots."),
        )
    }
    async fn start(&mut self, _: &Props, _: Arc<dyn ConnectorContext>) -> ferry_api::Result<()> {
        Ok(())
    }
    async fn task_configs(&mut self, _: usize) -> ferry_api::Result<Vec<Props>> {
        Ok(Vec::new())
    }
    async fn stop(&mut self) -> ferry_api::Result<()> {
        Ok(())
    }
}

struct AlwaysTrue;

impl Predicate for AlwaysTrue {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    fn configure(&mut self, _: &Props) -> ferry_api::Result<()> {
        Ok(())
    }
    fn test(&mut self, _: &ConnectRecord) -> bool {
        true
    }
}

fn no_task() -> Box<dyn SinkTask> {
    unreachable!("the REST tests never start tasks")
}

fn test_plugins() -> Plugins {
    Plugins {
        connectors: vec![ConnectorPlugin {
            class: SINK_CLASS,
            task_class: "org.example.MemorySinkTask",
            extra_aliases: &[],
            version: "1.2.3",
            new_connector: || Box::new(MemConnector),
            new_task: TaskFactory::Sink(no_task),
        }],
        predicates: vec![PredicatePlugin {
            class: "org.example.AlwaysTrue",
            extra_aliases: &[],
            new: || Box::new(AlwaysTrue),
        }],
        ..Plugins::default()
    }
}

impl MemHerder {
    fn new() -> Self {
        MemHerder {
            ready: AtomicBool::new(true),
            topic_tracking: AtomicBool::new(true),
            plugins: test_plugins(),
            connectors: Mutex::new(BTreeMap::new()),
            calls: Mutex::new(Vec::new()),
        }
    }
    fn record(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }
    fn calls(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
    fn with<T>(&self, name: &str, f: impl FnOnce(&mut Conn) -> T) -> HerderResult<T> {
        let mut all = self.connectors.lock().unwrap();
        all.get_mut(name)
            .map(f)
            .ok_or_else(|| HerderError::connector_not_found(name))
    }
    fn info(name: &str, conn: &Conn) -> ConnectorInfo {
        ConnectorInfo {
            name: name.to_owned(),
            config: conn.config.clone(),
            tasks: vec![TaskId {
                connector: name.to_owned(),
                task: 0,
            }],
            connector_type: ConnectorTypeName::Sink,
        }
    }
    fn status(name: &str, conn: &Conn) -> ConnectorStateInfo {
        let state = match conn.state {
            TargetState::Started => State::Running,
            TargetState::Paused => State::Paused,
            TargetState::Stopped => State::Stopped,
        };
        ConnectorStateInfo {
            name: name.to_owned(),
            connector: ConnectorStateEntry {
                state,
                worker_id: WORKER.into(),
                trace: None,
            },
            tasks: vec![TaskStateInfo {
                id: 0,
                state: State::Failed,
                worker_id: WORKER.into(),
                trace: Some("boom".into()),
            }],
            connector_type: ConnectorTypeName::Sink,
        }
    }
}

#[async_trait]
impl Herder for MemHerder {
    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
    async fn health_check(&self) -> Result<(), String> {
        match self.connectors.lock().unwrap().get("stuck-herder") {
            Some(_) => Err("Current stage: starting connector stuck-herder.".into()),
            None => Ok(()),
        }
    }
    fn kafka_cluster_id(&self) -> Option<String> {
        Some("cluster-1".into())
    }
    fn worker_id(&self) -> String {
        WORKER.into()
    }
    fn plugins(&self) -> &Plugins {
        &self.plugins
    }
    async fn connectors(&self) -> Vec<String> {
        self.connectors.lock().unwrap().keys().cloned().collect()
    }
    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        self.with(name, |c| Self::info(name, c))
    }
    async fn connector_config(&self, name: &str) -> HerderResult<Props> {
        self.with(name, |c| c.config.clone())
    }
    async fn put_connector_config(
        &self,
        name: &str,
        config: Props,
        allow_replace: bool,
        initial_state: Option<TargetState>,
    ) -> HerderResult<Created<ConnectorInfo>> {
        self.record(format!(
            "put {name} {config:?} replace={allow_replace} state={initial_state:?}"
        ));
        if config.get("connector.class").map(String::as_str) == Some("Invalid") {
            return Err(HerderError::BadRequest(
                "Connector configuration is invalid and contains the following 1 error(s):\nInvalid value Invalid for configuration connector.class\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`".into(),
            ));
        }
        let mut all = self.connectors.lock().unwrap();
        let existed = all.contains_key(name);
        if existed && !allow_replace {
            return Err(HerderError::AlreadyExists(format!(
                "Connector {name} already exists"
            )));
        }
        let conn = all.entry(name.to_owned()).or_insert(Conn {
            config: Props::new(),
            state: initial_state.unwrap_or(TargetState::Started),
            topics: vec!["t1".into()],
            offsets: ConnectorOffsets::default(),
        });
        conn.config = config;
        Ok(Created {
            created: !existed,
            result: Self::info(name, conn),
        })
    }
    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> HerderResult<ConnectorInfo> {
        self.record(format!("patch {name} {patch:?}"));
        self.with(name, |c| {
            for (k, v) in patch {
                match v {
                    Some(v) => c.config.insert(k, v),
                    None => c.config.remove(&k),
                };
            }
            Self::info(name, c)
        })
    }
    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        self.connectors
            .lock()
            .unwrap()
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| HerderError::connector_not_found(name))
    }
    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        self.with(name, |c| Self::status(name, c))
    }
    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        self.with(name, |c| {
            vec![TaskInfo {
                id: TaskId {
                    connector: name.to_owned(),
                    task: 0,
                },
                config: Props::from([(
                    "task.class".to_owned(),
                    "org.example.MemorySinkTask".to_owned(),
                )]),
            }]
            .into_iter()
            .chain(std::iter::once(TaskInfo {
                id: TaskId {
                    connector: name.to_owned(),
                    task: 1,
                },
                config: Props::from([("topic".to_owned(), c.topics.join(","))]),
            }))
            .collect()
        })
    }
    async fn task_status(&self, name: &str, task: u32) -> HerderResult<TaskStateInfo> {
        let status = self.with(name, |c| Self::status(name, c))?;
        status
            .tasks
            .into_iter()
            .find(|t| t.id == task)
            .ok_or_else(|| HerderError::NotFound(format!("No status found for task {name}-{task}")))
    }
    async fn restart_connector(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> HerderResult<Option<ConnectorStateInfo>> {
        self.record(format!(
            "restart {name} include_tasks={include_tasks} only_failed={only_failed}"
        ));
        let mut status = self.with(name, |c| Self::status(name, c))?;
        if !(include_tasks || only_failed) {
            return Ok(None);
        }
        if !only_failed {
            status.connector.state = State::Restarting;
        }
        if include_tasks {
            for t in &mut status.tasks {
                t.state = State::Restarting;
                t.trace = None;
            }
        }
        Ok(Some(status))
    }
    async fn restart_task(&self, name: &str, task: u32) -> HerderResult<()> {
        self.task_status(name, task)
            .await
            .map(|_| self.record(format!("restart task {name}-{task}")))
    }
    async fn set_target_state(&self, name: &str, state: TargetState) -> HerderResult<()> {
        self.with(name, |c| c.state = state)
    }
    async fn active_topics(&self, name: &str) -> HerderResult<Vec<String>> {
        if !self.topic_tracking.load(Ordering::SeqCst) {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        self.with(name, |c| c.topics.clone())
    }
    async fn reset_active_topics(&self, name: &str) -> HerderResult<()> {
        if !self.topic_tracking.load(Ordering::SeqCst) {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        self.with(name, |c| c.topics.clear())
    }
    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets> {
        self.with(name, |c| c.offsets.clone())
    }
    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> HerderResult<String> {
        self.with(name, |c| {
            if c.state != TargetState::Stopped {
                return Err(HerderError::BadRequest(
                    "Connectors must be in the STOPPED state before their offsets can be modified."
                        .into(),
                ));
            }
            c.offsets = offsets;
            Ok("The offsets for this connector have been altered successfully".to_owned())
        })?
    }
    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<String> {
        self.with(name, |c| {
            c.offsets = ConnectorOffsets::default();
            "The offsets for this connector have been reset successfully".to_owned()
        })
    }
    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<Props>,
        forward: Option<bool>,
        signature: crate::herder::InternalSignature,
    ) -> HerderResult<()> {
        // The middleware's view of `?forward=` must agree with the handler's.
        let param = super::forward_param();
        self.record(format!(
            "put task configs {name} {configs:?} forward={forward:?} param={param:?} \
             signature={:?}/{:?} body={}",
            signature.algorithm,
            signature.signature,
            String::from_utf8_lossy(&signature.body)
        ));
        Ok(())
    }
    async fn validate_connector_config(&self, config: &Props) -> HerderResult<ConfigInfos> {
        Ok(ConfigInfos {
            name: config["connector.class"].clone(),
            error_count: 0,
            groups: vec!["Common".into()],
            configs: Vec::new(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client.

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    /// Asserts the status and the exact JSON body.
    #[track_caller]
    fn expect(&self, status: u16, body: Value) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.json(), body, "{self:?}");
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{self:?}"
        );
    }
    /// Asserts the status and an empty body.
    #[track_caller]
    fn expect_empty(&self, status: u16) {
        assert_eq!((self.status, self.body.as_str()), (status, ""), "{self:?}");
    }
    /// Asserts Connect's error body.
    #[track_caller]
    fn expect_error(&self, status: u16, message: &str) {
        self.expect(status, json!({ "error_code": status, "message": message }));
    }
}

struct Client {
    addr: SocketAddr,
    herder: Arc<MemHerder>,
    logs: LogLevels,
}

impl Client {
    async fn start() -> Client {
        let herder = Arc::new(MemHerder::new());
        let logs = detached("INFO");
        let server = RestServer::bind("http://127.0.0.1:0").await.unwrap();
        let addr = server.local_addrs().unwrap()[0];
        let (h, l) = (herder.clone(), logs.clone());
        tokio::spawn(server.serve(h, l, std::future::pending()));
        Client { addr, herder, logs }
    }

    async fn raw(&self, method: &str, path: &str, content_type: Option<&str>, body: &str) -> Reply {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: localhost:8083\r\nConnection: close\r\n");
        if let Some(ct) = content_type {
            request.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8(raw).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                l.split_once(": ")
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .unwrap()
            })
            .collect();
        assert!(
            !headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v == "chunked"),
            "the client does not decode chunked bodies"
        );
        Reply {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        match body {
            Some(b) => {
                self.raw(method, path, Some("application/json"), &b.to_string())
                    .await
            }
            None => self.raw(method, path, None, "").await,
        }
    }
    async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None).await
    }

    /// Creates connector `name` with a minimal config.
    async fn create(&self, name: &str) {
        let r = self
            .send(
                "POST",
                "/connectors",
                Some(json!({"name": name, "config": {"connector.class": SINK_CLASS}})),
            )
            .await;
        assert_eq!(r.status, 201, "{r:?}");
        self.herder.calls();
    }
}

fn info(name: &str, config: Value) -> Value {
    json!({"name": name, "config": config, "tasks": [{"connector": name, "task": 0}], "type": "sink"})
}

fn status(name: &str, connector_state: &str, task_state: &str) -> Value {
    let mut task = json!({"id": 0, "state": task_state, "worker_id": WORKER});
    if task_state == "FAILED" {
        task["trace"] = json!("boom");
    }
    json!({"name": name, "connector": {"state": connector_state, "worker_id": WORKER}, "tasks": [task], "type": "sink"})
}

// ---------------------------------------------------------------------------------------------
// Root and health.

#[tokio::test]
async fn root_reports_version_and_cluster_id() {
    let c = Client::start().await;
    c.get("/").await.expect(
        200,
        json!({"version": "3.9.0", "commit": concat!("ferry-", env!("CARGO_PKG_VERSION")), "kafka_cluster_id": "cluster-1"}),
    );
}

#[tokio::test]
async fn health_is_503_until_ready_then_200_or_500_when_the_herder_is_stuck() {
    let c = Client::start().await;
    c.herder.ready.store(false, Ordering::SeqCst);
    c.get("/health").await.expect(
        503,
        json!({"status": "starting", "message": "Worker is still starting up."}),
    );
    c.herder.ready.store(true, Ordering::SeqCst);
    c.get("/health").await.expect(
        200,
        json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."}),
    );
    // A herder that knows it cannot serve requests.
    c.create("stuck-herder").await;
    c.get("/health").await.expect(
        500,
        json!({"status": "unhealthy", "message": "Worker was unable to handle this request and may be unable to handle other requests. Current stage: starting connector stuck-herder."}),
    );
}

// ---------------------------------------------------------------------------------------------
// Connector CRUD.

#[tokio::test]
async fn create_answers_201_with_location_and_fills_in_the_name() {
    let c = Client::start().await;
    let r = c
        .send(
            "POST",
            "/connectors",
            Some(json!({"name": "  my sink ", "config": {"connector.class": SINK_CLASS, "tasks.max": 2, "x.enabled": true, "ratio": 1.5}})),
        )
        .await;
    let config = json!({"connector.class": SINK_CLASS, "name": "my sink", "ratio": "1.5", "tasks.max": "2", "x.enabled": "true"});
    r.expect(201, info("my sink", config));
    assert_eq!(
        r.header("location"),
        Some("http://localhost:8083/connectors/my%20sink")
    );
    assert_eq!(
        c.herder.calls(),
        [format!(
            "put my sink {{\"connector.class\": \"{SINK_CLASS}\", \"name\": \"my sink\", \"ratio\": \"1.5\", \"tasks.max\": \"2\", \"x.enabled\": \"true\"}} replace=false state=None"
        )]
    );
    // A second create of the same name is the herder's 409, relayed.
    c.send(
        "POST",
        "/connectors/",
        Some(json!({"name": "my sink", "config": {}})),
    )
    .await
    .expect_error(409, "Connector my sink already exists");
}

#[tokio::test]
async fn create_passes_initial_state_case_insensitively() {
    let c = Client::start().await;
    for (given, want) in [
        ("paused", "Some(Paused)"),
        ("STOPPED", "Some(Stopped)"),
        ("Running", "Some(Started)"),
    ] {
        let name = format!("c-{given}");
        let r = c
            .send(
                "POST",
                "/connectors",
                Some(json!({"name": name, "config": {}, "initial_state": given})),
            )
            .await;
        assert_eq!(r.status, 201, "{r:?}");
        let calls = c.herder.calls();
        assert!(
            calls[0].ends_with(&format!("replace=false state={want}")),
            "{calls:?}"
        );
    }
    c.send(
        "POST",
        "/connectors",
        Some(json!({"name": "x", "config": {}, "initial_state": "ASLEEP"})),
    )
    .await
    .expect_error(
        400,
        "Invalid initial state: ASLEEP. Valid values are RUNNING, PAUSED and STOPPED",
    );
}

#[tokio::test]
async fn create_rejects_bad_requests_with_connect_error_bodies() {
    let c = Client::start().await;
    let cases = [
        (
            json!({"name": "a", "config": {"name": "b"}}),
            "Connector name configuration (b) doesn't match connector name in the URL (a)",
        ),
        (
            json!({"name": "a", "config": {"connector.class": null}}),
            "Invalid value null for configuration connector.class: connector configuration values must not be null",
        ),
        (
            json!({"name": "a", "config": {"topics": ["t"]}}),
            "Invalid value [\"t\"] for configuration topics: connector configuration values must be strings, numbers or booleans",
        ),
        (json!({"name": "a"}), "Connector configuration (\"config\") must be provided"),
        (
            json!(["a"]),
            "Request body must be a connector creation request (a JSON object with \"name\" and \"config\"), not an array",
        ),
        (
            json!({"name": "a", "config": {"connector.class": "Invalid"}}),
            "Connector configuration is invalid and contains the following 1 error(s):\nInvalid value Invalid for configuration connector.class\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
        ),
    ];
    for (body, message) in cases {
        c.send("POST", "/connectors", Some(body))
            .await
            .expect_error(400, message);
    }
    assert_eq!(c.get("/connectors").await.json(), json!([]));
}

#[tokio::test]
async fn bodies_must_be_json() {
    let c = Client::start().await;
    let r = c
        .raw(
            "POST",
            "/connectors",
            Some("application/json"),
            "{\"name\": ",
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.json()["error_code"], 400);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Request body is not valid JSON: "),
        "{r:?}"
    );
    c.raw("POST", "/connectors", Some("text/plain"), "{}")
        .await
        .expect_error(415, "HTTP 415 Unsupported Media Type");
    c.raw(
        "PUT",
        "/connectors/a/config",
        Some("application/x-www-form-urlencoded"),
        "a=b",
    )
    .await
    .expect_error(415, "HTTP 415 Unsupported Media Type");
    // A JSON content type with parameters, or none at all, is accepted.
    let body = json!({"name": "a", "config": {}}).to_string();
    assert_eq!(
        c.raw(
            "POST",
            "/connectors",
            Some("application/json; charset=UTF-8"),
            &body
        )
        .await
        .status,
        201
    );
    let body = json!({"name": "b", "config": {}}).to_string();
    assert_eq!(c.raw("POST", "/connectors", None, &body).await.status, 201);
}

#[tokio::test]
async fn list_connectors_plain_and_expanded() {
    let c = Client::start().await;
    c.get("/connectors").await.expect(200, json!([]));
    c.create("a").await;
    c.create("b").await;
    c.get("/connectors").await.expect(200, json!(["a", "b"]));
    let config = |n: &str| json!({"connector.class": SINK_CLASS, "name": n});
    c.get("/connectors?expand=status").await.expect(
        200,
        json!({"a": {"status": status("a", "RUNNING", "FAILED")}, "b": {"status": status("b", "RUNNING", "FAILED")}}),
    );
    c.get("/connectors?expand=info&expand=status&expand=bogus")
        .await
        .expect(
            200,
            json!({
                "a": {"info": info("a", config("a")), "status": status("a", "RUNNING", "FAILED")},
                "b": {"info": info("b", config("b")), "status": status("b", "RUNNING", "FAILED")},
            }),
        );
    c.get("/connectors?expand=bogus")
        .await
        .expect(200, json!({"a": {}, "b": {}}));
}

#[tokio::test]
async fn get_connector_config_status_and_tasks() {
    let c = Client::start().await;
    c.create("a").await;
    let config = json!({"connector.class": SINK_CLASS, "name": "a"});
    c.get("/connectors/a")
        .await
        .expect(200, info("a", config.clone()));
    c.get("/connectors/a/config").await.expect(200, config);
    c.get("/connectors/a/status")
        .await
        .expect(200, status("a", "RUNNING", "FAILED"));
    c.get("/connectors/a/tasks").await.expect(
        200,
        json!([
            {"id": {"connector": "a", "task": 0}, "config": {"task.class": "org.example.MemorySinkTask"}},
            {"id": {"connector": "a", "task": 1}, "config": {"topic": "t1"}},
        ]),
    );
    c.get("/connectors/a/tasks-config").await.expect(
        200,
        json!({"a-0": {"task.class": "org.example.MemorySinkTask"}, "a-1": {"topic": "t1"}}),
    );
    c.get("/connectors/a/tasks/0/status").await.expect(
        200,
        json!({"id": 0, "state": "FAILED", "worker_id": WORKER, "trace": "boom"}),
    );
    c.get("/connectors/a/tasks/7/status")
        .await
        .expect_error(404, "No status found for task a-7");
    c.get("/connectors/a/tasks/x/status")
        .await
        .expect_error(404, "HTTP 404 Not Found");
    for path in [
        "/connectors/zz",
        "/connectors/zz/config",
        "/connectors/zz/status",
        "/connectors/zz/tasks",
        "/connectors/zz/tasks-config",
        "/connectors/zz/tasks/0/status",
        "/connectors/zz/offsets",
        "/connectors/zz/topics",
    ] {
        c.get(path)
            .await
            .expect_error(404, "Connector zz not found");
    }
}

#[tokio::test]
async fn put_config_creates_with_201_then_updates_with_200() {
    let c = Client::start().await;
    let r = c
        .send(
            "PUT",
            "/connectors/p/config",
            Some(json!({"connector.class": SINK_CLASS, "tasks.max": 1})),
        )
        .await;
    let config = json!({"connector.class": SINK_CLASS, "name": "p", "tasks.max": "1"});
    r.expect(201, info("p", config));
    assert_eq!(
        r.header("location"),
        Some("http://localhost:8083/connectors/p")
    );
    let r = c
        .send(
            "PUT",
            "/connectors/p/config",
            Some(json!({"connector.class": SINK_CLASS, "name": "p", "tasks.max": "3"})),
        )
        .await;
    r.expect(
        200,
        info(
            "p",
            json!({"connector.class": SINK_CLASS, "name": "p", "tasks.max": "3"}),
        ),
    );
    assert_eq!(r.header("location"), None);
    assert!(c
        .herder
        .calls()
        .iter()
        .all(|call| call.contains("replace=true state=None")));
    c.send("PUT", "/connectors/p/config", Some(json!({"name": "q"})))
        .await
        .expect_error(
            400,
            "Connector name configuration (q) doesn't match connector name in the URL (p)",
        );
    c.send("PUT", "/connectors/p/config", Some(json!({"a": null})))
        .await
        .expect_error(400, "Invalid value null for configuration a: connector configuration values must not be null");
    c.send("PUT", "/connectors/p/config", None)
        .await
        .expect_error(
            400,
            "Request body must contain a connector configuration (a JSON object)",
        );
}

#[tokio::test]
async fn patch_config_deletes_null_keys() {
    let c = Client::start().await;
    c.send("PATCH", "/connectors/a/config", Some(json!({"x": "1"})))
        .await
        .expect_error(404, "Connector a not found");
    c.create("a").await;
    c.send(
        "PUT",
        "/connectors/a/config",
        Some(json!({"connector.class": SINK_CLASS, "x": "1", "y": "2"})),
    )
    .await;
    c.herder.calls();
    let r = c
        .send(
            "PATCH",
            "/connectors/a/config",
            Some(json!({"x": null, "y": 3, "z": false})),
        )
        .await;
    r.expect(
        200,
        info(
            "a",
            json!({"connector.class": SINK_CLASS, "name": "a", "y": "3", "z": "false"}),
        ),
    );
    assert_eq!(
        c.herder.calls(),
        ["patch a {\"x\": None, \"y\": Some(\"3\"), \"z\": Some(\"false\")}"]
    );
}

#[tokio::test]
async fn delete_answers_204() {
    let c = Client::start().await;
    c.create("a").await;
    c.send("DELETE", "/connectors/a", None)
        .await
        .expect_empty(204);
    c.send("DELETE", "/connectors/a", None)
        .await
        .expect_error(404, "Connector a not found");
    c.get("/connectors").await.expect(200, json!([]));
}

// ---------------------------------------------------------------------------------------------
// Lifecycle.

#[tokio::test]
async fn pause_resume_stop_status_codes() {
    let c = Client::start().await;
    c.create("a").await;
    c.send("PUT", "/connectors/a/pause", None)
        .await
        .expect_empty(202);
    assert_eq!(
        c.get("/connectors/a/status").await.json()["connector"]["state"],
        "PAUSED"
    );
    c.send("PUT", "/connectors/a/stop", None)
        .await
        .expect_empty(204);
    assert_eq!(
        c.get("/connectors/a/status").await.json()["connector"]["state"],
        "STOPPED"
    );
    c.send("PUT", "/connectors/a/resume", None)
        .await
        .expect_empty(202);
    assert_eq!(
        c.get("/connectors/a/status").await.json()["connector"]["state"],
        "RUNNING"
    );
    for op in ["pause", "resume", "stop"] {
        c.send("PUT", &format!("/connectors/zz/{op}"), None)
            .await
            .expect_error(404, "Connector zz not found");
    }
}

#[tokio::test]
async fn internal_task_configs_post_is_204_and_passes_forward_on() {
    let c = Client::start().await;
    let tasks = json!([{"task.class": "T", "topics": "t"}, {"task.class": "T"}]);
    for (query, forward) in [
        ("", "None"),
        ("?forward=true", "Some(true)"),
        ("?forward=false", "Some(false)"),
    ] {
        c.send(
            "POST",
            &format!("/connectors/a/tasks{query}"),
            Some(tasks.clone()),
        )
        .await
        .expect_empty(204);
        assert_eq!(
            c.herder.calls(),
            [format!(
                r#"put task configs a [{{"task.class": "T", "topics": "t"}}, {{"task.class": "T"}}] forward={forward} param={forward} signature=None/None body=[{{"task.class":"T","topics":"t"}},{{"task.class":"T"}}]"#
            )]
        );
    }
    // The signature headers and the exact body bytes reach the herder, which checks them.
    let body = r#"[ {"task.class":"T"} ]"#;
    c.raw(
        "POST",
        "/connectors/a/tasks",
        Some("application/json\r\nX-Connect-Authorization: c2ln\r\nX-Connect-Request-Signature-Algorithm: HmacSHA256"),
        body,
    )
    .await
    .expect_empty(204);
    assert_eq!(
        c.herder.calls(),
        [format!(
            r#"put task configs a [{{"task.class": "T"}}] forward=None param=None signature=Some("HmacSHA256")/Some("c2ln") body={body}"#
        )]
    );
    c.send(
        "POST",
        "/connectors/a/tasks",
        Some(json!({"task.class": "T"})),
    )
    .await
    .expect_error(
        400,
        "Request body must be a list of task configurations (JSON objects)",
    );
    c.send("POST", "/connectors/a/tasks", Some(json!([1])))
        .await
        .expect_error(
            400,
            "Request body must be a task configuration (a JSON object), not a number",
        );
    assert!(c.herder.calls().is_empty());
}

#[tokio::test]
async fn restart_is_204_plain_and_202_with_flags() {
    let c = Client::start().await;
    c.create("a").await;
    c.send("POST", "/connectors/a/restart", None)
        .await
        .expect_empty(204);
    c.send(
        "POST",
        "/connectors/a/restart?includeTasks=false&onlyFailed=FALSE",
        None,
    )
    .await
    .expect_empty(204);
    c.send("POST", "/connectors/a/restart?includeTasks=true", None)
        .await
        .expect(202, status("a", "RESTARTING", "RESTARTING"));
    c.send("POST", "/connectors/a/restart?onlyFailed=True", None)
        .await
        .expect(202, status("a", "RUNNING", "FAILED"));
    assert_eq!(
        c.herder.calls(),
        [
            "restart a include_tasks=false only_failed=false",
            "restart a include_tasks=false only_failed=false",
            "restart a include_tasks=true only_failed=false",
            "restart a include_tasks=false only_failed=true",
        ]
    );
    c.send("POST", "/connectors/zz/restart", None)
        .await
        .expect_error(404, "Connector zz not found");
    c.herder.calls();
    c.send("POST", "/connectors/a/tasks/0/restart", None)
        .await
        .expect_empty(204);
    assert_eq!(c.herder.calls(), ["restart task a-0"]);
    c.send("POST", "/connectors/a/tasks/3/restart", None)
        .await
        .expect_error(404, "No status found for task a-3");
}

// ---------------------------------------------------------------------------------------------
// Topics and offsets.

#[tokio::test]
async fn topics_and_reset() {
    let c = Client::start().await;
    c.create("a").await;
    c.get("/connectors/a/topics")
        .await
        .expect(200, json!({"a": {"topics": ["t1"]}}));
    c.send("PUT", "/connectors/a/topics/reset", None)
        .await
        .expect_empty(202);
    c.get("/connectors/a/topics")
        .await
        .expect(200, json!({"a": {"topics": []}}));
    c.herder.topic_tracking.store(false, Ordering::SeqCst);
    c.get("/connectors/a/topics")
        .await
        .expect_error(403, "Topic tracking is disabled.");
    c.send("PUT", "/connectors/a/topics/reset", None)
        .await
        .expect_error(403, "Topic tracking is disabled.");
}

#[tokio::test]
async fn offsets_get_alter_reset() {
    let c = Client::start().await;
    c.create("a").await;
    c.get("/connectors/a/offsets")
        .await
        .expect(200, json!({"offsets": []}));
    let offsets = json!({"offsets": [
        {"partition": {"kafka_topic": "t", "kafka_partition": 3}, "offset": {"kafka_offset": 1000}},
        {"partition": {"kafka_topic": "t", "kafka_partition": 4}, "offset": null},
    ]});
    c.send("PATCH", "/connectors/a/offsets", Some(offsets.clone()))
        .await
        .expect_error(
            400,
            "Connectors must be in the STOPPED state before their offsets can be modified.",
        );
    c.send("PUT", "/connectors/a/stop", None)
        .await
        .expect_empty(204);
    c.send("PATCH", "/connectors/a/offsets", Some(offsets.clone()))
        .await
        .expect(
            200,
            json!({"message": "The offsets for this connector have been altered successfully"}),
        );
    c.get("/connectors/a/offsets").await.expect(200, offsets);
    c.send("DELETE", "/connectors/a/offsets", None)
        .await
        .expect(
            200,
            json!({"message": "The offsets for this connector have been reset successfully"}),
        );
    c.get("/connectors/a/offsets")
        .await
        .expect(200, json!({"offsets": []}));

    let none = "Partitions / offsets need to be provided for an alter offsets request";
    for body in [
        None,
        Some(json!({})),
        Some(json!({"offsets": null})),
        Some(json!({"offsets": []})),
    ] {
        c.send("PATCH", "/connectors/a/offsets", body)
            .await
            .expect_error(400, none);
    }
    c.send(
        "PATCH",
        "/connectors/a/offsets",
        Some(json!({"offsets": [{}]})),
    )
    .await
    .expect_error(400, "Invalid offsets request: missing field `partition`");
}

// ---------------------------------------------------------------------------------------------
// Connector plugins.

#[tokio::test]
async fn connector_plugins_list() {
    let c = Client::start().await;
    let sink = json!({"class": SINK_CLASS, "type": "sink", "version": "1.2.3"});
    c.get("/connector-plugins").await.expect(200, json!([sink]));
    c.get("/connector-plugins?connectorsOnly=true")
        .await
        .expect(200, json!([sink]));
    c.get("/connector-plugins?connectorsOnly=false").await.expect(
        200,
        json!([sink, {"class": "org.example.AlwaysTrue", "type": "predicate", "version": env!("CARGO_PKG_VERSION")}]),
    );
}

#[tokio::test]
async fn connector_plugin_config_definition() {
    let c = Client::start().await;
    for name in [SINK_CLASS, "MemorySink", "MemorySinkConnector"] {
        let r = c.get(&format!("/connector-plugins/{name}/config")).await;
        assert_eq!(r.status, 200, "{r:?}");
        let keys = r.json();
        let names: Vec<&str> = keys
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            &names[..3],
            ["memory.size", "name", "connector.class"],
            "{name}"
        );
        assert_eq!(
            keys[0],
            json!({"name": "memory.size", "type": "INT", "required": false, "default_value": "10", "importance": "MEDIUM",
                   "documentation": "Slots.", "group": null, "order": -1, "width": "NONE", "display_name": "memory.size",
                   "dependents": []})
        );
    }
    c.get("/connector-plugins/org.example.AlwaysTrue/config")
        .await
        .expect(200, json!([]));
    c.get("/connector-plugins/Nope/config")
        .await
        .expect_error(404, "Unknown plugin Nope.");
}

#[tokio::test]
async fn validate_checks_connector_class_against_the_path() {
    let c = Client::start().await;
    let answer =
        |class: &str| json!({"name": class, "error_count": 0, "groups": ["Common"], "configs": []});
    for (path, class) in [
        ("MemorySink", SINK_CLASS),
        ("MemorySinkConnector", SINK_CLASS),
        (SINK_CLASS, SINK_CLASS),
        ("MemorySink", "MemorySinkConnector"),
    ] {
        c.send(
            "PUT",
            &format!("/connector-plugins/{path}/config/validate"),
            Some(json!({"connector.class": class, "tasks.max": 1})),
        )
        .await
        .expect(200, answer(class));
    }
    c.send(
        "PUT",
        "/connector-plugins/FileStreamSource/config/validate",
        Some(json!({"connector.class": SINK_CLASS})),
    )
    .await
    .expect_error(
        400,
        &format!(
            "Included connector type {SINK_CLASS} does not match request type FileStreamSource"
        ),
    );
    c.send(
        "PUT",
        "/connector-plugins/MemorySink/config/validate",
        Some(json!({"name": "x", "tasks.max": 2})),
    )
    .await
    .expect_error(
        400,
        "Connector config {name=x, tasks.max=2} contains no connector type",
    );
}

// ---------------------------------------------------------------------------------------------
// Loggers.

#[tokio::test]
async fn loggers_list_get_and_set_at_worker_scope() {
    let c = Client::start().await;
    c.get("/admin/loggers").await.expect(
        200,
        json!({"root": {"level": "INFO", "last_modified": null}}),
    );
    c.get("/admin/loggers/root")
        .await
        .expect(200, json!({"level": "INFO", "last_modified": null}));
    c.get("/admin/loggers/org.apache.kafka")
        .await
        .expect_error(404, "Logger org.apache.kafka not found.");

    c.send(
        "PUT",
        "/admin/loggers/org.apache.kafka.connect.runtime.Worker",
        Some(json!({"level": "trace"})),
    )
    .await
    .expect(200, json!(["org.apache.kafka.connect.runtime.Worker"]));
    c.send(
        "PUT",
        "/admin/loggers/org.apache.kafka?scope=worker",
        Some(json!({"level": "DEBUG"})),
    )
    .await
    .expect(
        200,
        json!([
            "org.apache.kafka",
            "org.apache.kafka.connect.runtime.Worker"
        ]),
    );
    c.get("/admin/loggers/org.apache.kafka.connect.runtime.Worker")
        .await
        .expect(200, json!({"level": "DEBUG", "last_modified": NOW}));
    c.get("/admin/loggers").await.expect(
        200,
        json!({
            "org.apache.kafka": {"level": "DEBUG", "last_modified": NOW},
            "org.apache.kafka.connect.runtime.Worker": {"level": "DEBUG", "last_modified": NOW},
            "root": {"level": "INFO", "last_modified": null},
        }),
    );
    // An unknown scope is treated as `worker`.
    c.send(
        "PUT",
        "/admin/loggers/ferry_worker?scope=galaxy",
        Some(json!({"level": "warn"})),
    )
    .await
    .expect(200, json!(["ferry_worker"]));
    assert_eq!(c.logs.get("ferry_worker").unwrap().level, "WARN");
}

#[tokio::test]
async fn loggers_cluster_scope_and_errors() {
    let c = Client::start().await;
    c.send(
        "PUT",
        "/admin/loggers/ferry_worker?scope=CLUSTER",
        Some(json!({"level": "ERROR"})),
    )
    .await
    .expect_empty(204);
    assert_eq!(c.logs.get("ferry_worker").unwrap().level, "ERROR");
    let missing = "Desired 'level' parameter was not specified in request.";
    c.send("PUT", "/admin/loggers/x", Some(json!({"lvl": "DEBUG"})))
        .await
        .expect_error(400, missing);
    c.send("PUT", "/admin/loggers/x", Some(json!({"level": null})))
        .await
        .expect_error(400, missing);
    c.send("PUT", "/admin/loggers/x", None)
        .await
        .expect_error(400, missing);
    c.send("PUT", "/admin/loggers/x", Some(json!({"level": "LOUD"})))
        .await
        .expect_error(404, "invalid log level 'LOUD'.");
    assert_eq!(c.logs.get("x"), None);
}

// ---------------------------------------------------------------------------------------------
// Routing errors.

#[tokio::test]
async fn unknown_paths_and_methods_get_error_bodies() {
    let c = Client::start().await;
    c.get("/nope").await.expect_error(404, "HTTP 404 Not Found");
    c.get("/connectors/a/b/c/d")
        .await
        .expect_error(404, "HTTP 404 Not Found");
    let r = c.send("DELETE", "/connector-plugins", None).await;
    r.expect_error(405, "HTTP 405 Method Not Allowed");
    assert_eq!(r.header("allow"), Some("GET,HEAD"));
    c.send("POST", "/connectors/a/pause", None)
        .await
        .expect_error(405, "HTTP 405 Method Not Allowed");
}
