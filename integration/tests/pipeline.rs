//! End-to-end data tests of the file connectors through a real broker: every line arrives, in
//! order per partition, with the exact bytes JsonConverter writes; and a `kill -9` at any moment
//! loses nothing (duplicates only after the last committed position).

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use ferry_integration::{unique_name, wait_until, wait_until_ok, Ferry, TestBroker};

const LONG: Duration = Duration::from_secs(180);

fn lines(n: usize, prefix: &str) -> Vec<String> {
    (0..n)
        .map(|i| format!("{prefix}-{i:07}-{}", "x".repeat(i % 17)))
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write(path, text).unwrap();
}

fn read_lines(path: &Path) -> Vec<String> {
    match fs::read_to_string(path) {
        Ok(t) => t.lines().map(str::to_owned).collect(),
        Err(_) => Vec::new(),
    }
}

/// The payload of a JsonConverter envelope with a required string schema.
fn envelope(line: &str) -> String {
    format!(
        r#"{{"schema":{{"type":"string","optional":false}},"payload":{}}}"#,
        serde_json::to_string(line).unwrap()
    )
}

/// Asserts `got` is `expected[..a] ++ expected[c..]` for some `c <= a` — a prefix delivered
/// before a crash, then a resume from a committed position at or before where it got to.
fn assert_prefix_then_resume(got: &[String], expected: &[String], what: &str) {
    assert!(
        got.len() >= expected.len(),
        "{what}: {} lines, expected at least {}",
        got.len(),
        expected.len()
    );
    let a = got.iter().zip(expected).take_while(|(g, e)| g == e).count();
    let rest = &got[a..];
    if rest.is_empty() {
        assert_eq!(a, expected.len(), "{what}: missing lines at the end");
        return;
    }
    // With duplicates in `expected` a line can occur twice: take the resume point that explains
    // the whole tail.
    let c = (0..=a.min(expected.len() - 1))
        .rev()
        .find(|&c| expected[c..] == *rest)
        .unwrap_or_else(|| panic!("{what}: after {a} matching lines, the rest ({} lines from {:?}) is not a resume from a position at or before {a}", rest.len(), rest[0]));
    assert!(c <= a);
}

#[test]
fn file_to_kafka_to_file_100k_lines() {
    let broker = TestBroker::from_env();
    let topic = broker.unique_topic("pipeline", 3);
    let builder = Ferry::builder(&broker)
        .worker("consumer.fetch.wait.max.ms", "20")
        .worker("offset.flush.interval.ms", "500");
    let input = builder.dir().join("in.txt");
    let output = builder.dir().join("out.txt");
    let expected = lines(100_000, "line");
    write_lines(&input, &expected);
    let source = unique_name("src");
    let sink = unique_name("sink");
    let ferry = builder
        .connector_properties(&[
            ("name", &source),
            ("connector.class", "FileStreamSource"),
            ("file", input.to_str().unwrap()),
            ("topic", &topic),
        ])
        .connector_properties(&[
            ("name", &sink),
            (
                "connector.class",
                "org.apache.kafka.connect.file.FileStreamSinkConnector",
            ),
            ("file", output.to_str().unwrap()),
            ("topics", &topic),
        ])
        .start();

    // Kafka holds every line once, as JsonConverter envelopes, in file order within each partition.
    let records = broker.wait_for_records(&topic, 100_000, LONG);
    assert_eq!(records.len(), 100_000);
    let index: HashMap<&str, usize> = expected
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let mut last_per_partition: HashMap<i32, usize> = HashMap::new();
    let mut seen = vec![false; expected.len()];
    for r in &records {
        assert!(r.key.is_none(), "file source records have no key");
        let v: serde_json::Value = serde_json::from_slice(r.value.as_deref().unwrap()).unwrap();
        let line = v["payload"].as_str().unwrap();
        assert_eq!(r.value_str(), envelope(line), "exact JsonConverter bytes");
        let i = index[line];
        assert!(!seen[i], "line {i} duplicated");
        seen[i] = true;
        if let Some(prev) = last_per_partition.insert(r.partition, i) {
            assert!(
                prev < i,
                "partition {} out of order: line {i} after line {prev}",
                r.partition
            );
        }
    }

    // The sink file holds every line once; lines of one partition keep their order.
    let got = wait_until(LONG, "100000 lines in the sink file", || {
        let got = read_lines(&output);
        (got.len() >= 100_000).then_some(got)
    });
    assert_eq!(got.len(), 100_000, "no duplicates in the sink file");
    let partition_of: HashMap<String, i32> = records
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_slice(r.value.as_deref().unwrap()).unwrap();
            (v["payload"].as_str().unwrap().to_owned(), r.partition)
        })
        .collect();
    let mut last: HashMap<i32, usize> = HashMap::new();
    for line in &got {
        let i = index[line.as_str()];
        let p = partition_of[line];
        if let Some(prev) = last.insert(p, i) {
            assert!(prev < i, "sink wrote partition {p} out of order");
        }
    }
    let mut sorted = got.clone();
    sorted.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(sorted, want);

    // Offsets: the source's committed position is the whole file.
    let size = fs::metadata(&input).unwrap().len();
    wait_until(LONG, "source offset at end of file", || {
        let (code, body) = ferry.rest().get(&format!("/connectors/{source}/offsets"));
        assert_eq!(code, 200);
        (body["offsets"][0]["offset"]["position"].as_u64() == Some(size)).then_some(())
    });
}

#[test]
fn kill_9_mid_stream_loses_nothing() {
    let broker = TestBroker::from_env();
    let topic = broker.unique_topic("crash", 1);
    let builder = Ferry::builder(&broker)
        .worker("consumer.fetch.wait.max.ms", "20")
        .worker("offset.flush.interval.ms", "100")
        // The killed worker's group member is only evicted after its session times out.
        .worker("consumer.session.timeout.ms", "6000")
        .worker("consumer.heartbeat.interval.ms", "1000")
        .worker(
            "value.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        );
    let input = builder.dir().join("in.txt");
    let output = builder.dir().join("out.txt");
    let expected = lines(100_000, "crash");
    // Half the file now; the rest is appended while Ferry is dead, so the source resumes mid-file.
    write_lines(&input, &expected[..50_000]);
    let mut ferry = builder
        .connector_properties(&[
            ("name", "crash-source"),
            ("connector.class", "FileStreamSource"),
            ("file", input.to_str().unwrap()),
            ("topic", &topic),
            ("batch.size", "500"),
        ])
        .connector_properties(&[
            ("name", "crash-sink"),
            ("connector.class", "FileStreamSink"),
            ("file", output.to_str().unwrap()),
            ("topics", &topic),
        ])
        .start();

    // Kill as soon as both connectors are moving data.
    wait_until(LONG, "records in Kafka and lines in the sink", || {
        (broker.record_count(&topic) > 0 && !read_lines(&output).is_empty()).then_some(())
    });
    ferry.kill9();
    let in_kafka_at_kill = broker.record_count(&topic);
    {
        use std::io::Write;
        let mut f = fs::OpenOptions::new().append(true).open(&input).unwrap();
        f.write_all((expected[50_000..].join("\n") + "\n").as_bytes())
            .unwrap();
    }
    ferry.restart();

    // The source is done when its committed position is the end of the file.
    let size = fs::metadata(&input).unwrap().len();
    wait_until(LONG, "source offset at end of file", || {
        let (_, body) = ferry.rest().get("/connectors/crash-source/offsets");
        (body["offsets"][0]["offset"]["position"].as_u64() == Some(size)).then_some(())
    });
    let records: Vec<String> = broker
        .consume_all(&topic, LONG)
        .iter()
        .map(|r| r.value_str().to_owned())
        .collect();
    assert!(records.len() as i64 >= in_kafka_at_kill);
    assert_prefix_then_resume(&records, &expected, "topic");

    // The sink is done when its committed consumer offset is the end of the topic (committed
    // only after the file was flushed).
    let end = records.len() as u64;
    wait_until(LONG, "sink offset at end of topic", || {
        let (_, body) = ferry.rest().get("/connectors/crash-sink/offsets");
        (body["offsets"][0]["offset"]["kafka_offset"].as_u64() == Some(end)).then_some(())
    });
    let got = read_lines(&output);
    assert_prefix_then_resume(&got, &records, "sink file");
    ferry.terminate();
}

#[test]
fn source_topics_are_created_per_topic_creation_groups() {
    let broker = TestBroker::from_env();
    let builder = Ferry::builder(&broker);
    let input = builder.dir().join("in.txt");
    fs::write(&input, "a\nb\n").unwrap();
    let grouped = unique_name("compacted-topic");
    let plain = unique_name("plain-topic");
    let input2 = builder.dir().join("in2.txt");
    fs::write(&input2, "c\n").unwrap();
    let (file_a, file_b) = (input.to_str().unwrap(), input2.to_str().unwrap());
    let (name_a, name_b) = (unique_name("tc-a"), unique_name("tc-b"));
    let creation = |topic: &'static str, file: &'static str, name: &'static str| {
        [
            ("name", name),
            ("connector.class", "FileStreamSource"),
            ("file", file),
            ("topic", topic),
            ("topic.creation.default.replication.factor", "1"),
            ("topic.creation.default.partitions", "2"),
            ("topic.creation.groups", "compacted"),
            ("topic.creation.compacted.include", "compacted-topic.*"),
            ("topic.creation.compacted.partitions", "3"),
            ("topic.creation.compacted.cleanup.policy", "compact"),
        ]
    };
    let leak = |s: &str| -> &'static str { Box::leak(s.to_owned().into_boxed_str()) };
    let a = creation(leak(&grouped), leak(file_a), leak(&name_a));
    let b = creation(leak(&plain), leak(file_b), leak(&name_b));
    let _ferry = builder
        .connector_properties(&a)
        .connector_properties(&b)
        .start();
    broker.wait_for_records(&grouped, 2, LONG);
    broker.wait_for_records(&plain, 1, LONG);
    // Without topic creation the broker would auto-create both with its default of 4 partitions.
    assert_eq!(
        broker.partition_count(&grouped),
        Some(3),
        "the matching group's partitions"
    );
    assert_eq!(
        broker.partition_count(&plain),
        Some(2),
        "the default group's partitions"
    );
}

#[test]
fn two_sink_tasks_share_the_partitions_and_lose_nothing() {
    let broker = TestBroker::from_env();
    let topic = broker.unique_topic("shared", 4);
    let expected = lines(20_000, "shared");
    broker.produce_values(&topic, &expected);
    let builder = Ferry::builder(&broker)
        .worker("consumer.fetch.wait.max.ms", "20")
        .worker("offset.flush.interval.ms", "200")
        .worker(
            "value.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        );
    let output = builder.dir().join("out.txt");
    let name = unique_name("pair");
    let ferry = builder
        .connector_properties(&[
            ("name", &name),
            ("connector.class", "FileStreamSink"),
            ("tasks.max", "2"),
            ("file", output.to_str().unwrap()),
            ("topics", &topic),
        ])
        .start();
    // Both tasks joined the group: the rebalance revoked and reassigned partitions meanwhile.
    let waited = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until_ok(
            LONG,
            "committed offsets at the end of every partition",
            || {
                let (_, body) = ferry.rest().get(&format!("/connectors/{name}/offsets"));
                let offsets = body["offsets"].as_array().cloned().unwrap_or_default();
                let done: u64 = offsets
                    .iter()
                    .filter_map(|o| o["offset"]["kafka_offset"].as_u64())
                    .sum();
                // The producer's sticky partitioner may leave a partition empty, and an
                // empty partition has no committed offset: the ends sum to 20 000.
                if done == 20_000 {
                    Ok(())
                } else {
                    Err(body.to_string())
                }
            },
        )
    }));
    if let Err(panic) = waited {
        eprintln!("ferry log:\n{}", ferry.log());
        std::panic::resume_unwind(panic);
    }
    let mut got = read_lines(&output);
    got.sort();
    got.dedup();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(
        got, want,
        "every record written (duplicates allowed across a rebalance)"
    );
    let (_, status) = ferry.rest().get(&format!("/connectors/{name}/status"));
    assert_eq!(status["tasks"].as_array().map(Vec::len), Some(2));
}
