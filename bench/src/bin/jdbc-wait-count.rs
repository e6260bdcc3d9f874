//! Times a database writer we cannot instrument (Ferry's JDBC sink) from outside: polls
//! `SELECT count(*)` of a table until it holds N rows. The clock starts when this probe starts
//! (start it just before the writer); a table that does not exist yet counts as empty.
//!
//! `count(*)` scans the table, so polling it at a fixed short interval would take a growing share
//! of the machine from the writer being measured: the wait between polls is `--interval-ms` or
//! 2% of the time elapsed, whichever is longer (the stop time is then late by at most ~2%).
//!
//! Usage: jdbc-wait-count --url JDBC_URL --table T --records N [--row-bytes B]
//!        [--interval-ms 50] [--timeout-secs 600]

#[allow(dead_code)]
#[path = "jdbc-common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::db::{JdbcUrl, Kind};
use ferry_bench::args::Args;
use ferry_bench::report::Throughput;
use mysql_async::prelude::Queryable;

const USAGE: &str = "jdbc-wait-count --url JDBC_URL --table T --records N [--row-bytes B] \
                     [--interval-ms 50] [--timeout-secs 600]";

/// A connection that counts a table's rows.
enum Counter {
    Postgres(tokio_postgres::Client),
    MySql(mysql_async::Conn),
}

impl Counter {
    async fn connect(url: &JdbcUrl) -> Result<Counter, String> {
        Ok(match url.kind {
            Kind::Postgres => Counter::Postgres(url.postgres().await?),
            Kind::MySql => Counter::MySql(url.mysql().await?),
        })
    }

    /// The row count, or 0 while the table is missing (the sink has not created it yet).
    async fn count(&mut self, sql: &str) -> u64 {
        let n = match self {
            Counter::Postgres(c) => c.query_one(sql, &[]).await.map(|r| r.get::<_, i64>(0)).ok(),
            Counter::MySql(c) => c.query_first::<i64, _>(sql).await.ok().flatten(),
        };
        n.unwrap_or(0).max(0) as u64
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse(USAGE);
    let start = Instant::now();
    let url = JdbcUrl::parse(&args.required::<String>("url")).unwrap_or_else(|e| panic!("{e}"));
    let table: String = args.required("table");
    let records: u64 = args.required("records");
    let row_bytes: u64 = args.get_or("row-bytes", 0);
    let interval = Duration::from_millis(args.get_or("interval-ms", 50));
    let timeout = Duration::from_secs(args.get_or("timeout-secs", 600));

    let mut counter = Counter::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let sql = format!("SELECT count(*) FROM {table}");
    let mut first_seen = None;
    loop {
        let have = counter.count(&sql).await;
        if have > 0 && first_seen.is_none() {
            first_seen = Some(start.elapsed());
        }
        if have >= records {
            if have > records {
                eprintln!("jdbc-wait-count: {table} has {have} rows, expected {records}");
                std::process::exit(1);
            }
            break;
        }
        if start.elapsed() > timeout {
            eprintln!("jdbc-wait-count: timed out after {timeout:?} at {have} of {records} rows in {table}");
            std::process::exit(1);
        }
        tokio::time::sleep(interval.max(start.elapsed() / 50)).await;
    }
    let elapsed = start.elapsed();
    if let Some(first) = first_seen {
        println!(
            "jdbc-wait-count: first rows visible after {} ms",
            first.as_millis()
        );
    }
    Throughput {
        records,
        bytes: records * row_bytes,
        elapsed,
    }
    .print(&format!("{table} reached {records} rows"));
}
