//! The sink's durability contract against real databases (`FERRY_TEST_MYSQL_URL`,
//! `FERRY_TEST_POSTGRES_URL`; skipped when neither is set): with writes in the background, a
//! failed transaction must surface on the next `put`/`flush`, and `pre_commit` must never report
//! an offset whose row is not in the table.

use ferry_api::{
    ConnectRecord, Schema, SchemaBuilder, SchemaRef, SinkRecord, SinkTask, SinkTaskContext, Struct,
    TopicPartition, TopicPartitionOffsets, Value,
};

use crate::db::{ConnectionSettings, Db};
use crate::time::DbTimeZone;
use crate::types::Cell;
use crate::url::JdbcUrl;
use crate::JdbcSinkTask;

/// The database URLs under test.
fn urls(test: &str) -> Vec<String> {
    let urls: Vec<String> = ["FERRY_TEST_MYSQL_URL", "FERRY_TEST_POSTGRES_URL"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .collect();
    if urls.is_empty() {
        eprintln!("SKIPPED {test}: set FERRY_TEST_MYSQL_URL and/or FERRY_TEST_POSTGRES_URL");
    }
    urls
}

async fn connect(url: &str) -> Db {
    Db::connect(&ConnectionSettings::for_test(url, DbTimeZone::UTC).unwrap())
        .await
        .unwrap()
}

/// A connection to `url` on which `table` does not exist (dropped if it did).
async fn without_table(url: &str, table: &str) -> Db {
    let mut db = connect(url).await;
    db.simple(&format!("DROP TABLE IF EXISTS {table}"))
        .await
        .unwrap();
    db
}

/// The ids in `table`, ascending.
async fn ids(url: &str, table: &str) -> Vec<i64> {
    let rows = connect(url)
        .await
        .query(&format!("SELECT id FROM {table} ORDER BY id"), &[])
        .await
        .unwrap();
    rows.iter()
        .map(|r| match r[0] {
            Cell::Int(i) => i,
            ref c => panic!("id {c:?}"),
        })
        .collect()
}

fn row_schema() -> SchemaRef {
    SchemaBuilder::struct_()
        .name("row")
        .field("id", Schema::int64())
        .field("name", Schema::string())
        .build()
}

/// A record of `topic` partition 0 at `offset` whose value is `{id, name}`.
fn record(topic: &str, offset: i64, id: i64) -> SinkRecord {
    let schema = row_schema();
    let value = Struct::new(schema.clone())
        .with("id", id)
        .unwrap()
        .with("name", format!("row {id}"))
        .unwrap();
    SinkRecord {
        record: ConnectRecord {
            kafka_offset: Some(offset),
            kafka_partition: Some(0),
            ..ConnectRecord::new(topic, Some(schema), Value::from(value))
        },
        original_topic: topic.into(),
        original_kafka_partition: 0,
        original_kafka_offset: offset,
    }
}

/// What the worker would commit after delivering `topic` partition 0 up to `next`.
fn position(topic: &str, next: i64) -> TopicPartitionOffsets {
    [(
        TopicPartition {
            topic: topic.into(),
            partition: 0,
        },
        next,
    )]
    .into_iter()
    .collect()
}

/// A record of `topic` partition 0 at `offset` with `value` (a struct of `schema`).
fn record_at(topic: &str, offset: i64, schema: &SchemaRef, value: Struct) -> SinkRecord {
    SinkRecord {
        record: ConnectRecord {
            kafka_offset: Some(offset),
            kafka_partition: Some(0),
            ..ConnectRecord::new(topic, Some(schema.clone()), Value::from(value))
        },
        original_topic: topic.into(),
        original_kafka_partition: 0,
        original_kafka_offset: offset,
    }
}

/// A started sink task with `props`.
async fn started_sink(props: &[(&str, &str)]) -> JdbcSinkTask {
    let props = props
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut sink = JdbcSinkTask::new();
    sink.start(&props, SinkTaskContext::new(0, None))
        .await
        .unwrap();
    sink
}

/// Runs a sink (auto.create, keyed on the value's `id`, plus `extra` settings) over `records`
/// once: start, put, flush, stop.
async fn sink_once(url: &str, name: &str, extra: &[(&str, &str)], records: &[SinkRecord]) {
    let mut props = vec![
        ("connection.url", url),
        ("name", name),
        ("auto.create", "true"),
        ("pk.mode", "record_value"),
        ("pk.fields", "id"),
    ];
    props.extend_from_slice(extra);
    let mut sink = started_sink(&props).await;
    sink.put(records).await.unwrap();
    sink.flush(&Default::default()).await.unwrap();
    sink.stop().await.unwrap();
}

#[tokio::test]
async fn a_failed_transaction_surfaces_and_commits_no_offset() {
    const T: &str = "jt_fail";
    for url in urls("a_failed_transaction_surfaces_and_commits_no_offset") {
        let mut db = without_table(&url, T).await;
        db.simple(&format!(
            "CREATE TABLE {T} (id BIGINT PRIMARY KEY, name VARCHAR(20) NOT NULL)"
        ))
        .await
        .unwrap();
        let mut sink = started_sink(&[
            ("connection.url", url.as_str()),
            ("name", "jdbc-sink-fail-test"),
            ("insert.mode", "insert"),
            ("pk.mode", "record_value"),
            ("pk.fields", "id"),
            ("max.retries", "1"),
            ("retry.backoff.ms", "0"),
        ])
        .await;

        // Offsets 0..=2 (ids 1..=3) are committed: pre_commit reports exactly what was put.
        sink.put(&[record(T, 0, 1), record(T, 1, 2), record(T, 2, 3)])
            .await
            .unwrap();
        assert_eq!(
            sink.pre_commit(&position(T, 3)).await.unwrap(),
            position(T, 3)
        );
        assert_eq!(ids(&url, T).await, [1, 2, 3]);

        // Offsets 3..=5 carry a duplicate key: put accepts them (the write is in the
        // background), the transaction fails and is rolled back as a whole.
        sink.put(&[record(T, 3, 4), record(T, 4, 5), record(T, 5, 2)])
            .await
            .unwrap();
        let err = sink.pre_commit(&position(T, 6)).await.unwrap_err();
        assert!(!err.is_retriable(), "{}", err.trace());
        let trace = err.trace();
        assert!(
            err.message()
                .starts_with("writing 3 records (jt_fail-0 offsets 3..5) to the database failed"),
            "{trace}"
        );
        assert!(trace.contains("after 1 retries"), "{trace}");
        assert!(trace.contains(T), "the statement names the table: {trace}");
        assert_eq!(ids(&url, T).await, [1, 2, 3], "nothing of the failed put");

        // The writer stopped: later puts and flushes fail too, and nothing more is written.
        let again = sink.put(&[record(T, 6, 7)]).await.unwrap_err();
        assert!(
            again.message().contains("stopped on an earlier error"),
            "{again}"
        );
        assert!(sink.pre_commit(&position(T, 7)).await.is_err());
        sink.stop().await.unwrap();
        assert_eq!(ids(&url, T).await, [1, 2, 3]);
    }
}

#[tokio::test]
async fn tricky_values_round_trip_through_inserts() {
    const T: &str = "jt_tricky";
    let texts = |url: &str| {
        [
            "it's \"quoted\"",
            "back\\slash\\",
            // PostgreSQL's text cannot hold NUL.
            if url.starts_with("jdbc:postgresql:") {
                "ctrl-z\u{1a} tab\t nl\n cr\r"
            } else {
                "nul\0 ctrl-z\u{1a} tab\t nl\n cr\r"
            },
            "héllo 🚢",
            "",
        ]
    };
    let floats = [1.5, -0.1, 1e300, 5e-324, 123456789.125, 0.0];
    for url in urls("tricky_values_round_trip_through_inserts") {
        let texts = texts(&url);
        let mut db = without_table(&url, T).await;
        let schema = SchemaBuilder::struct_()
            .name("tricky")
            .field("id", Schema::int64())
            .field("txt", Schema::string())
            .field("f", Schema::float64())
            .field("bin", Schema::bytes())
            .build();
        let records: Vec<SinkRecord> = (0..texts.len().max(floats.len()))
            .map(|i| {
                let value = Struct::new(schema.clone())
                    .with("id", i as i64)
                    .unwrap()
                    .with("txt", texts[i % texts.len()])
                    .unwrap()
                    .with("f", floats[i % floats.len()])
                    .unwrap()
                    .with(
                        "bin",
                        Value::Bytes(
                            vec![0, b'\'', b'\\', i as u8, 0xff][..i % 6]
                                .to_vec()
                                .into(),
                        ),
                    )
                    .unwrap();
                record_at(T, i as i64, &schema, value)
            })
            .collect();
        sink_once(&url, "jdbc-sink-tricky-test", &[], &records).await;
        let rows = db
            .query(&format!("SELECT txt, f, bin FROM {T} ORDER BY id"), &[])
            .await
            .unwrap();
        let want: Vec<Vec<Cell>> = (0..records.len())
            .map(|i| {
                vec![
                    Cell::Text(texts[i % texts.len()].into()),
                    Cell::Float(floats[i % floats.len()]),
                    Cell::Bytes(
                        vec![0, b'\'', b'\\', i as u8, 0xff][..i % 6]
                            .to_vec()
                            .into(),
                    ),
                ]
            })
            .collect();
        assert_eq!(rows, want, "{url}");
    }
}

/// `timestamp.fields.list`: INT64 and STRING epoch microseconds land in auto-created timestamp
/// columns with their microseconds; `replace.null.with.default=false` writes a null field
/// with a schema default as NULL.
#[tokio::test]
async fn epoch_fields_become_timestamps_and_nulls_stay_null() {
    const T: &str = "jt_epoch";
    for url in urls("epoch_fields_become_timestamps_and_nulls_stay_null") {
        let mut db = without_table(&url, T).await;
        let schema = SchemaBuilder::struct_()
            .field("id", Schema::int64())
            .field("ts_long", Schema::optional_int64())
            .field("ts_text", Schema::optional_string())
            .field(
                "status",
                SchemaBuilder::string()
                    .optional()
                    .default_value(Value::from("new"))
                    .build(),
            )
            .build();
        let rows = [
            (1, Some(1_700_000_000_123_456i64), Some("1700000000654321")),
            (2, Some(-1), None),
            (3, None, Some("0")),
        ];
        let records: Vec<SinkRecord> = rows
            .iter()
            .enumerate()
            .map(|(i, (id, long, text))| {
                let mut value = Struct::new(schema.clone()).with("id", *id as i64).unwrap();
                if let Some(l) = long {
                    value = value.with("ts_long", *l).unwrap();
                }
                if let Some(t) = text {
                    value = value.with("ts_text", *t).unwrap();
                }
                record_at(T, i as i64, &schema, value)
            })
            .collect();
        sink_once(
            &url,
            "jdbc-sink-epoch-test",
            &[
                ("timestamp.fields.list", "ts_long,ts_text"),
                ("replace.null.with.default", "false"),
            ],
            &records,
        )
        .await;
        let got = db
            .query(
                &format!("SELECT ts_long, ts_text, status FROM {T} ORDER BY id"),
                &[],
            )
            .await
            .unwrap();
        let ts = |us: Option<i64>| us.map_or(Cell::Null, Cell::Timestamp);
        let want = vec![
            vec![
                ts(Some(1_700_000_000_123_456)),
                ts(Some(1_700_000_000_654_321)),
                Cell::Null,
            ],
            vec![ts(Some(-1)), Cell::Null, Cell::Null],
            vec![Cell::Null, ts(Some(0)), Cell::Null],
        ];
        assert_eq!(got, want, "{url}");
    }
}

/// `url` with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let old = JdbcUrl::parse(url).unwrap().database;
    url.replacen(&format!("/{old}"), &format!("/{database}"), 1)
}

#[tokio::test]
async fn a_killed_connection_is_retried_without_loss_or_duplicates() {
    const DB: &str = "jt_kill_db";
    for url in urls("a_killed_connection_is_retried_without_loss_or_duplicates") {
        // A database of its own: the sessions killed below are this test's sink's only.
        let pg = url.starts_with("jdbc:postgresql:");
        let mut admin = connect(&url).await;
        if pg {
            admin
                .simple(&format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
                .await
                .unwrap();
        } else {
            admin
                .simple(&format!("DROP DATABASE IF EXISTS {DB}"))
                .await
                .unwrap();
        }
        admin
            .simple(&format!("CREATE DATABASE {DB}"))
            .await
            .unwrap();
        let url = with_database(&url, DB);
        connect(&url)
            .await
            .simple("CREATE TABLE jt_kill (id BIGINT PRIMARY KEY, name VARCHAR(20) NOT NULL)")
            .await
            .unwrap();
        let mut sink = started_sink(&[
            ("connection.url", url.as_str()),
            ("name", "jdbc-sink-kill-test"),
            ("insert.mode", "insert"),
            ("pk.mode", "record_value"),
            ("pk.fields", "id"),
            ("max.retries", "2"),
            ("retry.backoff.ms", "0"),
        ])
        .await;
        let t = "jt_kill";
        sink.put(&[record(t, 0, 1), record(t, 1, 2), record(t, 2, 3)])
            .await
            .unwrap();
        sink.flush(&Default::default()).await.unwrap();

        // The sink's session dies between transactions.
        let kill = if pg {
            format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{DB}' AND pid <> pg_backend_pid()"
            )
        } else {
            format!(
                "SELECT id FROM information_schema.processlist \
                 WHERE db = '{DB}' AND id <> CONNECTION_ID()"
            )
        };
        let found = admin.query(&kill, &[]).await.unwrap();
        assert_eq!(found.len(), 1, "the sink's one session: {found:?}");
        if !pg {
            let id = match &found[0][0] {
                Cell::Int(i) => i.to_string(),
                Cell::UInt(u) => u.to_string(),
                c => panic!("processlist id {c:?}"),
            };
            admin.simple(&format!("KILL {id}")).await.unwrap();
        }

        sink.put(&[record(t, 3, 4), record(t, 4, 5), record(t, 5, 6)])
            .await
            .unwrap();
        assert_eq!(
            sink.pre_commit(&position(t, 6)).await.unwrap(),
            position(t, 6)
        );
        sink.stop().await.unwrap();
        assert_eq!(ids(&url, t).await, [1, 2, 3, 4, 5, 6], "{url}");
    }
}
