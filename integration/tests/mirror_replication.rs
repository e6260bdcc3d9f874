//! End-to-end MirrorMaker 2 tests on two real brokers (clusters A and B): a standalone worker on B
//! runs MirrorSourceConnector (and the checkpoint/heartbeat connectors) replicating A → B.
//! Needs FERRY_TEST_BOOTSTRAP (cluster A) and FERRY_TEST_BOOTSTRAP_B (cluster B); without B every
//! test here returns early with a message.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ferry_integration::{unique_name, wait_until, Ferry, Record, TestBroker};

const LONG: Duration = Duration::from_secs(240);
const BYTES: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";

/// Cluster A and cluster B, or None (with a message) when B is not running.
fn clusters() -> Option<(TestBroker, TestBroker)> {
    match std::env::var("FERRY_TEST_BOOTSTRAP_B") {
        Ok(b) if !b.trim().is_empty() => Some((TestBroker::from_env(), TestBroker::new(b.trim()))),
        _ => {
            eprintln!(
                "SKIPPED: FERRY_TEST_BOOTSTRAP_B is not set (mirror tests need a second cluster)"
            );
            None
        }
    }
}

/// A worker on `target` with byte-array converters, as MM2 requires.
fn mirror_worker(target: &TestBroker) -> ferry_integration::FerryBuilder {
    Ferry::builder(target)
        .worker("key.converter", BYTES)
        .worker("value.converter", BYTES)
        .worker("header.converter", BYTES)
        .worker("offset.flush.interval.ms", "500")
}

/// The MirrorSourceConnector config for A → B replicating `topics`.
fn source_connector(
    a: &TestBroker,
    b: &TestBroker,
    topics: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut c: Vec<(String, String)> = [
        ("name", "mm2-source"),
        (
            "connector.class",
            "org.apache.kafka.connect.mirror.MirrorSourceConnector",
        ),
        ("tasks.max", "3"),
        ("source.cluster.alias", "A"),
        ("target.cluster.alias", "B"),
        ("source.cluster.bootstrap.servers", a.bootstrap()),
        ("target.cluster.bootstrap.servers", b.bootstrap()),
        ("source.consumer.fetch.wait.max.ms", "20"),
        ("topics", topics),
        ("replication.factor", "1"),
        ("offset-syncs.topic.replication.factor", "1"),
        ("refresh.topics.interval.seconds", "1"),
        ("offset.lag.max", "100"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in extra {
        c.retain(|(key, _)| key != k);
        c.push(((*k).to_owned(), (*v).to_owned()));
    }
    c
}

fn as_refs(c: &[(String, String)]) -> Vec<(&str, &str)> {
    c.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// `n` records over `partitions` partitions: headers (one repeated, one null), every 7th key
/// null, explicit timestamps.
fn records(n: usize, partitions: i32) -> Vec<Record> {
    (0..n)
        .map(|i| {
            let mut r = if i % 7 == 0 {
                Record::value(format!("value-{i}-{}", "v".repeat(i % 23)))
            } else {
                Record::keyed(
                    format!("key-{i}"),
                    format!("value-{i}-{}", "v".repeat(i % 23)),
                )
            };
            r = r
                .with_header("h", format!("hv-{i}"))
                .with_header("h", vec![0u8, 1, 2, (i % 251) as u8])
                .with_partition((i % partitions as usize) as i32)
                .with_timestamp(1_600_000_000_000 + i as i64);
            r
        })
        .collect()
}

/// What must be identical between a record and its replica: partition, timestamp, key, value,
/// headers.
type Content = (
    i32,
    Option<i64>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Vec<(String, Option<Vec<u8>>)>,
);

/// What must be identical between a record and its replica.
fn content(r: &ferry_integration::ConsumedRecord) -> Content {
    (
        r.partition,
        r.timestamp.to_millis(),
        r.key.clone(),
        r.value.clone(),
        r.headers.clone(),
    )
}

#[test]
fn mirror_200k_records_byte_identical_and_new_topics_picked_up() {
    let Some((a, b)) = clusters() else { return };
    let topic = unique_name("mm-orders");
    a.create_topic(&topic, 8);
    let input = records(200_000, 8);
    a.produce(&topic, input);
    let upstream = a.consume_all(&topic, LONG);
    assert_eq!(upstream.len(), 200_000);

    let connector = source_connector(&a, &b, &format!("{topic}.*"), &[]);
    let ferry = mirror_worker(&b)
        .connector_properties(&as_refs(&connector))
        .start();
    let remote = format!("A.{topic}");
    let replicated = b.wait_for_records(&remote, 200_000, LONG);
    assert_eq!(b.partition_count(&remote), Some(8));
    assert_eq!(replicated.len(), 200_000, "{}", ferry.log());
    // Same partition, same order within it, same bytes.
    let mut by_partition: HashMap<i32, Vec<_>> = HashMap::new();
    for r in &replicated {
        by_partition
            .entry(r.partition)
            .or_default()
            .push(content(r));
    }
    for r in &upstream {
        by_partition
            .entry(-1 - r.partition)
            .or_default()
            .push(content(r));
    }
    for p in 0..8 {
        assert_eq!(by_partition[&p], by_partition[&(-1 - p)], "partition {p}");
    }

    // A topic created later on A is mirrored within the refresh interval.
    let later = format!("{topic}-later");
    a.create_topic(&later, 2);
    a.produce(
        &later,
        (0..10).map(|i| Record::keyed(format!("k{i}"), format!("v{i}")).with_partition(i % 2)),
    );
    let got = b.wait_for_records(&format!("A.{later}"), 10, LONG);
    let mut values: Vec<String> = got.iter().map(|r| r.value_str().to_owned()).collect();
    values.sort();
    let mut want: Vec<String> = (0..10).map(|i| format!("v{i}")).collect();
    want.sort();
    assert_eq!(values, want);
}

#[test]
fn kill_9_mid_replication_resumes_without_gaps() {
    let Some((a, b)) = clusters() else { return };
    let topic = unique_name("mm-crash");
    a.create_topic(&topic, 4);
    a.produce(&topic, records(100_000, 4));
    let connector = source_connector(&a, &b, &topic, &[]);
    let mut ferry = mirror_worker(&b)
        .connector_properties(&as_refs(&connector))
        .start();
    let remote = format!("A.{topic}");
    wait_until(LONG, "some records replicated", || {
        (b.partition_count(&remote).is_some() && b.record_count(&remote) > 10_000).then_some(())
    });
    ferry.kill9();
    ferry.restart();
    // Duplicates after the last committed offset are allowed, so the count alone proves
    // nothing: wait until every upstream record (partition, value) is present downstream.
    let upstream: Vec<(i32, Vec<u8>)> = a
        .consume_all(&topic, LONG)
        .iter()
        .map(|r| (r.partition, r.value.clone().unwrap_or_default()))
        .collect();
    assert_eq!(upstream.len(), 100_000);
    let mut missing = Vec::new();
    let covered = wait_until(LONG, "every upstream record replicated", || {
        if b.record_count(&remote) < 100_000 {
            return None;
        }
        let seen: HashSet<(i32, Vec<u8>)> = b
            .consume_all(&remote, LONG)
            .iter()
            .map(|r| (r.partition, r.value.clone().unwrap_or_default()))
            .collect();
        missing = upstream
            .iter()
            .filter(|r| !seen.contains(*r))
            .cloned()
            .collect();
        missing.is_empty().then_some(seen.len())
    });
    assert_eq!(covered, 100_000, "{}", ferry.log());
}

#[test]
fn identity_policy_keeps_topic_names() {
    let Some((a, b)) = clusters() else { return };
    let topic = unique_name("mm-identity");
    a.create_topic(&topic, 2);
    a.produce(
        &topic,
        (0..50).map(|i| Record::keyed(format!("k{i}"), format!("v{i}")).with_partition(i % 2)),
    );
    let connector = source_connector(
        &a,
        &b,
        &topic,
        &[(
            "replication.policy.class",
            "org.apache.kafka.connect.mirror.IdentityReplicationPolicy",
        )],
    );
    let _ferry = mirror_worker(&b)
        .connector_properties(&as_refs(&connector))
        .start();
    let got = b.wait_for_records(&topic, 50, LONG);
    assert_eq!(got.len(), 50);
    assert_eq!(b.partition_count(&format!("A.{topic}")), None);
}
