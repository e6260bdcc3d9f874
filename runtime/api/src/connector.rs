//! Connector and task traits, with the offset-commit contract the engine enforces.
//!
//! # The commit contract
//!
//! **Source side.** A [`SourceRecord`]'s `source_offset` becomes committable only when the Kafka
//! producer has acknowledged that record *and every earlier record of the same source partition*
//! (or they were dropped by a transform or tolerated as errors). The engine writes committable
//! offsets to the offset store every `offset.flush.interval.ms` and only then calls
//! [`SourceTask::commit`]. A task therefore must never acknowledge data upstream (delete a file,
//! advance a replication slot) before `commit` says its offsets are durable. On restart the task
//! reads its last committed offset through [`OffsetStorageReader`] and resumes after it; records
//! after that offset may be delivered again (at-least-once).
//!
//! **Sink side.** The engine commits consumer offsets to the group `connect-<name>` only for what
//! [`SinkTask::pre_commit`] returns, which by default is what [`SinkTask::flush`] has made durable.
//! A sink that buffers must either flush in `flush` or return only the durable positions from
//! `pre_commit`. Offsets passed in are *next offsets to read* (last delivered offset + 1).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::config::{ConfigDef, ConfigValue};
use crate::error::{ConnectError, Result};
use crate::record::{RecordMetadata, SinkRecord, SourceMap, SourceRecord, TopicPartition};
use crate::Props;

/// Whether a connector reads from or writes to Kafka.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectorType {
    /// Reads an external system, writes Kafka.
    Source,
    /// Reads Kafka, writes an external system.
    Sink,
}

impl ConnectorType {
    /// Lower-case name as the REST API prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorType::Source => "source",
            ConnectorType::Sink => "sink",
        }
    }
}

/// Consumer positions per topic partition: the next offset to read.
pub type TopicPartitionOffsets = BTreeMap<TopicPartition, i64>;

/// What a running connector can ask of the worker.
pub trait ConnectorContext: Send + Sync + fmt::Debug {
    /// The connector's inputs changed (e.g. new tables): ask for new task configs.
    fn request_task_reconfiguration(&self);
    /// The connector hit an unrecoverable error in a background thread: mark it FAILED.
    fn raise_error(&self, error: ConnectError);
}

/// A configured instance of a connector plugin. It splits work into task configs; it does not move
/// data itself.
#[async_trait]
pub trait Connector: Send + Sync {
    /// The plugin version.
    fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").to_owned()
    }
    /// The connector's own configuration keys.
    fn config_def(&self) -> ConfigDef;
    /// Validates a config. The default checks each declared key; override to add cross-key checks.
    fn validate(&self, props: &Props) -> Vec<ConfigValue> {
        self.config_def().validate(props)
    }
    /// Starts with `props` (the connector's full config). Fails on a bad config.
    async fn start(&mut self, props: &Props, context: Arc<dyn ConnectorContext>) -> Result<()>;
    /// Up to `max_tasks` task configs. Each is passed to a task's `start`.
    async fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<Props>>;
    /// Stops; must release everything `start` took.
    async fn stop(&mut self) -> Result<()>;
}

/// Read access to committed source offsets, for a source task resuming at start.
pub trait OffsetStorageReader: Send + Sync + fmt::Debug {
    /// The last committed offset of `partition`.
    fn offset(&self, partition: &SourceMap) -> Option<SourceMap>;
}

/// What a source task gets at start.
#[derive(Debug, Clone)]
pub struct SourceTaskContext {
    /// Committed offsets of this connector.
    pub offsets: Arc<dyn OffsetStorageReader>,
    /// Task number.
    pub task_id: u32,
}

/// Reads an external system and returns records. Runs on the async runtime: blocking calls
/// (file or database drivers without async support) go through `tokio::task::spawn_blocking`.
#[async_trait]
pub trait SourceTask: Send {
    /// Starts with the task config.
    async fn start(&mut self, props: &Props, context: SourceTaskContext) -> Result<()>;
    /// The next batch. An empty batch means "nothing now"; the task should wait a little
    /// (bounded, e.g. up to a second) for data rather than return empty in a busy loop.
    ///
    /// Must be cancel-safe: the engine drops a pending `poll` to stop or pause the task, so no
    /// record may be taken from the source until `poll` returns it.
    async fn poll(&mut self) -> Result<Vec<SourceRecord>>;
    /// Called after committable offsets were written to the offset store.
    async fn commit(&mut self) -> Result<()> {
        Ok(())
    }
    /// Whether the engine should call [`SourceTask::commit_record`]. Off by default: tracking
    /// per-record acknowledgements costs a copy of each record's partition and offset.
    fn wants_commit_record(&self) -> bool {
        false
    }
    /// Called for each record once it was acknowledged by Kafka (`metadata` set) or dropped by a
    /// transform or tolerated error (`metadata` None), in the order acknowledgements arrive, when
    /// [`SourceTask::wants_commit_record`] is true. Called between polls; keep it cheap.
    fn commit_record(
        &mut self,
        _source_partition: &SourceMap,
        _source_offset: &SourceMap,
        _metadata: Option<&RecordMetadata>,
    ) {
    }
    /// Stops; release resources.
    async fn stop(&mut self) -> Result<()>;
}

/// Reports a record a sink task cannot process to the worker's error handling (DLQ, log) instead of
/// failing the task (Connect's `ErrantRecordReporter`).
pub trait ErrantRecordReporter: Send + Sync + fmt::Debug {
    /// Reports `record` with the error that stopped it.
    fn report(&self, record: &SinkRecord, error: &ConnectError) -> Result<()>;
}

/// Requests a sink task makes of the worker, collected and acted on after each call into the task.
#[derive(Debug, Default)]
pub struct SinkTaskRequests {
    /// Rewind (or skip) partitions to these offsets.
    pub rewind: TopicPartitionOffsets,
    /// Partitions to pause.
    pub pause: Vec<TopicPartition>,
    /// Partitions to resume.
    pub resume: Vec<TopicPartition>,
    /// Commit as soon as possible.
    pub commit_requested: bool,
}

/// What a sink task gets at start (Connect's `SinkTaskContext`).
#[derive(Debug, Clone)]
pub struct SinkTaskContext {
    /// Task number.
    pub task_id: u32,
    requests: Arc<Mutex<SinkTaskRequests>>,
    assignment: Arc<Mutex<Vec<TopicPartition>>>,
    reporter: Option<Arc<dyn ErrantRecordReporter>>,
}

impl SinkTaskContext {
    /// A context (built by the worker).
    pub fn new(task_id: u32, reporter: Option<Arc<dyn ErrantRecordReporter>>) -> Self {
        SinkTaskContext {
            task_id,
            requests: Arc::default(),
            assignment: Arc::default(),
            reporter,
        }
    }
    /// Sets the position to read `tp` from next.
    pub fn offset(&self, tp: TopicPartition, offset: i64) {
        self.requests.lock().unwrap().rewind.insert(tp, offset);
    }
    /// Pauses consumption of `partitions`.
    pub fn pause(&self, partitions: &[TopicPartition]) {
        self.requests
            .lock()
            .unwrap()
            .pause
            .extend_from_slice(partitions);
    }
    /// Resumes consumption of `partitions`.
    pub fn resume(&self, partitions: &[TopicPartition]) {
        self.requests
            .lock()
            .unwrap()
            .resume
            .extend_from_slice(partitions);
    }
    /// Asks for an offset commit soon.
    pub fn request_commit(&self) {
        self.requests.lock().unwrap().commit_requested = true;
    }
    /// The partitions currently assigned to this task.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.assignment.lock().unwrap().clone()
    }
    /// The errant record reporter, when the connector has error handling that can take records.
    pub fn errant_record_reporter(&self) -> Option<&Arc<dyn ErrantRecordReporter>> {
        self.reporter.as_ref()
    }
    /// Takes the pending requests (worker side).
    pub fn take_requests(&self) -> SinkTaskRequests {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
    /// Records the current assignment (worker side).
    pub fn set_assignment(&self, partitions: Vec<TopicPartition>) {
        *self.assignment.lock().unwrap() = partitions;
    }
}

/// Writes records from Kafka to an external system.
#[async_trait]
pub trait SinkTask: Send {
    /// Starts with the task config.
    async fn start(&mut self, props: &Props, context: SinkTaskContext) -> Result<()>;
    /// Partitions were assigned to this task.
    async fn open(&mut self, _partitions: &[TopicPartition]) -> Result<()> {
        Ok(())
    }
    /// Takes a batch. May buffer (copying what it keeps); may fail with a retriable error to have
    /// the same batch delivered again after a backoff. Borrowed so that the engine can redeliver
    /// without copying every batch in advance.
    async fn put(&mut self, records: &[SinkRecord]) -> Result<()>;
    /// Makes everything `put` so far durable.
    async fn flush(&mut self, _offsets: &TopicPartitionOffsets) -> Result<()> {
        Ok(())
    }
    /// Returns the offsets safe to commit; by default flushes and returns `offsets`.
    async fn pre_commit(
        &mut self,
        offsets: &TopicPartitionOffsets,
    ) -> Result<TopicPartitionOffsets> {
        self.flush(offsets).await?;
        Ok(offsets.clone())
    }
    /// Partitions were revoked: release their state (after a final commit).
    async fn close(&mut self, _partitions: &[TopicPartition]) -> Result<()> {
        Ok(())
    }
    /// Stops; release resources.
    async fn stop(&mut self) -> Result<()>;
}
