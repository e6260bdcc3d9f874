//! Times a database writer we cannot instrument (Ferry's JDBC sink) from outside: polls
//! `SELECT count(*)` of a table until it holds N rows. The clock starts when this probe starts
//! (start it just before the writer); a table that does not exist yet counts as empty.
//!
//! `count(*)` scans the table, so polling it at a fixed short interval would take a growing share
//! of the machine from the writer being measured: the wait between polls is `--interval-ms` or
//! 2% of the time elapsed, whichever is longer (the stop time is then late by at most ~2%).
//!
//! On PostgreSQL with `--last-id ID` (the `id` of the last row written) the probe looks only at
//! the table's last pages instead (a TID range scan of the newest 256 pages, ~40k rows of the
//! benchmark table, whatever the table's size): a writer appending rows in order has written them all once the last one is visible.
//! The full `count(*)` then confirms the total; if it falls short (rows came out of order), the
//! probe goes back to counting. Measured here: polling `count(*)` of a growing 1M-row table
//! took ~0.8 CPU-seconds from a ~4.5 s run on 2 cores, a share the writer did not get.
//!
//! Usage: jdbc-wait-count --url JDBC_URL --table T --records N [--row-bytes B] [--last-id ID]
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
                     [--last-id ID] [--interval-ms 50] [--timeout-secs 600]";

/// Pages at the end of the table the `--last-id` probe reads (PostgreSQL 15 extends a table
/// one page at a time for a single writer; this leaves room for bulk extension).
const TAIL_PAGES: i64 = 256;

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

    /// Rows with `id` among the last [`TAIL_PAGES`] pages of a PostgreSQL table (0 while the
    /// table is missing). The page number is a literal: PostgreSQL plans a TID range scan only
    /// for a constant bound.
    async fn in_tail(&mut self, table: &str, id: i64) -> u64 {
        let pages = self
            .count(&format!(
                "SELECT pg_relation_size('{table}') / current_setting('block_size')::bigint"
            ))
            .await as i64;
        let from = (pages - TAIL_PAGES).max(0);
        self.count(&format!(
            "SELECT count(*) FROM {table} WHERE id = {id} AND ctid >= '({from},0)'::tid"
        ))
        .await
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
    let count_sql = format!("SELECT count(*) FROM {table}");
    // The last row's id, looked for among the table's last pages (PostgreSQL only).
    let mut last_id = match url.kind {
        Kind::Postgres => args.get::<i64>("last-id"),
        Kind::MySql => None,
    };
    let mut first_seen = None;
    loop {
        let have = match last_id {
            Some(id) if counter.in_tail(&table, id).await == 0 => 0,
            Some(_) => {
                let have = counter.count(&count_sql).await;
                if have < records {
                    eprintln!(
                        "jdbc-wait-count: the last row is in {table} before the others ({have} of {records}); counting rows from now on"
                    );
                    last_id = None;
                }
                have
            }
            None => counter.count(&count_sql).await,
        };
        // (The tail probe sees no rows before the last: it cannot tell when the first arrived.)
        if have > 0 && first_seen.is_none() && last_id.is_none() {
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
