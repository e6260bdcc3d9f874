//! `JdbcSourceTask`: reads its tables (or the query) in turn, each at most every
//! `poll.interval.ms` unless the last read was cut at `batch.max.rows`, and hands out at most
//! `batch.max.rows` records per `poll`.
//!
//! Cancel safety: the worker drops a pending `poll` whenever offsets are due to be flushed. A
//! database query abandoned half-way would leave the MySQL protocol out of step, so each query
//! runs as a spawned job that owns the connection; `poll` only awaits the job's handle, which is
//! kept in the task. A dropped `poll` leaves the job running, and the next `poll` picks up its
//! result; the querier's position moves only when that result is accepted.
//!
//! Pipelining: when a page comes back full (`batch.max.rows` rows, more waiting), the next query
//! starts as soon as the page is handed out, so the database reads page k+1 while the worker
//! converts and produces page k.
//!
//! Database errors that may pass (connection lost, table changed under the query) drop the
//! connection and are retried on the next poll after `connection.backoff.ms` (Confluent retries
//! queries the same way), at most `query.retry.attempts` times in a row (-1: forever);
//! configuration and data errors fail the task.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use async_trait::async_trait;
use ferry_api::{
    ConnectError, Props, Result, SourceMap, SourceRecord, SourceTask, SourceTaskContext,
};

use super::offsets::Position;
use super::querier::{Fetched, Origin, Querier, Streamed};
use super::tables;
use crate::config::{Mode, SourceSettings, QUERY_RETRY_ATTEMPTS, TASK_TABLES};
use crate::db::Db;
use crate::types::ColumnMeta;

/// The longest a `poll` waits for a table to fall due before returning empty.
const MAX_IDLE_WAIT: Duration = Duration::from_millis(500);

/// Confluent's `io.confluent.connect.jdbc.source.JdbcSourceTask`.
#[derive(Debug, Default)]
pub struct JdbcSourceTask {
    settings: Option<SourceSettings>,
    context: Option<SourceTaskContext>,
    db: Option<Db>,
    queriers: Vec<Querier>,
    /// After a passing failure, no query before this instant.
    backoff_until: Option<Instant>,
    /// Passing failures in a row (for `query.retry.attempts`); reset by a successful query.
    failures: u32,
    /// The query in flight, owning the connection until it finishes.
    job: Option<tokio::task::JoinHandle<JobOutcome>>,
    /// The rows of a bulk read in flight, streamed by `job`.
    stream: Option<Stream>,
}

/// Most rows of a bulk read held between the database and the task.
const STREAM_ROWS: usize = 10_000;

/// A bulk read being streamed: the receiving end, its querier and its columns.
#[derive(Debug)]
struct Stream {
    rx: mpsc::Receiver<Streamed>,
    index: usize,
    columns: Vec<ColumnMeta>,
}

/// What a query job hands back: the connection, and for querier `index` its start position
/// (when it was loaded by this job) and the rows, or the error.
#[derive(Debug)]
struct JobOutcome {
    db: Db,
    index: usize,
    result: Result<(Option<Position>, Fetched)>,
}

impl JdbcSourceTask {
    /// A task; configured by `start`.
    pub fn new() -> Self {
        JdbcSourceTask::default()
    }

    fn settings(&self) -> Result<&SourceSettings> {
        self.settings
            .as_ref()
            .ok_or_else(|| ConnectError::internal("JDBC source task polled before start"))
    }

    /// Loads a querier's stored position (or the configured start) once.
    async fn start_querier(
        db: &mut Db,
        settings: &SourceSettings,
        context: &SourceTaskContext,
        partition: &SourceMap,
        legacy: Option<&SourceMap>,
    ) -> Result<Position> {
        let stored = Position::stored(context.offsets.as_ref(), partition, legacy);
        if let Some(p) = stored {
            tracing::info!("resuming {partition:?} from offset {p:?}");
            return Ok(p);
        }
        let mut p = Position::default();
        if matches!(settings.mode, Mode::Timestamp | Mode::TimestampIncrementing) {
            p.timestamp_us = match settings.timestamp_initial {
                Some(-1) => Some(db.current_time().await?),
                Some(ms) => Some(ms * 1000),
                None => None,
            };
        }
        Ok(p)
    }
}

#[async_trait]
impl SourceTask for JdbcSourceTask {
    async fn start(&mut self, props: &Props, context: SourceTaskContext) -> Result<()> {
        let settings = SourceSettings::parse(props)?;
        let origins: Vec<Origin> = match &settings.query {
            Some(q) => vec![Origin::Query(q.clone())],
            None => {
                let encoded = props.get(TASK_TABLES).ok_or_else(|| {
                    ConnectError::config(format!("Missing task configuration {TASK_TABLES}"))
                })?;
                tables::decode(encoded)?
                    .into_iter()
                    .map(Origin::Table)
                    .collect()
            }
        };
        self.queriers = origins
            .into_iter()
            .map(|o| Querier::new(o, &settings))
            .collect::<Result<_>>()?;
        self.db = Some(connect(&settings).await?);
        self.settings = Some(settings);
        self.context = Some(context);
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        let settings = self.settings()?.clone();
        if self.queriers.is_empty() {
            tokio::time::sleep(MAX_IDLE_WAIT).await;
            return Ok(Vec::new());
        }
        // Records already read go out first, oldest querier first.
        if let Some(q) = self.queriers.iter_mut().find(|q| !q.buffer.is_empty()) {
            return Ok(q.take_batch(settings.batch_max_rows));
        }
        if self.stream.is_some() {
            return self.next_streamed(&settings).await;
        }
        if self.job.is_some() {
            return self.finish_job().await;
        }
        let now = Instant::now();
        if let Some(until) = self.backoff_until {
            if until > now {
                tokio::time::sleep((until - now).min(MAX_IDLE_WAIT)).await;
                return Ok(Vec::new());
            }
        }
        let (index, due) = self
            .queriers
            .iter()
            .enumerate()
            .map(|(i, q)| (i, q.next_due))
            .min_by_key(|(_, due)| *due)
            .expect("queriers is not empty");
        if due > now {
            tokio::time::sleep((due - now).min(MAX_IDLE_WAIT)).await;
            if Instant::now() < due {
                return Ok(Vec::new());
            }
        }
        if self.db.is_none() {
            match connect(&settings).await {
                Ok(db) => self.db = Some(db),
                Err(e) => return self.passing_failure(e, &settings),
            }
        }
        let mut db = self.db.take().expect("connected above");
        if settings.mode == Mode::Bulk {
            let origin = self.queriers[index].origin.clone();
            let (tx, rx) = mpsc::channel(settings.batch_max_rows.clamp(16, STREAM_ROWS));
            self.stream = Some(Stream {
                rx,
                index,
                columns: Vec::new(),
            });
            let job_settings = settings.clone();
            self.job = Some(tokio::spawn(async move {
                let result = origin
                    .stream_bulk(&mut db, &job_settings, &tx)
                    .await
                    .map(|columns| {
                        let fetched = Fetched {
                            columns,
                            rows: Vec::new(),
                            full: false,
                        };
                        (None, fetched)
                    });
                JobOutcome { db, index, result }
            }));
            return self.next_streamed(&settings).await;
        }
        self.spawn_fetch(index, db, settings);
        self.finish_job().await
    }

    async fn stop(&mut self) -> Result<()> {
        self.stream = None;
        if let Some(job) = self.job.take() {
            job.abort();
        }
        self.db = None;
        Ok(())
    }
}

impl JdbcSourceTask {
    /// Starts the query job for querier `index` on `db` (table and query modes; bulk streams).
    fn spawn_fetch(&mut self, index: usize, mut db: Db, settings: SourceSettings) {
        let context = self.context.clone().expect("started");
        let querier = &self.queriers[index];
        let (origin, started, position) =
            (querier.origin.clone(), querier.started, querier.position);
        let offset_columns = querier.offset_columns.clone();
        let known_columns = querier.known_columns.clone();
        let (partition, legacy) = (querier.partition.clone(), querier.legacy_partition.clone());
        self.job = Some(tokio::spawn(async move {
            let result = async {
                let start = if started {
                    None
                } else {
                    Some(
                        Self::start_querier(
                            &mut db,
                            &settings,
                            &context,
                            &partition,
                            legacy.as_ref(),
                        )
                        .await?,
                    )
                };
                let fetched = origin
                    .fetch(
                        &offset_columns,
                        known_columns,
                        start.unwrap_or(position),
                        &mut db,
                        &settings,
                    )
                    .await?;
                Ok((start, fetched))
            }
            .await;
            JobOutcome { db, index, result }
        }));
    }

    /// When a querier is due at once (its last page was full), starts its next query right away,
    /// so that the database reads the next page while the worker converts and produces this one.
    /// The position it reads from already includes the page just accepted.
    fn prefetch(&mut self, settings: &SourceSettings) {
        if settings.mode == Mode::Bulk || self.job.is_some() || self.db.is_none() {
            return;
        }
        let now = Instant::now();
        if self.backoff_until.is_some_and(|until| until > now) {
            return;
        }
        let Some((index, due)) = self
            .queriers
            .iter()
            .enumerate()
            .map(|(i, q)| (i, q.next_due))
            .min_by_key(|(_, due)| *due)
        else {
            return;
        };
        if due <= now {
            let db = self.db.take().expect("checked above");
            self.spawn_fetch(index, db, settings.clone());
        }
    }

    /// Takes the next rows of the bulk read in flight (cancel-safe: `recv` loses nothing, the
    /// rest is synchronous). When the read is complete, finishes its job.
    async fn next_streamed(&mut self, settings: &SourceSettings) -> Result<Vec<SourceRecord>> {
        let stream = self.stream.as_mut().expect("a stream is in flight");
        let Some(first) = stream.rx.recv().await else {
            self.stream = None;
            return self.finish_job().await;
        };
        let mut rows = Vec::new();
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Streamed::Columns(c) => stream.columns = c,
                Streamed::Row(r) => rows.push(r),
            }
            if rows.len() < settings.batch_max_rows {
                next = stream.rx.try_recv().ok();
            }
        }
        let q = &mut self.queriers[stream.index];
        let fetched = Fetched {
            columns: stream.columns.clone(),
            rows,
            full: true,
        };
        q.accept(fetched, settings, Instant::now())?;
        Ok(q.take_batch(settings.batch_max_rows))
    }

    /// Awaits the query job (cancel-safe: the handle stays in `self` until it yields) and
    /// accepts its rows.
    async fn finish_job(&mut self) -> Result<Vec<SourceRecord>> {
        let settings = self.settings()?.clone();
        let Some(job) = self.job.as_mut() else {
            return Ok(Vec::new());
        };
        let outcome = job.await;
        self.job = None;
        let JobOutcome { db, index, result } =
            outcome.map_err(|e| ConnectError::internal(format!("JDBC query job failed: {e}")))?;
        self.db = Some(db);
        match result {
            Ok((position, fetched)) => {
                self.failures = 0;
                let q = &mut self.queriers[index];
                if let Some(p) = position {
                    q.position = p;
                    q.started = true;
                }
                q.accept(fetched, &settings, Instant::now())?;
                let batch = q.take_batch(settings.batch_max_rows);
                self.prefetch(&settings);
                Ok(batch)
            }
            Err(e) if e.is_retriable() => {
                self.queriers[index].known_columns = None;
                self.passing_failure(e, &settings)
            }
            Err(e) => Err(e),
        }
    }

    /// Logs a failure that may pass, drops the connection and backs off.
    fn passing_failure(
        &mut self,
        e: ConnectError,
        settings: &SourceSettings,
    ) -> Result<Vec<SourceRecord>> {
        self.db = None;
        self.failures += 1;
        if let Some(attempts) = settings.query_retry_attempts {
            if self.failures > attempts {
                return Err(ConnectError::external(format!(
                    "Failed to query the database after {attempts} retries \
                     ({QUERY_RETRY_ATTEMPTS}): {e}"
                )));
            }
        }
        tracing::warn!("JDBC source query failed, retrying: {e}");
        self.backoff_until =
            Some(Instant::now() + Duration::from_millis(settings.connection.backoff_ms.min(5000)));
        Ok(Vec::new())
    }
}

/// A connection for the task's queries: the connection settings, then the session's
/// `transaction.isolation.mode`.
pub(crate) async fn connect(settings: &SourceSettings) -> Result<Db> {
    let mut db = Db::connect(&settings.connection).await?;
    if let Some(level) = settings.isolation.sql_level() {
        let stmt = crate::sql::set_isolation(db.dialect(), level);
        db.simple(&stmt).await?;
    }
    Ok(db)
}
