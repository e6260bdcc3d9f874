//! One table (or the custom query) being read: its SELECT with Confluent's criteria, its position,
//! and the records read but not yet handed out.
//!
//! Cancel safety: `fetch` only awaits the database and returns rows; the position moves in
//! `accept`, which is synchronous and called once the rows are in hand, so a `poll` dropped while
//! a query runs loses nothing and changes nothing.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use ferry_api::{ConnectError, ConnectRecord, Result, SourceMap, SourceRecord};

use super::columns::OffsetColumns;
use super::offsets::{self, Position};
use crate::config::{Mode, SourceSettings};
use crate::db::{Db, Rows};
use crate::dialect::TableId;
use crate::sql::{self, Criteria};
use crate::types::{Cell, ColumnMeta, RowMapping};

/// Where a querier reads from.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// A table.
    Table(TableId),
    /// The custom `query`.
    Query(String),
}

/// One source partition being read.
#[derive(Debug)]
pub(crate) struct Querier {
    pub(crate) origin: Origin,
    /// The columns its offsets follow.
    pub(crate) offset_columns: OffsetColumns,
    pub(crate) topic: String,
    pub(crate) partition: SourceMap,
    pub(crate) legacy_partition: Option<SourceMap>,
    pub(crate) position: Position,
    /// Whether `position` was loaded from the offset store yet.
    pub(crate) started: bool,
    pub(crate) next_due: Instant,
    pub(crate) buffer: VecDeque<SourceRecord>,
    /// The last mapping, reused while the columns do not change.
    mapping: Option<(Vec<ColumnMeta>, Arc<RowMapping>)>,
    /// The columns of the last page when it was full: the next page, read right after it, reuses
    /// them instead of asking the catalog again (a catch-up read of many pages describes the
    /// table once, as one JDBC result set would). A page of another width is caught by `accept`
    /// and read again with fresh columns.
    pub(crate) known_columns: Option<Vec<ColumnMeta>>,
}

/// Rows fetched for a querier, with what is needed to turn them into records.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) columns: Vec<ColumnMeta>,
    pub(crate) rows: Rows,
    /// Whether the query was cut at `batch.max.rows` (more may follow at once).
    pub(crate) full: bool,
}

/// What a bulk read streams to the task: the columns first, then the rows.
#[derive(Debug)]
pub(crate) enum Streamed {
    Columns(Vec<ColumnMeta>),
    Row(Vec<Cell>),
}

impl Querier {
    /// A querier for `origin`; fails when its offset columns cannot be resolved (mappings).
    pub(crate) fn new(origin: Origin, settings: &SourceSettings) -> Result<Querier> {
        let offset_columns = OffsetColumns::of(&origin, settings)?;
        let (topic, partition, legacy) = match &origin {
            Origin::Table(id) => (
                format!("{}{}", settings.topic_prefix, id.table),
                offsets::table_partition(id),
                Some(offsets::legacy_table_partition(id)),
            ),
            Origin::Query(_) => (
                settings.topic_prefix.clone(),
                offsets::query_partition(),
                None,
            ),
        };
        Ok(Querier {
            origin,
            offset_columns,
            topic,
            partition,
            legacy_partition: legacy,
            position: Position::default(),
            started: false,
            next_due: Instant::now(),
            buffer: VecDeque::new(),
            mapping: None,
            known_columns: None,
        })
    }

    fn name(&self) -> String {
        self.origin.name()
    }
}

impl Origin {
    /// The table's qualified name, or the query, for messages.
    pub(crate) fn name(&self) -> String {
        match self {
            Origin::Table(id) => id.to_string(),
            Origin::Query(q) => format!("query '{q}'"),
        }
    }

    /// The columns of the table or query, as the database describes them now.
    async fn columns(&self, db: &mut Db) -> Result<Vec<ColumnMeta>> {
        match self {
            Origin::Table(id) => {
                let cols = db.table_columns(id).await?;
                if cols.is_empty() {
                    return Err(ConnectError::retriable(format!(
                        "table {id} has no columns or no longer exists"
                    )));
                }
                Ok(cols)
            }
            Origin::Query(q) => db.describe(q).await,
        }
    }

    /// The incrementing column: configured, or the table's auto-increment column.
    fn incrementing_column(
        &self,
        settings: &SourceSettings,
        configured: Option<&String>,
        cols: &[ColumnMeta],
    ) -> Result<String> {
        let name = match configured {
            Some(c) => c.clone(),
            None => cols
                .iter()
                .find(|c| c.auto_increment)
                .map(|c| c.name.clone())
                .ok_or_else(|| {
                    ConnectError::config(format!(
                        "Cannot find auto-incrementing column in {}; set incrementing.column.name",
                        self.name()
                    ))
                })?,
        };
        let col = cols.iter().find(|c| c.name == name).ok_or_else(|| {
            ConnectError::config(format!(
                "Incrementing column {name} not found in {}",
                self.name()
            ))
        })?;
        if settings.validate_non_null && col.nullable && matches!(self, Origin::Table(_)) {
            return Err(ConnectError::config(format!(
                "Cannot make incremental queries using incrementing column {name} on {} because this column is nullable.",
                self.name()
            )));
        }
        Ok(name)
    }

    fn check_timestamp_columns(
        &self,
        settings: &SourceSettings,
        timestamp_columns: &[String],
        cols: &[ColumnMeta],
    ) -> Result<()> {
        let mut all_nullable = true;
        for name in timestamp_columns {
            let col = cols.iter().find(|c| &c.name == name).ok_or_else(|| {
                ConnectError::config(format!(
                    "Timestamp column {name} not found in {}",
                    self.name()
                ))
            })?;
            all_nullable &= col.nullable;
        }
        // Confluent needs one NOT NULL column among them: COALESCE then always has a value.
        if settings.validate_non_null && all_nullable && matches!(self, Origin::Table(_)) {
            return Err(ConnectError::config(format!(
                "Cannot make incremental queries using timestamp columns {} on {} because all of these columns are nullable.",
                timestamp_columns.join(","),
                self.name()
            )));
        }
        Ok(())
    }

    /// `SELECT * FROM table`, or the custom query.
    fn base_query(&self, d: &dyn crate::dialect::Dialect, q: crate::dialect::QuoteMode) -> String {
        match self {
            Origin::Table(id) => format!("SELECT * FROM {}", d.table_sql(id, q)),
            Origin::Query(query) => query.clone(),
        }
    }

    /// Bulk mode: streams the columns, then every row, into `tx` (bounded, so at most its
    /// capacity of rows is held in memory); returns the columns when the read is complete.
    pub(crate) async fn stream_bulk(
        &self,
        db: &mut Db,
        settings: &SourceSettings,
        tx: &tokio::sync::mpsc::Sender<Streamed>,
    ) -> Result<Vec<ColumnMeta>> {
        let columns = self.columns(db).await?;
        if tx.send(Streamed::Columns(columns.clone())).await.is_err() {
            return Ok(columns);
        }
        let d = db.dialect();
        let sql = sql::select(
            d,
            &self.base_query(d, settings.quote),
            &Criteria::None,
            &settings.query_suffix,
            None,
        );
        db.query_each(&sql, &[], tx, Streamed::Row).await?;
        Ok(columns)
    }

    /// Runs the query for the next rows after `pos`.
    pub(crate) async fn fetch(
        &self,
        offset_columns: &OffsetColumns,
        known_columns: Option<Vec<ColumnMeta>>,
        pos: Position,
        db: &mut Db,
        settings: &SourceSettings,
    ) -> Result<Fetched> {
        let d = db.dialect();
        let q = settings.quote;
        let columns = match known_columns {
            Some(c) => c,
            None => self.columns(db).await?,
        };
        let base = self.base_query(d, q);
        let mut params = Vec::new();
        let ts_bounds = |db_now: i64| {
            (
                pos.timestamp_us.unwrap_or(0),
                db_now - settings.timestamp_delay_ms * 1000,
            )
        };
        let criteria = match settings.mode {
            Mode::Bulk => Criteria::None,
            Mode::Incrementing => {
                let inc = self.incrementing_column(
                    settings,
                    offset_columns.incrementing.as_ref(),
                    &columns,
                )?;
                params.push(Cell::Int(pos.incrementing.unwrap_or(-1)));
                Criteria::Incrementing {
                    inc: d.quote(&inc, q),
                }
            }
            Mode::Timestamp => {
                self.check_timestamp_columns(settings, &offset_columns.timestamp, &columns)?;
                let (from, to) = ts_bounds(db.current_time().await?);
                params.push(Cell::Timestamp(from));
                params.push(Cell::Timestamp(to));
                Criteria::Timestamp {
                    ts: Criteria::timestamp_expr(d, &offset_columns.timestamp, q),
                }
            }
            Mode::TimestampIncrementing => {
                self.check_timestamp_columns(settings, &offset_columns.timestamp, &columns)?;
                let inc = self.incrementing_column(
                    settings,
                    offset_columns.incrementing.as_ref(),
                    &columns,
                )?;
                let (from, to) = ts_bounds(db.current_time().await?);
                params.extend([
                    Cell::Timestamp(to),
                    Cell::Timestamp(from),
                    Cell::Int(pos.incrementing.unwrap_or(-1)),
                    Cell::Timestamp(from),
                ]);
                Criteria::TimestampIncrementing {
                    ts: Criteria::timestamp_expr(d, &offset_columns.timestamp, q),
                    inc: d.quote(&inc, q),
                }
            }
        };
        // Pages of `batch.max.rows`: exact where an incrementing column breaks ties; in timestamp
        // mode a page ends before its last timestamp (see `trim_timestamp_page`). Bulk reads the
        // whole table, as Confluent does.
        let limit = (settings.mode != Mode::Bulk && settings.query_suffix.is_empty())
            .then_some(settings.batch_max_rows);
        let sql = sql::select(d, &base, &criteria, &settings.query_suffix, limit);
        let mut rows = db.query(&sql, &params).await?;
        let mut full = limit.is_some_and(|n| rows.len() >= n);
        if full && settings.mode == Mode::Timestamp {
            let ts: Vec<usize> = offset_columns
                .timestamp
                .iter()
                .filter_map(|n| columns.iter().position(|c| &c.name == n))
                .collect();
            if !trim_timestamp_page(&mut rows, &ts) {
                // One timestamp fills the page: read the whole delta once.
                let sql = sql::select(d, &base, &criteria, &settings.query_suffix, None);
                rows = db.query(&sql, &params).await?;
                full = false;
            }
        }
        Ok(Fetched {
            columns,
            rows,
            full,
        })
    }
}

impl Querier {
    /// Hands out at most `max` buffered records, oldest first; all of them without moving each
    /// record when they fit (the usual case: a query reads at most `batch.max.rows`).
    pub(crate) fn take_batch(&mut self, max: usize) -> Vec<SourceRecord> {
        if self.buffer.len() <= max {
            Vec::from(std::mem::take(&mut self.buffer))
        } else {
            self.buffer.drain(..max).collect()
        }
    }

    /// Turns fetched rows into records (buffered), moving the position past them. Synchronous.
    pub(crate) fn accept(
        &mut self,
        fetched: Fetched,
        settings: &SourceSettings,
        now: Instant,
    ) -> Result<()> {
        // Whether these rows were read with the last page's columns (not bulk: it streams and
        // describes the table itself). A conversion error then may be a type changed since.
        let cached_columns = self.known_columns.take().is_some() && settings.mode != Mode::Bulk;
        let Fetched {
            columns,
            rows,
            full,
        } = fetched;
        let mapping = match &self.mapping {
            Some((cols, m)) if *cols == columns => Arc::clone(m),
            _ => {
                let name = match &self.origin {
                    Origin::Table(id) => Some(id.table.as_str()),
                    Origin::Query(_) => None,
                };
                let m = Arc::new(RowMapping::new(name, &columns, settings.mapping));
                self.mapping = Some((columns.clone(), Arc::clone(&m)));
                m
            }
        };
        let position_of = |name: &str| columns.iter().position(|c| c.name == name);
        let inc_index = match settings.mode {
            Mode::Incrementing | Mode::TimestampIncrementing => {
                let name = self.origin.incrementing_column(
                    settings,
                    self.offset_columns.incrementing.as_ref(),
                    &columns,
                )?;
                position_of(&name)
            }
            _ => None,
        };
        let ts_indexes: Vec<usize> = self
            .offset_columns
            .timestamp
            .iter()
            .filter_map(|n| position_of(n))
            .collect();
        let mut position = self.position;
        let mut out = Vec::with_capacity(rows.len());
        // Bulk records carry no offset: one shared empty map instead of one per row.
        let no_offset = SourceMap::new();
        for row in rows {
            if row.len() != columns.len() {
                return Err(ConnectError::retriable(format!(
                    "{} changed while it was read ({} columns, {} values); reading again",
                    self.name(),
                    columns.len(),
                    row.len()
                )));
            }
            let offset = match settings.mode {
                Mode::Bulk => no_offset.clone(),
                Mode::Incrementing | Mode::TimestampIncrementing | Mode::Timestamp => {
                    if let Some(i) = inc_index {
                        position.incrementing = Some(cell_i64(&row[i]).ok_or_else(|| {
                            ConnectError::data(format!(
                                "incrementing column {} of {} holds {:?}, not an integer",
                                columns[i].name,
                                self.name(),
                                row[i]
                            ))
                        })?);
                    }
                    if let Some(us) = row_timestamp(&row, &ts_indexes) {
                        position.timestamp_us = Some(us);
                    }
                    position.to_map()
                }
            };
            out.push(SourceRecord {
                source_partition: self.partition.clone(),
                source_offset: offset,
                record: ConnectRecord::new(
                    self.topic.clone(),
                    Some(Arc::clone(&mapping.schema)),
                    mapping.struct_of(row).map_err(|e| {
                        if cached_columns {
                            ConnectError::retriable(format!(
                                "{}: {e}; its columns may have changed, reading again",
                                self.name()
                            ))
                        } else {
                            e
                        }
                    })?,
                ),
            });
        }
        self.position = position;
        if self.buffer.is_empty() {
            // The usual case: the buffer takes the records' vector as it is (no move per record).
            self.buffer = out.into();
        } else {
            self.buffer.extend(out);
        }
        if full {
            self.known_columns = Some(columns);
        }
        self.next_due = if full {
            now
        } else {
            now + std::time::Duration::from_millis(settings.poll_interval_ms)
        };
        Ok(())
    }
}

/// The timestamp (epoch micros) of a row: the first non-null of the timestamp columns.
fn row_timestamp(row: &[Cell], ts_columns: &[usize]) -> Option<i64> {
    ts_columns.iter().find_map(|&i| match row.get(i) {
        Some(Cell::Timestamp(us)) => Some(*us),
        Some(Cell::Date(d)) => Some(*d as i64 * crate::time::MICROS_PER_DAY),
        _ => None,
    })
}

/// Drops the rows sharing the last timestamp of a full page, so that the next query
/// (`ts > last kept`) reads them whole: a page cut inside one timestamp would skip the rest of
/// it. False when every row has the same timestamp (nothing can be kept).
fn trim_timestamp_page(rows: &mut Vec<Vec<Cell>>, ts_columns: &[usize]) -> bool {
    let Some(last) = rows.last().map(|r| row_timestamp(r, ts_columns)) else {
        return true;
    };
    match rows
        .iter()
        .rposition(|r| row_timestamp(r, ts_columns) != last)
    {
        Some(i) => {
            rows.truncate(i + 1);
            true
        }
        None => false,
    }
}

fn cell_i64(c: &Cell) -> Option<i64> {
    match c {
        Cell::Int(i) => Some(*i),
        Cell::UInt(u) => i64::try_from(*u).ok(),
        Cell::Decimal(d) => d.rescale(0).and_then(|d| i64::try_from(&d.unscaled).ok()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_pages_end_before_their_last_timestamp() {
        let row = |id: i64, ts: i64| vec![Cell::Int(id), Cell::Timestamp(ts)];
        let mut rows = vec![row(1, 10), row(2, 20), row(3, 30), row(4, 30)];
        assert!(trim_timestamp_page(&mut rows, &[1]));
        assert_eq!(rows, vec![row(1, 10), row(2, 20)]);
        let mut same = vec![row(1, 5), row(2, 5)];
        assert!(!trim_timestamp_page(&mut same, &[1]));
        // COALESCE: the first non-null timestamp column counts.
        let mut co = vec![
            vec![Cell::Null, Cell::Timestamp(1)],
            vec![Cell::Timestamp(2), Cell::Timestamp(1)],
        ];
        assert!(trim_timestamp_page(&mut co, &[0, 1]));
        assert_eq!(co.len(), 1);
    }

    /// A page read with the previous page's columns that does not convert is read again with
    /// fresh columns (retriable); the same failure on fresh columns is the data error it is.
    #[test]
    fn conversion_errors_on_reused_columns_are_retried_once() {
        use crate::types::{ColumnMeta, SqlType};
        let props: ferry_api::Props = [
            ("connection.url", "jdbc:postgresql://h/db"),
            ("topic.prefix", "p-"),
            ("mode", "incrementing"),
            ("batch.max.rows", "1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let settings = SourceSettings::parse(&props).unwrap();
        let origin = Origin::Table(TableId {
            catalog: None,
            schema: Some("public".into()),
            table: "t".into(),
        });
        let mut q = Querier::new(origin, &settings).unwrap();
        let col = |name: &str, sql_type| ColumnMeta {
            name: name.into(),
            sql_type,
            nullable: false,
            auto_increment: name == "id",
        };
        let columns = vec![
            col("id", SqlType::Integer { unsigned: false }),
            col("small", SqlType::SmallInt { unsigned: false }),
        ];
        let page = |id: i64, small: i64| Fetched {
            columns: columns.clone(),
            rows: vec![vec![Cell::Int(id), Cell::Int(small)]],
            full: true,
        };
        q.accept(page(1, 1), &settings, Instant::now()).unwrap();
        assert_eq!(q.known_columns.as_deref(), Some(&columns[..]));
        // As if `small` had become an INTEGER since the columns were read.
        let err = q
            .accept(page(2, 100_000), &settings, Instant::now())
            .unwrap_err();
        assert!(err.is_retriable(), "{err}");
        assert_eq!(q.known_columns, None);
        let err = q
            .accept(page(2, 100_000), &settings, Instant::now())
            .unwrap_err();
        assert!(!err.is_retriable(), "{err}");
        assert!(err.message().contains("column small"), "{err}");
        assert_eq!(
            q.position.incrementing,
            Some(1),
            "no position moved past a failed page"
        );
    }

    /// The steady-state cost of turning rows into records (rows → Struct → SourceRecord with its
    /// offset), on rows shaped like bench/jdbc.sh's table. A measurement, not a test: run with
    /// `cargo test -p ferry-connector-jdbc --release --lib accept_cost -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn accept_cost() {
        use crate::types::{ColumnMeta, SqlType};
        use ferry_api::{Decimal, Props};
        let col = |name: &str, sql_type| ColumnMeta {
            name: name.into(),
            sql_type,
            nullable: name != "id",
            auto_increment: name == "id",
        };
        let columns = vec![
            col("id", SqlType::BigInt { unsigned: false }),
            col("name", SqlType::Text),
            col("amount", SqlType::Integer { unsigned: false }),
            col("active", SqlType::Boolean),
            col("created", SqlType::Timestamp),
            col(
                "price",
                SqlType::Numeric {
                    precision: 10,
                    scale: 2,
                },
            ),
        ];
        let props: Props = [
            ("connection.url", "jdbc:postgresql://h/db"),
            ("topic.prefix", "bench-"),
            ("mode", "incrementing"),
            ("batch.max.rows", "10000"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let settings = SourceSettings::parse(&props).unwrap();
        let origin = Origin::Table(crate::dialect::TableId {
            catalog: Some("db".into()),
            schema: Some("public".into()),
            table: "bench_src".into(),
        });
        let mut q = Querier::new(origin, &settings).unwrap();
        let rows_per_batch = 10_000;
        let batches = 20;
        let batch = |b: usize| -> Vec<Vec<Cell>> {
            (0..rows_per_batch)
                .map(|i| {
                    let id = (b * rows_per_batch + i) as i64;
                    vec![
                        Cell::Int(id),
                        Cell::Text(format!("name-{id}")),
                        Cell::Int(id % 1000),
                        Cell::Bool(id % 2 == 0),
                        Cell::Timestamp(1_700_000_000_000_000 + id),
                        Cell::Decimal(Decimal::new(id * 7, 2)),
                    ]
                })
                .collect()
        };
        let inputs: Vec<Vec<Vec<Cell>>> = (0..batches).map(batch).collect();
        let start = Instant::now();
        let mut n = 0;
        for rows in inputs {
            let fetched = Fetched {
                columns: columns.clone(),
                rows,
                full: true,
            };
            q.accept(fetched, &settings, Instant::now()).unwrap();
            n += q.take_batch(rows_per_batch).len();
        }
        let elapsed = start.elapsed();
        println!(
            "accept: {n} rows in {elapsed:?}: {:.0} ns/row, {:.0} rows/s",
            elapsed.as_nanos() as f64 / n as f64,
            n as f64 / elapsed.as_secs_f64()
        );
        // Its parts, each on its own over the same number of rows, freed every batch as the
        // worker frees records once produced (so memory is reused, as in the pipeline).
        let per_row = |what: &str, f: &mut dyn FnMut(usize) -> Box<dyn std::any::Any>| {
            let start = Instant::now();
            let mut kept = Vec::with_capacity(rows_per_batch);
            for i in 0..n {
                kept.push(f(i));
                if kept.len() == rows_per_batch {
                    kept.clear();
                }
            }
            let ns = start.elapsed().as_nanos() as f64 / n as f64;
            println!("  {what}: {ns:.0} ns/row");
        };
        per_row("offset map", &mut |i| {
            let p = Position {
                incrementing: Some(i as i64),
                timestamp_us: None,
            };
            Box::new(p.to_map())
        });
        per_row("topic clone", &mut |_| Box::new(q.topic.clone()));
        let mapping = Arc::clone(&q.mapping.as_ref().unwrap().1);
        let rows = batch(0);
        per_row("row clone (input, not in accept)", &mut |i| {
            Box::new(rows[i % rows_per_batch].clone())
        });
        per_row("row clone + struct_of", &mut |i| {
            Box::new(mapping.struct_of(rows[i % rows_per_batch].clone()).unwrap())
        });
    }
}
