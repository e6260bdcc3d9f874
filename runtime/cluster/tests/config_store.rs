//! The config topic against a real broker (FERRY_TEST_BOOTSTRAP): records as Java Connect
//! writes them (COMPAT §3.2) read back, and a Ferry-written sequence read by a fresh reader
//! with the exact records on the topic.

mod common;

use std::time::Duration;

use ferry_api::Props;
use ferry_cluster::store::config::{ConfigStore, RestartRequest, SessionKey};
use ferry_cluster::store::log::TopicLog;
use ferry_worker::herder::{TargetState, TaskId};

const TIMEOUT: Duration = Duration::from_secs(20);

fn client(bootstrap: &str) -> Props {
    [("bootstrap.servers".to_owned(), bootstrap.to_owned())].into()
}

fn props(pairs: &[(&str, &str)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

fn open(bootstrap: &str, topic: &str) -> ConfigStore {
    ConfigStore::open(&client(bootstrap), topic, 1, &Props::new(), TIMEOUT).unwrap()
}

/// Every (key, value) on the topic, in order, as text.
fn raw(bootstrap: &str, topic: &str) -> Vec<(String, Option<String>)> {
    let mut log = TopicLog::open(&client(bootstrap), topic, TIMEOUT).unwrap();
    log.read_to_end()
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                String::from_utf8(r.key.unwrap()).unwrap(),
                r.value.map(|v| String::from_utf8(v).unwrap()),
            )
        })
        .collect()
}

#[test]
fn reads_records_written_as_java_connect_writes_them() {
    let Some(bootstrap) = common::bootstrap("reads_records_written_as_java_connect_writes_them")
    else {
        return;
    };
    let topic = common::unique("connect-configs");
    let mut writer = open(&bootstrap, &topic);
    assert_eq!(
        writer.state().offset(),
        -1,
        "an empty topic has no config offset"
    );
    let java: Vec<(&str, Option<&str>)> = vec![
        (
            "connector-inventory",
            Some(
                r#"{"properties":{"connector.class":"io.debezium.connector.mysql.MySqlConnector","name":"inventory","tasks.max":"1","database.password":"${file:/secrets.properties:pw}"}}"#,
            ),
        ),
        (
            "task-inventory-0",
            Some(
                r#"{"properties":{"connector.class":"io.debezium.connector.mysql.MySqlConnector","task.class":"io.debezium.connector.mysql.MySqlConnectorTask","name":"inventory","tasks.max":"1"}}"#,
            ),
        ),
        ("commit-inventory", Some(r#"{"tasks":1}"#)),
        (
            "connector-jdbc-sink",
            Some(
                r#"{"properties":{"connector.class":"io.confluent.connect.jdbc.JdbcSinkConnector","name":"jdbc-sink","topics":"orders"}}"#,
            ),
        ),
        (
            "target-state-jdbc-sink",
            Some(r#"{"state":"PAUSED","state.v2":"STOPPED"}"#),
        ),
        ("commit-jdbc-sink", Some(r#"{"tasks":0}"#)),
        (
            "session-key",
            Some(
                r#"{"key":"MDEyMzQ1Njc4OWFiY2RlZg==","algorithm":"HmacSHA256","creation-timestamp":1700000000000}"#,
            ),
        ),
        (
            "restart-connector-inventory",
            Some(r#"{"include-tasks":true,"only-failed":true}"#),
        ),
        ("tasks-fencing-inventory", Some(r#"{"task-count":1}"#)),
        ("connector-gone", Some(r#"{"properties":{"name":"gone"}}"#)),
        ("connector-gone", None),
        ("target-state-gone", None),
    ];
    let records: Vec<(String, Option<Vec<u8>>)> = java
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.map(|v| v.as_bytes().to_vec())))
        .collect();
    let updates = writer.put_raw(&records).unwrap();
    assert_eq!(
        updates.restarts,
        vec![RestartRequest {
            connector: "inventory".into(),
            include_tasks: true,
            only_failed: true
        }]
    );

    let reader = open(&bootstrap, &topic);
    let state = reader.state();
    assert_eq!(state.offset(), java.len() as i64);
    assert_eq!(
        state.connector_names().collect::<Vec<_>>(),
        vec!["inventory", "jdbc-sink"]
    );
    assert_eq!(
        state.connector_config("inventory").unwrap()["database.password"],
        "${file:/secrets.properties:pw}",
        "placeholders stay unexpanded"
    );
    assert_eq!(state.target_state("inventory"), Some(TargetState::Started));
    assert_eq!(state.target_state("jdbc-sink"), Some(TargetState::Stopped));
    assert_eq!(state.task_count("inventory"), 1);
    assert_eq!(
        state
            .task_config(&TaskId {
                connector: "inventory".into(),
                task: 0
            })
            .unwrap()["task.class"],
        "io.debezium.connector.mysql.MySqlConnectorTask"
    );
    assert_eq!(state.task_count("jdbc-sink"), 0);
    assert_eq!(state.session_key().unwrap().key, b"0123456789abcdef");
    assert_eq!(state.fencing_count("inventory"), Some(1));
    assert!(state.inconsistent().is_empty());
}

#[test]
fn a_ferry_written_sequence_reads_back_and_is_byte_exact() {
    let Some(bootstrap) =
        common::bootstrap("a_ferry_written_sequence_reads_back_and_is_byte_exact")
    else {
        return;
    };
    let topic = common::unique("connect-configs");
    let started = std::time::Instant::now();
    let mut writer = open(&bootstrap, &topic);
    eprintln!(
        "create + open + read an empty config topic: {:?}",
        started.elapsed()
    );
    let config = props(&[
        ("connector.class", "FileStreamSource"),
        ("name", "my-src"),
        ("tasks.max", "2"),
    ]);
    writer
        .put_connector_config("my-src", &config, Some(TargetState::Paused))
        .unwrap();
    let tasks = vec![
        props(&[("task.class", "FileStreamSourceTask"), ("file", "a")]),
        props(&[("task.class", "FileStreamSourceTask"), ("file", "b")]),
    ];
    let started = std::time::Instant::now();
    writer.put_task_configs("my-src", &tasks).unwrap();
    eprintln!(
        "put_task_configs (2 tasks + commit, 2 acked writes, 2 reads to end): {:?}",
        started.elapsed()
    );
    assert_eq!(
        writer.state().task_configs("my-src"),
        tasks,
        "the writer sees its own writes"
    );
    writer
        .put_target_state("my-src", TargetState::Stopped)
        .unwrap();
    writer
        .put_restart_request(&RestartRequest {
            connector: "my-src".into(),
            include_tasks: false,
            only_failed: false,
        })
        .unwrap();
    writer
        .put_session_key(&SessionKey {
            key: vec![1, 2, 3],
            algorithm: "HmacSHA256".into(),
            creation_timestamp: 5,
        })
        .unwrap();
    writer
        .put_connector_config("other", &props(&[("name", "other")]), None)
        .unwrap();
    writer.remove_connector("other").unwrap();

    let expected: Vec<(&str, Option<&str>)> = vec![
        (
            "target-state-my-src",
            Some(r#"{"state":"PAUSED","state.v2":"PAUSED"}"#),
        ),
        (
            "connector-my-src",
            Some(
                r#"{"properties":{"connector.class":"FileStreamSource","name":"my-src","tasks.max":"2"}}"#,
            ),
        ),
        (
            "task-my-src-0",
            Some(r#"{"properties":{"file":"a","task.class":"FileStreamSourceTask"}}"#),
        ),
        (
            "task-my-src-1",
            Some(r#"{"properties":{"file":"b","task.class":"FileStreamSourceTask"}}"#),
        ),
        ("commit-my-src", Some(r#"{"tasks":2}"#)),
        ("commit-my-src", Some(r#"{"tasks":0}"#)),
        (
            "target-state-my-src",
            Some(r#"{"state":"PAUSED","state.v2":"STOPPED"}"#),
        ),
        (
            "restart-connector-my-src",
            Some(r#"{"include-tasks":false,"only-failed":false}"#),
        ),
        (
            "session-key",
            Some(r#"{"key":"AQID","algorithm":"HmacSHA256","creation-timestamp":5}"#),
        ),
        (
            "connector-other",
            Some(r#"{"properties":{"name":"other"}}"#),
        ),
        ("connector-other", None),
        ("target-state-other", None),
    ];
    let expected: Vec<(String, Option<String>)> = expected
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.map(str::to_owned)))
        .collect();
    assert_eq!(raw(&bootstrap, &topic), expected);

    let reader = open(&bootstrap, &topic);
    assert_eq!(
        reader.state(),
        writer.state(),
        "a fresh reader builds the writer's state"
    );
    let state = reader.state();
    assert_eq!(state.offset(), 12);
    assert_eq!(state.target_state("my-src"), Some(TargetState::Stopped));
    assert_eq!(state.task_count("my-src"), 0);
    assert_eq!(state.connector_names().collect::<Vec<_>>(), vec!["my-src"]);
    assert_eq!(state.session_key().unwrap().key, vec![1, 2, 3]);
}
