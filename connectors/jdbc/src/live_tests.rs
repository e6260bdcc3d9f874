//! Tests against real databases: each test body runs once per database whose URL is in the
//! environment (`FERRY_TEST_MYSQL_URL`, `FERRY_TEST_POSTGRES_URL`, as printed by
//! `integration/scripts/start-mariadb.sh` / `start-postgres.sh`) and is skipped with a message
//! when neither is set. The tasks are driven directly, as the worker would: source records go
//! through the JSON converter (schemas enabled) into sink records.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferry_api::{
    ConnectError, ConnectRecord, Connector, ConnectorContext, Converter, Headers,
    OffsetStorageReader, Props, SchemaRef, SinkRecord, SinkTask, SinkTaskContext, SourceMap,
    SourceRecord, SourceTask, SourceTaskContext, Value,
};
use ferry_converters::JsonConverter;

use crate::db::{ConnectionSettings, Db};
use crate::time::DbTimeZone;
use crate::types::Cell;
use crate::url::{DbKind, JdbcUrl};
use crate::{JdbcSinkTask, JdbcSourceConnector, JdbcSourceTask};

/// One database under test.
#[derive(Debug, Clone)]
struct Backend {
    url: String,
    kind: DbKind,
}

fn backends(test: &str) -> Vec<Backend> {
    let mut out = Vec::new();
    for var in ["FERRY_TEST_MYSQL_URL", "FERRY_TEST_POSTGRES_URL"] {
        if let Ok(url) = std::env::var(var) {
            let kind = JdbcUrl::parse(&url).expect(var).kind;
            out.push(Backend { url, kind });
        }
    }
    if out.is_empty() {
        eprintln!(
            "SKIPPED {test}: set FERRY_TEST_MYSQL_URL and/or FERRY_TEST_POSTGRES_URL \
             (integration/scripts/start-mariadb.sh, start-postgres.sh print them)"
        );
    }
    out
}

impl Backend {
    async fn db(&self) -> Db {
        Db::connect(&ConnectionSettings::for_test(&self.url, DbTimeZone::UTC).unwrap())
            .await
            .unwrap()
    }

    async fn run(&self, statements: &[String]) {
        let mut db = self.db().await;
        for s in statements {
            db.simple(s).await.unwrap_or_else(|e| panic!("{s}: {e}"));
        }
    }

    /// Rows of `SELECT … ORDER BY id`, each cell normalised so that equal data compares equal
    /// whatever column type holds it.
    async fn rows(&self, table: &str, columns: &str) -> Vec<Vec<String>> {
        let mut db = self.db().await;
        let rows = db
            .query(&format!("SELECT {columns} FROM {table} ORDER BY id"), &[])
            .await
            .unwrap();
        rows.iter()
            .map(|r| r.iter().map(normalise).collect())
            .collect()
    }

    fn props(&self, pairs: &[(&str, &str)]) -> Props {
        let mut p: Props = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        p.insert("connection.url".into(), self.url.clone());
        p.insert("name".into(), "jdbc-test".into());
        p
    }

    fn is_pg(&self) -> bool {
        self.kind == DbKind::Postgres
    }

    /// The column type of an auto-incrementing primary key `id`.
    fn serial_pk(&self) -> &'static str {
        if self.is_pg() {
            "SERIAL PRIMARY KEY"
        } else {
            "INT AUTO_INCREMENT PRIMARY KEY"
        }
    }
}

fn normalise(c: &Cell) -> String {
    match c {
        Cell::Null => "NULL".into(),
        Cell::Bool(b) => format!("bool:{b}"),
        Cell::Int(i) => format!("int:{i}"),
        Cell::UInt(u) => format!("int:{u}"),
        Cell::Decimal(d) if d.scale == 0 => format!("int:{d}"),
        Cell::Decimal(d) => format!("dec:{d}"),
        Cell::Float(f) => format!("float:{f}"),
        Cell::Text(s) => format!("text:{s}"),
        Cell::Bytes(b) => format!("bytes:{b:?}"),
        Cell::Date(d) => format!("date:{d}"),
        Cell::Time(t) => format!("time:{t}"),
        Cell::Timestamp(t) => format!("ts:{t}"),
        Cell::Array(a) => format!("array:{:?}", a.iter().map(normalise).collect::<Vec<_>>()),
    }
}

#[derive(Debug, Default)]
struct MemoryOffsets(Mutex<Vec<(SourceMap, SourceMap)>>);

impl OffsetStorageReader for MemoryOffsets {
    fn offset(&self, partition: &SourceMap) -> Option<SourceMap> {
        let m = self.0.lock().unwrap();
        m.iter()
            .find(|(p, _)| p == partition)
            .map(|(_, o)| o.clone())
    }
}

impl MemoryOffsets {
    /// What the worker does once records are acknowledged: keep the last offset per partition.
    fn commit(&self, records: &[SourceRecord]) {
        let mut m = self.0.lock().unwrap();
        for r in records {
            if !r.source_offset.is_empty() {
                m.retain(|(p, _)| *p != r.source_partition);
                m.push((r.source_partition.clone(), r.source_offset.clone()));
            }
        }
    }
}

#[derive(Debug, Default)]
struct Reconfigurations(Mutex<u32>);

impl ConnectorContext for Reconfigurations {
    fn request_task_reconfiguration(&self) {
        *self.0.lock().unwrap() += 1;
    }
    fn raise_error(&self, error: ConnectError) {
        panic!("connector raised {error}");
    }
}

/// The task config the connector gives its first task.
async fn task_props(props: &Props) -> Props {
    let mut c = JdbcSourceConnector::new();
    c.start(props, Arc::new(Reconfigurations::default()))
        .await
        .unwrap();
    let mut configs = c.task_configs(1).await.unwrap();
    c.stop().await.unwrap();
    assert_eq!(configs.len(), 1, "one task for the table");
    configs.remove(0)
}

async fn start_source(props: &Props, offsets: &Arc<MemoryOffsets>) -> JdbcSourceTask {
    let mut t = JdbcSourceTask::new();
    t.start(
        &task_props(props).await,
        SourceTaskContext {
            offsets: Arc::clone(offsets) as Arc<dyn OffsetStorageReader>,
            task_id: 0,
        },
    )
    .await
    .unwrap();
    t
}

/// Polls until `n` records arrived (failing after 20 s), then once more expecting nothing new
/// right away.
async fn poll_n(task: &mut JdbcSourceTask, offsets: &MemoryOffsets, n: usize) -> Vec<SourceRecord> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut out = Vec::new();
    while out.len() < n {
        assert!(
            Instant::now() < deadline,
            "got {} of {n} records: {out:?}",
            out.len()
        );
        let batch = task.poll().await.unwrap();
        offsets.commit(&batch);
        out.extend(batch);
    }
    assert_eq!(out.len(), n, "{out:?}");
    out
}

/// The `id` field of each record.
fn ids(records: &[SourceRecord]) -> Vec<i64> {
    records
        .iter()
        .map(|r| {
            r.record
                .value
                .as_struct()
                .unwrap()
                .get("id")
                .unwrap()
                .as_i64()
                .unwrap()
        })
        .collect()
}

/// Source records → JSON with schemas → sink records, as the two workers would pass them.
fn through_kafka(records: &[SourceRecord], topic: &str) -> Vec<SinkRecord> {
    let mut conv = JsonConverter::new();
    conv.configure(&Props::new(), false).unwrap();
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let bytes = conv
                .from_connect(
                    topic,
                    &mut Headers::new(),
                    r.record.value_schema.as_ref(),
                    &r.record.value,
                )
                .unwrap();
            let back = conv.to_connect(topic, &Headers::new(), bytes).unwrap();
            sink_record(topic, i as i64, None, Value::Null, back.schema, back.value)
        })
        .collect()
}

fn sink_record(
    topic: &str,
    offset: i64,
    key_schema: Option<SchemaRef>,
    key: Value,
    value_schema: Option<SchemaRef>,
    value: Value,
) -> SinkRecord {
    SinkRecord {
        record: ConnectRecord {
            kafka_offset: Some(offset),
            kafka_partition: Some(0),
            ..ConnectRecord::new(topic, value_schema, value)
        }
        .with_key(key_schema, key),
        original_topic: topic.into(),
        original_kafka_partition: 0,
        original_kafka_offset: offset,
    }
}

async fn start_sink(props: &Props) -> JdbcSinkTask {
    let mut t = JdbcSinkTask::new();
    t.start(props, SinkTaskContext::new(0, None)).await.unwrap();
    t
}

/// A table with every common column type, and two rows (one all NULL).
fn types_table(b: &Backend, t: &str) -> Vec<String> {
    if b.is_pg() {
        vec![
            format!("DROP TABLE IF EXISTS {t}"),
            format!(
                "CREATE TABLE {t} (id SERIAL PRIMARY KEY, bo BOOLEAN, s SMALLINT, i INT, \
                 big BIGINT, f REAL, d DOUBLE PRECISION, dec_col NUMERIC(10,2), vc VARCHAR(50), \
                 txt TEXT, bl BYTEA, dt DATE, tm TIME(3), ts TIMESTAMP(3), tstz TIMESTAMPTZ(3), \
                 js JSONB, u UUID)"
            ),
            format!(
                "INSERT INTO {t} (bo,s,i,big,f,d,dec_col,vc,txt,bl,dt,tm,ts,tstz,js,u) VALUES \
                 (true,-2,3,-4000000000,1.5,2.25,12.30,'héllo','tab\tand\nnewline\\',\
                 '\\x00ff10','2024-02-29','12:34:56.789','2024-01-02 03:04:05.678',\
                 '2024-01-02 03:04:05.678+02','{{\"a\": 1}}','a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),\
                 (NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL)"
            ),
        ]
    } else {
        vec![
            format!("DROP TABLE IF EXISTS {t}"),
            format!(
                "CREATE TABLE {t} (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, b TINYINT, \
                 ub TINYINT UNSIGNED, s SMALLINT, i INT, ui INT UNSIGNED, big BIGINT, \
                 ubig BIGINT UNSIGNED, f FLOAT, d DOUBLE, dec_col DECIMAL(10,2), vc VARCHAR(50), \
                 txt TEXT, bl BLOB, dt DATE, tm TIME(3), ts DATETIME(3), tsl TIMESTAMP(3) NULL, \
                 js JSON)"
            ),
            format!(
                "INSERT INTO {t} (b,ub,s,i,ui,big,ubig,f,d,dec_col,vc,txt,bl,dt,tm,ts,tsl,js) \
                 VALUES (-1,255,-2,3,4294967295,-4000000000,18446744073709551615,1.5,2.25,12.30,\
                 'héllo','tab\\tand\\nnewline\\\\',X'00FF10','2024-02-29','12:34:56.789',\
                 '2024-01-02 03:04:05.678','2024-01-02 03:04:05.678','{{\"a\": 1}}'),\
                 (NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,\
                 NULL,NULL,NULL)"
            ),
        ]
    }
}

#[tokio::test]
async fn every_column_type_flows_source_to_sink() {
    for b in backends("every_column_type_flows_source_to_sink") {
        b.run(&types_table(&b, "jt_types")).await;
        b.run(&["DROP TABLE IF EXISTS jt_types_copy".to_owned()])
            .await;
        let offsets = Arc::new(MemoryOffsets::default());
        let mut source = start_source(
            &b.props(&[
                ("mode", "incrementing"),
                ("table.whitelist", "jt_types"),
                ("topic.prefix", "db-"),
                ("poll.interval.ms", "50"),
            ]),
            &offsets,
        )
        .await;
        let records = poll_n(&mut source, &offsets, 2).await;
        source.stop().await.unwrap();
        assert_eq!(records[0].record.topic, "db-jt_types");
        assert_eq!(
            records[0]
                .record
                .value_schema
                .as_ref()
                .unwrap()
                .name
                .as_deref(),
            Some("jt_types")
        );
        assert_eq!(ids(&records), [1, 2]);

        let mut sink = start_sink(&b.props(&[
            ("auto.create", "true"),
            ("pk.mode", "record_value"),
            ("pk.fields", "id"),
            ("table.name.format", "${topic}_copy"),
        ]))
        .await;
        sink.put(&through_kafka(&records, "jt_types"))
            .await
            .unwrap();
        sink.stop().await.unwrap();

        let original = b.rows("jt_types", "*").await;
        let copy = b.rows("jt_types_copy", "*").await;
        assert_eq!(original.len(), 2);
        assert_eq!(copy, original, "{:?}", b.kind);
        // Spot-check the data itself, not only that both sides agree.
        let first = &original[0];
        assert!(first.contains(&"dec:12.30".to_owned()), "{first:?}");
        assert!(first.contains(&"text:héllo".to_owned()), "{first:?}");
        assert!(first.contains(&"date:19782".to_owned()), "{first:?}");
        assert!(
            first.contains(&"ts:1704164645678000".to_owned()),
            "{first:?}"
        );
        assert!(first.contains(&"time:45296789000".to_owned()), "{first:?}");
        assert!(
            original[1][1..].iter().all(|c| c == "NULL"),
            "{:?}",
            original[1]
        );

        // The table the sink created reads back as the same Connect values.
        let mut again = start_source(
            &b.props(&[
                ("mode", "bulk"),
                ("table.whitelist", "jt_types_copy"),
                ("topic.prefix", "db-"),
            ]),
            &Arc::new(MemoryOffsets::default()),
        )
        .await;
        let back = poll_n(&mut again, &MemoryOffsets::default(), 2).await;
        again.stop().await.unwrap();
        let fields = |r: &SourceRecord| r.record.value.as_struct().unwrap().values().to_vec();
        let mut back: Vec<Vec<Value>> = back.iter().map(fields).collect();
        back.sort_by_key(|v| v[0].as_i64());
        assert_eq!(
            back,
            records.iter().map(fields).collect::<Vec<_>>(),
            "{:?}",
            b.kind
        );
    }
}

#[tokio::test]
async fn source_modes_pick_up_inserts_and_updates() {
    for b in backends("source_modes_pick_up_inserts_and_updates") {
        let ts_col = if b.is_pg() {
            "TIMESTAMP(3)"
        } else {
            "DATETIME(3)"
        };
        let id_col = b.serial_pk();
        let insert = |t: &str, name: &str, ts: &str| {
            format!("INSERT INTO {t} (name, modified) VALUES ('{name}', '{ts}')")
        };
        // mode, whether an update of row 1 (with a later timestamp) is seen again
        let table = [
            ("bulk", true),
            ("incrementing", false),
            ("timestamp", true),
            ("timestamp+incrementing", true),
        ];
        for (i, (mode, sees_update)) in table.into_iter().enumerate() {
            let t = format!("jt_mode{i}");
            b.run(&[
                format!("DROP TABLE IF EXISTS {t}"),
                format!(
                    "CREATE TABLE {t} (id {id_col}, name VARCHAR(20), modified {ts_col} NOT NULL)"
                ),
                insert(&t, "a", "2024-01-01 00:00:00.001"),
                insert(&t, "b", "2024-01-01 00:00:00.002"),
            ])
            .await;
            let offsets = Arc::new(MemoryOffsets::default());
            let props = b.props(&[
                ("mode", mode),
                ("table.whitelist", &t),
                ("topic.prefix", ""),
                ("poll.interval.ms", "50"),
                ("incrementing.column.name", "id"),
                ("timestamp.column.name", "modified"),
            ]);
            let mut task = start_source(&props, &offsets).await;
            let first = poll_n(&mut task, &offsets, 2).await;
            assert_eq!(ids(&first), [1, 2], "{mode}");
            b.run(&[
                insert(&t, "c", "2024-01-01 00:00:00.003"),
                format!(
                    "UPDATE {t} SET name = 'a2', modified = '2024-01-01 00:00:00.004' WHERE id = 1"
                ),
            ])
            .await;
            let expected: Vec<i64> = match (mode, sees_update) {
                ("bulk", _) => vec![1, 2, 3],
                (_, true) => vec![3, 1],
                _ => vec![3],
            };
            let next = poll_n(&mut task, &offsets, expected.len()).await;
            let mut got = ids(&next);
            if mode == "bulk" {
                got.sort();
            }
            assert_eq!(got, expected, "{mode} on {:?}", b.kind);
            if sees_update {
                let names: Vec<String> = next
                    .iter()
                    .map(|r| {
                        r.record
                            .value
                            .as_struct()
                            .unwrap()
                            .get("name")
                            .unwrap()
                            .as_str()
                            .unwrap()
                            .to_owned()
                    })
                    .collect();
                assert!(names.contains(&"a2".to_owned()), "{mode}: {names:?}");
            }
            if mode != "bulk" {
                let last = next.last().unwrap();
                assert_eq!(
                    last.source_partition
                        .get("protocol")
                        .and_then(|v| v.as_str()),
                    Some("1")
                );
            }
            task.stop().await.unwrap();
        }
    }
}

#[tokio::test]
async fn source_resumes_after_a_cancelled_poll_and_a_restart() {
    for b in backends("source_resumes_after_a_cancelled_poll_and_a_restart") {
        let id_col = b.serial_pk();
        let mut stmts = vec![
            "DROP TABLE IF EXISTS jt_resume".to_owned(),
            format!("CREATE TABLE jt_resume (id {id_col}, v INT NOT NULL)"),
        ];
        let values: Vec<String> = (0..250).map(|i| format!("({i})")).collect();
        stmts.push(format!(
            "INSERT INTO jt_resume (v) VALUES {}",
            values.join(",")
        ));
        b.run(&stmts).await;
        let offsets = Arc::new(MemoryOffsets::default());
        let props = b.props(&[
            ("mode", "incrementing"),
            ("table.whitelist", "jt_resume"),
            ("topic.prefix", "r-"),
            ("poll.interval.ms", "50"),
            ("batch.max.rows", "40"),
        ]);
        let mut task = start_source(&props, &offsets).await;
        let mut seen = poll_n(&mut task, &offsets, 80).await;
        // Drop polls in flight at many points, as the worker does whenever offsets are due;
        // what a poll did return is kept. The same task must then go on without loss or repeat.
        for i in 0..40 {
            let limit = Duration::from_micros(50 * (i % 8) + 1);
            if let Ok(batch) = tokio::time::timeout(limit, task.poll()).await {
                let batch = batch.unwrap();
                offsets.commit(&batch);
                seen.extend(batch);
            }
        }
        let remaining = 250 - seen.len();
        seen.extend(poll_n(&mut task, &offsets, remaining).await);
        assert_eq!(ids(&seen), (1..=250).collect::<Vec<i64>>());
        task.stop().await.unwrap();
        // A new task (a restart) resumes from the committed offset: only new rows follow.
        b.run(&["INSERT INTO jt_resume (v) VALUES (-1)".to_owned()])
            .await;
        let mut task = start_source(&props, &offsets).await;
        let rest = poll_n(&mut task, &offsets, 1).await;
        assert_eq!(ids(&rest), [251]);
        let offset = offsets.offset(&rest[0].source_partition).unwrap();
        assert_eq!(
            offset.get("incrementing").and_then(|v| v.as_i64()),
            Some(251)
        );
        task.stop().await.unwrap();
    }
}

fn kv_schemas() -> (SchemaRef, SchemaRef, SchemaRef) {
    use ferry_api::{Schema, SchemaBuilder};
    let key = SchemaBuilder::struct_()
        .field("id", Schema::int64())
        .build();
    let v1 = SchemaBuilder::struct_()
        .name("row")
        .field("id", Schema::int64())
        .field("name", Schema::string())
        .build();
    let v2 = SchemaBuilder::struct_()
        .name("row")
        .field("id", Schema::int64())
        .field("name", Schema::string())
        .field("score", Schema::optional_float64())
        .build();
    (key, v1, v2)
}

fn kv(
    key_schema: &SchemaRef,
    value_schema: &SchemaRef,
    offset: i64,
    id: i64,
    fields: Option<&[(&str, Value)]>,
) -> SinkRecord {
    let key = ferry_api::Struct::new(key_schema.clone())
        .with("id", id)
        .unwrap();
    let value = fields.map(|fs| {
        let mut s = ferry_api::Struct::new(value_schema.clone());
        s.put("id", id).unwrap();
        for (n, v) in fs {
            s.put(n, v.clone()).unwrap();
        }
        Value::from(s)
    });
    sink_record(
        "jt_upsert",
        offset,
        Some(key_schema.clone()),
        Value::from(key),
        value.as_ref().map(|_| value_schema.clone()),
        value.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn sink_upserts_deletes_and_evolves() {
    for b in backends("sink_upserts_deletes_and_evolves") {
        b.run(&["DROP TABLE IF EXISTS jt_upsert".to_owned()]).await;
        let (k, v1, v2) = kv_schemas();
        let mut sink = start_sink(&b.props(&[
            ("auto.create", "true"),
            ("auto.evolve", "true"),
            ("insert.mode", "upsert"),
            ("pk.mode", "record_key"),
            ("delete.enabled", "true"),
            ("batch.size", "2"),
        ]))
        .await;
        let name = |s: &str| Value::String(s.into());
        sink.put(&[
            kv(&k, &v1, 0, 1, Some(&[("name", name("one"))])),
            kv(&k, &v1, 1, 2, Some(&[("name", name("two"))])),
            kv(&k, &v1, 2, 3, Some(&[("name", name("three"))])),
            kv(&k, &v1, 3, 1, Some(&[("name", name("uno"))])),
            kv(&k, &v1, 4, 2, None),
        ])
        .await
        .unwrap();
        sink.flush(&Default::default()).await.unwrap();
        assert_eq!(
            b.rows("jt_upsert", "id, name").await,
            [["int:1", "text:uno"], ["int:3", "text:three"]]
        );
        // A new optional field: the table gains a nullable column.
        sink.put(&[
            kv(
                &k,
                &v2,
                5,
                3,
                Some(&[("name", name("tres")), ("score", Value::Float64(2.5))]),
            ),
            kv(&k, &v2, 6, 4, Some(&[("name", name("four"))])),
        ])
        .await
        .unwrap();
        sink.flush(&Default::default()).await.unwrap();
        assert_eq!(
            b.rows("jt_upsert", "id, name, score").await,
            [
                ["int:1", "text:uno", "NULL"],
                ["int:3", "text:tres", "float:2.5"],
                ["int:4", "text:four", "NULL"]
            ]
        );
        sink.stop().await.unwrap();
    }
}

#[tokio::test]
async fn sink_rejects_a_record_without_its_pk_field() {
    for b in backends("sink_rejects_a_record_without_its_pk_field") {
        let (_, v1, _) = kv_schemas();
        let mut sink = start_sink(&b.props(&[
            ("auto.create", "true"),
            ("pk.mode", "record_value"),
            ("pk.fields", "order_id"),
        ]))
        .await;
        let mut s = ferry_api::Struct::new(v1.clone());
        s.put("id", 1i64).unwrap();
        s.put("name", "x").unwrap();
        let err = sink
            .put(&[sink_record(
                "jt_nopk",
                0,
                None,
                Value::Null,
                Some(v1.clone()),
                Value::from(s),
            )])
            .await
            .unwrap_err();
        assert_eq!(
            err.message(),
            "PK mode for table 'jt_nopk' is RECORD_VALUE with configured PK fields [order_id], \
             but record value schema does not contain field: order_id"
        );
        // A tombstone without delete.enabled names the setting and the record.
        let err = sink
            .put(&[sink_record(
                "jt_nopk",
                7,
                None,
                Value::Null,
                None,
                Value::Null,
            )])
            .await
            .unwrap_err();
        assert!(err.message().contains("'delete.enabled=false'"), "{err}");
        assert!(
            err.message()
                .contains("(topic='jt_nopk',partition=0,offset=7,"),
            "{err}"
        );
        sink.stop().await.unwrap();
    }
}

#[tokio::test]
async fn query_mode_and_postgres_types() {
    for b in backends("query_mode_and_postgres_types") {
        if b.is_pg() {
            b.run(&[
                "DROP TABLE IF EXISTS jt_pg".to_owned(),
                "CREATE TABLE jt_pg (id SERIAL PRIMARY KEY, tags TEXT[], nums INT[] NOT NULL, \
                 amount NUMERIC(12,4) NOT NULL, addr INET)"
                    .to_owned(),
                "INSERT INTO jt_pg (tags, nums, amount, addr) VALUES \
                 ('{a,NULL,\"c d\"}', '{1,2}', -0.0005, '10.0.0.1')"
                    .to_owned(),
            ])
            .await;
        } else {
            b.run(&[
                "DROP TABLE IF EXISTS jt_pg".to_owned(),
                "CREATE TABLE jt_pg (id INT AUTO_INCREMENT PRIMARY KEY, amount DECIMAL(12,4) NOT NULL)"
                    .to_owned(),
                "INSERT INTO jt_pg (amount) VALUES (-0.0005)".to_owned(),
            ])
            .await;
        }
        let offsets = Arc::new(MemoryOffsets::default());
        let mut task = start_source(
            &b.props(&[
                ("mode", "incrementing"),
                ("query", "SELECT * FROM jt_pg"),
                ("incrementing.column.name", "id"),
                ("topic.prefix", "q-topic"),
                ("poll.interval.ms", "50"),
            ]),
            &offsets,
        )
        .await;
        let r = poll_n(&mut task, &offsets, 1).await.remove(0);
        task.stop().await.unwrap();
        assert_eq!(r.record.topic, "q-topic");
        assert_eq!(
            r.source_partition.get("query").and_then(|v| v.as_str()),
            Some("query")
        );
        let s = r.record.value.as_struct().unwrap();
        assert_eq!(
            s.get("amount"),
            Some(&Value::Decimal(ferry_api::Decimal::new(-5, 4)))
        );
        if b.is_pg() {
            assert_eq!(
                s.get("tags"),
                Some(&Value::Array(vec![
                    Value::String("a".into()),
                    Value::Null,
                    Value::String("c d".into())
                ]))
            );
            assert_eq!(
                s.get("nums"),
                Some(&Value::Array(vec![Value::Int32(1), Value::Int32(2)]))
            );
            // INET has no Connect mapping: skipped, as Confluent skips it.
            assert!(s.schema().field("addr").is_none());
        }
    }
}

#[tokio::test]
async fn connector_notices_new_tables_and_spreads_them_over_tasks() {
    for b in backends("connector_notices_new_tables_and_spreads_them_over_tasks") {
        let id_col = b.serial_pk();
        b.run(&[
            "DROP TABLE IF EXISTS jt_disc_a".to_owned(),
            "DROP TABLE IF EXISTS jt_disc_b".to_owned(),
            "DROP TABLE IF EXISTS jt_disc_c".to_owned(),
            format!("CREATE TABLE jt_disc_a (id {id_col})"),
            format!("CREATE TABLE jt_disc_b (id {id_col})"),
        ])
        .await;
        let ctx = Arc::new(Reconfigurations::default());
        let mut c = JdbcSourceConnector::new();
        c.start(
            &b.props(&[
                ("mode", "bulk"),
                ("table.include.list", "jt_disc_a,jt_disc_b,jt_disc_c"),
                ("topic.prefix", "d-"),
                ("table.poll.interval.ms", "100"),
            ]),
            ctx.clone(),
        )
        .await
        .unwrap();
        assert_eq!(c.task_configs(4).await.unwrap().len(), 2);
        b.run(&[format!("CREATE TABLE jt_disc_c (id {id_col})")])
            .await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while *ctx.0.lock().unwrap() == 0 {
            assert!(Instant::now() < deadline, "no reconfiguration requested");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let configs = c.task_configs(2).await.unwrap();
        assert_eq!(configs.len(), 2);
        let tables: Vec<usize> = configs
            .iter()
            .map(|p| crate::source::decode_tables(&p["tables"]).unwrap().len())
            .collect();
        assert_eq!(tables, [2, 1]);
        c.stop().await.unwrap();
    }
}

#[tokio::test]
async fn sink_writes_large_batches_in_chunks() {
    use ferry_api::{Schema, SchemaBuilder};
    for b in backends("sink_writes_large_batches_in_chunks") {
        b.run(&["DROP TABLE IF EXISTS jt_bulk".to_owned()]).await;
        let schema = SchemaBuilder::struct_()
            .field("id", Schema::int64())
            .field("name", Schema::string())
            .field("amount", SchemaBuilder::decimal(2).build())
            .build();
        let n = 30_000i64;
        let records: Vec<SinkRecord> = (0..n)
            .map(|i| {
                let v = ferry_api::Struct::new(schema.clone())
                    .with("id", i)
                    .unwrap()
                    .with("name", format!("name\t{i}\\"))
                    .unwrap()
                    .with("amount", ferry_api::Decimal::new(i, 2))
                    .unwrap();
                sink_record(
                    "jt_bulk",
                    i,
                    None,
                    Value::Null,
                    Some(schema.clone()),
                    Value::from(v),
                )
            })
            .collect();
        for mode in ["insert", "upsert"] {
            let mut sink = start_sink(&b.props(&[
                ("auto.create", "true"),
                ("insert.mode", mode),
                ("pk.mode", "record_value"),
                ("pk.fields", "id"),
            ]))
            .await;
            // In upsert mode the same rows go again: each one updates, none is a duplicate.
            let started = Instant::now();
            for chunk in records.chunks(10_000) {
                sink.put(chunk).await.unwrap();
            }
            eprintln!("{:?} {mode}: {n} rows in {:?}", b.kind, started.elapsed());
            sink.stop().await.unwrap();
            let mut db = b.db().await;
            let rows = db
                .query("SELECT COUNT(*), SUM(id), MIN(name) FROM jt_bulk", &[])
                .await
                .unwrap();
            let got: Vec<String> = rows[0].iter().map(normalise).collect();
            assert_eq!(got[0], "int:30000", "{mode}");
            assert_eq!(got[1], "int:449985000", "{mode}");
            assert_eq!(got[2], "text:name\t0\\", "{mode}");
        }
    }
}

#[tokio::test]
async fn timestamp_delay_holds_back_recent_rows() {
    for b in backends("timestamp_delay_holds_back_recent_rows") {
        let (id_col, ts_col, ago) = if b.is_pg() {
            (
                "SERIAL PRIMARY KEY",
                "TIMESTAMP(3)",
                "now() - interval '2 hours'",
            )
        } else {
            (
                "INT AUTO_INCREMENT PRIMARY KEY",
                "DATETIME(3)",
                "NOW(3) - INTERVAL 2 HOUR",
            )
        };
        let now = if b.is_pg() { "now()" } else { "NOW(3)" };
        b.run(&[
            "DROP TABLE IF EXISTS jt_delay".to_owned(),
            format!("CREATE TABLE jt_delay (id {id_col}, modified {ts_col} NOT NULL)"),
            format!("INSERT INTO jt_delay (modified) VALUES ({ago})"),
            format!("INSERT INTO jt_delay (modified) VALUES ({now})"),
        ])
        .await;
        let offsets = Arc::new(MemoryOffsets::default());
        let mut task = start_source(
            &b.props(&[
                ("mode", "timestamp+incrementing"),
                ("table.whitelist", "jt_delay"),
                ("topic.prefix", ""),
                ("poll.interval.ms", "50"),
                ("incrementing.column.name", "id"),
                ("timestamp.column.name", "modified"),
                ("timestamp.delay.interval.ms", "3600000"),
            ]),
            &offsets,
        )
        .await;
        let got = poll_n(&mut task, &offsets, 1).await;
        assert_eq!(ids(&got), [1], "{:?}", b.kind);
        // The recent row stays back for the hour: several more polls bring nothing.
        for _ in 0..3 {
            assert!(task.poll().await.unwrap().is_empty());
        }
        task.stop().await.unwrap();
    }
}

#[tokio::test]
async fn timestamp_mode_pages_without_skipping_equal_timestamps() {
    for b in backends("timestamp_mode_pages_without_skipping_equal_timestamps") {
        let (id_col, ts_col) = if b.is_pg() {
            ("SERIAL PRIMARY KEY", "TIMESTAMP(3)")
        } else {
            ("INT AUTO_INCREMENT PRIMARY KEY", "DATETIME(3)")
        };
        let at = |s: &str| format!("'2024-01-01 00:00:0{s}'");
        b.run(&[
            "DROP TABLE IF EXISTS jt_tspage".to_owned(),
            format!("CREATE TABLE jt_tspage (id {id_col}, modified {ts_col} NOT NULL)"),
            format!(
                "INSERT INTO jt_tspage (modified) VALUES ({}),({}),({}),({}),({}),({})",
                at("1"),
                at("2"),
                at("2"),
                at("2"),
                at("3"),
                at("3")
            ),
        ])
        .await;
        let offsets = Arc::new(MemoryOffsets::default());
        let mut task = start_source(
            &b.props(&[
                ("mode", "timestamp"),
                ("table.whitelist", "jt_tspage"),
                ("topic.prefix", ""),
                ("poll.interval.ms", "50"),
                ("timestamp.column.name", "modified"),
                ("batch.max.rows", "2"),
            ]),
            &offsets,
        )
        .await;
        let got = poll_n(&mut task, &offsets, 6).await;
        let mut got_ids = ids(&got);
        got_ids.sort();
        assert_eq!(got_ids, [1, 2, 3, 4, 5, 6], "{:?}", b.kind);
        task.stop().await.unwrap();
    }
}

#[tokio::test]
async fn source_resumes_from_offsets_java_connect_wrote() {
    use ferry_api::OffsetValue;
    for b in backends("source_resumes_from_offsets_java_connect_wrote") {
        let id_col = b.serial_pk();
        b.run(&[
            "DROP TABLE IF EXISTS jt_migrated".to_owned(),
            format!("CREATE TABLE jt_migrated (id {id_col}, v INT NOT NULL)"),
            "INSERT INTO jt_migrated (v) VALUES (1),(2),(3),(4)".to_owned(),
        ])
        .await;
        let qualified = if b.is_pg() {
            "postgres.public.jt_migrated"
        } else {
            "ferry.jt_migrated"
        };
        let map = |pairs: &[(&str, OffsetValue)]| -> SourceMap {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect()
        };
        let props = b.props(&[
            ("mode", "incrementing"),
            ("table.whitelist", "jt_migrated"),
            ("topic.prefix", ""),
            ("poll.interval.ms", "50"),
        ]);
        // Protocol v1, as Confluent's connector writes it since 10.x.
        let v1 = map(&[("protocol", "1".into()), ("table", qualified.into())]);
        let offsets = Arc::new(MemoryOffsets::default());
        offsets
            .0
            .lock()
            .unwrap()
            .push((v1.clone(), map(&[("incrementing", OffsetValue::Int(2))])));
        let mut task = start_source(&props, &offsets).await;
        let got = poll_n(&mut task, &offsets, 2).await;
        task.stop().await.unwrap();
        assert_eq!(ids(&got), [3, 4], "{:?}", b.kind);
        assert_eq!(got[0].source_partition, v1);
        // Protocol v0 (`{"table": name}`) from older connectors is read when v1 is absent.
        let offsets = Arc::new(MemoryOffsets::default());
        offsets.0.lock().unwrap().push((
            map(&[("table", "jt_migrated".into())]),
            map(&[("incrementing", OffsetValue::Int(3))]),
        ));
        let mut task = start_source(&props, &offsets).await;
        let got = poll_n(&mut task, &offsets, 1).await;
        task.stop().await.unwrap();
        assert_eq!(ids(&got), [4], "{:?}", b.kind);
    }
}

#[tokio::test]
async fn bulk_mode_streams_in_batches() {
    for b in backends("bulk_mode_streams_in_batches") {
        let id_col = b.serial_pk();
        let values: Vec<String> = (0..2500).map(|i| format!("({i})")).collect();
        b.run(&[
            "DROP TABLE IF EXISTS jt_bulk_read".to_owned(),
            format!("CREATE TABLE jt_bulk_read (id {id_col}, v INT NOT NULL)"),
            format!("INSERT INTO jt_bulk_read (v) VALUES {}", values.join(",")),
        ])
        .await;
        let offsets = Arc::new(MemoryOffsets::default());
        let mut task = start_source(
            &b.props(&[
                ("mode", "bulk"),
                ("table.whitelist", "jt_bulk_read"),
                ("topic.prefix", ""),
                ("poll.interval.ms", "600000"),
                ("batch.max.rows", "100"),
            ]),
            &offsets,
        )
        .await;
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut round = 0u64;
        while seen.len() < 2500 {
            assert!(Instant::now() < deadline, "{} of 2500 rows", seen.len());
            // Every third poll is dropped early, as the worker does; nothing may be lost.
            round += 1;
            let batch = if round % 3 == 2 {
                match tokio::time::timeout(Duration::from_micros(100), task.poll()).await {
                    Ok(b) => b.unwrap(),
                    Err(_) => continue,
                }
            } else {
                task.poll().await.unwrap()
            };
            assert!(batch.len() <= 100, "{}", batch.len());
            assert!(batch.iter().all(|r| r.source_offset.is_empty()));
            seen.extend(batch);
        }
        let mut got = ids(&seen);
        got.sort();
        assert_eq!(got, (1..=2500).collect::<Vec<i64>>(), "{:?}", b.kind);
        task.stop().await.unwrap();
    }
}

#[tokio::test]
async fn sink_update_mode_changes_existing_rows_only() {
    use ferry_api::{Schema, SchemaBuilder};
    for b in backends("sink_update_mode_changes_existing_rows_only") {
        b.run(&[
            "DROP TABLE IF EXISTS jt_update".to_owned(),
            "CREATE TABLE jt_update (id BIGINT PRIMARY KEY, name VARCHAR(20) NOT NULL)".to_owned(),
            "INSERT INTO jt_update VALUES (1, 'a'), (2, 'b'), (3, 'c')".to_owned(),
        ])
        .await;
        let schema = SchemaBuilder::struct_()
            .field("id", Schema::int64())
            .field("name", Schema::string())
            .build();
        let rec = |offset: i64, id: i64, name: &str| {
            let v = ferry_api::Struct::new(schema.clone())
                .with("id", id)
                .unwrap()
                .with("name", name)
                .unwrap();
            sink_record(
                "jt_update",
                offset,
                None,
                Value::Null,
                Some(schema.clone()),
                Value::from(v),
            )
        };
        let mut sink = start_sink(&b.props(&[
            ("insert.mode", "update"),
            ("pk.mode", "record_value"),
            ("pk.fields", "id"),
        ]))
        .await;
        sink.put(&[
            rec(0, 1, "A"),
            rec(1, 3, "C"),
            rec(2, 9, "nine"),
            rec(3, 1, "AA"),
        ])
        .await
        .unwrap();
        sink.stop().await.unwrap();
        assert_eq!(
            b.rows("jt_update", "id, name").await,
            [
                ["int:1", "text:AA"],
                ["int:2", "text:b"],
                ["int:3", "text:C"]
            ],
            "{:?}",
            b.kind
        );
    }
}

/// Loads `zone` into MariaDB's time zone tables when the server lacks it: a fresh
/// `mariadb-install-db` has none, and `SET time_zone = 'Europe/Paris'` needs them.
async fn ensure_mysql_zone(b: &Backend, zone: &str) {
    let mut db = b.db().await;
    let rows = db
        .query(
            "SELECT CAST(COUNT(*) AS SIGNED) FROM mysql.time_zone_name WHERE name = ?",
            &[Cell::Text(zone.into())],
        )
        .await
        .unwrap();
    if matches!(rows[0][0], Cell::Int(n) if n > 0) {
        return;
    }
    let out = std::process::Command::new("mariadb-tzinfo-to-sql")
        .arg(format!("/usr/share/zoneinfo/{zone}"))
        .arg(zone)
        .output()
        .expect("mariadb-tzinfo-to-sql (package mariadb-server) loads MariaDB's zone tables");
    assert!(out.status.success(), "{out:?}");
    db.simple("USE mysql").await.unwrap();
    db.simple(&String::from_utf8(out.stdout).unwrap())
        .await
        .unwrap();
}

/// `db.timezone=Europe/Paris`: zone-less timestamps around both 2024 DST changes are read as the
/// instants `java.time` gives them (a skipped wall time moves forward, a repeated one is its first
/// occurrence), the offsets store those instants, and the sink writes them back as Paris wall time.
#[tokio::test]
async fn db_timezone_names_follow_daylight_saving_time() {
    // (Paris wall clock, UTC epoch ms, wall clock the sink writes back)
    let rows = [
        (
            "2024-03-31 01:30:00.250",
            1_711_845_000_250_i64,
            "2024-03-31 01:30:00.250000",
        ),
        // 02:30 does not exist that night: 01:30 UTC, written back as 03:30.
        (
            "2024-03-31 02:30:00",
            1_711_848_600_000,
            "2024-03-31 03:30:00.000000",
        ),
        (
            "2024-07-14 12:00:00",
            1_720_951_200_000,
            "2024-07-14 12:00:00.000000",
        ),
        // 02:30 happens twice that night: the first, summer-time one.
        (
            "2024-10-27 02:30:00",
            1_729_989_000_000,
            "2024-10-27 02:30:00.000000",
        ),
        (
            "2024-10-27 03:30:00",
            1_729_996_200_000,
            "2024-10-27 03:30:00.000000",
        ),
    ];
    for b in backends("db_timezone_names_follow_daylight_saving_time") {
        let (id_col, ts_col, extra) = if b.is_pg() {
            (
                "SERIAL PRIMARY KEY",
                "TIMESTAMP(3)",
                ", tstz TIMESTAMPTZ(3)",
            )
        } else {
            ensure_mysql_zone(&b, "Europe/Paris").await;
            ("INT AUTO_INCREMENT PRIMARY KEY", "DATETIME(3)", "")
        };
        let values: Vec<String> = rows
            .iter()
            .map(|(wall, _, _)| {
                if b.is_pg() {
                    // The same instant as an explicit-offset timestamptz, unaffected by the zone.
                    format!("('{wall}', '2024-10-27 02:30:00+01')")
                } else {
                    format!("('{wall}')")
                }
            })
            .collect();
        let cols = if b.is_pg() { "ts, tstz" } else { "ts" };
        b.run(&[
            "DROP TABLE IF EXISTS jt_tz".to_owned(),
            "DROP TABLE IF EXISTS jt_tz_copy".to_owned(),
            format!("CREATE TABLE jt_tz (id {id_col}, ts {ts_col} NOT NULL{extra})"),
            format!("INSERT INTO jt_tz ({cols}) VALUES {}", values.join(",")),
        ])
        .await;
        let offsets = Arc::new(MemoryOffsets::default());
        let mut source = start_source(
            &b.props(&[
                ("mode", "timestamp+incrementing"),
                ("table.whitelist", "jt_tz"),
                ("topic.prefix", ""),
                ("poll.interval.ms", "50"),
                ("incrementing.column.name", "id"),
                ("timestamp.column.name", "ts"),
                ("db.timezone", "Europe/Paris"),
            ]),
            &offsets,
        )
        .await;
        let got = poll_n(&mut source, &offsets, rows.len()).await;
        source.stop().await.unwrap();
        let field = |r: &SourceRecord, f: &str| r.record.value.as_struct().unwrap().get(f).cloned();
        let instants: Vec<Option<Value>> = got.iter().map(|r| field(r, "ts")).collect();
        let want: Vec<Option<Value>> = rows
            .iter()
            .map(|(_, ms, _)| Some(Value::Timestamp(*ms)))
            .collect();
        assert_eq!(instants, want, "{:?}", b.kind);
        if b.is_pg() {
            assert_eq!(
                field(&got[0], "tstz"),
                Some(Value::Timestamp(1_729_992_600_000))
            );
        }
        // The offset is the last row's instant (Confluent's ms + nanos-of-second).
        let last = &got.last().unwrap().source_offset;
        assert_eq!(
            last.get("timestamp"),
            Some(&ferry_api::OffsetValue::Int(1_729_996_200_000))
        );
        assert_eq!(
            last.get("timestamp_nanos"),
            Some(&ferry_api::OffsetValue::Int(0))
        );

        let mut sink = start_sink(&b.props(&[
            ("auto.create", "true"),
            ("db.timezone", "Europe/Paris"),
            ("fields.whitelist", "id,ts"),
        ]))
        .await;
        sink.put(&through_kafka(&got, "jt_tz_copy")).await.unwrap();
        sink.flush(&Default::default()).await.unwrap();
        sink.stop().await.unwrap();
        let text = if b.is_pg() {
            "to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US')"
        } else {
            "DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f')"
        };
        let written = b.rows("jt_tz_copy", text).await;
        let want: Vec<Vec<String>> = rows
            .iter()
            .map(|(_, _, back)| vec![format!("text:{back}")])
            .collect();
        assert_eq!(written, want, "{:?}", b.kind);
    }
}

/// `timestamp.granularity`: each form's schema type and exact value for a microsecond timestamp,
/// with the offset in Confluent's ms + nanos form whatever the form.
#[tokio::test]
async fn timestamp_granularity_forms() {
    use ferry_api::{OffsetValue, SchemaType};
    // 02:30:00.123456 in Paris on 2024-10-27 (summer time) = 00:30:00.123456 UTC.
    let us = 1_729_989_000_123_456_i64;
    let table: [(&str, SchemaType, Value); 7] = [
        (
            "connect_logical",
            SchemaType::Int64,
            Value::Timestamp(us / 1000),
        ),
        ("micros_long", SchemaType::Int64, Value::Int64(us)),
        (
            "micros_string",
            SchemaType::String,
            Value::String(us.to_string()),
        ),
        (
            "micros_iso_datetime_string",
            SchemaType::String,
            Value::String("2024-10-27T02:30:00.123456".into()),
        ),
        ("nanos_long", SchemaType::Int64, Value::Int64(us * 1000)),
        (
            "nanos_string",
            SchemaType::String,
            Value::String((us * 1000).to_string()),
        ),
        (
            "nanos_iso_datetime_string",
            SchemaType::String,
            Value::String("2024-10-27T02:30:00.123456000".into()),
        ),
    ];
    for b in backends("timestamp_granularity_forms") {
        let (id_col, ts_col) = if b.is_pg() {
            ("SERIAL PRIMARY KEY", "TIMESTAMP(6)")
        } else {
            ensure_mysql_zone(&b, "Europe/Paris").await;
            ("INT AUTO_INCREMENT PRIMARY KEY", "DATETIME(6)")
        };
        b.run(&[
            "DROP TABLE IF EXISTS jt_gran".to_owned(),
            format!("CREATE TABLE jt_gran (id {id_col}, ts {ts_col} NOT NULL)"),
            "INSERT INTO jt_gran (ts) VALUES ('2024-10-27 02:30:00.123456')".to_owned(),
        ])
        .await;
        for (granularity, schema_type, want) in &table {
            let offsets = Arc::new(MemoryOffsets::default());
            let mut task = start_source(
                &b.props(&[
                    ("mode", "timestamp"),
                    ("table.whitelist", "jt_gran"),
                    ("topic.prefix", ""),
                    ("poll.interval.ms", "50"),
                    ("timestamp.column.name", "ts"),
                    ("db.timezone", "Europe/Paris"),
                    ("timestamp.granularity", granularity),
                ]),
                &offsets,
            )
            .await;
            let got = poll_n(&mut task, &offsets, 1).await;
            task.stop().await.unwrap();
            let r = &got[0].record;
            let field = r.value_schema.as_ref().unwrap().field("ts").unwrap();
            let at = format!("{:?} {granularity}", b.kind);
            assert_eq!(&field.schema.schema_type, schema_type, "{at}");
            assert_eq!(
                field.schema.name.is_some(),
                *granularity == "connect_logical",
                "{at}"
            );
            assert_eq!(r.value.as_struct().unwrap().get("ts"), Some(want), "{at}");
            let o = &got[0].source_offset;
            assert_eq!(
                (o.get("timestamp"), o.get("timestamp_nanos")),
                (
                    Some(&OffsetValue::Int(us / 1000)),
                    Some(&OffsetValue::Int(123_456_000))
                ),
                "{at}"
            );
        }
    }
}

/// `timestamp.columns.mapping` / `incrementing.column.mapping`: two tables in one task, each
/// read by its own columns; the offsets follow each table's own columns.
#[tokio::test]
async fn column_mappings_choose_offset_columns_per_table() {
    use ferry_api::OffsetValue;
    for b in backends("column_mappings_choose_offset_columns_per_table") {
        let (serial, ts) = if b.is_pg() {
            ("SERIAL PRIMARY KEY", "TIMESTAMP(3)")
        } else {
            ("INT AUTO_INCREMENT PRIMARY KEY", "DATETIME(3)")
        };
        b.run(&[
            "DROP TABLE IF EXISTS jt_map_a".to_owned(),
            "DROP TABLE IF EXISTS jt_map_b".to_owned(),
            format!("CREATE TABLE jt_map_a (aid {serial}, changed {ts} NOT NULL, other {ts})"),
            format!("CREATE TABLE jt_map_b (bid {serial}, modified {ts} NOT NULL)"),
            "INSERT INTO jt_map_a (changed, other) VALUES ('2024-01-01 00:00:01', NULL), \
             ('2024-01-01 00:00:02', '2030-01-01 00:00:00')"
                .to_owned(),
            "INSERT INTO jt_map_b (modified) VALUES ('2024-02-01 00:00:05')".to_owned(),
        ])
        .await;
        let offsets = Arc::new(MemoryOffsets::default());
        let mut task = start_source(
            &b.props(&[
                ("mode", "timestamp+incrementing"),
                ("table.whitelist", "jt_map_a,jt_map_b"),
                ("topic.prefix", "m-"),
                ("poll.interval.ms", "50"),
                (
                    "timestamp.columns.mapping",
                    ".*jt_map_a:[changed|other], .*\\.jt_map_b:[modified]",
                ),
                (
                    "incrementing.column.mapping",
                    ".*jt_map_a:aid,.*jt_map_b:bid",
                ),
            ]),
            &offsets,
        )
        .await;
        let got = poll_n(&mut task, &offsets, 3).await;
        task.stop().await.unwrap();
        let mut last: Vec<(String, SourceMap)> = Vec::new();
        for r in &got {
            last.retain(|(t, _)| *t != r.record.topic);
            last.push((r.record.topic.clone(), r.source_offset.clone()));
        }
        last.sort_by(|a, b| a.0.cmp(&b.0));
        let offset = |inc: i64, ms: i64| -> SourceMap {
            [
                ("incrementing", OffsetValue::Int(inc)),
                ("timestamp", OffsetValue::Int(ms)),
                ("timestamp_nanos", OffsetValue::Int(0)),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
        };
        // jt_map_a follows COALESCE(changed, other) and aid; jt_map_b follows modified and bid.
        assert_eq!(
            last,
            [
                ("m-jt_map_a".to_owned(), offset(2, 1_704_067_202_000)),
                ("m-jt_map_b".to_owned(), offset(1, 1_706_745_605_000)),
            ],
            "{:?}",
            b.kind
        );
    }
}

/// `transaction.isolation.mode` sets the session level of the source's connections.
#[tokio::test]
async fn transaction_isolation_mode_sets_the_session_level() {
    for b in backends("transaction_isolation_mode_sets_the_session_level") {
        let settings = crate::config::SourceSettings::parse(&b.props(&[
            ("mode", "bulk"),
            ("topic.prefix", "t-"),
            ("transaction.isolation.mode", "SERIALIZABLE"),
        ]))
        .unwrap();
        let mut db = crate::source::connect(&settings).await.unwrap();
        let sql = if b.is_pg() {
            "SELECT current_setting('transaction_isolation')"
        } else {
            "SELECT @@tx_isolation"
        };
        let rows = db.query(sql, &[]).await.unwrap();
        let level = rows[0][0].clone().into_text().unwrap();
        assert_eq!(level.to_ascii_uppercase(), "SERIALIZABLE", "{:?}", b.kind);
    }
}

/// `query.retry.attempts=1`: a table that disappears fails the first query (retried), then the
/// second (the task fails, naming the key).
#[tokio::test]
async fn query_retry_attempts_bound_the_retries() {
    for b in backends("query_retry_attempts_bound_the_retries") {
        let id_col = b.serial_pk();
        b.run(&[
            "DROP TABLE IF EXISTS jt_retry".to_owned(),
            format!("CREATE TABLE jt_retry (id {id_col}, v INT)"),
            "INSERT INTO jt_retry (v) VALUES (1)".to_owned(),
        ])
        .await;
        let offsets = Arc::new(MemoryOffsets::default());
        let mut task = start_source(
            &b.props(&[
                ("mode", "incrementing"),
                ("table.whitelist", "jt_retry"),
                ("topic.prefix", ""),
                ("poll.interval.ms", "10"),
                ("connection.backoff.ms", "10"),
                ("query.retry.attempts", "1"),
            ]),
            &offsets,
        )
        .await;
        assert_eq!(ids(&poll_n(&mut task, &offsets, 1).await), [1]);
        b.run(&["DROP TABLE jt_retry".to_owned()]).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        let err = loop {
            assert!(Instant::now() < deadline, "the task kept retrying");
            match task.poll().await {
                Ok(batch) => assert!(batch.is_empty(), "{batch:?}"),
                Err(e) => break e,
            }
        };
        task.stop().await.unwrap();
        assert!(!err.is_retriable(), "{err}");
        assert!(
            err.message().starts_with(
                "Failed to query the database after 1 retries (query.retry.attempts): "
            ),
            "{err}"
        );
    }
}

/// How long the source takes from connector start to its first page on a 200k-row table, split
/// into its steps, and how fast the pages after it come. A measurement, not a test: run with
/// `cargo test -p ferry-connector-jdbc --release --lib source_startup_cost -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn source_startup_cost() {
    for b in backends("source_startup_cost") {
        let (id_col, rows) = if b.is_pg() {
            (
                "BIGSERIAL PRIMARY KEY",
                "INSERT INTO jt_startup (name, price) SELECT 'name-' || g, g / 100.0 \
                 FROM generate_series(1, 200000) g",
            )
        } else {
            (
                "BIGINT AUTO_INCREMENT PRIMARY KEY",
                "INSERT INTO jt_startup (name, price) SELECT CONCAT('name-', seq), seq / 100 \
                 FROM seq_1_to_200000",
            )
        };
        b.run(&[
            "DROP TABLE IF EXISTS jt_startup".to_owned(),
            format!("CREATE TABLE jt_startup (id {id_col}, name VARCHAR(40), price DECIMAL(10,2))"),
            rows.to_owned(),
        ])
        .await;
        for mode in ["incrementing", "bulk"] {
            let props = b.props(&[
                ("mode", mode),
                ("table.whitelist", "jt_startup"),
                ("topic.prefix", ""),
                ("batch.max.rows", "10000"),
            ]);
            if mode == "incrementing" {
                let tables = crate::source::decode_tables(&task_props(&props).await["tables"]);
                let mut db = b.db().await;
                let t = Instant::now();
                for _ in 0..20 {
                    db.table_columns(&tables.as_ref().unwrap()[0])
                        .await
                        .unwrap();
                }
                println!(
                    "{:?}: catalog columns query {:?} each",
                    b.kind,
                    t.elapsed() / 20
                );
            }
            let t0 = Instant::now();
            let task_config = task_props(&props).await;
            let t1 = Instant::now();
            let offsets = Arc::new(MemoryOffsets::default());
            let mut task = JdbcSourceTask::new();
            task.start(
                &task_config,
                SourceTaskContext {
                    offsets: Arc::clone(&offsets) as Arc<dyn OffsetStorageReader>,
                    task_id: 0,
                },
            )
            .await
            .unwrap();
            let t2 = Instant::now();
            let first = task.poll().await.unwrap().len();
            let t3 = Instant::now();
            let mut n = first;
            while n < 200_000 {
                n += task.poll().await.unwrap().len();
            }
            let t4 = Instant::now();
            task.stop().await.unwrap();
            println!(
            "{:?} {mode}: connector start + task configs {:?}, task start {:?}, first page ({first} rows) {:?}, \
             the other {} rows {:?} ({:.0} rows/s)",
            b.kind,
            t1 - t0,
            t2 - t1,
            t3 - t2,
            n - first,
            t4 - t3,
            (n - first) as f64 / (t4 - t3).as_secs_f64()
        );
        }
    }
}

/// A zone name the MySQL server has no time zone tables for fails the connection with the way
/// out in the message (skipped when the server has the zone).
#[tokio::test]
async fn mysql_zone_name_without_zone_tables_says_how_to_fix_it() {
    for b in backends("mysql_zone_name_without_zone_tables_says_how_to_fix_it") {
        if b.is_pg() {
            continue;
        }
        let zone = "Pacific/Chatham";
        let mut db = b.db().await;
        let rows = db
            .query(
                "SELECT CAST(COUNT(*) AS SIGNED) FROM mysql.time_zone_name WHERE name = ?",
                &[Cell::Text(zone.into())],
            )
            .await
            .unwrap();
        if !matches!(rows[0][0], Cell::Int(0)) {
            eprintln!("SKIPPED: the server has time zone tables for {zone}");
            continue;
        }
        let settings =
            ConnectionSettings::for_test(&b.url, DbTimeZone::parse(zone).unwrap()).unwrap();
        let err = Db::connect(&settings).await.unwrap_err();
        assert!(
            err.message().starts_with(
                "db.timezone Pacific/Chatham: MySQL/MariaDB knows zone names only from its time \
                 zone tables (load them with mariadb-tzinfo-to-sql"
            ),
            "{err}"
        );
    }
}

/// `query.suffix` ends the generated statement (here limiting each query to one row).
#[tokio::test]
async fn query_suffix_ends_the_generated_query() {
    for b in backends("query_suffix_ends_the_generated_query") {
        let id_col = b.serial_pk();
        b.run(&[
            "DROP TABLE IF EXISTS jt_suffix".to_owned(),
            format!("CREATE TABLE jt_suffix (id {id_col}, v INT)"),
            "INSERT INTO jt_suffix (v) VALUES (1),(2),(3)".to_owned(),
        ])
        .await;
        let offsets = Arc::new(MemoryOffsets::default());
        let mut task = start_source(
            &b.props(&[
                ("mode", "incrementing"),
                ("table.whitelist", "jt_suffix"),
                ("topic.prefix", ""),
                ("poll.interval.ms", "10"),
                ("query.suffix", "LIMIT 1"),
            ]),
            &offsets,
        )
        .await;
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while got.len() < 3 {
            assert!(Instant::now() < deadline, "{got:?}");
            let batch = task.poll().await.unwrap();
            assert!(batch.len() <= 1, "{batch:?}");
            offsets.commit(&batch);
            got.extend(batch);
        }
        task.stop().await.unwrap();
        assert_eq!(ids(&got), [1, 2, 3], "{:?}", b.kind);
    }
}

/// A column added while pages are read back to back (the next page reusing the columns of the
/// last): whichever page sees it first, every row arrives and the new rows carry the new field.
#[tokio::test]
async fn a_column_added_between_pages_is_picked_up() {
    for b in backends("a_column_added_between_pages_is_picked_up") {
        let id_col = b.serial_pk();
        b.run(&[
            "DROP TABLE IF EXISTS jt_evolve_src".to_owned(),
            format!("CREATE TABLE jt_evolve_src (id {id_col}, v INT)"),
            "INSERT INTO jt_evolve_src (v) VALUES (1),(2),(3),(4)".to_owned(),
        ])
        .await;
        let offsets = Arc::new(MemoryOffsets::default());
        let mut task = start_source(
            &b.props(&[
                ("mode", "incrementing"),
                ("table.whitelist", "jt_evolve_src"),
                ("topic.prefix", ""),
                ("poll.interval.ms", "10"),
                ("batch.max.rows", "2"),
            ]),
            &offsets,
        )
        .await;
        let mut got = poll_n(&mut task, &offsets, 2).await;
        b.run(&[
            "ALTER TABLE jt_evolve_src ADD COLUMN extra VARCHAR(10)".to_owned(),
            "INSERT INTO jt_evolve_src (v, extra) VALUES (5, 'new')".to_owned(),
        ])
        .await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while got.len() < 5 {
            assert!(Instant::now() < deadline, "{got:?}");
            // A page of the other width is a retriable error: the worker polls again.
            match task.poll().await {
                Ok(batch) => {
                    offsets.commit(&batch);
                    got.extend(batch);
                }
                Err(e) => assert!(e.is_retriable(), "{e}"),
            }
        }
        task.stop().await.unwrap();
        assert_eq!(ids(&got), [1, 2, 3, 4, 5], "{:?}", b.kind);
        let last = got[4].record.value.as_struct().unwrap();
        assert_eq!(last.get("extra"), Some(&Value::String("new".into())));
    }
}
