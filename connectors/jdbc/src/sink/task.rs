//! `JdbcSinkTask`: each `put` is planned, then written and committed in one database
//! transaction before `put` returns, so everything `put` accepted is durable and the default
//! `pre_commit` (commit what was delivered) is exact: consumer offsets never run ahead of the
//! database.
//!
//! Failures that may pass (connection lost, deadlock, …) are retried `max.retries` times,
//! `retry.backoff.ms` apart, reconnecting as needed; data and configuration errors fail at once.

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
}

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
        let batches = writer::plan(&settings, &mut self.cache, records)?;
        let mut attempt = 0;
        loop {
            let result = async {
                if self.db.is_none() {
                    self.db = Some(Db::connect(&settings.connection).await?);
                }
                let db = self.db.as_mut().expect("connected above");
                self.writer.write(db, &settings, &batches).await
            }
            .await;
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
        self.db = None;
        Ok(())
    }
}
