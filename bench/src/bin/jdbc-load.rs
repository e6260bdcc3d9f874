//! Baseline for Ferry's JDBC sink: the database's own bulk path, driven by the raw client —
//! `COPY … FROM STDIN` (tokio-postgres) or `LOAD DATA LOCAL INFILE` (mysql_async) of N rows
//! (see `jdbc-common/rows.rs`) into an existing, empty table, in one statement. The rows are
//! rendered as loader text before the clock starts; the clock covers connect, load and commit.
//!
//! Usage: jdbc-load --url JDBC_URL --table T [--records 200000]
//! MySQL/MariaDB needs `local_infile=ON` on the server.

#[allow(dead_code)]
#[path = "jdbc-common/mod.rs"]
mod common;

use std::time::Instant;

use bytes::Bytes;
use common::db::{JdbcUrl, Kind};
use common::rows::{self, Booleans, COLUMNS};
use ferry_bench::args::Args;
use ferry_bench::report::Throughput;
use futures_util::{SinkExt, StreamExt};
use mysql_async::prelude::Queryable;

const USAGE: &str = "jdbc-load --url JDBC_URL --table T [--records 200000]";
/// Bytes per COPY message / LOCAL INFILE packet group.
const CHUNK: usize = 1 << 20;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse(USAGE);
    let url = JdbcUrl::parse(&args.required::<String>("url")).unwrap_or_else(|e| panic!("{e}"));
    let table: String = args.required("table");
    let records: u64 = args.get_or("records", 200_000);

    let booleans = match url.kind {
        Kind::Postgres => Booleans::Letters,
        Kind::MySql => Booleans::Digits,
    };
    let chunks: Vec<Bytes> = rows::loader_chunks(records, booleans, CHUNK)
        .into_iter()
        .map(Bytes::from)
        .collect();
    let bytes = chunks.iter().map(|c| c.len() as u64).sum();

    let start = Instant::now();
    let loaded = match url.kind {
        Kind::Postgres => copy_in(&url, &table, chunks).await,
        Kind::MySql => load_data(&url, &table, chunks).await,
    }
    .unwrap_or_else(|e| {
        eprintln!("jdbc-load: {table}: {e}");
        std::process::exit(1)
    });
    let elapsed = start.elapsed();
    if loaded != records {
        eprintln!("jdbc-load: {table}: loaded {loaded} rows, expected {records}");
        std::process::exit(1);
    }
    Throughput {
        records,
        bytes,
        elapsed,
    }
    .print(&format!("jdbc-load {table}"));
}

/// `COPY table (columns) FROM STDIN` in text format; the rows it reports.
async fn copy_in(url: &JdbcUrl, table: &str, chunks: Vec<Bytes>) -> Result<u64, String> {
    let client = url.postgres().await?;
    let sink = client
        .copy_in::<_, Bytes>(&format!("COPY {table} ({COLUMNS}) FROM STDIN"))
        .await
        .map_err(|e| format!("COPY: {e}"))?;
    let mut sink = std::pin::pin!(sink);
    for chunk in chunks {
        sink.feed(chunk)
            .await
            .map_err(|e| format!("COPY data: {e}"))?;
    }
    sink.as_mut()
        .finish()
        .await
        .map_err(|e| format!("COPY end: {e}"))
}

/// `LOAD DATA LOCAL INFILE` with the file streamed from memory; the rows it reports.
async fn load_data(url: &JdbcUrl, table: &str, chunks: Vec<Bytes>) -> Result<u64, String> {
    let mut conn = url.mysql().await?;
    // The stream is made inside the handler: the handler must be Sync, a boxed stream is not.
    conn.set_infile_handler(async move {
        Ok(futures_util::stream::iter(chunks.into_iter().map(Ok)).boxed())
    });
    conn.query_drop(format!(
        "LOAD DATA LOCAL INFILE 'bench-rows' INTO TABLE {table} CHARACTER SET utf8mb4 ({COLUMNS})"
    ))
    .await
    .map_err(|e| format!("LOAD DATA LOCAL INFILE: {e}"))?;
    Ok(conn.affected_rows())
}
