//! The status topic against a real broker (FERRY_TEST_BOOTSTRAP): two workers' writes read by
//! a third, generation rules applied, tombstones, and the exact records on the topic.

mod common;

use std::time::Duration;

use ferry_api::Props;
use ferry_cluster::store::log::TopicLog;
use ferry_cluster::store::status::{KafkaStatusStore, Status, StatusKey, TopicStatus};
use ferry_worker::herder::{State, TaskId};

const TIMEOUT: Duration = Duration::from_secs(20);

fn client(bootstrap: &str) -> Props {
    [("bootstrap.servers".to_owned(), bootstrap.to_owned())].into()
}

fn open(bootstrap: &str, topic: &str) -> KafkaStatusStore {
    KafkaStatusStore::open(&client(bootstrap), topic, 5, 1, &Props::new(), TIMEOUT).unwrap()
}

fn status(state: State, worker: &str, generation: i32) -> Status {
    Status {
        state,
        trace: None,
        worker_id: worker.into(),
        generation,
    }
}

#[test]
fn statuses_of_two_workers_read_back_with_generation_rules() {
    let Some(bootstrap) =
        common::bootstrap("statuses_of_two_workers_read_back_with_generation_rules")
    else {
        return;
    };
    let topic = common::unique("connect-status");
    let a = open(&bootstrap, &topic);
    let b = open(&bootstrap, &topic);
    let conn = StatusKey::Connector("inv".into());
    let task0 = TaskId {
        connector: "inv".into(),
        task: 0,
    };
    let task_key = StatusKey::Task(task0.clone());

    // Worker a ran everything in generation 3; b took over in generation 4.
    a.put(&conn, &status(State::Running, "a:8083", 3)).unwrap();
    a.put(&task_key, &status(State::Running, "a:8083", 3))
        .unwrap();
    b.refresh().unwrap();
    b.put(&conn, &status(State::Running, "b:8083", 4)).unwrap();
    b.put(&task_key, &status(State::Running, "b:8083", 4))
        .unwrap();
    // a shuts down late: its safe UNASSIGNED writes must not clobber b's newer entries.
    a.refresh().unwrap();
    assert!(!a
        .put_safe(&conn, &status(State::Unassigned, "a:8083", 3))
        .unwrap());
    // A stale UNASSIGNED that does reach the topic is ignored by readers.
    a.put(&task_key, &status(State::Unassigned, "a:8083", 3))
        .unwrap();
    let failed = Status {
        trace: Some("org.apache.kafka.connect.errors.ConnectException: boom".into()),
        ..status(State::Failed, "b:8083", 4)
    };
    let task1 = StatusKey::Task(TaskId {
        connector: "inv".into(),
        task: 1,
    });
    b.put(&task1, &failed).unwrap();
    b.put_topic(&TopicStatus {
        topic: "orders".into(),
        connector: "inv".into(),
        task: 0,
        discover_timestamp: 1_700_000_000_000,
    })
    .unwrap();
    b.put(
        &StatusKey::Connector("gone".into()),
        &status(State::Running, "b:8083", 4),
    )
    .unwrap();
    b.delete(&StatusKey::Connector("gone".into())).unwrap();

    let reader = open(&bootstrap, &topic);
    let cache = reader.cache();
    assert_eq!(
        cache.connector("inv"),
        Some(&status(State::Running, "b:8083", 4))
    );
    assert_eq!(
        cache.task(&task0),
        Some(&status(State::Running, "b:8083", 4))
    );
    assert_eq!(
        cache.connector_tasks("inv"),
        vec![(0, &status(State::Running, "b:8083", 4)), (1, &failed)]
    );
    assert_eq!(cache.connector("gone"), None);
    assert_eq!(cache.active_topics("inv").len(), 1);
    assert_eq!(cache.active_topics("inv")[0].topic, "orders");

    // The records themselves, per key in write order.
    let mut log = TopicLog::open(&client(&bootstrap), &topic, TIMEOUT).unwrap();
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
    records.sort_by(|x, y| x.0.cmp(&y.0)); // stable: keeps each key's write order
    let expected: Vec<(&str, Option<&str>)> = vec![
        (
            "status-connector-gone",
            Some(r#"{"state":"RUNNING","trace":null,"worker_id":"b:8083","generation":4}"#),
        ),
        ("status-connector-gone", None),
        (
            "status-connector-inv",
            Some(r#"{"state":"RUNNING","trace":null,"worker_id":"a:8083","generation":3}"#),
        ),
        (
            "status-connector-inv",
            Some(r#"{"state":"RUNNING","trace":null,"worker_id":"b:8083","generation":4}"#),
        ),
        (
            "status-task-inv-0",
            Some(r#"{"state":"RUNNING","trace":null,"worker_id":"a:8083","generation":3}"#),
        ),
        (
            "status-task-inv-0",
            Some(r#"{"state":"RUNNING","trace":null,"worker_id":"b:8083","generation":4}"#),
        ),
        (
            "status-task-inv-0",
            Some(r#"{"state":"UNASSIGNED","trace":null,"worker_id":"a:8083","generation":3}"#),
        ),
        (
            "status-task-inv-1",
            Some(
                r#"{"state":"FAILED","trace":"org.apache.kafka.connect.errors.ConnectException: boom","worker_id":"b:8083","generation":4}"#,
            ),
        ),
        (
            "status-topic-orders:connector-inv",
            Some(
                r#"{"topic":{"name":"orders","connector":"inv","task":0,"discoverTimestamp":1700000000000}}"#,
            ),
        ),
    ];
    let expected: Vec<(String, Option<String>)> = expected
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.map(str::to_owned)))
        .collect();
    assert_eq!(records, expected);
}

/// Polls `probe` until it holds (the follower thread is what is awaited), or panics naming
/// `what` after [`TIMEOUT`].
fn eventually(what: &str, mut probe: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + TIMEOUT;
    while !probe() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_following_store_sees_other_workers_batches_without_refreshing() {
    let Some(bootstrap) =
        common::bootstrap("a_following_store_sees_other_workers_batches_without_refreshing")
    else {
        return;
    };
    let topic = common::unique("connect-status");
    let writer = open(&bootstrap, &topic);
    let follower = std::sync::Arc::new(open(&bootstrap, &topic));
    follower.follow();
    let tasks: Vec<(StatusKey, Status)> = (0..25)
        .map(|task| {
            let id = TaskId {
                connector: "many".into(),
                task,
            };
            (StatusKey::Task(id), status(State::Running, "w:8083", 7))
        })
        .collect();
    let topics = [TopicStatus {
        topic: "orders".into(),
        connector: "many".into(),
        task: 0,
        discover_timestamp: 1_700_000_000_000,
    }];
    writer.put_all(&tasks, &topics).unwrap();
    // The writer's own cache has them at once; the follower once it has read them.
    assert_eq!(writer.cache().connector_tasks("many").len(), 25);
    eventually("the follower to read 25 task statuses and a topic", || {
        let cache = follower.cache();
        cache.connector_tasks("many").len() == 25 && cache.active_topics("many").len() == 1
    });
    let cache = follower.cache();
    for (n, s) in cache.connector_tasks("many") {
        assert_eq!(s, &status(State::Running, "w:8083", 7), "task {n}");
    }
    // Later writes keep arriving; deletions too.
    writer
        .put(
            &StatusKey::Connector("many".into()),
            &status(State::Paused, "w:8083", 8),
        )
        .unwrap();
    writer.delete(&tasks[3].0).unwrap();
    eventually(
        "the follower to read the PAUSED connector and the deletion",
        || {
            let cache = follower.cache();
            cache.connector("many") == Some(&status(State::Paused, "w:8083", 8))
                && cache.connector_tasks("many").len() == 24
        },
    );
}
