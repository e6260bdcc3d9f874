//! Migration from Kafka Connect: a Ferry worker started on internal topics that a Java Connect
//! cluster wrote (records built from COMPAT §3.2/§3.3, byte for byte as Java writes them)
//! lists the connectors with their configs, keeps a STOPPED connector stopped with its task set
//! empty, shows its offsets, and resumes a running source from the offset Java committed.
//!
//! Skipped when `FERRY_TEST_BOOTSTRAP` is unset.

use std::collections::BTreeSet;

use ferry_integration::distributed::{distributed_broker, numbered, ClusterProps};
use ferry_integration::{wait_until_ok, write_lines, Record, DEFAULT_TIMEOUT};
use serde_json::{json, Value};

const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

#[test]
fn a_cluster_started_on_java_connects_topics_serves_and_resumes_its_connectors() {
    let Some(broker) = distributed_broker(
        "a_cluster_started_on_java_connects_topics_serves_and_resumes_its_connectors",
    ) else {
        return;
    };
    let cluster = ClusterProps::new(&broker, "dist-java");
    let group = cluster.group().to_owned();
    let (configs, offsets) = (format!("{group}-configs"), format!("{group}-offsets"));
    let compact = [("cleanup.policy", "compact")];
    broker.create_topic_with_config(&configs, 1, &compact);
    broker.create_topic_with_config(&offsets, 3, &compact);
    broker.create_topic_with_config(&format!("{group}-status"), 2, &compact);

    let dir = tempfile::tempdir().unwrap();
    let running_input = dir.path().join("running.txt");
    let stopped_input = dir.path().join("stopped.txt");
    let lines = numbered(0..10);
    write_lines(&running_input, &lines);
    write_lines(&stopped_input, &lines);
    let topic = broker.unique_topic("dist-java-out", 1);
    // Java committed the position after the first three lines of the running source.
    let committed: usize = lines[..3].iter().map(|l| l.len() + 1).sum();

    let running = "java-src";
    let stopped = "java-stopped";
    let running_config = json!({
        "connector.class": FILE_SOURCE, "name": running, "tasks.max": "1",
        "file": running_input.display().to_string(), "topic": topic,
    });
    let stopped_config = json!({
        "connector.class": FILE_SOURCE, "name": stopped, "tasks.max": "1",
        "file": stopped_input.display().to_string(), "topic": topic,
    });
    let running_task = json!({
        "task.class": "org.apache.kafka.connect.file.FileStreamSourceTask",
        "file": running_input.display().to_string(), "topic": topic, "batch.size": "2000",
    });
    let record = |key: &str, value: &Value| Record::keyed(key, value.to_string());
    broker.produce(
        &configs,
        [
            record(
                &format!("connector-{running}"),
                &json!({"properties": running_config}),
            ),
            record(
                &format!("task-{running}-0"),
                &json!({"properties": running_task}),
            ),
            record(&format!("commit-{running}"), &json!({"tasks": 1})),
            record(
                &format!("target-state-{running}"),
                &json!({"state": "STARTED", "state.v2": "STARTED"}),
            ),
            record(
                &format!("connector-{stopped}"),
                &json!({"properties": stopped_config}),
            ),
            record(&format!("commit-{stopped}"), &json!({"tasks": 0})),
            // Java downgrades STOPPED to PAUSED in `state` for old readers.
            record(
                &format!("target-state-{stopped}"),
                &json!({"state": "PAUSED", "state.v2": "STOPPED"}),
            ),
        ],
    );
    // Offsets keys as Java serialises them: ["<connector>",{<partition map>}].
    let offset_key = |connector: &str, file: &std::path::Path| {
        format!(r#"["{connector}",{{"filename":"{}"}}]"#, file.display())
    };
    broker.produce(
        &offsets,
        [
            Record::keyed(
                offset_key(running, &running_input),
                format!(r#"{{"position":{committed}}}"#),
            ),
            Record::keyed(offset_key(stopped, &stopped_input), r#"{"position":42}"#),
        ],
    );

    let workers = cluster.start_workers(1);
    let rest = workers[0].rest();

    let (_, names) = rest.get("/connectors");
    let names: BTreeSet<&str> = names
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(names, BTreeSet::from([running, stopped]));
    let (_, config) = rest.get(&format!("/connectors/{stopped}/config"));
    assert_eq!(config, stopped_config);
    let (_, tasks) = rest.get(&format!("/connectors/{stopped}/tasks"));
    assert_eq!(tasks, json!([]), "STOPPED keeps its empty task set");
    let (_, stopped_offsets) = rest.get(&format!("/connectors/{stopped}/offsets"));
    assert_eq!(
        stopped_offsets,
        json!({"offsets": [{
            "partition": {"filename": stopped_input.display().to_string()},
            "offset": {"position": 42},
        }]})
    );
    wait_until_ok(DEFAULT_TIMEOUT, "the STOPPED connector reported", || {
        let (_, status) = rest.get(&format!("/connectors/{stopped}/status"));
        (status["connector"]["state"] == "STOPPED")
            .then_some(())
            .ok_or(status.to_string())
    });

    // The running source resumes from Java's offset: exactly the lines after it, once.
    let got = wait_until_ok(DEFAULT_TIMEOUT, "the rest of the file in the topic", || {
        let values: Vec<String> = broker
            .consume_all(&topic, DEFAULT_TIMEOUT)
            .iter()
            .map(|r| r.value_str().to_owned())
            .collect();
        if values.len() >= lines.len() - 3 {
            Ok(values)
        } else {
            Err(format!("{} of {} lines", values.len(), lines.len() - 3))
        }
    });
    assert_eq!(got, lines[3..], "resumed after Java's committed position");
}
