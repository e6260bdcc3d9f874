//! Baseline for Ferry's JDBC source: one streaming `SELECT` of the benchmark table by the raw
//! client, in the text protocol (tokio-postgres simple query, mysql_async text query), touching
//! every value. With `--topic`, every row is also rendered as a schemaless JSON object and
//! produced (with Ferry's producer settings) — the same DB → Kafka pipeline as Ferry's source,
//! minus Ferry; the clock then stops when the last record is acknowledged.
//!
//! Usage: jdbc-select --url JDBC_URL --table T --records N [--bootstrap HOST:PORT --topic T]

#[allow(dead_code)]
#[path = "jdbc-common/mod.rs"]
mod common;

use std::time::Instant;

use common::db::{JdbcUrl, Kind};
use common::kafka::TopicProducer;
use common::rows::COLUMNS;
use ferry_bench::args::Args;
use ferry_bench::report::Throughput;
use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use tokio_postgres::SimpleQueryMessage;

const USAGE: &str =
    "jdbc-select --url JDBC_URL --table T --records N [--bootstrap HOST:PORT --topic T]";

/// How each of [`COLUMNS`] is written in JSON.
const JSON_KINDS: [JsonKind; 6] = [
    JsonKind::Number,
    JsonKind::String,
    JsonKind::Number,
    JsonKind::Boolean,
    JsonKind::String,
    JsonKind::Number,
];

#[derive(Debug, Clone, Copy)]
enum JsonKind {
    Number,
    String,
    Boolean,
}

/// What happens to each row read: counted, and optionally produced as JSON.
struct RowSink {
    names: Vec<&'static str>,
    producer: Option<TopicProducer>,
    json: String,
    rows: u64,
    bytes: u64,
}

impl RowSink {
    /// One row of text cells (`None` = SQL NULL).
    fn row<'a>(&mut self, cells: impl Iterator<Item = Option<&'a [u8]>>) {
        self.rows += 1;
        let Some(producer) = &self.producer else {
            self.bytes += cells.map(|c| c.map_or(0, <[u8]>::len) as u64).sum::<u64>();
            return;
        };
        self.json.clear();
        self.json.push('{');
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                self.json.push(',');
            }
            self.json.push('"');
            self.json.push_str(self.names[i]);
            self.json.push_str("\":");
            let text = cell.map(|c| std::str::from_utf8(c).expect("UTF-8 text cell"));
            match (text, JSON_KINDS[i]) {
                (None, _) => self.json.push_str("null"),
                (Some(t), JsonKind::Number) => self.json.push_str(t),
                (Some(t), JsonKind::Boolean) => self.json.push_str(if matches!(t, "t" | "1") {
                    "true"
                } else {
                    "false"
                }),
                (Some(t), JsonKind::String) => push_json_string(&mut self.json, t),
            }
        }
        self.json.push('}');
        self.bytes += self.json.len() as u64;
        producer.send(self.json.as_bytes());
    }
}

/// Appends `s` as a JSON string literal.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse(USAGE);
    let url = JdbcUrl::parse(&args.required::<String>("url")).unwrap_or_else(|e| panic!("{e}"));
    let table: String = args.required("table");
    let records: u64 = args.required("records");
    let topic: Option<String> = args.get("topic");

    let start = Instant::now();
    let mut sink = RowSink {
        names: COLUMNS.split(',').collect(),
        producer: topic
            .as_ref()
            .map(|t| TopicProducer::new(&args.required::<String>("bootstrap"), t)),
        json: String::new(),
        rows: 0,
        bytes: 0,
    };
    let sql = format!("SELECT {COLUMNS} FROM {table}");
    let read = match url.kind {
        Kind::Postgres => select_postgres(&url, &sql, &mut sink).await,
        Kind::MySql => select_mysql(&url, &sql, &mut sink).await,
    };
    if let Err(e) = read {
        eprintln!("jdbc-select: {sql}: {e}");
        std::process::exit(1);
    }
    if let Some(p) = &sink.producer {
        p.flush("jdbc-select");
    }
    let elapsed = start.elapsed();
    if sink.rows != records {
        eprintln!(
            "jdbc-select: read {} rows of {table}, expected {records}",
            sink.rows
        );
        std::process::exit(1);
    }
    let what = match &topic {
        Some(t) => format!("jdbc-select {table} → {t}"),
        None => format!("jdbc-select {table}"),
    };
    Throughput {
        records,
        bytes: sink.bytes,
        elapsed,
    }
    .print(&what);
}

async fn select_postgres(url: &JdbcUrl, sql: &str, sink: &mut RowSink) -> Result<(), String> {
    let client = url.postgres().await?;
    let stream = client
        .simple_query_raw(sql)
        .await
        .map_err(|e| e.to_string())?;
    let mut stream = std::pin::pin!(stream);
    while let Some(message) = stream.next().await {
        if let SimpleQueryMessage::Row(row) = message.map_err(|e| e.to_string())? {
            sink.row((0..row.len()).map(|i| row.get(i).map(str::as_bytes)));
        }
    }
    Ok(())
}

async fn select_mysql(url: &JdbcUrl, sql: &str, sink: &mut RowSink) -> Result<(), String> {
    let mut conn = url.mysql().await?;
    let mut result = conn.query_iter(sql).await.map_err(|e| e.to_string())?;
    result
        .for_each(|row| {
            sink.row((0..row.len()).map(|i| match row.as_ref(i) {
                Some(mysql_async::Value::Bytes(b)) => Some(b.as_slice()),
                Some(mysql_async::Value::NULL) | None => None,
                Some(other) => panic!("text protocol gave a non-text value {other:?}"),
            }))
        })
        .await
        .map_err(|e| e.to_string())
}
