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
use common::db::{report_load, JdbcUrl, Kind};
use common::rows::{self, Booleans};
use ferry_bench::args::Args;
use futures_util::StreamExt;

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
    let loaded = url
        .bulk_load(&table, futures_util::stream::iter(chunks).boxed())
        .await;
    report_load("jdbc-load", &table, loaded, records, bytes, start.elapsed());
}
