//! Proves the harness and the broker: what is produced comes back byte for
//! byte, with keys, headers and per-partition order intact.

use std::collections::BTreeMap;

use ferry_integration::{
    append_lines, unique_name, write_lines, Ferry, Record, TestBroker, DEFAULT_TIMEOUT,
};
use serde_json::json;

const RECORDS: usize = 1000;
const PARTITIONS: i32 = 3;

fn record(i: usize) -> Record {
    Record::keyed(format!("key-{}", i % 17), format!("value-{i:04}"))
        .with_header("seq", i.to_string())
        .with_header("source", "smoke")
}

#[test]
fn produced_records_come_back_exactly_in_partition_order() {
    let broker = TestBroker::from_env();
    let topic = broker.unique_topic("smoke", PARTITIONS);

    broker.produce(&topic, (0..RECORDS).map(record));
    let got = broker.wait_for_records(&topic, RECORDS as i64, DEFAULT_TIMEOUT);

    assert_eq!(got.len(), RECORDS);
    let mut partitions_of_key: BTreeMap<String, i32> = BTreeMap::new();
    let mut by_partition: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    for r in &got {
        let seq: usize = std::str::from_utf8(r.header("seq").expect("seq header"))
            .expect("utf-8")
            .parse()
            .expect("number");
        let sent = record(seq);
        assert_eq!(r.key, sent.key, "key of record {seq}");
        assert_eq!(r.value, sent.value, "value of record {seq}");
        assert_eq!(r.headers, sent.headers, "headers of record {seq}");
        assert_eq!(r.topic, topic);
        // One key always lands on one partition.
        let p = *partitions_of_key
            .entry(r.key_str().to_owned())
            .or_insert(r.partition);
        assert_eq!(p, r.partition, "key {} on two partitions", r.key_str());
        by_partition.entry(r.partition).or_default().push(seq);
    }

    // Every record exactly once, and each partition holds its records in send order
    // at consecutive offsets from 0.
    let mut all: Vec<usize> = by_partition.values().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..RECORDS).collect::<Vec<_>>());
    for (p, seqs) in &by_partition {
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "partition {p} out of send order"
        );
        let offsets: Vec<i64> = got
            .iter()
            .filter(|r| r.partition == *p)
            .map(|r| r.offset)
            .collect();
        assert_eq!(
            offsets,
            (0..seqs.len() as i64).collect::<Vec<_>>(),
            "offsets of partition {p}"
        );
    }
    assert!(
        by_partition.len() > 1,
        "17 keys should spread over {PARTITIONS} partitions"
    );
}

#[test]
fn null_key_and_value_and_timestamps_round_trip() {
    let broker = TestBroker::from_env();
    let topic = broker.unique_topic("smoke-nulls", 1);
    let sent = vec![
        Record::default()
            .with_partition(0)
            .with_timestamp(1_700_000_000_000),
        Record::keyed("k", "")
            .with_partition(0)
            .with_timestamp(1_700_000_000_001),
        Record {
            headers: vec![("empty".to_owned(), None)],
            ..Record::value("v")
                .with_partition(0)
                .with_timestamp(1_700_000_000_002)
        },
    ];
    broker.produce(&topic, sent.clone());
    let got = broker.wait_for_records(&topic, 3, DEFAULT_TIMEOUT);

    let got: Vec<_> = got
        .iter()
        .map(|r| {
            (
                r.offset,
                r.key.clone(),
                r.value.clone(),
                r.headers.clone(),
                r.timestamp.to_millis(),
            )
        })
        .collect();
    let expected: Vec<_> = sent
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                i as i64,
                s.key.clone(),
                s.value.clone(),
                s.headers.clone(),
                s.timestamp,
            )
        })
        .collect();
    assert_eq!(got, expected);
}

/// The `Ferry` handle itself: start, REST, restart, a JSON connector file,
/// terminate and kill.
#[test]
fn ferry_handle_starts_restarts_runs_a_connector_and_stops() {
    let broker = TestBroker::from_env();
    let topic = broker.unique_topic("smoke-ferry", 1);
    let name = unique_name("smoke-source");
    let builder = Ferry::builder(&broker).worker(
        "value.converter",
        "org.apache.kafka.connect.storage.StringConverter",
    );
    let input = builder.dir().join("in.txt");
    write_lines(&input, &["one", "two"]);
    let mut ferry = builder
        .connector_json(&json!({
            "name": name,
            "config": {
                "connector.class": "FileStreamSource",
                "tasks.max": "1",
                "file": input.display().to_string(),
                "topic": topic,
            }
        }))
        .start();

    let (status, root) = ferry.rest().get("/");
    assert_eq!(status, 200);
    assert!(root["version"].is_string(), "GET / body: {root}");
    let running = ferry.wait_connector_running(&name);
    assert_eq!(running["name"], json!(name));
    let values = |records: Vec<ferry_integration::ConsumedRecord>| -> Vec<String> {
        records.iter().map(|r| r.value_str().to_owned()).collect()
    };
    assert_eq!(
        values(broker.wait_for_records(&topic, 2, DEFAULT_TIMEOUT)),
        ["one", "two"]
    );

    let first_pid = ferry.pid();
    ferry.restart();
    assert_ne!(ferry.pid(), first_pid);
    ferry.wait_connector_running(&name);
    append_lines(&input, &["three"]);
    assert_eq!(
        values(broker.wait_for_records(&topic, 3, DEFAULT_TIMEOUT)),
        ["one", "two", "three"]
    );

    ferry.terminate();
    assert!(!ferry.is_running());
    assert!(
        ferry.rest().request("GET", "/", None).is_err(),
        "REST still answers after exit"
    );
    ferry.restart();
    ferry.kill9();
    assert!(!ferry.is_running());
}
