//! Connector lifecycle end to end: a FileStreamSource → topic → FileStreamSink pipeline on the
//! real `ferry` binary and a real broker, driven through pause/resume, stop/resume, delete, task
//! failure and restart, a crash (SIGKILL) and a clean shutdown (SIGTERM).
//!
//! Every test starts its own worker and uses unique topics, so the tests run in parallel.

use std::fmt::Debug;
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use ferry_integration::{
    unique_name, wait_until_ok, Ferry, FerryBuilder, RestClient, TestBroker, DEFAULT_TIMEOUT,
};
use serde_json::{json, Value};

const STRING_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";

/// How long a "this must not happen" check watches: several source polls (200 ms idle wait),
/// sink fetches (20 ms) and offset flushes (200 ms). A hold, not synchronisation: the test
/// only proceeds early when the assertion has already failed.
const HOLD: Duration = Duration::from_millis(1500);

/// A worker with plain-string converters (topic bytes are the file's lines), quick fetches and
/// quick offset flushes.
fn worker(broker: &TestBroker) -> FerryBuilder {
    Ferry::builder(broker)
        .worker("key.converter", STRING_CONVERTER)
        .worker("value.converter", STRING_CONVERTER)
        .worker("offset.flush.interval.ms", "200")
        .worker("consumer.fetch.wait.max.ms", "20")
}

fn create(rest: &RestClient, name: &str, config: Value) {
    let (status, body) = rest.post("/connectors", &json!({"name": name, "config": config}));
    assert_eq!(status, 201, "create {name}: {body}");
}

fn create_source(rest: &RestClient, name: &str, file: &Path, topic: &str) {
    create(
        rest,
        name,
        json!({"connector.class": "FileStreamSource", "file": file.display().to_string(),
               "topic": topic}),
    );
}

fn create_sink(rest: &RestClient, name: &str, file: &Path, topic: &str) {
    create(
        rest,
        name,
        json!({"connector.class": "FileStreamSink", "file": file.display().to_string(),
               "topics": topic}),
    );
}

/// `PUT /connectors/{name}/{action}`, asserting Connect's status code for it.
fn lifecycle(rest: &RestClient, name: &str, action: &str) {
    let expected = match action {
        "pause" | "resume" => 202,
        "stop" => 204,
        other => panic!("unknown action {other}"),
    };
    assert_eq!(
        rest.put_empty(&format!("/connectors/{name}/{action}")),
        (expected, Value::Null),
        "{action} {name}"
    );
}

fn task_states(status: &Value) -> Vec<String> {
    status["tasks"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t["state"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until the connector and its tasks show these states; returns the status body.
fn wait_status(rest: &RestClient, name: &str, connector: &str, tasks: &[&str]) -> Value {
    wait_until_ok(
        DEFAULT_TIMEOUT,
        &format!("{name} to be {connector} with tasks {tasks:?}"),
        || {
            let (code, body) = rest.get(&format!("/connectors/{name}/status"));
            if code == 200 && body["connector"]["state"] == connector && task_states(&body) == tasks
            {
                Ok(body)
            } else {
                Err(format!("{code} {body}"))
            }
        },
    )
}

fn wait_offsets(rest: &RestClient, name: &str, expected: &Value) {
    wait_until_ok(
        DEFAULT_TIMEOUT,
        &format!("offsets of {name} to be {expected}"),
        || match rest.get(&format!("/connectors/{name}/offsets")) {
            (200, body) if &body == expected => Ok(()),
            (code, body) => Err(format!("{code} {body}")),
        },
    )
}

fn source_offsets(file: &Path, position: usize) -> Value {
    json!({"offsets": [{"partition": {"filename": file.display().to_string()},
                        "offset": {"position": position}}]})
}

fn sink_offsets(topic: &str, offset: usize) -> Value {
    json!({"offsets": [{"partition": {"kafka_topic": topic, "kafka_partition": 0},
                        "offset": {"kafka_offset": offset}}]})
}

fn append_lines<S: AsRef<str>>(path: &Path, lines: &[S]) {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    for line in lines {
        writeln!(file, "{}", line.as_ref()).expect("append a line");
    }
}

fn file_lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn wait_file_lines(path: &Path, count: usize) -> Vec<String> {
    wait_until_ok(
        DEFAULT_TIMEOUT,
        &format!("{count} lines in {}", path.display()),
        || {
            let lines = file_lines(path);
            if lines.len() >= count {
                Ok(lines)
            } else {
                Err(format!("{lines:?}"))
            }
        },
    )
}

fn topic_values(broker: &TestBroker, topic: &str, count: usize) -> Vec<String> {
    broker
        .wait_for_records(topic, count as i64, DEFAULT_TIMEOUT)
        .iter()
        .map(|r| r.value_str().to_owned())
        .collect()
}

/// Asserts that `probe` answers `expected` throughout [`HOLD`].
fn assert_holds<T: PartialEq + Debug>(what: &str, expected: &T, mut probe: impl FnMut() -> T) {
    let end = Instant::now() + HOLD;
    loop {
        let got = probe();
        assert_eq!(&got, expected, "{what}");
        if Instant::now() >= end {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

fn numbered(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}-{i:03}")).collect()
}

/// A source → topic → sink pipeline in one worker.
struct Pipeline {
    input: std::path::PathBuf,
    output: std::path::PathBuf,
    topic: String,
    source: String,
    sink: String,
}

impl Pipeline {
    fn create(broker: &TestBroker, ferry: &Ferry, prefix: &str) -> Pipeline {
        let p = Pipeline {
            input: ferry.dir().join("in.txt"),
            output: ferry.dir().join("out.txt"),
            topic: broker.unique_topic(prefix, 1),
            source: unique_name("src"),
            sink: unique_name("sink"),
        };
        fs::write(&p.input, "").unwrap();
        create_source(ferry.rest(), &p.source, &p.input, &p.topic);
        create_sink(ferry.rest(), &p.sink, &p.output, &p.topic);
        p
    }

    fn both(&self) -> [&str; 2] {
        [&self.source, &self.sink]
    }

    fn input_len(&self) -> usize {
        fs::metadata(&self.input).map_or(0, |m| m.len() as usize)
    }

    /// Waits until both connectors have committed everything written so far.
    fn wait_committed(&self, rest: &RestClient, lines: usize) {
        wait_offsets(
            rest,
            &self.source,
            &source_offsets(&self.input, self.input_len()),
        );
        wait_offsets(rest, &self.sink, &sink_offsets(&self.topic, lines));
    }
}

#[test]
fn paused_pipeline_holds_lines_back_then_delivers_them_once_in_order() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let p = Pipeline::create(&broker, &ferry, "life-pause");
    let first = numbered("before", 0..3);
    append_lines(&p.input, &first);
    assert_eq!(wait_file_lines(&p.output, 3), first);

    for name in p.both() {
        lifecycle(rest, name, "pause");
        wait_status(rest, name, "PAUSED", &["PAUSED"]);
    }
    let paused = numbered("paused", 0..5);
    append_lines(&p.input, &paused);
    assert_holds(
        "nothing reaches the topic or the sink while paused",
        &(3, first.clone()),
        || (broker.record_count(&p.topic), file_lines(&p.output)),
    );

    for name in p.both() {
        lifecycle(rest, name, "resume");
        wait_status(rest, name, "RUNNING", &["RUNNING"]);
    }
    let all: Vec<String> = first.iter().chain(&paused).cloned().collect();
    assert_eq!(wait_file_lines(&p.output, all.len()), all);
    assert_eq!(topic_values(&broker, &p.topic, all.len()), all);
    p.wait_committed(rest, all.len());
    assert_eq!(file_lines(&p.output), all, "no duplicates after commit");
    assert_eq!(broker.record_count(&p.topic), all.len() as i64);
}

#[test]
fn stopped_pipeline_resumes_from_committed_positions_without_duplicates() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let p = Pipeline::create(&broker, &ferry, "life-stop");
    let first = numbered("first", 0..4);
    append_lines(&p.input, &first);
    assert_eq!(wait_file_lines(&p.output, first.len()), first);
    p.wait_committed(rest, first.len());

    for name in p.both() {
        lifecycle(rest, name, "stop");
        wait_status(rest, name, "STOPPED", &[]);
    }
    let while_stopped = numbered("stopped", 0..4);
    append_lines(&p.input, &while_stopped);
    assert_holds(
        "nothing flows while stopped",
        &(first.len() as i64, first.clone()),
        || (broker.record_count(&p.topic), file_lines(&p.output)),
    );

    for name in p.both() {
        lifecycle(rest, name, "resume");
        wait_status(rest, name, "RUNNING", &["RUNNING"]);
    }
    let after = numbered("after", 0..2);
    append_lines(&p.input, &after);
    let all: Vec<String> = [first, while_stopped, after].concat();
    assert_eq!(wait_file_lines(&p.output, all.len()), all);
    assert_eq!(topic_values(&broker, &p.topic, all.len()), all);
    p.wait_committed(rest, all.len());
    assert_eq!(file_lines(&p.output), all);
}

#[test]
fn deleted_connector_is_gone_with_its_status_and_stops_reading() {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let input = ferry.dir().join("in.txt");
    let topic = broker.unique_topic("life-delete", 1);
    let name = unique_name("src");
    append_lines(&input, &["one", "two"]);
    create_source(rest, &name, &input, &topic);
    assert_eq!(topic_values(&broker, &topic, 2), ["one", "two"]);

    assert_eq!(
        rest.delete(&format!("/connectors/{name}")),
        (204, Value::Null)
    );
    let not_found = (
        404,
        json!({"error_code": 404, "message": format!("Connector {name} not found")}),
    );
    assert_eq!(rest.get(&format!("/connectors/{name}")), not_found);
    let (status, body) = rest.get(&format!("/connectors/{name}/status"));
    assert_eq!(status, 404, "status of a deleted connector: {body}");
    let (status, body) = rest.get(&format!("/connectors/{name}/tasks/0/status"));
    assert_eq!(status, 404, "task status of a deleted connector: {body}");
    assert_eq!(rest.get("/connectors"), (200, json!([])));
    let (_, expanded) = rest.get("/connectors?expand=status");
    assert_eq!(expanded, json!({}));

    append_lines(&input, &["three"]);
    assert_holds("a deleted connector reads nothing more", &2, || {
        broker.record_count(&topic)
    });
}

/// What makes the sink's `file` unusable, and how the test repairs it.
#[derive(Debug, Clone, Copy)]
enum Breakage {
    /// `file` is in a directory that does not exist; repaired by creating it.
    MissingDirectory,
    /// `file` is a directory; repaired by removing it.
    IsADirectory,
}

/// How the failed task is restarted.
#[derive(Debug, Clone, Copy)]
enum Restart {
    /// `POST /connectors/{c}/tasks/0/restart` → 204.
    Task,
    /// `POST /connectors/{c}/restart?includeTasks=true&onlyFailed=true` → 202.
    OnlyFailed,
}

fn failed_sink_recovers(breakage: Breakage, restart: Restart) {
    let broker = TestBroker::from_env();
    let ferry = worker(&broker).start();
    let rest = ferry.rest();
    let topic = broker.unique_topic("life-fail", 1);
    let records = numbered("rec", 0..3);
    broker.produce_values(&topic, &records);
    let output = match breakage {
        Breakage::MissingDirectory => ferry.dir().join("not-yet").join("out.txt"),
        Breakage::IsADirectory => {
            let dir = ferry.dir().join("out.txt");
            fs::create_dir(&dir).unwrap();
            dir
        }
    };
    let name = unique_name("sink");
    create_sink(rest, &name, &output, &topic);

    let failed = wait_until_ok(
        DEFAULT_TIMEOUT,
        &format!("task 0 of {name} to be FAILED"),
        || {
            let (_, body) = rest.get(&format!("/connectors/{name}/status"));
            let states = task_states(&body);
            assert!(
                !states.iter().any(|s| s == "RUNNING"),
                "{breakage:?}: a task that cannot open its file must never show RUNNING: {body}"
            );
            if states == ["FAILED"] {
                Ok(body)
            } else {
                Err(body.to_string())
            }
        },
    );
    assert_eq!(failed["connector"]["state"], "RUNNING", "{failed}");
    let trace = failed["tasks"][0]["trace"].as_str().unwrap_or_default();
    assert!(
        trace.contains(&output.display().to_string()),
        "{breakage:?}: the trace names the file: {failed}"
    );
    let (_, task) = rest.get(&format!("/connectors/{name}/tasks/0/status"));
    assert_eq!(task["state"], "FAILED", "{task}");
    assert_eq!(task["trace"], failed["tasks"][0]["trace"], "{task}");

    // A failed task stays failed until restarted.
    assert_holds("the task stays FAILED", &vec!["FAILED".to_owned()], || {
        task_states(&rest.get(&format!("/connectors/{name}/status")).1)
    });

    match breakage {
        Breakage::MissingDirectory => fs::create_dir(output.parent().unwrap()).unwrap(),
        Breakage::IsADirectory => fs::remove_dir(&output).unwrap(),
    }
    match restart {
        Restart::Task => assert_eq!(
            rest.request("POST", &format!("/connectors/{name}/tasks/0/restart"), None)
                .unwrap(),
            (204, Value::Null)
        ),
        Restart::OnlyFailed => {
            let (status, body) = rest
                .request(
                    "POST",
                    &format!("/connectors/{name}/restart?includeTasks=true&onlyFailed=true"),
                    None,
                )
                .unwrap();
            assert_eq!(status, 202, "{body}");
            assert_eq!(body["connector"]["state"], "RUNNING", "{body}");
            assert_eq!(task_states(&body), ["RESTARTING"], "{body}");
            assert!(body["tasks"][0].get("trace").is_none(), "{body}");
        }
    }
    let running = wait_status(rest, &name, "RUNNING", &["RUNNING"]);
    assert!(running["tasks"][0].get("trace").is_none(), "{running}");
    assert_eq!(wait_file_lines(&output, records.len()), records);
    let more = numbered("more", 0..2);
    broker.produce_values(&topic, &more);
    assert_eq!(wait_file_lines(&output, 5), [records, more].concat());
}

#[test]
fn sink_task_in_missing_directory_fails_then_recovers_after_task_restart() {
    failed_sink_recovers(Breakage::MissingDirectory, Restart::Task);
}

#[test]
fn sink_task_on_a_directory_fails_then_recovers_after_only_failed_restart() {
    failed_sink_recovers(Breakage::IsADirectory, Restart::OnlyFailed);
}

#[test]
fn sink_task_in_missing_directory_recovers_after_only_failed_restart() {
    failed_sink_recovers(Breakage::MissingDirectory, Restart::OnlyFailed);
}

#[test]
fn connectors_created_over_rest_survive_a_crash_and_restart() {
    let broker = TestBroker::from_env();
    // After a SIGKILL the sink's old group member is only evicted at its session timeout
    // (as in Kafka): keep it short so the restarted sink gets its partition soon.
    let mut ferry = worker(&broker)
        .worker("consumer.session.timeout.ms", "6000")
        .worker("consumer.heartbeat.interval.ms", "1000")
        .start();
    let p = Pipeline::create(&broker, &ferry, "life-crash");
    let paused_input = ferry.dir().join("paused.txt");
    let paused_topic = broker.unique_topic("life-crash-paused", 1);
    let paused = unique_name("paused");
    fs::write(&paused_input, "").unwrap();
    create_source(ferry.rest(), &paused, &paused_input, &paused_topic);
    lifecycle(ferry.rest(), &paused, "pause");
    wait_status(ferry.rest(), &paused, "PAUSED", &["PAUSED"]);

    let first = numbered("first", 0..3);
    append_lines(&p.input, &first);
    assert_eq!(wait_file_lines(&p.output, 3), first);
    p.wait_committed(ferry.rest(), 3);
    let configs: Vec<(u16, Value)> = [&p.source, &p.sink, &paused]
        .iter()
        .map(|n| ferry.rest().get(&format!("/connectors/{n}/config")))
        .collect();

    ferry.kill9();
    ferry.restart();
    let rest = ferry.rest();

    let (status, mut names) = rest.get("/connectors");
    assert_eq!(status, 200);
    names.as_array_mut().unwrap().sort_by_key(|v| v.to_string());
    let mut expected = vec![p.source.clone(), p.sink.clone(), paused.clone()];
    expected.sort();
    assert_eq!(names, json!(expected));
    for (n, config) in [&p.source, &p.sink, &paused].iter().zip(&configs) {
        assert_eq!(&rest.get(&format!("/connectors/{n}/config")), config, "{n}");
    }
    for name in p.both() {
        wait_status(rest, name, "RUNNING", &["RUNNING"]);
    }
    wait_status(rest, &paused, "PAUSED", &["PAUSED"]);

    let second = numbered("second", 0..3);
    append_lines(&p.input, &second);
    let all: Vec<String> = [first, second].concat();
    assert_eq!(topic_values(&broker, &p.topic, all.len()), all);
    assert_eq!(wait_file_lines(&p.output, all.len()), all);
    p.wait_committed(rest, all.len());
    assert_eq!(
        file_lines(&p.output),
        all,
        "no duplicates of committed lines"
    );
}

#[test]
fn a_connector_renamed_in_its_file_is_not_restored_under_its_old_name() {
    let broker = TestBroker::from_env();
    let builder = worker(&broker);
    let input = builder.dir().join("in.txt");
    fs::write(&input, "").unwrap();
    let (file_topic, rest_topic) = (
        broker.unique_topic("life-file", 1),
        broker.unique_topic("life-file-rest", 1),
    );
    let old_name = unique_name("file-src");
    let source_lines = |name: &str| {
        format!(
            "name={name}\nconnector.class=FileStreamSource\nfile={}\ntopic={file_topic}\n",
            input.display()
        )
    };
    let mut ferry = builder
        .connector_properties(&[
            ("name", &old_name),
            ("connector.class", "FileStreamSource"),
            ("file", &input.display().to_string()),
            ("topic", &file_topic),
        ])
        .start();
    let over_rest = unique_name("rest-src");
    create_source(ferry.rest(), &over_rest, &input, &rest_topic);
    wait_status(ferry.rest(), &old_name, "RUNNING", &["RUNNING"]);

    let new_name = unique_name("file-src");
    let file = ferry.dir().join(format!("{old_name}.properties"));
    fs::write(&file, source_lines(&new_name)).unwrap();
    ferry.restart();

    let (status, mut names) = ferry.rest().get("/connectors");
    assert_eq!(status, 200);
    names.as_array_mut().unwrap().sort_by_key(|v| v.to_string());
    let mut expected = vec![new_name.clone(), over_rest.clone()];
    expected.sort();
    assert_eq!(
        names,
        json!(expected),
        "the file's connector under its new name only"
    );
    wait_status(ferry.rest(), &new_name, "RUNNING", &["RUNNING"]);
    append_lines(&input, &["one"]);
    assert_eq!(topic_values(&broker, &file_topic, 1), ["one"]);
}

#[test]
fn sigterm_exits_zero_and_leaves_the_final_position_in_the_offsets_file() {
    let broker = TestBroker::from_env();
    // Only the shutdown flush can write the offsets file: the periodic flush is far away.
    let mut ferry = worker(&broker)
        .worker("offset.flush.interval.ms", "600000")
        .start();
    let input = ferry.dir().join("in.txt");
    let topic = broker.unique_topic("life-sigterm", 1);
    let name = unique_name("src");
    let first = numbered("line", 0..5);
    append_lines(&input, &first);
    create_source(ferry.rest(), &name, &input, &topic);
    assert_eq!(topic_values(&broker, &topic, first.len()), first);

    let status = ferry.terminate();
    assert_eq!(
        status.code(),
        Some(0),
        "exit status {status:?}; log:\n{}",
        ferry.log()
    );

    // The offsets file is Java serialization of a map of the offsets topic's key and value
    // bytes (COMPAT §3.5): both appear verbatim.
    let bytes = fs::read(ferry.offsets_file()).expect("the offsets file exists after SIGTERM");
    let key =
        serde_json::to_string(&json!([name, {"filename": input.display().to_string()}])).unwrap();
    let value = format!("{{\"position\":{}}}", fs::metadata(&input).unwrap().len());
    for wanted in [&key, &value] {
        assert!(
            bytes.windows(wanted.len()).any(|w| w == wanted.as_bytes()),
            "{wanted} missing from the offsets file: {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }

    ferry.restart();
    wait_status(ferry.rest(), &name, "RUNNING", &["RUNNING"]);
    let second = numbered("next", 0..3);
    append_lines(&input, &second);
    let all: Vec<String> = [first, second].concat();
    assert_eq!(topic_values(&broker, &topic, all.len()), all);
    assert_holds("no line is produced twice", &(all.len() as i64), || {
        broker.record_count(&topic)
    });
}
