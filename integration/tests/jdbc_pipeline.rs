//! End-to-end tests of the JDBC connectors through the ferry binary and a real broker, against
//! real MariaDB and PostgreSQL: one test body per database whose URL is set
//! (`FERRY_TEST_MYSQL_URL`, `FERRY_TEST_POSTGRES_URL`, printed by
//! `integration/scripts/start-mariadb.sh` / `start-postgres.sh`). Skipped with a message when no
//! database URL is set or the binary does not bundle the JDBC plugins.
//!
//! Tables are set up and compared with the databases' own command-line clients (`mariadb`,
//! `psql`), which print every value as text: two tables compare equal when the clients print the
//! same rows.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use ferry_integration::{unique_name, wait_until, Ferry, Record, TestBroker};
use serde_json::{json, Value};

const LONG: Duration = Duration::from_secs(120);
const SOURCE_CLASS: &str = "io.confluent.connect.jdbc.JdbcSourceConnector";
const SINK_CLASS: &str = "io.confluent.connect.jdbc.JdbcSinkConnector";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    MySql,
    Postgres,
}

/// A database under test, reached through its command-line client.
#[derive(Debug, Clone)]
struct Database {
    url: String,
    kind: Kind,
    host: String,
    port: String,
    database: String,
    user: String,
    password: String,
}

impl Database {
    /// Parses the URLs the start scripts print (`jdbc:KIND://HOST:PORT/DB?user=U&password=P`).
    fn parse(url: &str) -> Database {
        let (kind, rest) = if let Some(r) = url.strip_prefix("jdbc:postgresql://") {
            (Kind::Postgres, r)
        } else if let Some(r) = url
            .strip_prefix("jdbc:mariadb://")
            .or_else(|| url.strip_prefix("jdbc:mysql://"))
        {
            (Kind::MySql, r)
        } else {
            panic!("not a JDBC URL the tests know: {url}");
        };
        let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (hostport, database) = main.split_once('/').unwrap_or((main, ""));
        let (host, port) = hostport.split_once(':').expect("URL with a port");
        let param = |k: &str| {
            query
                .split('&')
                .find_map(|p| p.strip_prefix(&format!("{k}=")))
                .unwrap_or_default()
                .to_owned()
        };
        Database {
            url: url.to_owned(),
            kind,
            host: host.to_owned(),
            port: port.to_owned(),
            database: database.to_owned(),
            user: param("user"),
            password: param("password"),
        }
    }

    /// Runs SQL with the client; stdout as rows of tab-separated text (NULL printed as NULL).
    fn try_sql(&self, sql: &str) -> Result<String, String> {
        let out = match self.kind {
            Kind::MySql => Command::new("mariadb")
                .args(["-h", &self.host, "-P", &self.port, "-u", &self.user])
                .arg(format!("-p{}", self.password))
                .args(["-D", &self.database, "-N", "-B", "-e", sql])
                .output(),
            Kind::Postgres => Command::new("psql")
                .args(["-h", &self.host, "-p", &self.port, "-U", &self.user])
                .args(["-d", &self.database, "-At", "-F", "\t", "-P", "null=NULL"])
                .args(["-v", "ON_ERROR_STOP=1", "-c", sql])
                .output(),
        }
        .map_err(|e| format!("cannot run the database client: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    fn sql(&self, sql: &str) -> String {
        self.try_sql(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn count(&self, table: &str) -> usize {
        self.try_sql(&format!("SELECT COUNT(*) FROM {table}"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    fn id_column(&self) -> &'static str {
        match self.kind {
            Kind::MySql => "INT AUTO_INCREMENT PRIMARY KEY",
            Kind::Postgres => "SERIAL PRIMARY KEY",
        }
    }
}

/// The databases to test against, or none (with a message) when the environment names none.
fn databases(test: &str) -> Vec<Database> {
    let dbs: Vec<Database> = ["FERRY_TEST_MYSQL_URL", "FERRY_TEST_POSTGRES_URL"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|u| Database::parse(&u))
        .collect();
    if dbs.is_empty() {
        eprintln!(
            "SKIPPED {test}: set FERRY_TEST_MYSQL_URL and/or FERRY_TEST_POSTGRES_URL \
             (integration/scripts/start-mariadb.sh / start-postgres.sh print them)"
        );
    }
    dbs
}

/// Whether the ferry binary bundles the JDBC connectors (asked of a worker with no
/// connectors, so that a binary without them skips rather than fails to start).
fn bundles_jdbc(broker: &TestBroker, test: &str) -> bool {
    let ferry = Ferry::builder(broker).start();
    let (_, plugins) = ferry.rest().get("/connector-plugins");
    let found = plugins
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["class"] == SOURCE_CLASS);
    if !found {
        eprintln!("SKIPPED {test}: this ferry binary does not bundle {SOURCE_CLASS}");
    }
    found
}

/// A fresh table name (unique_name has dashes; table names here stay plain identifiers).
fn table_name(prefix: &str) -> String {
    unique_name(prefix).replace('-', "_")
}

/// Every common column type, and the SELECT list that prints a table of it the same way
/// whatever column types the sink created.
fn types_table(db: &Database, t: &str) -> (Vec<String>, &'static str) {
    match db.kind {
        Kind::MySql => (
            vec![
                format!(
                    "CREATE TABLE {t} (id INT AUTO_INCREMENT PRIMARY KEY, b TINYINT, \
                     ub TINYINT UNSIGNED, s SMALLINT, i INT, ui INT UNSIGNED, big BIGINT, \
                     ubig BIGINT UNSIGNED, f FLOAT, d DOUBLE, dec_col DECIMAL(10,2), \
                     vc VARCHAR(50), txt TEXT, bl BLOB, dt DATE, tm TIME(3), ts DATETIME(3), \
                     js JSON)"
                ),
                format!(
                    "INSERT INTO {t} (b,ub,s,i,ui,big,ubig,f,d,dec_col,vc,txt,bl,dt,tm,ts,js) \
                     VALUES (-1,255,-2,3,4294967295,-4000000000,18446744073709551615,1.5,2.25,\
                     12.30,'héllo','tab\\tand\\nnewline',X'00FF10','2024-02-29','12:34:56.789',\
                     '2024-01-02 03:04:05.678','{{\"a\": 1}}'), (NULL,NULL,NULL,NULL,NULL,NULL,\
                     NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL)"
                ),
            ],
            "id,b,ub,s,i,ui,big,ubig,f,d,dec_col,vc,txt,HEX(bl),dt,tm,ts,js",
        ),
        Kind::Postgres => (
            vec![
                format!(
                    "CREATE TABLE {t} (id SERIAL PRIMARY KEY, bo BOOLEAN, s SMALLINT, i INT, \
                     big BIGINT, f REAL, d DOUBLE PRECISION, dec_col NUMERIC(10,2), \
                     vc VARCHAR(50), txt TEXT, bl BYTEA, dt DATE, tm TIME(3), ts TIMESTAMP(3), \
                     js JSONB, u UUID)"
                ),
                format!(
                    "INSERT INTO {t} (bo,s,i,big,f,d,dec_col,vc,txt,bl,dt,tm,ts,js,u) VALUES \
                     (true,-2,3,-4000000000,1.5,2.25,12.30,'héllo',E'tab\\tand\\nnewline',\
                     '\\x00ff10','2024-02-29','12:34:56.789','2024-01-02 03:04:05.678',\
                     '{{\"a\": 1}}','a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), (NULL,NULL,NULL,\
                     NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL)"
                ),
            ],
            "id,bo,s,i,big,f,d,dec_col,vc,txt,bl,dt,tm,ts,js,u",
        ),
    }
}

fn connector(name: &str, config: Value) -> Value {
    json!({ "name": name, "config": config })
}

#[test]
fn jdbc_every_type_flows_source_to_kafka_to_sink() {
    let dbs = databases("jdbc_every_type_flows_source_to_kafka_to_sink");
    if dbs.is_empty() {
        return;
    }
    let broker = TestBroker::from_env();
    if !bundles_jdbc(&broker, "jdbc_every_type_flows_source_to_kafka_to_sink") {
        return;
    }
    for db in dbs {
        let t = table_name("jt_types");
        let (ddl, columns) = types_table(&db, &t);
        for s in &ddl {
            db.sql(s);
        }
        let topic = format!("jdbc-{t}");
        broker.create_topic(&topic, 1);
        let copy = format!("{t}_copy");
        let _ferry = Ferry::builder(&broker)
            .worker("consumer.fetch.wait.max.ms", "20")
            .connector_json(&connector(
                &unique_name("jdbc-src"),
                json!({
                    "connector.class": SOURCE_CLASS,
                    "connection.url": db.url,
                    "mode": "incrementing",
                    "incrementing.column.name": "id",
                    "table.whitelist": t,
                    "topic.prefix": "jdbc-",
                    "poll.interval.ms": 200,
                }),
            ))
            .connector_json(&connector(
                &unique_name("jdbc-sink"),
                json!({
                    "connector.class": SINK_CLASS,
                    "topics": topic,
                    "connection.url": db.url,
                    "auto.create": "true",
                    "pk.mode": "record_value",
                    "pk.fields": "id",
                    "table.name.format": copy,
                }),
            ))
            .start();
        wait_until(LONG, "2 rows in the copy", || {
            (db.count(&copy) == 2).then_some(())
        });
        let order = " ORDER BY id";
        let original = db.sql(&format!("SELECT {columns} FROM {t}{order}"));
        assert_eq!(
            db.sql(&format!("SELECT {columns} FROM {copy}{order}")),
            original
        );
        assert!(
            original.contains("12.30") && original.contains("héllo"),
            "{original}"
        );
        // Rows inserted later follow.
        db.sql(&format!("INSERT INTO {t} (i) VALUES (41), (42)"));
        wait_until(LONG, "4 rows in the copy", || {
            (db.count(&copy) == 4).then_some(())
        });
        assert_eq!(
            db.sql(&format!("SELECT id, i FROM {copy} WHERE id > 2{order}")),
            "3\t41\n4\t42\n"
        );
    }
}

#[test]
fn jdbc_source_resumes_after_kill9_with_nothing_lost() {
    let dbs = databases("jdbc_source_resumes_after_kill9_with_nothing_lost");
    if dbs.is_empty() {
        return;
    }
    let broker = TestBroker::from_env();
    if !bundles_jdbc(&broker, "jdbc_source_resumes_after_kill9_with_nothing_lost") {
        return;
    }
    for db in dbs {
        let t = table_name("jt_kill");
        db.sql(&format!(
            "CREATE TABLE {t} (id {}, v INT NOT NULL)",
            db.id_column()
        ));
        let n = 5000;
        let values: Vec<String> = (0..n).map(|i| format!("({i})")).collect();
        db.sql(&format!("INSERT INTO {t} (v) VALUES {}", values.join(",")));
        let topic = format!("k-{t}");
        broker.create_topic(&topic, 1);
        let mut ferry = Ferry::builder(&broker)
            .worker("offset.flush.interval.ms", "200")
            .connector_json(&connector(
                &unique_name("jdbc-kill"),
                json!({
                    "connector.class": SOURCE_CLASS,
                    "connection.url": db.url,
                    "mode": "incrementing",
                    "table.whitelist": t,
                    "topic.prefix": "k-",
                    "poll.interval.ms": 100,
                    "batch.max.rows": 100,
                }),
            ))
            .start();
        wait_until(LONG, "some records", || {
            (broker.record_count(&topic) >= 500).then_some(())
        });
        ferry.kill9();
        ferry.restart();
        db.sql(&format!("INSERT INTO {t} (v) VALUES (-1), (-2)"));
        let ids = wait_until(LONG, "every row in the topic", || {
            let ids: BTreeSet<i64> = broker
                .consume_all(&topic, Duration::from_secs(2))
                .iter()
                .map(|r| {
                    let v: Value = serde_json::from_slice(r.value.as_deref().unwrap()).unwrap();
                    v["payload"]["id"].as_i64().unwrap()
                })
                .collect();
            (ids.len() == n + 2).then_some(ids)
        });
        assert_eq!(ids, (1..=(n as i64 + 2)).collect::<BTreeSet<_>>());
    }
}

/// The JSON-with-schema envelope of a struct, as JsonConverter writes it.
fn envelope(fields: &[(&str, &str, bool)], payload: Value) -> String {
    let fields: Vec<Value> = fields
        .iter()
        .map(|(name, ty, optional)| json!({"type": ty, "optional": optional, "field": name}))
        .collect();
    json!({
        "schema": {"type": "struct", "fields": fields, "optional": false},
        "payload": payload,
    })
    .to_string()
}

#[test]
fn jdbc_sink_upserts_deletes_and_evolves_end_to_end() {
    let dbs = databases("jdbc_sink_upserts_deletes_and_evolves_end_to_end");
    if dbs.is_empty() {
        return;
    }
    let broker = TestBroker::from_env();
    if !bundles_jdbc(&broker, "jdbc_sink_upserts_deletes_and_evolves_end_to_end") {
        return;
    }
    for db in dbs {
        let t = table_name("jt_up");
        let topic = t.clone();
        broker.create_topic(&topic, 1);
        let key = |id: i64| envelope(&[("id", "int64", false)], json!({ "id": id }));
        let v1 = |id: i64, name: &str| {
            envelope(
                &[("id", "int64", false), ("name", "string", false)],
                json!({"id": id, "name": name}),
            )
        };
        let v2 = |id: i64, name: &str, score: f64| {
            envelope(
                &[
                    ("id", "int64", false),
                    ("name", "string", false),
                    ("score", "double", true),
                ],
                json!({"id": id, "name": name, "score": score}),
            )
        };
        broker.produce(
            &topic,
            [
                Record::keyed(key(1), v1(1, "one")),
                Record::keyed(key(2), v1(2, "two")),
                Record::keyed(key(3), v1(3, "three")),
                Record::keyed(key(1), v1(1, "uno")),
                Record {
                    key: Some(key(2).into_bytes()),
                    value: None,
                    ..Record::default()
                },
                Record::keyed(key(3), v2(3, "tres", 2.5)),
            ],
        );
        let _ferry = Ferry::builder(&broker)
            .worker("consumer.fetch.wait.max.ms", "20")
            .connector_json(&connector(
                &unique_name("jdbc-up"),
                json!({
                    "connector.class": SINK_CLASS,
                    "topics": topic,
                    "connection.url": db.url,
                    "auto.create": "true",
                    "auto.evolve": "true",
                    "insert.mode": "upsert",
                    "pk.mode": "record_key",
                    "delete.enabled": "true",
                }),
            ))
            .start();
        let expected = "1\tuno\tNULL\n3\ttres\t2.5\n";
        wait_until(LONG, "upserted rows", || {
            let got = db
                .try_sql(&format!("SELECT id, name, score FROM {t} ORDER BY id"))
                .ok()?;
            (got == expected).then_some(())
        });
    }
}

#[test]
fn jdbc_sink_reports_a_missing_pk_field() {
    let dbs = databases("jdbc_sink_reports_a_missing_pk_field");
    if dbs.is_empty() {
        return;
    }
    let broker = TestBroker::from_env();
    if !bundles_jdbc(&broker, "jdbc_sink_reports_a_missing_pk_field") {
        return;
    }
    for db in dbs {
        let t = table_name("jt_nopk");
        broker.create_topic(&t, 1);
        broker.produce(
            &t,
            [Record::value(envelope(
                &[("id", "int64", false)],
                json!({"id": 1}),
            ))],
        );
        let name = unique_name("jdbc-nopk");
        let ferry = Ferry::builder(&broker)
            .worker("consumer.fetch.wait.max.ms", "20")
            .connector_json(&connector(
                &name,
                json!({
                    "connector.class": SINK_CLASS,
                    "topics": t,
                    "connection.url": db.url,
                    "auto.create": "true",
                    "pk.mode": "record_value",
                    "pk.fields": "order_id",
                }),
            ))
            .start();
        let trace = wait_until(LONG, "the task FAILED", || {
            let (_, status) = ferry.rest().get(&format!("/connectors/{name}/status"));
            let task = &status["tasks"][0];
            (task["state"] == "FAILED").then(|| task["trace"].as_str().unwrap_or("").to_owned())
        });
        assert!(
            trace.contains(&format!(
                "PK mode for table '{t}' is RECORD_VALUE with configured PK fields [order_id], \
                 but record value schema does not contain field: order_id"
            )),
            "{trace}"
        );
    }
}
