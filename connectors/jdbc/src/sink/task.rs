//! `JdbcSinkTask`: each `put` is planned, then written and committed in one database
//! transaction before `put` returns, so everything `put` accepted is durable and the default
//! `pre_commit` (commit what was delivered) is exact: consumer offsets never run ahead of the
//! database.
//!
//! Failures that may pass (connection lost, deadlock, …) are retried `max.retries` times,
//! `retry.backoff.ms` apart, reconnecting as needed; data and configuration errors fail at once.
//!
//! Each write runs as a spawned job that owns the connection, so a `put` dropped by the worker
//! never abandons a statement half-way (which would leave the MySQL protocol out of step or a
//! transaction open): the job commits or rolls back, and the next call waits for it first.

use std::time::Duration;

use async_trait::async_trait;
use ferry_api::{ConnectError, ErrorKind, Props, Result, SinkRecord, SinkTask, SinkTaskContext};

use super::writer::{self, FieldsCache, Writer};
use crate::config::SinkSettings;
use crate::db::Db;

/// Confluent's `io.confluent.connect.jdbc.sink.JdbcSinkTask`.
#[derive(Debug, Default)]
pub struct JdbcSinkTask {
    settings: Option<SinkSettings>,
    db: Option<Db>,
    cache: FieldsCache,
    writer: Writer,
    /// The write in flight, owning the connection and writer until it finishes.
    job: Option<tokio::task::JoinHandle<WriteOutcome>>,
}

/// What a write job hands back.
type WriteOutcome = (Option<Db>, Writer, Result<()>);

impl JdbcSinkTask {
    /// A task; configured by `start`.
    pub fn new() -> Self {
        JdbcSinkTask::default()
    }
}

#[async_trait]
impl SinkTask for JdbcSinkTask {
    async fn start(&mut self, props: &Props, _context: SinkTaskContext) -> Result<()> {
        let settings = SinkSettings::parse(props)?;
        self.db = Some(Db::connect(&settings.connection).await?);
        self.settings = Some(settings);
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let settings = self
            .settings
            .clone()
            .ok_or_else(|| ConnectError::internal("JDBC sink task put before start"))?;
        // A write left running by a dropped `put` finishes first; its records come again.
        if self.job.is_some() {
            let _ = self.finish_job().await;
        }
        let batches = std::sync::Arc::new(writer::plan(&settings, &mut self.cache, records)?);
        let mut attempt = 0;
        loop {
            let (mut db, mut writer) = (self.db.take(), std::mem::take(&mut self.writer));
            let (s, b) = (settings.clone(), std::sync::Arc::clone(&batches));
            self.job = Some(tokio::spawn(async move {
                let result = async {
                    if db.is_none() {
                        db = Some(Db::connect(&s.connection).await?);
                    }
                    let conn = db.as_mut().expect("connected above");
                    writer.write(conn, &s, &b).await
                }
                .await;
                (db, writer, result)
            }));
            let result = self.finish_job().await;
            let e = match result {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if matches!(e.kind(), ErrorKind::Data | ErrorKind::Config)
                || attempt >= settings.max_retries
            {
                let retries = if attempt > 0 {
                    format!(" after {attempt} retries")
                } else {
                    String::new()
                };
                return Err(e.context(format!(
                    "writing {} records to the database failed{retries}",
                    records.len()
                )));
            }
            attempt += 1;
            tracing::warn!(
                "writing {} records failed (attempt {attempt} of {}), retrying in {} ms: {e}",
                records.len(),
                settings.max_retries + 1,
                settings.retry_backoff_ms
            );
            self.writer.forget();
            if let Some(db) = self.db.as_mut() {
                if !db.is_alive().await {
                    self.db = None;
                }
            }
            tokio::time::sleep(Duration::from_millis(settings.retry_backoff_ms)).await;
        }
    }

    async fn stop(&mut self) -> Result<()> {
        if self.job.is_some() {
            let _ = self.finish_job().await;
        }
        self.db = None;
        Ok(())
    }
}

impl JdbcSinkTask {
    /// Awaits the write job (cancel-safe: the handle stays in `self` until it yields) and takes
    /// back the connection and writer.
    async fn finish_job(&mut self) -> Result<()> {
        let Some(job) = self.job.as_mut() else {
            return Ok(());
        };
        let outcome = job.await;
        self.job = None;
        let (db, writer, result) =
            outcome.map_err(|e| ConnectError::internal(format!("JDBC write job failed: {e}")))?;
        self.db = db;
        self.writer = writer;
        result
    }
}
