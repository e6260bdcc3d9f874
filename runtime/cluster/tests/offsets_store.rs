//! The offsets topic against a real broker (FERRY_TEST_BOOTSTRAP): offsets are found by their
//! decoded key whatever order Java wrote the partition map in, rewritten under the Java key
//! bytes, durable when `put` returns, deleted by tombstones, and merged with a per-connector
//! offsets topic.

mod common;

use std::time::Duration;

use ferry_api::{OffsetValue, Props, SourceMap};
use ferry_cluster::store::log::{TopicLog, TopicSpec};
use ferry_cluster::store::offsets::KafkaOffsetStore;
use ferry_worker::offset_store::OffsetBackingStore;

const TIMEOUT: Duration = Duration::from_secs(20);

fn client(bootstrap: &str) -> Props {
    [("bootstrap.servers".to_owned(), bootstrap.to_owned())].into()
}

fn map(entries: &[(&str, OffsetValue)]) -> SourceMap {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn open(bootstrap: &str, topic: &str) -> KafkaOffsetStore {
    KafkaOffsetStore::open(&client(bootstrap), topic, 5, 1, &Props::new(), TIMEOUT).unwrap()
}

/// Every (key, value) on the topic as text, sorted (partition order is the partitioner's).
fn raw(bootstrap: &str, topic: &str) -> Vec<(String, Option<String>)> {
    let mut log = TopicLog::open(&client(bootstrap), topic, TIMEOUT).unwrap();
    let mut records: Vec<(String, Option<String>)> = log
        .read_to_end()
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                String::from_utf8(r.key.unwrap()).unwrap(),
                r.value.map(|v| String::from_utf8(v).unwrap()),
            )
        })
        .collect();
    records.sort();
    records
}

#[test]
fn java_ordered_keys_are_found_and_rewritten_in_place() {
    let Some(bootstrap) = common::bootstrap("java_ordered_keys_are_found_and_rewritten_in_place")
    else {
        return;
    };
    let topic = common::unique("connect-offsets");
    let store = open(&bootstrap, &topic);
    let java_key = r#"["mm",{"topic":"t","cluster":"A","partition":0}]"#;
    let mut log = TopicLog::open(&client(&bootstrap), &topic, TIMEOUT).unwrap();
    log.send(&[
        (java_key.as_bytes(), Some(br#"{"offset":41}"#)),
        (
            br#"["jdbc",{"protocol":"1","table":"db.tbl"}]"#,
            Some(br#"{"incrementing":7}"#),
        ),
        (b"not json", Some(b"{}")),
    ])
    .unwrap();
    store.refresh().unwrap();

    let mm = map(&[
        ("cluster", "A".into()),
        ("partition", 0.into()),
        ("topic", "t".into()),
    ]);
    assert_eq!(store.get("mm", &mm), Some(map(&[("offset", 41.into())])));
    assert_eq!(
        store.get(
            "jdbc",
            &map(&[("protocol", "1".into()), ("table", "db.tbl".into())])
        ),
        Some(map(&[("incrementing", 7.into())]))
    );

    // Durable when put returns: a store opened afterwards sees it.
    let fresh_partition = map(&[("file", "f.txt".into())]);
    store
        .put("mm", &[(mm.clone(), Some(map(&[("offset", 42.into())])))])
        .unwrap();
    store
        .put(
            "file",
            &[(
                fresh_partition.clone(),
                Some(map(&[("position", 3.into())])),
            )],
        )
        .unwrap();
    let reopened = open(&bootstrap, &topic);
    assert_eq!(reopened.get("mm", &mm), Some(map(&[("offset", 42.into())])));
    assert_eq!(
        reopened.get("file", &fresh_partition),
        Some(map(&[("position", 3.into())]))
    );

    // Null = tombstone.
    store
        .put(
            "jdbc",
            &[(
                map(&[("protocol", "1".into()), ("table", "db.tbl".into())]),
                None,
            )],
        )
        .unwrap();
    let reopened = open(&bootstrap, &topic);
    assert_eq!(reopened.connector_offsets("jdbc"), vec![]);

    assert_eq!(
        raw(&bootstrap, &topic),
        vec![
            (
                r#"["file",{"file":"f.txt"}]"#.into(),
                Some(r#"{"position":3}"#.into())
            ),
            (r#"["jdbc",{"protocol":"1","table":"db.tbl"}]"#.into(), None),
            (
                r#"["jdbc",{"protocol":"1","table":"db.tbl"}]"#.into(),
                Some(r#"{"incrementing":7}"#.into())
            ),
            // The rewrite reuses Java's key bytes, so compaction collapses both records.
            (java_key.into(), Some(r#"{"offset":41}"#.into())),
            (java_key.into(), Some(r#"{"offset":42}"#.into())),
            ("not json".into(), Some("{}".into())),
        ]
    );
}

#[test]
fn per_connector_topic_wins_over_the_global_topic() {
    let Some(bootstrap) = common::bootstrap("per_connector_topic_wins_over_the_global_topic")
    else {
        return;
    };
    let global = common::unique("connect-offsets");
    let own = common::unique("my-src-offsets");
    let store = open(&bootstrap, &global);
    let p = |n: i64| map(&[("p", n.into())]);
    let o = |n: i64| map(&[("o", n.into())]);
    store
        .put("my-src", &[(p(1), Some(o(1))), (p(2), Some(o(2)))])
        .unwrap();
    let spec = TopicSpec {
        name: own.clone(),
        partitions: 1,
        replication_factor: 1,
        configs: Props::new(),
    };
    store.use_connector_topic("my-src", &spec).unwrap();
    store.put("my-src", &[(p(1), Some(o(10)))]).unwrap();

    let mut merged = store.connector_offsets("my-src");
    merged.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    assert_eq!(merged, vec![(p(1), o(10)), (p(2), o(2))]);
    assert_eq!(store.get("my-src", &p(1)), Some(o(10)));

    // A fresh worker reading both topics agrees.
    let reopened = open(&bootstrap, &global);
    reopened.use_connector_topic("my-src", &spec).unwrap();
    assert_eq!(reopened.get("my-src", &p(1)), Some(o(10)));
    assert_eq!(reopened.get("my-src", &p(2)), Some(o(2)));
    assert_eq!(
        raw(&bootstrap, &own),
        vec![(r#"["my-src",{"p":1}]"#.into(), Some(r#"{"o":10}"#.into()))]
    );
}
