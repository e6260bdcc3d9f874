//! Ferry's standalone REST API against Kafka Connect's (COMPAT §1.1–§1.7, §12 item 7): the real
//! `ferry` binary on a real broker, checking status codes and bodies exactly.
//!
//! Every test starts its own worker (own temp dir and REST port) and uses unique topic names, so
//! the tests run in parallel against one broker.

use std::fs;
use std::path::Path;
use std::time::Duration;

use ferry_integration::{
    unique_name, wait_until, wait_until_ok, Ferry, FerryBuilder, RestClient, TestBroker,
    DEFAULT_TIMEOUT,
};
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::{json, Value};

const STRING_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";
const SOURCE_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
const SINK_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
/// The 400 Connect gives offsets changes on a connector that is not STOPPED (COMPAT §1.7).
const MUST_BE_STOPPED: &str = "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{connector}/stop' endpoint";
const INVALID_CONFIG_PREFIX: &str = "Connector configuration is invalid and contains the following";

/// A worker with plain-string converters (so topic bytes are the file's lines), quick fetches
/// and quick offset flushes.
fn worker(broker: &TestBroker) -> FerryBuilder {
    Ferry::builder(broker)
        .worker("key.converter", STRING_CONVERTER)
        .worker("value.converter", STRING_CONVERTER)
        .worker("offset.flush.interval.ms", "200")
        .worker("consumer.fetch.wait.max.ms", "20")
}

fn source_config(file: &Path, topic: &str) -> Value {
    json!({
        "connector.class": "FileStreamSource",
        "file": file.display().to_string(),
        "topic": topic,
    })
}

fn sink_config(file: &Path, topic: &str) -> Value {
    json!({
        "connector.class": "FileStreamSink",
        "file": file.display().to_string(),
        "topics": topic,
    })
}

/// `POST /connectors`, asserting 201.
fn create(rest: &RestClient, name: &str, config: Value) -> Value {
    let (status, body) = rest.post("/connectors", &json!({"name": name, "config": config}));
    assert_eq!(status, 201, "create {name}: {body}");
    body
}

fn error(code: u16, message: &str) -> Value {
    json!({"error_code": code, "message": message})
}

/// An HTTP answer with the headers tests look at.
struct Raw {
    status: u16,
    location: Option<String>,
    body: Value,
}

/// A request with an exact body text and content type (for malformed bodies and headers the
/// harness client does not expose).
fn raw(rest: &RestClient, method: &str, path: &str, content_type: &str, body: &str) -> Raw {
    let url = format!("{}{path}", rest.base_url());
    let result = ureq::request(method, &url)
        .set("Content-Type", content_type)
        .send_string(body);
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = response.status();
    let location = response.header("Location").map(str::to_owned);
    let text = response.into_string().expect("read body");
    let body = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Raw {
        status,
        location,
        body,
    }
}

/// Waits until `GET /connectors/{name}/status` shows this connector state and these task states
/// (by task id order), and returns the status body.
fn wait_status(rest: &RestClient, name: &str, connector: &str, tasks: &[&str]) -> Value {
    wait_until_ok(
        DEFAULT_TIMEOUT,
        &format!("{name} to be {connector} with tasks {tasks:?}"),
        || {
            let (code, body) = rest.get(&format!("/connectors/{name}/status"));
            let states: Vec<&str> = body["tasks"]
                .as_array()
                .map(|ts| ts.iter().filter_map(|t| t["state"].as_str()).collect())
                .unwrap_or_default();
            if code == 200 && body["connector"]["state"] == connector && states == tasks {
                Ok(body)
            } else {
                Err(format!("{code} {body}"))
            }
        },
    )
}

/// Waits until `GET /connectors/{name}/offsets` answers exactly `expected`.
fn wait_offsets(rest: &RestClient, name: &str, expected: &Value) {
    wait_until_ok(
        DEFAULT_TIMEOUT,
        &format!("offsets of {name} to be {expected}"),
        || {
            let (code, body) = rest.get(&format!("/connectors/{name}/offsets"));
            if code == 200 && &body == expected {
                Ok(())
            } else {
                Err(format!("{code} {body}"))
            }
        },
    )
}

/// The lines of a sink's output file once it holds at least `count`.
fn wait_file_lines(path: &Path, count: usize) -> Vec<String> {
    wait_until_ok(
        DEFAULT_TIMEOUT,
        &format!("{count} lines in {}", path.display()),
        || {
            let text = fs::read_to_string(path).unwrap_or_default();
            let lines: Vec<String> = text.lines().map(str::to_owned).collect();
            if lines.len() >= count {
                Ok(lines)
            } else {
                Err(format!("{} lines: {lines:?}", lines.len()))
            }
        },
    )
}

fn values(broker: &TestBroker, topic: &str, count: i64) -> Vec<String> {
    broker
        .wait_for_records(topic, count, DEFAULT_TIMEOUT)
        .iter()
        .map(|r| r.value_str().to_owned())
        .collect()
}

#[test]
fn root_health_and_empty_connector_list() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();

    // The id is the broker's; see `root_reports_the_cluster_id_from_the_first_answer` for when.
    let cluster_id = broker_cluster_id(&broker);
    let root = wait_until_ok(
        DEFAULT_TIMEOUT,
        "GET / to report the cluster id",
        || match rest.get("/") {
            (200, root) if !root["kafka_cluster_id"].is_null() => Ok(root),
            (status, root) => Err(format!("{status} {root}")),
        },
    );
    assert_eq!(root["version"], "3.9.0", "{root}");
    assert!(
        root["commit"].as_str().is_some_and(|c| !c.is_empty()),
        "commit: {root}"
    );
    assert_eq!(root["kafka_cluster_id"], cluster_id.as_str(), "{root}");
    assert_eq!(
        root.as_object().map(|o| o.len()),
        Some(3),
        "exactly version, commit, kafka_cluster_id: {root}"
    );

    assert_eq!(
        rest.get("/health"),
        (
            200,
            json!({"status": "healthy",
                   "message": "Worker has completed startup and is ready to handle requests."})
        )
    );
    assert_eq!(rest.get("/connectors"), (200, json!([])));
    assert_eq!(rest.get("/connectors?expand=status"), (200, json!({})));
}

fn broker_cluster_id(broker: &TestBroker) -> String {
    let consumer: BaseConsumer = broker.client_config().create().expect("metadata client");
    consumer
        .client()
        .fetch_cluster_id(Duration::from_secs(10))
        .expect("the broker reports a cluster id")
}

/// Connect looks the cluster id up before it registers its REST resources, so no `GET /` ever
/// answers 200 without it. Ferry serves `GET /` first and fills the id in from a background
/// lookup: an early answer carries `"kafka_cluster_id": null` (a client polling from start-up,
/// as the harness does, sees it at once; a plain `start()` sees it in about 1 run of 10).
#[test]
fn root_reports_the_cluster_id_from_the_first_answer() {
    let broker = TestBroker::from_env();
    let cluster_id = broker_cluster_id(&broker);
    for _ in 0..10 {
        let ferry = worker(&broker).spawn();
        let root = wait_until(DEFAULT_TIMEOUT, "GET / to answer 200", || {
            match ferry.rest().request("GET", "/", None) {
                Ok((200, root)) => Some(root),
                _ => None,
            }
        });
        assert_eq!(root["kafka_cluster_id"], cluster_id.as_str(), "{root}");
    }
}

#[test]
fn create_answers_201_with_location_and_info_and_reads_back() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let input = ferry.dir().join("in.txt");
    fs::write(&input, "").unwrap();
    let name = unique_name("src");
    let topic = broker.unique_topic("rest-create", 1);

    // A JSON number where Connect expects a string is read as its text (COMPAT §13.1).
    let mut config = source_config(&input, &topic);
    config["tasks.max"] = json!(1);
    let created = raw(
        rest,
        "POST",
        "/connectors",
        "application/json",
        &json!({"name": name, "config": config}).to_string(),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let location = created.location.expect("a Location header");
    assert!(
        location.ends_with(&format!("/connectors/{name}")),
        "Location {location}"
    );
    let expected_config = json!({
        "connector.class": "FileStreamSource",
        "file": input.display().to_string(),
        "topic": topic,
        "tasks.max": "1",
        "name": name,
    });
    let info = json!({
        "name": name,
        "config": expected_config,
        "tasks": [{"connector": name, "task": 0}],
        "type": "source",
    });
    assert_eq!(created.body, info);

    assert_eq!(rest.get(&format!("/connectors/{name}")), (200, info));
    assert_eq!(
        rest.get(&format!("/connectors/{name}/config")),
        (200, expected_config.clone())
    );
    assert_eq!(rest.get("/connectors"), (200, json!([name])));

    let (status, tasks) = rest.get(&format!("/connectors/{name}/tasks"));
    assert_eq!(status, 200, "{tasks}");
    let tasks = tasks.as_array().expect("tasks is a list");
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["id"], json!({"connector": name, "task": 0}));
    let task_config = tasks[0]["config"].as_object().expect("task config object");
    assert_eq!(task_config["file"], input.display().to_string());
    assert_eq!(task_config["topic"], topic.as_str());
    assert_eq!(
        task_config["task.class"],
        "org.apache.kafka.connect.file.FileStreamSourceTask"
    );

    let (status, tasks_config) = rest.get(&format!("/connectors/{name}/tasks-config"));
    assert_eq!(status, 200);
    assert_eq!(
        tasks_config,
        json!({ format!("{name}-0"): tasks[0]["config"].clone() })
    );

    let status = wait_status(rest, &name, "RUNNING", &["RUNNING"]);
    let worker_id = status["connector"]["worker_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let port = rest.base_url().rsplit(':').next().unwrap();
    assert!(worker_id.ends_with(&format!(":{port}")), "{worker_id}");
    assert_eq!(
        status,
        json!({
            "name": name,
            "connector": {"state": "RUNNING", "worker_id": worker_id},
            "tasks": [{"id": 0, "state": "RUNNING", "worker_id": worker_id}],
            "type": "source",
        })
    );
    assert_eq!(
        rest.get(&format!("/connectors/{name}/tasks/0/status")),
        (
            200,
            json!({"id": 0, "state": "RUNNING", "worker_id": worker_id})
        )
    );

    // A second create of the same name: 409, and the first is untouched.
    let (status, body) = rest.post(
        "/connectors",
        &json!({"name": name, "config": source_config(&input, "other-topic")}),
    );
    assert_eq!(
        (status, body),
        (409, error(409, &format!("Connector {name} already exists")))
    );
    assert_eq!(
        rest.get(&format!("/connectors/{name}/config")),
        (200, expected_config)
    );
}

#[test]
fn create_rejects_invalid_requests_with_400() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let input = ferry.dir().join("in.txt");
    let topic = unique_name("never-created");

    // config.name must equal name.
    let mut config = source_config(&input, &topic);
    config["name"] = json!("other");
    let (status, body) = rest.post("/connectors", &json!({"name": "mine", "config": config}));
    assert_eq!(
        (status, body),
        (
            400,
            error(
                400,
                "Connector name configuration (other) doesn't match connector name in the URL (mine)"
            )
        )
    );

    // Validation failures: the message names every failing key.
    let mut no_topic = source_config(&input, &topic);
    no_topic.as_object_mut().unwrap().remove("topic");
    let mut zero_tasks = source_config(&input, &topic);
    zero_tasks["tasks.max"] = json!("0");
    let mut sink_without_topics = sink_config(&input, &topic);
    sink_without_topics
        .as_object_mut()
        .unwrap()
        .remove("topics");
    let cases = [
        (
            "source without topic",
            no_topic,
            "Missing required configuration \"topic\" which has no default value.",
        ),
        (
            "tasks.max=0",
            zero_tasks,
            "Invalid value 0 for configuration tasks.max: Value must be at least 1",
        ),
        ("sink without topics", sink_without_topics, "topics"),
    ];
    for (what, config, detail) in cases {
        let (status, body) = rest.post(
            "/connectors",
            &json!({"name": unique_name("bad"), "config": config}),
        );
        assert_eq!(status, 400, "{what}: {body}");
        assert_eq!(body["error_code"], 400, "{what}: {body}");
        let message = body["message"].as_str().expect("message");
        assert!(
            message.starts_with(INVALID_CONFIG_PREFIX),
            "{what}: {message}"
        );
        assert!(message.contains(detail), "{what}: {message}");
        assert!(
            message.ends_with(
                "You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
            ),
            "{what}: {message}"
        );
    }

    // An unknown connector.class: Connect's class-not-found message, naming the class.
    let mut unknown = source_config(&input, &topic);
    unknown["connector.class"] = json!("com.example.NoSuchConnector");
    let (status, body) = rest.post("/connectors", &json!({"name": "x", "config": unknown}));
    assert_eq!(status, 400, "{body}");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.starts_with(
            "Failed to find any class that implements Connector and which name matches com.example.NoSuchConnector"
        ),
        "{message}"
    );

    // Malformed JSON, a non-JSON content type.
    let malformed = raw(
        rest,
        "POST",
        "/connectors",
        "application/json",
        r#"{"name": "x", "config": {"#,
    );
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    assert_eq!(malformed.body["error_code"], 400, "{}", malformed.body);
    assert!(malformed.body["message"].is_string(), "{}", malformed.body);
    let text = raw(rest, "POST", "/connectors", "text/plain", "name=x");
    assert_eq!(text.status, 415, "{}", text.body);
    assert_eq!(text.body["error_code"], 415, "{}", text.body);

    // Nothing was created.
    assert_eq!(rest.get("/connectors"), (200, json!([])));
}

#[test]
fn unknown_paths_are_404_with_an_error_body() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    for path in ["/no/such/path", "/connectors/x/nothing", "/connectorz"] {
        let (status, body) = rest.get(path);
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error_code"], 404, "{path}: {body}");
        assert!(body["message"].is_string(), "{path}: {body}");
    }
}

#[test]
fn initial_state_paused_and_stopped_show_in_status() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let input = ferry.dir().join("in.txt");
    fs::write(&input, "").unwrap();
    let topic = broker.unique_topic("rest-initial", 1);

    for (initial, connector, tasks) in [
        ("PAUSED", "PAUSED", &["PAUSED"][..]),
        ("stopped", "STOPPED", &[][..]),
        ("Running", "RUNNING", &["RUNNING"][..]),
    ] {
        let name = unique_name("initial");
        let (status, body) = rest.post(
            "/connectors",
            &json!({"name": name, "config": source_config(&input, &topic),
                    "initial_state": initial}),
        );
        assert_eq!(status, 201, "{initial}: {body}");
        wait_status(rest, &name, connector, tasks);
    }

    let (status, body) = rest.post(
        "/connectors",
        &json!({"name": "bad-state", "config": source_config(&input, &topic),
                "initial_state": "SLEEPING"}),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error_code"], 400, "{body}");
}

#[test]
fn list_expands_status_and_info() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let input = ferry.dir().join("in.txt");
    fs::write(&input, "").unwrap();
    let topic = broker.unique_topic("rest-expand", 1);
    let names = [unique_name("a"), unique_name("b")];
    for name in &names {
        create(rest, name, source_config(&input, &topic));
    }
    let statuses: Vec<Value> = names
        .iter()
        .map(|n| wait_status(rest, n, "RUNNING", &["RUNNING"]))
        .collect();
    let infos: Vec<Value> = names
        .iter()
        .map(|n| rest.get(&format!("/connectors/{n}")).1)
        .collect();

    let (status, mut listed) = rest.get("/connectors");
    assert_eq!(status, 200);
    listed
        .as_array_mut()
        .unwrap()
        .sort_by_key(|v| v.to_string());
    assert_eq!(listed, json!(names));

    let expect = |status: bool, info: bool| -> Value {
        let mut out = serde_json::Map::new();
        for (i, name) in names.iter().enumerate() {
            let mut entry = serde_json::Map::new();
            if status {
                entry.insert("status".into(), statuses[i].clone());
            }
            if info {
                entry.insert("info".into(), infos[i].clone());
            }
            out.insert(name.clone(), Value::Object(entry));
        }
        Value::Object(out)
    };
    assert_eq!(
        rest.get("/connectors?expand=status"),
        (200, expect(true, false))
    );
    assert_eq!(
        rest.get("/connectors?expand=info"),
        (200, expect(false, true))
    );
    assert_eq!(
        rest.get("/connectors?expand=status&expand=info"),
        (200, expect(true, true))
    );
    // Unknown expansions are ignored.
    assert_eq!(
        rest.get("/connectors?expand=info&expand=bogus"),
        (200, expect(false, true))
    );
}

#[test]
fn unknown_connector_is_404_connector_not_found() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let name = unique_name("ghost");
    let not_found = (404, error(404, &format!("Connector {name} not found")));

    for path in ["", "/config", "/tasks", "/tasks-config"] {
        assert_eq!(
            rest.get(&format!("/connectors/{name}{path}")),
            not_found,
            "GET {path}"
        );
    }
    assert_eq!(
        rest.get(&format!("/connectors/{name}/tasks/0/status")),
        (
            404,
            error(404, &format!("No status found for task {name}-0"))
        )
    );
    assert_eq!(
        rest.request(
            "PATCH",
            &format!("/connectors/{name}/config"),
            Some(&json!({"tasks.max": "2"}))
        )
        .unwrap(),
        not_found,
        "PATCH config"
    );
    assert_eq!(
        rest.delete(&format!("/connectors/{name}")),
        not_found,
        "DELETE"
    );
    assert_eq!(
        rest.request("POST", &format!("/connectors/{name}/restart"), None)
            .unwrap(),
        not_found,
        "restart"
    );
    assert_eq!(
        rest.request(
            "POST",
            &format!("/connectors/{name}/restart?includeTasks=true"),
            None
        )
        .unwrap(),
        not_found,
        "restart?includeTasks=true"
    );
}

/// Connect answers an unknown connector's status from the status store:
/// `NotFoundException("No status found for connector " + name)` in `AbstractHerder.connectorStatus`
/// — the message scripts around Connect test for.
#[test]
fn unknown_connector_status_is_404_no_status_found() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let name = unique_name("ghost");
    assert_eq!(
        ferry.rest().get(&format!("/connectors/{name}/status")),
        (
            404,
            error(404, &format!("No status found for connector {name}"))
        )
    );
}

#[test]
fn put_config_creates_then_updates_and_patch_deletes_keys() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let output = ferry.dir().join("out.txt");
    let topic = broker.unique_topic("rest-put", 1);
    let name = unique_name("sink");
    let path = format!("/connectors/{name}/config");

    let created = raw(
        rest,
        "PUT",
        &path,
        "application/json",
        &sink_config(&output, &topic).to_string(),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(
        created
            .location
            .as_deref()
            .is_some_and(|l| l.ends_with(&format!("/connectors/{name}"))),
        "Location {:?}",
        created.location
    );
    let mut config = sink_config(&output, &topic);
    config["name"] = json!(name);
    assert_eq!(
        created.body,
        json!({"name": name, "config": config, "tasks": [{"connector": name, "task": 0}],
               "type": "sink"})
    );

    let mut updated = sink_config(&output, &topic);
    updated["tasks.max"] = json!(1);
    updated["errors.tolerance"] = json!("all");
    let (status, body) = rest.put(&path, &updated);
    assert_eq!(status, 200, "{body}");
    let mut expected = updated.clone();
    expected["tasks.max"] = json!("1");
    expected["name"] = json!(name);
    assert_eq!(body["config"], expected);
    assert_eq!(rest.get(&path), (200, expected.clone()));

    // PUT with a different name in the body: 400.
    let mut renamed = updated.clone();
    renamed["name"] = json!("someone-else");
    let (status, body) = rest.put(&path, &renamed);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error_code"], 400);

    // PATCH: null deletes, a value sets; the answer is the patched ConnectorInfo.
    let (status, body) = rest
        .request(
            "PATCH",
            &path,
            Some(&json!({"errors.tolerance": null, "errors.log.enable": true})),
        )
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let mut patched = expected.clone();
    patched.as_object_mut().unwrap().remove("errors.tolerance");
    patched["errors.log.enable"] = json!("true");
    assert_eq!(body["name"], name.as_str());
    assert_eq!(body["config"], patched);
    assert_eq!(body["type"], "sink");
    assert_eq!(rest.get(&path), (200, patched));
    wait_status(rest, &name, "RUNNING", &["RUNNING"]);

    // A PATCH that makes the config invalid is refused and changes nothing.
    let (status, body) = rest
        .request("PATCH", &path, Some(&json!({"tasks.max": "0"})))
        .unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with(INVALID_CONFIG_PREFIX) && m.contains("tasks.max")),
        "{body}"
    );
}

#[test]
fn pause_resume_stop_answer_connect_status_codes() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let input = ferry.dir().join("in.txt");
    fs::write(&input, "").unwrap();
    let topic = broker.unique_topic("rest-pause", 1);
    let name = unique_name("src");
    create(rest, &name, source_config(&input, &topic));
    wait_status(rest, &name, "RUNNING", &["RUNNING"]);
    let c = format!("/connectors/{name}");

    assert_eq!(rest.put_empty(&format!("{c}/pause")), (202, Value::Null));
    wait_status(rest, &name, "PAUSED", &["PAUSED"]);
    // Idempotent.
    assert_eq!(rest.put_empty(&format!("{c}/pause")), (202, Value::Null));
    wait_status(rest, &name, "PAUSED", &["PAUSED"]);

    assert_eq!(rest.put_empty(&format!("{c}/resume")), (202, Value::Null));
    wait_status(rest, &name, "RUNNING", &["RUNNING"]);

    assert_eq!(rest.put_empty(&format!("{c}/stop")), (204, Value::Null));
    wait_status(rest, &name, "STOPPED", &[]);
    let (_, info) = rest.get(&c);
    assert_eq!(info["tasks"], json!([]), "{info}");
    assert_eq!(rest.get(&format!("{c}/tasks")), (200, json!([])));

    // Resume works from STOPPED too, and brings the tasks back.
    assert_eq!(rest.put_empty(&format!("{c}/resume")), (202, Value::Null));
    wait_status(rest, &name, "RUNNING", &["RUNNING"]);
    let (_, info) = rest.get(&c);
    assert_eq!(
        info["tasks"],
        json!([{"connector": name, "task": 0}]),
        "{info}"
    );
}

#[test]
fn restart_variants_answer_204_or_202_with_restarting_status() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let input = ferry.dir().join("in.txt");
    fs::write(&input, "").unwrap();
    let topic = broker.unique_topic("rest-restart", 1);
    let name = unique_name("src");
    create(rest, &name, source_config(&input, &topic));
    let running = wait_status(rest, &name, "RUNNING", &["RUNNING"]);
    let worker_id = running["connector"]["worker_id"].clone();
    let c = format!("/connectors/{name}");
    let post = |path: &str| rest.request("POST", path, None).unwrap();
    let status_body = |connector: &str, task: &str| {
        json!({
            "name": name,
            "connector": {"state": connector, "worker_id": worker_id},
            "tasks": [{"id": 0, "state": task, "worker_id": worker_id}],
            "type": "source",
        })
    };

    assert_eq!(post(&format!("{c}/restart")), (204, Value::Null));
    wait_status(rest, &name, "RUNNING", &["RUNNING"]);

    assert_eq!(
        post(&format!("{c}/restart?includeTasks=true")),
        (202, status_body("RESTARTING", "RESTARTING"))
    );
    wait_status(rest, &name, "RUNNING", &["RUNNING"]);

    assert_eq!(
        post(&format!("{c}/restart?includeTasks=false&onlyFailed=false")),
        (204, Value::Null)
    );
    wait_status(rest, &name, "RUNNING", &["RUNNING"]);

    // onlyFailed with nothing failed: 202 and nothing restarts.
    assert_eq!(
        post(&format!("{c}/restart?onlyFailed=true")),
        (202, status_body("RUNNING", "RUNNING"))
    );
    assert_eq!(
        post(&format!("{c}/restart?includeTasks=true&onlyFailed=true")),
        (202, status_body("RUNNING", "RUNNING"))
    );

    assert_eq!(post(&format!("{c}/tasks/0/restart")), (204, Value::Null));
    wait_status(rest, &name, "RUNNING", &["RUNNING"]);
    let (status, body) = post(&format!("{c}/tasks/7/restart"));
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error_code"], 404, "{body}");
}

#[test]
fn restart_only_failed_restarts_just_the_failed_task() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let output = ferry.dir().join("missing-dir").join("out.txt");
    let topic = broker.unique_topic("rest-only-failed", 1);
    let name = unique_name("sink");
    create(rest, &name, sink_config(&output, &topic));
    let failed = wait_status(rest, &name, "RUNNING", &["FAILED"]);
    let worker_id = failed["connector"]["worker_id"].clone();

    // onlyFailed without includeTasks: the connector is not failed, so nothing restarts.
    let (status, body) = rest
        .request(
            "POST",
            &format!("/connectors/{name}/restart?onlyFailed=true"),
            None,
        )
        .unwrap();
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["connector"]["state"], "RUNNING", "{body}");
    assert_eq!(body["tasks"][0]["state"], "FAILED", "{body}");

    let (status, body) = rest
        .request(
            "POST",
            &format!("/connectors/{name}/restart?includeTasks=true&onlyFailed=true"),
            None,
        )
        .unwrap();
    assert_eq!(
        (status, body),
        (
            202,
            json!({
                "name": name,
                "connector": {"state": "RUNNING", "worker_id": worker_id},
                "tasks": [{"id": 0, "state": "RESTARTING", "worker_id": worker_id}],
                "type": "sink",
            })
        )
    );
}

#[test]
fn delete_answers_204_then_404() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let input = ferry.dir().join("in.txt");
    fs::write(&input, "").unwrap();
    let topic = broker.unique_topic("rest-delete", 1);
    let name = unique_name("src");
    create(rest, &name, source_config(&input, &topic));
    wait_status(rest, &name, "RUNNING", &["RUNNING"]);

    assert_eq!(
        rest.delete(&format!("/connectors/{name}")),
        (204, Value::Null)
    );
    assert_eq!(
        rest.get(&format!("/connectors/{name}")),
        (404, error(404, &format!("Connector {name} not found")))
    );
    assert_eq!(
        rest.delete(&format!("/connectors/{name}")),
        (404, error(404, &format!("Connector {name} not found")))
    );
    assert_eq!(rest.get("/connectors"), (200, json!([])));
    // The name is free again.
    create(rest, &name, source_config(&input, &topic));
}

#[test]
fn topics_track_what_flowed_and_reset() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let input = ferry.dir().join("in.txt");
    fs::write(&input, "one\ntwo\n").unwrap();
    let topic = broker.unique_topic("rest-topics", 1);
    let name = unique_name("src");
    create(rest, &name, source_config(&input, &topic));
    assert_eq!(values(&broker, &topic, 2), ["one", "two"]);

    let path = format!("/connectors/{name}/topics");
    let expected = json!({ name.clone(): {"topics": [topic]} });
    wait_until(DEFAULT_TIMEOUT, "the active topic to be tracked", || {
        (rest.get(&path) == (200, expected.clone())).then_some(())
    });

    // Reset is allowed on a running connector; Connect answers 202 without a body.
    assert_eq!(rest.put_empty(&format!("{path}/reset")), (202, Value::Null));
    assert_eq!(
        rest.get(&path),
        (200, json!({ name.clone(): {"topics": []} }))
    );
}

#[test]
fn source_offsets_read_alter_and_reset() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let input = ferry.dir().join("in.txt");
    let lines = ["alpha", "beta", "gamma"];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    fs::write(&input, &text).unwrap();
    let filename = input.display().to_string();
    let topic = broker.unique_topic("rest-src-offsets", 1);
    let name = unique_name("src");
    create(rest, &name, source_config(&input, &topic));
    assert_eq!(values(&broker, &topic, 3), lines);

    let offsets_path = format!("/connectors/{name}/offsets");
    let offset_at = |position: usize| json!({"offsets": [{"partition": {"filename": filename}, "offset": {"position": position}}]});
    wait_offsets(rest, &name, &offset_at(text.len()));

    // Changing offsets of a running connector: 400.
    let after_alpha = "alpha\n".len();
    let must_stop = (400, error(400, MUST_BE_STOPPED));
    assert_eq!(
        rest.request("PATCH", &offsets_path, Some(&offset_at(after_alpha)))
            .unwrap(),
        must_stop
    );
    assert_eq!(rest.delete(&offsets_path), must_stop);

    assert_eq!(
        rest.put_empty(&format!("/connectors/{name}/stop")),
        (204, Value::Null)
    );
    wait_status(rest, &name, "STOPPED", &[]);

    // An empty PATCH body is a 400.
    let (status, body) = rest
        .request("PATCH", &offsets_path, Some(&json!({})))
        .unwrap();
    assert_eq!(status, 400, "{body}");

    assert_eq!(
        rest.request("PATCH", &offsets_path, Some(&offset_at(after_alpha)))
            .unwrap(),
        (
            200,
            json!({"message": "The offsets for this connector have been altered successfully"})
        )
    );
    assert_eq!(rest.get(&offsets_path), (200, offset_at(after_alpha)));

    // The altered offset is where the task resumes: beta and gamma again.
    assert_eq!(
        rest.put_empty(&format!("/connectors/{name}/resume")),
        (202, Value::Null)
    );
    assert_eq!(
        values(&broker, &topic, 5),
        ["alpha", "beta", "gamma", "beta", "gamma"]
    );
    wait_offsets(rest, &name, &offset_at(text.len()));

    assert_eq!(
        rest.put_empty(&format!("/connectors/{name}/stop")),
        (204, Value::Null)
    );
    wait_status(rest, &name, "STOPPED", &[]);
    assert_eq!(
        rest.delete(&offsets_path),
        (
            200,
            json!({"message": "The offsets for this connector have been reset successfully"})
        )
    );
    assert_eq!(rest.get(&offsets_path), (200, json!({"offsets": []})));

    // With no offset the task reads the file from the start.
    assert_eq!(
        rest.put_empty(&format!("/connectors/{name}/resume")),
        (202, Value::Null)
    );
    assert_eq!(
        values(&broker, &topic, 8),
        ["alpha", "beta", "gamma", "beta", "gamma", "alpha", "beta", "gamma"]
    );
}

#[test]
fn sink_offsets_are_the_consumer_positions() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let output = ferry.dir().join("out.txt");
    let topic = broker.unique_topic("rest-sink-offsets", 1);
    broker.produce_values(&topic, &["r0", "r1", "r2"]);
    let name = unique_name("sink");
    create(rest, &name, sink_config(&output, &topic));

    assert_eq!(wait_file_lines(&output, 3), ["r0", "r1", "r2"]);
    wait_offsets(
        rest,
        &name,
        &json!({"offsets": [{"partition": {"kafka_topic": topic, "kafka_partition": 0},
                             "offset": {"kafka_offset": 3}}]}),
    );
    let (status, body) = rest
        .request(
            "PATCH",
            &format!("/connectors/{name}/offsets"),
            Some(
                &json!({"offsets": [{"partition": {"kafka_topic": topic, "kafka_partition": 0},
                                      "offset": {"kafka_offset": 1}}]}),
            ),
        )
        .unwrap();
    assert_eq!((status, body), (400, error(400, MUST_BE_STOPPED)));
}

#[test]
fn connector_plugins_list_and_config_definitions() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();

    let (status, plugins) = rest.get("/connector-plugins");
    assert_eq!(status, 200);
    let classes: Vec<(&str, &str)> = plugins
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["class"].as_str().unwrap(), p["type"].as_str().unwrap()))
        .collect();
    assert!(classes.contains(&(SOURCE_CLASS, "source")), "{plugins}");
    assert!(classes.contains(&(SINK_CLASS, "sink")), "{plugins}");
    assert!(
        classes.iter().all(|(_, t)| *t == "source" || *t == "sink"),
        "connectors only by default: {plugins}"
    );
    assert_eq!(
        rest.get("/connector-plugins?connectorsOnly=true"),
        (200, plugins.clone())
    );

    let (status, all) = rest.get("/connector-plugins?connectorsOnly=false");
    assert_eq!(status, 200);
    let all: Vec<(String, String)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["class"].as_str().unwrap().to_owned(),
                p["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (class, kind) in [
        (SOURCE_CLASS, "source"),
        (SINK_CLASS, "sink"),
        (STRING_CONVERTER, "converter"),
        ("org.apache.kafka.connect.json.JsonConverter", "converter"),
        (
            "org.apache.kafka.connect.converters.ByteArrayConverter",
            "converter",
        ),
        (
            "org.apache.kafka.connect.transforms.InsertField$Value",
            "transformation",
        ),
        (
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
            "predicate",
        ),
    ] {
        assert!(
            all.contains(&(class.to_owned(), kind.to_owned())),
            "{class} ({kind}) missing from {all:?}"
        );
    }

    let (status, def) = rest.get("/connector-plugins/FileStreamSource/config");
    assert_eq!(status, 200, "{def}");
    let names: Vec<&str> = def
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    // The plugin's own keys first, then the framework's.
    assert_eq!(names[..3], ["file", "topic", "batch.size"], "{names:?}");
    for key in ["name", "connector.class", "tasks.max"] {
        assert!(names.contains(&key), "{key} missing: {names:?}");
    }
    let topic_key = &def[1];
    assert_eq!(topic_key["type"], "STRING");
    assert_eq!(topic_key["required"], true);
    assert_eq!(topic_key["default_value"], Value::Null);
    assert_eq!(topic_key["importance"], "HIGH");
    let batch = &def[2];
    assert_eq!(batch["type"], "INT");
    assert_eq!(batch["default_value"], "2000");
    for alias in ["FileStreamSourceConnector", SOURCE_CLASS] {
        assert_eq!(
            rest.get(&format!("/connector-plugins/{alias}/config")),
            (200, def.clone()),
            "{alias}"
        );
    }
    let (status, body) = rest.get("/connector-plugins/NoSuchPlugin/config");
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error_code"], 404, "{body}");
}

#[test]
fn validate_reports_errors_in_config_infos_shape() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();

    let (status, infos) = rest.put(
        "/connector-plugins/FileStreamSource/config/validate",
        &json!({"connector.class": "FileStreamSource", "name": "v", "tasks.max": "0"}),
    );
    assert_eq!(status, 200, "{infos}");
    assert_eq!(infos["name"], "FileStreamSource", "echoes connector.class");
    let groups = infos["groups"].as_array().expect("groups");
    assert!(groups.contains(&json!("Common")), "{groups:?}");
    let configs = infos["configs"].as_array().expect("configs");
    let total_errors: usize = configs
        .iter()
        .map(|c| c["value"]["errors"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(infos["error_count"], total_errors, "{infos}");
    assert_eq!(total_errors, 2, "tasks.max and topic: {infos}");

    for c in configs {
        let d = c["definition"].as_object().expect("definition object");
        let mut keys: Vec<&str> = d.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "default_value",
                "dependents",
                "display_name",
                "documentation",
                "group",
                "importance",
                "name",
                "order",
                "required",
                "type",
                "width"
            ],
            "{c}"
        );
        let v = c["value"].as_object().expect("value object");
        let mut keys: Vec<&str> = v.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["errors", "name", "recommended_values", "value", "visible"],
            "{c}"
        );
    }
    let entry = |name: &str| -> &Value {
        configs
            .iter()
            .find(|c| c["definition"]["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {infos}"))
    };
    assert_eq!(
        entry("tasks.max")["value"],
        json!({"name": "tasks.max", "value": "0", "recommended_values": [],
               "errors": ["Invalid value 0 for configuration tasks.max: Value must be at least 1"],
               "visible": true})
    );
    let tasks_def = &entry("tasks.max")["definition"];
    assert_eq!(tasks_def["type"], "INT");
    assert_eq!(tasks_def["default_value"], "1");
    assert_eq!(tasks_def["group"], "Common");
    assert_eq!(tasks_def["order"], 3);
    assert_eq!(tasks_def["width"], "SHORT");
    assert_eq!(tasks_def["display_name"], "Tasks max");
    assert_eq!(
        entry("topic")["value"]["errors"],
        json!(["Missing required configuration \"topic\" which has no default value."])
    );

    // No connector.class, or a class that is not the path's plugin: 400.
    let (status, body) = rest.put(
        "/connector-plugins/FileStreamSource/config/validate",
        &json!({"topic": "t"}),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = rest.put(
        "/connector-plugins/FileStreamSource/config/validate",
        &json!({"connector.class": "FileStreamSink", "topics": "t"}),
    );
    assert_eq!(status, 400, "{body}");
}

#[test]
fn admin_loggers_get_and_set_levels() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let logger = "org.apache.kafka.connect.runtime";

    let (status, loggers) = rest.get("/admin/loggers");
    assert_eq!(status, 200);
    assert!(loggers["root"]["level"].is_string(), "{loggers}");
    assert!(loggers.get(logger).is_none(), "{loggers}");

    assert_eq!(
        rest.put(
            &format!("/admin/loggers/{logger}"),
            &json!({"level": "DEBUG"})
        ),
        (200, json!([logger]))
    );
    let (status, got) = rest.get(&format!("/admin/loggers/{logger}"));
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["level"], "DEBUG");
    assert!(
        got["last_modified"].as_i64().is_some_and(|t| t > 0),
        "{got}"
    );
    let (_, loggers) = rest.get("/admin/loggers");
    assert_eq!(loggers[logger], got, "{loggers}");
    assert_eq!(loggers["root"]["last_modified"], Value::Null, "{loggers}");

    assert_eq!(
        rest.put(
            &format!("/admin/loggers/{logger}"),
            &json!({"level": "LOUD"})
        ),
        (404, error(404, "invalid log level 'LOUD'."))
    );
    assert_eq!(
        rest.put(&format!("/admin/loggers/{logger}"), &json!({})),
        (
            400,
            error(
                400,
                "Desired 'level' parameter was not specified in request."
            )
        )
    );
    let (status, body) = rest.get("/admin/loggers/never.set.anywhere");
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error_code"], 404, "{body}");
}
