//! End-to-end tests of MirrorMaker 2's dedicated mode: `ferry mirror mm2.properties` run as a
//! process on two real clusters (A and B), checked from the outside the way an operator would:
//! consumer-group offsets translated onto B, no replication loops with both directions enabled,
//! and the internal topics (heartbeats, checkpoints, offset syncs) in MM2's binary formats
//! (COMPAT §9.4), decoded here independently of the mirror crate.
//!
//! Needs FERRY_TEST_BOOTSTRAP (cluster A), FERRY_TEST_BOOTSTRAP_B (cluster B) and the ferry binary
//! (FERRY_BIN, else target/debug/ferry); without B every test returns early with a message.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ferry_integration::{unique_name, wait_until, wait_until_ok, Record, TestBroker};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tempfile::TempDir;

const LONG: Duration = Duration::from_secs(180);
/// `offset.lag.max` of the flows under test (MM2's default).
const LAG_MAX: i64 = 100;

/// Cluster A and cluster B, or None (with a message) when B is not running.
fn clusters() -> Option<(TestBroker, TestBroker)> {
    match std::env::var("FERRY_TEST_BOOTSTRAP_B") {
        Ok(b) if !b.trim().is_empty() => Some((TestBroker::from_env(), TestBroker::new(b.trim()))),
        _ => {
            eprintln!(
                "SKIPPED: FERRY_TEST_BOOTSTRAP_B is not set (`ferry mirror` tests need a second cluster)"
            );
            None
        }
    }
}

/// A `ferry mirror mm2.properties` process in its own temp dir; killed when dropped.
struct Mirror {
    dir: TempDir,
    child: Child,
}

impl Mirror {
    /// Writes `mm2.properties` (the settings every test needs, then `extra`) and starts the
    /// process. Intervals are short so a test sees several rounds of each within seconds.
    fn start(a: &TestBroker, b: &TestBroker, extra: &[(&str, &str)]) -> Mirror {
        let mut props: BTreeMap<&str, &str> = [
            ("clusters", "A, B"),
            ("A.bootstrap.servers", a.bootstrap()),
            ("B.bootstrap.servers", b.bootstrap()),
            ("A.consumer.fetch.wait.max.ms", "20"),
            ("B.consumer.fetch.wait.max.ms", "20"),
            ("replication.factor", "1"),
            ("checkpoints.topic.replication.factor", "1"),
            ("heartbeats.topic.replication.factor", "1"),
            ("offset-syncs.topic.replication.factor", "1"),
            // The flows' worker topics (mm2-offsets.<alias>.internal) on a one-broker cluster.
            ("offset.storage.replication.factor", "1"),
            ("offset.storage.partitions", "2"),
            ("refresh.topics.interval.seconds", "1"),
            ("refresh.groups.interval.seconds", "1"),
            ("sync.topic.configs.enabled", "false"),
            ("emit.checkpoints.interval.seconds", "1"),
            ("emit.heartbeats.interval.seconds", "1"),
            ("sync.group.offsets.enabled", "true"),
            ("sync.group.offsets.interval.seconds", "1"),
        ]
        .into();
        props.extend(extra.iter().copied());
        let text: String = props.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();

        let dir = tempfile::Builder::new()
            .prefix("ferry-mirror-test-")
            .tempdir()
            .expect("temp dir for ferry mirror");
        let file = dir.path().join("mm2.properties");
        fs::write(&file, text).expect("write mm2.properties");
        let log = File::create(dir.path().join("ferry.log")).expect("create ferry.log");
        let bin = ferry_bin();
        let child = Command::new(&bin)
            .arg("mirror")
            .arg(&file)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "start {}: {e} (build it with `cargo build -p ferry`, or set FERRY_BIN)",
                    bin.display()
                )
            });
        Mirror { dir, child }
    }

    /// The process's output so far (for assertion messages).
    fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("ferry.log")).unwrap_or_default()
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A failed wait names what never happened; the process's log says why.
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!("--- ferry mirror log (last 60 lines) ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// `FERRY_BIN`, else the debug build in the workspace's target dir.
fn ferry_bin() -> PathBuf {
    std::env::var_os("FERRY_BIN").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/debug/ferry"
            ))
        },
        PathBuf::from,
    )
}

/// Reads Kafka-protocol fields off the front of a record's bytes (COMPAT §9.4: big-endian,
/// STRING = int16 length + UTF-8) and insists that nothing is left over.
struct Wire<'a> {
    what: &'a str,
    bytes: &'a [u8],
}

impl<'a> Wire<'a> {
    fn new(what: &'a str, bytes: Option<&'a Vec<u8>>) -> Self {
        let bytes = bytes.unwrap_or_else(|| panic!("{what} is null"));
        Wire { what, bytes }
    }

    fn take<const N: usize>(&mut self) -> [u8; N] {
        assert!(
            self.bytes.len() >= N,
            "{} ends early: {} bytes left, {N} wanted",
            self.what,
            self.bytes.len()
        );
        let (head, rest) = self.bytes.split_at(N);
        self.bytes = rest;
        head.try_into().expect("split at N")
    }

    fn i16(&mut self) -> i16 {
        i16::from_be_bytes(self.take())
    }

    fn i32(&mut self) -> i32 {
        i32::from_be_bytes(self.take())
    }

    fn i64(&mut self) -> i64 {
        i64::from_be_bytes(self.take())
    }

    fn string(&mut self) -> String {
        let len = usize::try_from(self.i16())
            .unwrap_or_else(|_| panic!("{}: negative string length", self.what));
        assert!(self.bytes.len() >= len, "{}: string ends early", self.what);
        let (s, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        String::from_utf8(s.to_vec()).unwrap_or_else(|e| panic!("{}: {e}", self.what))
    }

    fn end(self) {
        assert!(
            self.bytes.is_empty(),
            "{}: {} trailing bytes",
            self.what,
            self.bytes.len()
        );
    }
}

/// A heartbeat record: ((source alias, target alias), timestamp).
fn decode_heartbeat(r: &ferry_integration::ConsumedRecord) -> ((String, String), i64) {
    let mut key = Wire::new("heartbeat key", r.key.as_ref());
    let aliases = (key.string(), key.string());
    key.end();
    let mut value = Wire::new("heartbeat value", r.value.as_ref());
    assert_eq!(value.i16(), 0, "heartbeat version");
    let timestamp = value.i64();
    value.end();
    (aliases, timestamp)
}

/// A checkpoint as stored in `<source>.checkpoints.internal`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Checkpoint {
    group: String,
    topic: String,
    partition: i32,
    upstream: i64,
    downstream: i64,
    metadata: String,
}

fn decode_checkpoint(r: &ferry_integration::ConsumedRecord) -> Checkpoint {
    let mut key = Wire::new("checkpoint key", r.key.as_ref());
    let (group, topic, partition) = (key.string(), key.string(), key.i32());
    key.end();
    let mut value = Wire::new("checkpoint value", r.value.as_ref());
    assert_eq!(value.i16(), 0, "checkpoint version");
    let (upstream, downstream, metadata) = (value.i64(), value.i64(), value.string());
    value.end();
    Checkpoint {
        group,
        topic,
        partition,
        upstream,
        downstream,
        metadata,
    }
}

/// An offset sync: ((upstream topic, partition), (upstream offset, downstream offset)).
fn decode_offset_sync(r: &ferry_integration::ConsumedRecord) -> ((String, i32), (i64, i64)) {
    let mut key = Wire::new("offset-sync key", r.key.as_ref());
    let tp = (key.string(), key.i32());
    key.end();
    let mut value = Wire::new("offset-sync value", r.value.as_ref());
    let offsets = (value.i64(), value.i64());
    value.end();
    (tp, offsets)
}

/// The offset syncs of `topic` on A (`mm2-offset-syncs.B.internal`), per partition in write order.
fn offset_syncs(a: &TestBroker, topic: &str) -> HashMap<i32, Vec<(i64, i64)>> {
    let syncs_topic = "mm2-offset-syncs.B.internal";
    let mut out: HashMap<i32, Vec<(i64, i64)>> = HashMap::new();
    if a.partition_count(syncs_topic).is_none() {
        return out;
    }
    for r in a.consume_all(syncs_topic, LONG) {
        let ((t, p), offsets) = decode_offset_sync(&r);
        if t == topic {
            out.entry(p).or_default().push(offsets);
        }
    }
    out
}

/// COMPAT §9.5 translation of the upstream group offset `upstream`: the sync with the largest
/// upstream offset not after it; its downstream offset if exact, else one past it.
fn translate(syncs: &[(i64, i64)], upstream: i64) -> Option<i64> {
    let &(up, down) = syncs
        .iter()
        .filter(|(up, _)| *up <= upstream)
        .max_by_key(|(up, _)| *up)?;
    Some(if up == upstream { down } else { down + 1 })
}

/// Commits `offsets` (partition → (offset, metadata)) of `topic` for `group`, without joining it.
fn commit_group(
    broker: &TestBroker,
    group: &str,
    topic: &str,
    offsets: &BTreeMap<i32, (i64, &str)>,
) {
    let consumer = group_client(broker, group);
    let mut tpl = TopicPartitionList::new();
    for (&p, &(offset, metadata)) in offsets {
        let mut e = tpl.add_partition(topic, p);
        e.set_offset(Offset::Offset(offset)).expect("valid offset");
        e.set_metadata(metadata);
    }
    consumer
        .commit(&tpl, CommitMode::Sync)
        .unwrap_or_else(|e| panic!("commit offsets of {group}: {e}"));
}

fn group_client(broker: &TestBroker, group: &str) -> BaseConsumer {
    broker
        .client_config()
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "error")
        .create()
        .unwrap_or_else(|e| panic!("consumer in {group} on {}: {e}", broker.bootstrap()))
}

/// The committed offsets of `group` on `topic`'s `partitions` (partition → offset; absent when
/// none is committed).
fn committed(broker: &TestBroker, group: &str, topic: &str, partitions: i32) -> BTreeMap<i32, i64> {
    committed_with_metadata(broker, group, topic, partitions)
        .into_iter()
        .map(|(p, (offset, _))| (p, offset))
        .collect()
}

/// [`committed`] with each offset's commit metadata.
fn committed_with_metadata(
    broker: &TestBroker,
    group: &str,
    topic: &str,
    partitions: i32,
) -> BTreeMap<i32, (i64, String)> {
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let got = group_client(broker, group)
        .committed_offsets(tpl, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("committed offsets of {group}: {e}"));
    got.elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some((e.partition(), (o, e.metadata().to_owned()))),
            _ => None,
        })
        .collect()
}

/// What a consumer in `group` starting at its committed offsets reads of `topic` up to the end:
/// partition → values in order.
fn read_from_committed(
    broker: &TestBroker,
    group: &str,
    topic: &str,
) -> BTreeMap<i32, Vec<String>> {
    let ends: BTreeMap<i32, i64> = broker
        .watermarks(topic)
        .iter()
        .map(|&(p, _, high)| (p, high))
        .collect();
    let consumer = group_client(broker, group);
    let mut tpl = TopicPartitionList::new();
    for &p in ends.keys() {
        tpl.add_partition_offset(topic, p, Offset::Stored)
            .expect("valid offset");
    }
    consumer.assign(&tpl).expect("assign");
    let mut out: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    let mut positions: BTreeMap<i32, i64> = committed(broker, group, topic, ends.len() as i32);
    let deadline = Instant::now() + LONG;
    while ends.iter().any(|(p, end)| positions.get(p) < Some(end)) {
        assert!(
            Instant::now() < deadline,
            "timed out reading {topic} in {group}"
        );
        let Some(m) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let m = m.unwrap_or_else(|e| panic!("consume {topic} in {group}: {e}"));
        let value = String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned();
        out.entry(m.partition()).or_default().push(value);
        positions.insert(m.partition(), m.offset() + 1);
    }
    out
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// The value of record `i` of partition `p` of the test topic.
fn value(p: i32, i: i64) -> String {
    format!("p{p}-{i:06}")
}

#[test]
fn group_offsets_are_translated_onto_the_target_and_internal_topics_decode() {
    let Some((a, b)) = clusters() else { return };
    let started = now_millis();
    let topic = unique_name("mmd-groups");
    let remote = format!("A.{topic}");
    let (partitions, per_partition) = (2, 1000_i64);
    a.create_topic(&topic, partitions);
    a.produce(
        &topic,
        (0..partitions).flat_map(|p| {
            (0..per_partition).map(move |i| Record::value(value(p, i)).with_partition(p))
        }),
    );
    // A consumer group that read part of each partition on A (its position, with metadata).
    let group = unique_name("mmd-group");
    let positions: BTreeMap<i32, (i64, &str)> = [(0, (500, "meta-0")), (1, (250, "meta-1"))].into();
    commit_group(&a, &group, &topic, &positions);
    // What A reports back is what MM2 sees (nisshi 0.8 drops commit metadata: then "").
    let on_a = committed_with_metadata(&a, &group, &topic, partitions);
    assert_eq!(
        on_a.iter().map(|(&p, (o, _))| (p, *o)).collect::<Vec<_>>(),
        [(0, 500), (1, 250)]
    );

    let mirror = Mirror::start(
        &a,
        &b,
        &[
            ("A->B.enabled", "true"),
            ("A->B.topics", &format!("{topic}.*")),
            ("A->B.groups", "mmd-group-.*"),
        ],
    );
    b.wait_for_records(&remote, partitions as i64 * per_partition, LONG);

    // The group on B reaches the translation (COMPAT §9.5) of its A position through the offset
    // syncs on A, re-read each time: syncs written late (at commit) refine it.
    let (expected, on_b) = wait_until_ok(LONG, "group offsets synced onto B", || {
        let syncs = offset_syncs(&a, &topic);
        let expected: BTreeMap<i32, i64> = positions
            .iter()
            .filter_map(|(&p, &(u, _))| Some((p, translate(syncs.get(&p)?, u)?)))
            .collect();
        let on_b = committed(&b, &group, &remote, partitions);
        if expected.len() == positions.len() && on_b == expected {
            Ok((expected, on_b))
        } else {
            Err(format!("translated {expected:?}, committed on B {on_b:?}"))
        }
    });
    for (p, &(position, _)) in &positions {
        let down = on_b[p];
        assert!(
            down <= position && position - down <= LAG_MAX,
            "partition {p}: A position {position}, B offset {down}\n{}",
            mirror.log()
        );
    }

    // A consumer in the group on B misses nothing after its A position and re-reads at most
    // offset.lag.max records before it.
    let read = read_from_committed(&b, &group, &remote);
    for (&p, &(position, _)) in &positions {
        let want: Vec<String> = (on_b[&p]..per_partition).map(|i| value(p, i)).collect();
        assert_eq!(
            read[&p], want,
            "partition {p} read on B from the synced offset"
        );
        let reread = read[&p].iter().filter(|v| **v < value(p, position)).count();
        assert!(reread as i64 <= LAG_MAX, "partition {p}: {reread} re-read");
    }

    // Checkpoints on B: the latest per partition carries the A position, the translated offset
    // and the committed metadata.
    let checkpoints = "A.checkpoints.internal";
    let latest = wait_until_ok(LONG, "checkpoints of the synced offsets", || {
        let mut latest: BTreeMap<i32, Checkpoint> = BTreeMap::new();
        for r in b.consume_all(checkpoints, LONG) {
            assert_eq!(r.partition, 0, "{checkpoints} is written to partition 0");
            let cp = decode_checkpoint(&r);
            if cp.group == group {
                assert_eq!(cp.topic, remote, "checkpoints name the downstream topic");
                latest.insert(cp.partition, cp);
            }
        }
        let done = latest.iter().all(|(p, cp)| cp.downstream == expected[p])
            && latest.len() == positions.len();
        if done {
            Ok(latest)
        } else {
            Err(format!("{latest:?}"))
        }
    });
    for (p, &(position, _)) in &positions {
        assert_eq!(
            latest[p],
            Checkpoint {
                group: group.clone(),
                topic: remote.clone(),
                partition: *p,
                upstream: position,
                downstream: expected[p],
                metadata: on_a[p].1.clone(),
            }
        );
    }

    // Offset syncs on A: the first record of each partition is synced, and the remote topic was
    // empty, so every sync maps an offset to itself, in increasing order.
    let syncs = offset_syncs(&a, &topic);
    for p in 0..partitions {
        let s = &syncs[&p];
        assert_eq!(s[0], (0, 0), "first sync of partition {p}");
        assert!(
            s.iter().all(|(up, down)| up == down),
            "partition {p}: {s:?}"
        );
        assert!(
            s.windows(2).all(|w| w[0].0 < w[1].0),
            "partition {p}: {s:?}"
        );
        assert!(
            s.windows(2).all(|w| w[1].0 - w[0].0 <= LAG_MAX + 1),
            "partition {p}: syncs at most offset.lag.max apart: {s:?}"
        );
    }

    // Heartbeats: A->B's on B's `heartbeats`, B->A's on A's `heartbeats`, replicated to B as
    // `A.heartbeats`. Every record there is in MM2's format.
    for (broker, topic, aliases) in [
        (&b, "heartbeats", ("A", "B")),
        (&b, "A.heartbeats", ("B", "A")),
    ] {
        let ours = wait_until(LONG, &format!("heartbeats {aliases:?} in {topic}"), || {
            broker.partition_count(topic)?;
            let beats: Vec<i64> = broker
                .consume_all(topic, LONG)
                .iter()
                .map(decode_heartbeat)
                .filter(|(k, _)| (k.0.as_str(), k.1.as_str()) == aliases)
                .map(|(_, ts)| ts)
                .filter(|ts| *ts >= started - 1000)
                .collect();
            (!beats.is_empty()).then_some(beats)
        });
        let now = now_millis();
        assert!(
            ours.iter().all(|ts| *ts <= now + 1000),
            "{topic}: heartbeat timestamps {ours:?} after now ({now})"
        );
    }
}

#[test]
fn both_directions_replicate_without_loops() {
    let Some((a, b)) = clusters() else { return };
    let token = unique_name("mmd-loop");
    let on_a = format!("{token}-a");
    a.create_topic(&on_a, 2);
    a.produce(
        &on_a,
        (0..10).map(|i| Record::keyed(format!("k{i}"), format!("a{i}")).with_partition(i % 2)),
    );
    // Both filters accept the other side's remote topics too (`A.<token>-a` on B, `B.<token>-b1`
    // on A): only cycle detection keeps them from going back.
    let pattern = format!(".*{token}.*");
    let mirror = Mirror::start(
        &a,
        &b,
        &[
            ("A->B.enabled", "true"),
            ("B->A.enabled", "true"),
            ("A->B.topics", &pattern),
            ("B->A.topics", &pattern),
        ],
    );
    let remote_on_b = format!("A.{on_a}");
    b.wait_for_records(&remote_on_b, 10, LONG);

    // B->A is live and has listed B's topics twice since `A.<topic>` appeared there: two topics
    // created on B afterwards arrived on A, one after the other.
    for suffix in ["b1", "b2"] {
        let on_b = format!("{token}-{suffix}");
        b.create_topic(&on_b, 1);
        b.produce_values(&on_b, &[format!("from-b-{suffix}")]);
        let got = a.wait_for_records(&format!("B.{on_b}"), 1, LONG);
        assert_eq!(got[0].value_str(), format!("from-b-{suffix}"));
    }
    // A->B is live too: a marker produced on A now arrives on B.
    a.produce(&on_a, [Record::value("marker").with_partition(0)]);
    let got = b.wait_for_records(&remote_on_b, 11, LONG);
    assert!(got.iter().any(|r| r.value_str() == "marker"));
    // Heartbeats went both ways (B's `heartbeats` replicated to A as `B.heartbeats`).
    a.wait_for_records("B.heartbeats", 1, LONG);
    b.wait_for_records("A.heartbeats", 1, LONG);

    // Nothing came back: no topic on either side carries both aliases.
    for (broker, topic) in [
        (&a, format!("B.A.{on_a}")),
        (&a, "B.A.heartbeats".to_owned()),
        (&b, format!("A.B.{token}-b1")),
        (&b, "A.B.heartbeats".to_owned()),
    ] {
        assert_eq!(
            broker.partition_count(&topic),
            None,
            "{topic} exists on {}: a replication loop\n{}",
            broker.bootstrap(),
            mirror.log()
        );
    }
    // And the records that went A -> B are exactly A's.
    let mut values: Vec<String> = got.iter().map(|r| r.value_str().to_owned()).collect();
    values.sort();
    let mut want: Vec<String> = (0..10).map(|i| format!("a{i}")).collect();
    want.push("marker".into());
    want.sort();
    assert_eq!(values, want);
}
