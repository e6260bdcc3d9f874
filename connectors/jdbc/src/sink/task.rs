//! `JdbcSinkTask`: `put` turns its records into rows (data errors surface here, naming the
//! record) and queues them for the background writer ([`Pipeline`]), which writes and commits
//! them while the worker fetches the next records. `flush` — and so the default `pre_commit` —
//! waits until everything put so far is committed in the database: consumer offsets never run
//! ahead of the table. A write that failed for good surfaces on the next `put` or `flush`.

use async_trait::async_trait;
use ferry_api::{
    ConnectError, Props, Result, SinkRecord, SinkTask, SinkTaskContext, TopicPartitionOffsets,
};

use super::pipeline::{Origin, Pipeline};
use super::writer::{self, FieldsCache};
use crate::config::SinkSettings;
use crate::db::Db;

/// Confluent's `io.confluent.connect.jdbc.sink.JdbcSinkTask`.
#[derive(Debug, Default)]
pub struct JdbcSinkTask {
    settings: Option<SinkSettings>,
    cache: FieldsCache,
    pipeline: Option<Pipeline>,
}

impl JdbcSinkTask {
    /// A task; configured by `start`.
    pub fn new() -> Self {
        JdbcSinkTask::default()
    }

    fn pipeline(&mut self) -> Result<&mut Pipeline> {
        self.pipeline
            .as_mut()
            .ok_or_else(|| ConnectError::internal("JDBC sink task used before start"))
    }
}

#[async_trait]
impl SinkTask for JdbcSinkTask {
    async fn start(&mut self, props: &Props, _context: SinkTaskContext) -> Result<()> {
        let settings = SinkSettings::parse(props)?;
        let db = Db::connect(&settings.connection).await?;
        self.pipeline = Some(Pipeline::start(settings.clone(), db));
        self.settings = Some(settings);
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let settings = self
            .settings
            .as_ref()
            .ok_or_else(|| ConnectError::internal("JDBC sink task put before start"))?;
        let batches = writer::plan(settings, &mut self.cache, records)?;
        self.pipeline()?
            .submit(records.len(), Origin::of(records), batches)
            .await
    }

    async fn flush(&mut self, _offsets: &TopicPartitionOffsets) -> Result<()> {
        self.pipeline()?.drain().await
    }

    async fn stop(&mut self) -> Result<()> {
        if let Some(mut p) = self.pipeline.take() {
            p.stop().await;
        }
        Ok(())
    }
}
