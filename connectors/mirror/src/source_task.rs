//! `MirrorSourceTask`: consumes its topic-partitions from the source cluster and returns the
//! records unchanged — same partition, key, value, headers and timestamp as bytes — for the remote
//! topic. Source partition `{"cluster","partition","topic"}`, offset `{"offset"}` (MM2's maps);
//! on start each partition resumes at its committed offset + 1.
//!
//! A consumer thread fills a bounded channel with ready batches, so `poll` only takes a batch off
//! the channel: dropping a pending `poll` (pause, stop) loses nothing, and a slow target slows the
//! consumer instead of growing memory.
//!
//! Offset syncs are decided per acknowledged record ([`SourceTask::commit_record`], Kafka's
//! `PartitionState`) and written to the offset-syncs topic on `commit`, i.e. only after the
//! records they describe are durable downstream and their source offsets flushed.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use ferry_api::{
    ConnectError, ConnectRecord, Headers, OffsetValue, Props, RecordMetadata, Result, Schema,
    SchemaRef, SourceMap, SourceRecord, SourceTask, SourceTaskContext, Value,
};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Headers as _};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::mpsc;

use crate::config::{
    decode_topic_partition, source_config_def, Client, MirrorConfig, TASK_TOPIC_PARTITIONS,
};
use crate::formats::{offset_sync_key, OffsetSync};
use crate::kafka;
use crate::policy::ReplicationPolicy;
use crate::translate::SyncDecider;

/// Most records per batch handed to the worker.
const MAX_BATCH: usize = 4096;
/// Batches buffered between the consumer thread and `poll`.
const CHANNEL_BATCHES: usize = 8;

/// The source partition map of a topic-partition, as MM2 writes it.
pub(crate) fn source_partition(cluster: &str, topic: &str, partition: i32) -> SourceMap {
    [
        ("cluster".to_owned(), OffsetValue::from(cluster)),
        (
            "partition".to_owned(),
            OffsetValue::Int(i64::from(partition)),
        ),
        ("topic".to_owned(), OffsetValue::from(topic)),
    ]
    .into()
}

/// The source offset map of an upstream offset.
pub(crate) fn source_offset(offset: i64) -> SourceMap {
    [("offset".to_owned(), OffsetValue::Int(offset))].into()
}

/// Turns one consumed message into its mirrored record (bytes copied once, out of librdkafka).
struct RecordMapper {
    cluster: String,
    policy: ReplicationPolicy,
    remote_names: HashMap<String, String>,
    /// Source partition maps per upstream topic-partition, built once and shared by every record.
    partitions: HashMap<String, HashMap<i32, SourceMap>>,
    bytes_schema: SchemaRef,
}

impl RecordMapper {
    fn map(&mut self, msg: &BorrowedMessage<'_>) -> SourceRecord {
        let topic = msg.topic();
        if !self.remote_names.contains_key(topic) {
            let remote = self.policy.format_remote_topic(&self.cluster, topic);
            self.remote_names.insert(topic.to_owned(), remote);
        }
        let bytes =
            |b: Option<&[u8]>| b.map_or(Value::Null, |b| Value::Bytes(Bytes::copy_from_slice(b)));
        let mut headers = Headers::new();
        if let Some(hs) = msg.headers() {
            for h in hs.iter() {
                headers.add(h.key, Some(self.bytes_schema.clone()), bytes(h.value));
            }
        }
        let partition_map = match self
            .partitions
            .get(topic)
            .and_then(|ps| ps.get(&msg.partition()))
        {
            Some(m) => m.clone(),
            None => {
                let m = source_partition(&self.cluster, topic, msg.partition());
                self.partitions
                    .entry(topic.to_owned())
                    .or_default()
                    .insert(msg.partition(), m.clone());
                m
            }
        };
        SourceRecord {
            source_partition: partition_map,
            source_offset: source_offset(msg.offset()),
            record: ConnectRecord {
                topic: self.remote_names[topic].clone(),
                kafka_partition: Some(msg.partition()),
                key_schema: Some(self.bytes_schema.clone()),
                key: bytes(msg.key()),
                value_schema: Some(self.bytes_schema.clone()),
                value: bytes(msg.payload()),
                timestamp: msg.timestamp().to_millis(),
                headers,
                ..Default::default()
            },
        }
    }
}

/// How long the consumer thread waits for the source cluster's metadata before its first poll.
const WARM_UP_TIMEOUT: Duration = Duration::from_secs(5);

/// The consumer thread: polls the source, sends batches until stopped or the channel closes.
fn consume(
    consumer: BaseConsumer,
    mut mapper: RecordMapper,
    poll_timeout: Duration,
    stop: Arc<AtomicBool>,
    tx: mpsc::Sender<Vec<SourceRecord>>,
) {
    // A cold librdkafka consumer that was only assigned partitions delivers its first record
    // ~0.5 s later (measured on nisshi: 550-590 ms, against 40 ms after one metadata request
    // first). Asking for metadata once connects it at once; failure only costs that latency.
    if let Err(e) = consumer.fetch_metadata(None, WARM_UP_TIMEOUT) {
        tracing::debug!(
            "source cluster {} metadata not available yet: {e}",
            mapper.cluster
        );
    }
    let mut batch = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        // Block for the first record, then drain what is already fetched without waiting.
        let wait = if batch.is_empty() {
            poll_timeout
        } else {
            Duration::ZERO
        };
        match consumer.poll(wait) {
            Some(Ok(msg)) => {
                batch.push(mapper.map(&msg));
                if batch.len() < MAX_BATCH {
                    continue;
                }
            }
            Some(Err(e)) => tracing::warn!(
                "error consuming from source cluster {}: {e}",
                mapper.cluster
            ),
            None => {}
        }
        if !batch.is_empty() && tx.blocking_send(std::mem::take(&mut batch)).is_err() {
            return;
        }
    }
}

/// Offset-sync state of the task (Kafka's `OffsetSyncWriter`): syncs the decider asks for are
/// sent as soon as their record is acknowledged; otherwise the newest acknowledged position of a
/// partition is kept and sent at the next commit, so translation is current at the head too.
///
/// State is kept per upstream topic, then per partition, so that the per-record path
/// ([`SourceTask::commit_record`]) finds it by `&str` without allocating.
#[derive(Debug, Default)]
struct SyncWriter {
    partitions: HashMap<String, BTreeMap<i32, PartitionSyncs>>,
    unsent: Vec<((String, i32), OffsetSync)>,
}

/// Offset-sync state of one upstream topic-partition.
#[derive(Debug)]
struct PartitionSyncs {
    decider: SyncDecider,
    /// The newest acknowledged position not sent as a sync yet.
    delayed: Option<OffsetSync>,
}

impl SyncWriter {
    /// Records that upstream `sync.upstream_offset` of `topic`-`partition` was acknowledged at
    /// `sync.downstream_offset`; queues a sync when the decider asks for one.
    fn acknowledged(&mut self, topic: &str, partition: i32, sync: OffsetSync, max_lag: i64) {
        let topic_syncs = match self.partitions.get_mut(topic) {
            Some(t) => t,
            None => self.partitions.entry(topic.to_owned()).or_default(),
        };
        let state = topic_syncs
            .entry(partition)
            .or_insert_with(|| PartitionSyncs {
                decider: SyncDecider::new(max_lag),
                delayed: None,
            });
        if state
            .decider
            .update(sync.upstream_offset, sync.downstream_offset)
        {
            state.delayed = None;
            self.unsent.push(((topic.to_owned(), partition), sync));
        } else {
            state.delayed = Some(sync);
        }
    }

    /// Queues the delayed position of every partition (at commit).
    fn queue_delayed(&mut self) {
        for (topic, partitions) in &mut self.partitions {
            for (&partition, state) in partitions.iter_mut() {
                if let Some(sync) = state.delayed.take() {
                    self.unsent.push(((topic.clone(), partition), sync));
                }
            }
        }
    }

    /// The delayed position of `topic`-`partition` (for tests).
    #[cfg(test)]
    fn delayed(&self, topic: &str, partition: i32) -> Option<OffsetSync> {
        self.partitions.get(topic)?.get(&partition)?.delayed
    }
}

/// Kafka's `org.apache.kafka.connect.mirror.MirrorSourceTask`.
#[derive(Default)]
pub struct MirrorSourceTask {
    rx: Option<mpsc::Receiver<Vec<SourceRecord>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    poll_timeout: Duration,
    max_lag: i64,
    syncs: SyncWriter,
    sync_producer: Option<(FutureProducer, String)>,
}

impl std::fmt::Debug for MirrorSourceTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorSourceTask")
            .field("unsent_syncs", &self.syncs.unsent.len())
            .finish()
    }
}

impl MirrorSourceTask {
    /// An unstarted task.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hands unsent syncs to the producer without waiting; what its queue refuses stays for the
    /// next try. A lost sync only makes translation coarser: the next one supersedes it.
    fn send_unsent(&mut self) {
        let Some((producer, topic)) = &self.sync_producer else {
            self.syncs.unsent.clear();
            return;
        };
        let mut refused = Vec::new();
        for ((t, p), sync) in self.syncs.unsent.drain(..) {
            let key = offset_sync_key(&t, p);
            let value = sync.value_bytes();
            let record = FutureRecord::to(topic)
                .partition(0)
                .key(&key)
                .payload(&value);
            if let Err((e, _)) = producer.send_result(record) {
                tracing::debug!("offset sync for {t}-{p} not queued yet: {e}");
                refused.push(((t, p), sync));
            }
        }
        self.syncs.unsent = refused;
    }
}

#[async_trait]
impl SourceTask for MirrorSourceTask {
    async fn start(&mut self, props: &Props, context: SourceTaskContext) -> Result<()> {
        let cfg = MirrorConfig::parse(&source_config_def(), props)?;
        let assigned: Vec<(String, i32)> = props
            .get(TASK_TOPIC_PARTITIONS)
            .map(|s| {
                s.split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| {
                        decode_topic_partition(s).ok_or_else(|| {
                            ConnectError::config(format!(
                                "invalid topic-partition {s:?} in {TASK_TOPIC_PARTITIONS}"
                            ))
                        })
                    })
                    .collect::<Result<_>>()
            })
            .transpose()?
            .unwrap_or_default();
        self.poll_timeout = cfg
            .millis("consumer.poll.timeout.ms")
            .min(Duration::from_secs(1));
        self.max_lag = cfg.config().long("offset.lag.max");

        let mut settings = cfg.client_settings(crate::config::Cluster::Source, Client::Consumer);
        for (k, v) in [
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", "earliest"),
            // When the prefetch queue is full librdkafka otherwise waits 1 s before fetching
            // again, which throttles a fast pipe (see the worker's sink consumer defaults).
            ("fetch.queue.backoff.ms", "10"),
        ] {
            settings.entry(k.into()).or_insert_with(|| v.into());
        }
        settings
            .entry("group.id".into())
            .or_insert_with(|| format!("ferry-mirror-{}", cfg.source_alias));
        let consumer: BaseConsumer =
            kafka::create_client("MirrorSourceTask consumer", &settings, |c| c.create())?;
        let mut tpl = TopicPartitionList::new();
        for (topic, partition) in &assigned {
            let stored = context
                .offsets
                .offset(&source_partition(&cfg.source_alias, topic, *partition))
                .and_then(|o| o.get("offset").and_then(OffsetValue::as_i64));
            let start = match stored {
                Some(o) => Offset::Offset(o + 1),
                None => Offset::Beginning,
            };
            tpl.add_partition_offset(topic, *partition, start)
                .map_err(|e| {
                    ConnectError::internal(format!("cannot assign {topic}-{partition}: {e}"))
                })?;
        }
        consumer
            .assign(&tpl)
            .map_err(|e| ConnectError::external(format!("cannot assign source partitions: {e}")))?;
        tracing::info!(
            "{}: replicating {} topic-partitions",
            cfg.source_alias,
            assigned.len()
        );

        if cfg.config().boolean("emit.offset-syncs.enabled") {
            let settings = cfg.client_settings(cfg.offset_syncs_cluster(), Client::Producer);
            let producer: FutureProducer =
                kafka::create_client("offset-syncs producer", &settings, |c| c.create())?;
            self.sync_producer = Some((producer, cfg.offset_syncs_topic()));
        }

        let mapper = RecordMapper {
            cluster: cfg.source_alias.clone(),
            policy: cfg.policy.clone(),
            remote_names: HashMap::new(),
            partitions: HashMap::new(),
            bytes_schema: Schema::optional_bytes(),
        };
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        let stop = self.stop.clone();
        let timeout = self.poll_timeout;
        self.thread = Some(
            std::thread::Builder::new()
                .name(format!("mirror-{}", cfg.source_alias))
                .spawn(move || consume(consumer, mapper, timeout, stop, tx))
                .map_err(|e| {
                    ConnectError::internal(format!("cannot start the consumer thread: {e}"))
                })?,
        );
        self.rx = Some(rx);
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        let Some(rx) = self.rx.as_mut() else {
            return Ok(Vec::new());
        };
        match tokio::time::timeout(self.poll_timeout, rx.recv()).await {
            Ok(Some(batch)) => Ok(batch),
            Ok(None) => Err(ConnectError::external("the source consumer thread stopped")),
            Err(_) => Ok(Vec::new()),
        }
    }

    fn wants_commit_record(&self) -> bool {
        // Offset syncs pair each upstream offset with the downstream offset Kafka assigned.
        true
    }

    fn commit_record(
        &mut self,
        source_partition: &SourceMap,
        source_offset: &SourceMap,
        metadata: Option<&RecordMetadata>,
    ) {
        let (Some(meta), Some(topic), Some(partition), Some(upstream)) = (
            metadata,
            source_partition.get("topic").and_then(OffsetValue::as_str),
            source_partition
                .get("partition")
                .and_then(OffsetValue::as_i64),
            source_offset.get("offset").and_then(OffsetValue::as_i64),
        ) else {
            return;
        };
        let sync = OffsetSync {
            upstream_offset: upstream,
            downstream_offset: meta.offset,
        };
        let queued = self.syncs.unsent.len();
        self.syncs
            .acknowledged(topic, partition as i32, sync, self.max_lag);
        if self.syncs.unsent.len() > queued {
            self.send_unsent();
        }
    }

    async fn commit(&mut self) -> Result<()> {
        self.syncs.queue_delayed();
        self.send_unsent();
        if let Some((producer, _)) = &self.sync_producer {
            let producer = producer.clone();
            let _ =
                tokio::task::spawn_blocking(move || producer.flush(Duration::from_secs(10))).await;
        }
        Ok(())
    }
    async fn stop(&mut self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        self.rx = None;
        if let Some(t) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_maps_are_mm2s() {
        let p = source_partition("A", "t", 3);
        let keys: Vec<&str> = p.keys().map(String::as_str).collect();
        assert_eq!(keys, ["cluster", "partition", "topic"]);
        assert_eq!(p["partition"], OffsetValue::Int(3));
        assert_eq!(source_offset(9)["offset"], OffsetValue::Int(9));
    }

    #[test]
    fn acknowledged_records_produce_syncs_per_lag() {
        let mut task = MirrorSourceTask::new();
        task.max_lag = 10;
        let part = source_partition("A", "t", 0);
        for i in 0..25 {
            let meta = RecordMetadata {
                topic: "A.t".into(),
                partition: 0,
                offset: 100 + i,
                timestamp: None,
            };
            task.commit_record(&part, &source_offset(i), Some(&meta));
        }
        // No producer configured: decided syncs are dropped, the newest position waits.
        assert!(task.syncs.unsent.is_empty());
        assert_eq!(
            task.syncs.delayed("t", 0),
            Some(OffsetSync {
                upstream_offset: 24,
                downstream_offset: 124
            })
        );
        // Dropped records (no metadata) never sync.
        task.commit_record(&part, &source_offset(25), None);
        assert_eq!(
            task.syncs.delayed("t", 0).map(|s| s.upstream_offset),
            Some(24)
        );
    }
}
