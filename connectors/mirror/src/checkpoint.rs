//! `MirrorCheckpointConnector` / `MirrorCheckpointTask`: translates the committed offsets of the
//! source cluster's consumer groups through the offset syncs (COMPAT §9.5) and writes them as
//! checkpoints to `<source>.checkpoints.internal` on the target; with
//! `sync.group.offsets.enabled=true` also commits them into the target's groups when those are
//! EMPTY (or unknown), only ever forward.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use ferry_api::{
    ConfigDef, ConnectError, ConnectRecord, Connector, ConnectorContext, OffsetValue, Props,
    Result, Schema, SourceRecord, SourceTask, SourceTaskContext, Value,
};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::time::Instant;

use crate::config::{checkpoint_config_def, Client, Cluster, MirrorConfig, TASK_CONSUMER_GROUPS};
use crate::filter::NameFilter;
use crate::formats::{Checkpoint, OffsetSync};
use crate::kafka::{self, TopicSpec};
use crate::translate::OffsetSyncStore;

/// Lists the source cluster's consumer groups that pass `groups`/`groups.exclude`. Blocking.
fn list_groups(
    consumer: &BaseConsumer,
    filter: &NameFilter,
    timeout: Duration,
) -> Result<Vec<String>> {
    let list = consumer
        .fetch_group_list(None, timeout)
        .map_err(|e| ConnectError::retriable(format!("cannot list consumer groups: {e}")))?;
    let mut groups: Vec<String> = list
        .groups()
        .iter()
        .map(|g| g.name().to_owned())
        .filter(|g| filter.accepts(g))
        .collect();
    groups.sort();
    Ok(groups)
}

fn group_filter(cfg: &MirrorConfig) -> Result<NameFilter> {
    NameFilter::new(
        "groups",
        cfg.config().list("groups"),
        "groups.exclude",
        cfg.config().list("groups.exclude"),
    )
}

/// Kafka's `org.apache.kafka.connect.mirror.MirrorCheckpointConnector`.
#[derive(Default)]
pub struct MirrorCheckpointConnector {
    props: Props,
    active: bool,
    groups: Arc<Mutex<Vec<String>>>,
    stop: Option<tokio::sync::watch::Sender<bool>>,
}

impl std::fmt::Debug for MirrorCheckpointConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorCheckpointConnector")
            .field("active", &self.active)
            .finish()
    }
}

impl MirrorCheckpointConnector {
    /// An unstarted connector.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Connector for MirrorCheckpointConnector {
    fn config_def(&self) -> ConfigDef {
        checkpoint_config_def()
    }

    async fn start(&mut self, props: &Props, context: Arc<dyn ConnectorContext>) -> Result<()> {
        let cfg = MirrorConfig::parse(&checkpoint_config_def(), props)?;
        self.props = props.clone();
        let c = cfg.config();
        self.active = c.boolean("enabled")
            && (c.boolean("emit.checkpoints.enabled") || c.boolean("sync.group.offsets.enabled"));
        if !self.active {
            return Ok(());
        }
        let timeout = cfg.millis("admin.timeout.ms");
        let target_admin = kafka::admin(
            "MirrorCheckpointConnector target admin",
            &cfg.client_settings(Cluster::Target, Client::Admin),
        )?;
        let spec = TopicSpec::internal(
            cfg.policy.checkpoints_topic(&cfg.source_alias),
            i32::from(c.short("checkpoints.topic.replication.factor")),
        );
        kafka::create_topics(&target_admin, &[spec], timeout).await?;
        let consumer = Arc::new(kafka::metadata_consumer(
            "MirrorCheckpointConnector source admin",
            &cfg.client_settings(Cluster::Source, Client::Admin),
            None,
        )?);
        let filter = Arc::new(group_filter(&cfg)?);
        let list = {
            let (consumer, filter) = (consumer.clone(), filter.clone());
            move || list_groups(&consumer, &filter, timeout)
        };
        let groups = tokio::task::spawn_blocking(list.clone())
            .await
            .map_err(|e| ConnectError::internal(format!("group listing panicked: {e}")))??;
        *self.groups.lock().unwrap() = groups;
        if !c.boolean("refresh.groups.enabled") {
            return Ok(());
        }
        let interval = cfg
            .seconds("refresh.groups.interval.seconds")
            .max(Duration::from_millis(100));
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        self.stop = Some(tx);
        let known = self.groups.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = rx.changed() => return,
                    _ = tokio::time::sleep(interval) => {}
                }
                match tokio::task::spawn_blocking(list.clone()).await {
                    Ok(Ok(groups)) if *known.lock().unwrap() != groups => {
                        tracing::info!(
                            "consumer groups changed to {groups:?}: reconfiguring tasks"
                        );
                        *known.lock().unwrap() = groups;
                        context.request_task_reconfiguration();
                    }
                    Ok(Err(e)) => tracing::warn!("cannot refresh consumer groups: {e}"),
                    _ => {}
                }
            }
        });
        Ok(())
    }

    async fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<Props>> {
        if !self.active {
            return Ok(Vec::new());
        }
        let groups = self.groups.lock().unwrap().clone();
        let n = max_tasks.max(1).min(groups.len());
        let mut per_task = vec![Vec::new(); n];
        for (i, g) in groups.into_iter().enumerate() {
            per_task[i % n].push(g);
        }
        Ok(per_task
            .into_iter()
            .map(|gs: Vec<String>| {
                let mut p = self.props.clone();
                p.insert(TASK_CONSUMER_GROUPS.into(), gs.join(","));
                p
            })
            .collect())
    }

    async fn stop(&mut self) -> Result<()> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(true);
        }
        Ok(())
    }
}

/// Reads the offset-syncs topic from the beginning into the store, for as long as the task runs.
/// `ready` turns true once the topic has been read up to where it ended at start: no translation
/// happens before that (a partial view could translate from a stale sync).
fn read_offset_syncs(
    consumer: BaseConsumer,
    topic: String,
    store: Arc<Mutex<OffsetSyncStore>>,
    ready: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) {
    let end = loop {
        match consumer.fetch_watermarks(&topic, 0, Duration::from_secs(5)) {
            Ok((_, high)) => break high,
            Err(e) if !stop.load(Ordering::Relaxed) => {
                tracing::warn!("cannot read the end of {topic}, retrying: {e}");
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(_) => return,
        }
    };
    if end == 0 {
        ready.store(true, Ordering::Relaxed);
    }
    while !stop.load(Ordering::Relaxed) {
        let Some(msg) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let msg = match msg {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("error reading {topic}: {e}");
                continue;
            }
        };
        match OffsetSync::decode(msg.key(), msg.payload()) {
            Ok((t, p, sync)) => store.lock().unwrap().add(t, p, sync),
            Err(e) => tracing::warn!(
                "skipping a record of {topic} at offset {}: {e}",
                msg.offset()
            ),
        }
        if msg.offset() + 1 >= end {
            ready.store(true, Ordering::Relaxed);
        }
    }
}

/// The last checkpoint emitted per (group, downstream topic, partition).
type LastCheckpoints = HashMap<(String, String, i32), Checkpoint>;

/// Kafka's `org.apache.kafka.connect.mirror.MirrorCheckpointTask`.
#[derive(Default)]
pub struct MirrorCheckpointTask {
    inner: Option<Arc<CheckpointWork>>,
    emit_interval: Duration,
    sync_interval: Option<Duration>,
    next_emit: Option<Instant>,
    next_sync: Option<Instant>,
    /// Last checkpoint emitted per (group, downstream topic, partition).
    last: Arc<Mutex<LastCheckpoints>>,
    stop: Arc<AtomicBool>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for MirrorCheckpointTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorCheckpointTask").finish()
    }
}

impl MirrorCheckpointTask {
    /// An unstarted task.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The blocking work of a checkpoint task (runs on the blocking pool).
struct CheckpointWork {
    cfg: MirrorConfig,
    groups: Vec<String>,
    store: Arc<Mutex<OffsetSyncStore>>,
    ready: Arc<AtomicBool>,
    source_meta: BaseConsumer,
    source_groups: Mutex<HashMap<String, BaseConsumer>>,
    target_groups: Mutex<HashMap<String, BaseConsumer>>,
    timeout: Duration,
}

impl CheckpointWork {
    /// The replicated source topic-partitions.
    fn replicated_partitions(&self) -> Result<TopicPartitionList> {
        let heartbeats = true;
        let topics = kafka::list_topics(&self.source_meta, self.timeout)?;
        let mut tpl = TopicPartitionList::new();
        for (t, n) in topics {
            if self.cfg.should_replicate_topic(&t, heartbeats) {
                for p in 0..n {
                    tpl.add_partition(&t, p);
                }
            }
        }
        Ok(tpl)
    }

    fn group_consumer<'a>(
        &self,
        cache: &'a mut HashMap<String, BaseConsumer>,
        cluster: Cluster,
        group: &str,
    ) -> Result<&'a BaseConsumer> {
        if !cache.contains_key(group) {
            let c = kafka::metadata_consumer(
                "MirrorCheckpointTask group client",
                &self.cfg.client_settings(cluster, Client::Consumer),
                Some(group),
            )?;
            cache.insert(group.to_owned(), c);
        }
        Ok(&cache[group])
    }

    /// The checkpoints of every group now: committed upstream offsets translated downstream.
    fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        if !self.ready.load(Ordering::Relaxed) {
            return Ok(Vec::new());
        }
        let partitions = self.replicated_partitions()?;
        let mut out = Vec::new();
        let mut cache = self.source_groups.lock().unwrap();
        for group in &self.groups {
            let consumer = self.group_consumer(&mut cache, Cluster::Source, group)?;
            let committed = consumer
                .committed_offsets(partitions.clone(), self.timeout)
                .map_err(|e| {
                    ConnectError::retriable(format!("cannot read offsets of group {group}: {e}"))
                })?;
            let store = self.store.lock().unwrap();
            for e in committed.elements() {
                let Offset::Offset(upstream) = e.offset() else {
                    continue;
                };
                let Some(downstream) = store.translate(e.topic(), e.partition(), upstream) else {
                    continue;
                };
                out.push(Checkpoint {
                    group: group.clone(),
                    topic: self
                        .cfg
                        .policy
                        .format_remote_topic(&self.cfg.source_alias, e.topic()),
                    partition: e.partition(),
                    upstream_offset: upstream,
                    downstream_offset: downstream,
                    metadata: e.metadata().to_owned(),
                });
            }
        }
        Ok(out)
    }

    /// Commits `checkpoints` into the target's groups that are EMPTY or unknown, forward only.
    fn sync_group_offsets(&self, checkpoints: &[Checkpoint]) -> Result<()> {
        let mut by_group: BTreeMap<&str, Vec<&Checkpoint>> = BTreeMap::new();
        for c in checkpoints {
            by_group.entry(&c.group).or_default().push(c);
        }
        let mut cache = self.target_groups.lock().unwrap();
        for (group, cps) in by_group {
            let consumer = self.group_consumer(&mut cache, Cluster::Target, group)?;
            let state = consumer
                .fetch_group_list(Some(group), self.timeout)
                .map_err(|e| {
                    ConnectError::retriable(format!("cannot describe target group {group}: {e}"))
                })?
                .groups()
                .first()
                .map(|g| g.state().to_owned());
            let idle = state
                .as_deref()
                .is_none_or(|s| s.is_empty() || s == "Empty" || s == "Dead");
            if !idle {
                tracing::debug!("target group {group} is {state:?}: not syncing its offsets");
                continue;
            }
            let mut ask = TopicPartitionList::new();
            for c in &cps {
                ask.add_partition(&c.topic, c.partition);
            }
            let current = consumer.committed_offsets(ask, self.timeout).map_err(|e| {
                ConnectError::retriable(format!("cannot read target offsets of {group}: {e}"))
            })?;
            let mut commit = TopicPartitionList::new();
            for c in cps {
                let have =
                    current
                        .find_partition(&c.topic, c.partition)
                        .and_then(|e| match e.offset() {
                            Offset::Offset(o) => Some(o),
                            _ => None,
                        });
                if have.is_none_or(|h| h < c.downstream_offset) {
                    commit
                        .add_partition_offset(
                            &c.topic,
                            c.partition,
                            Offset::Offset(c.downstream_offset),
                        )
                        .map_err(|e| ConnectError::internal(e.to_string()))?;
                }
            }
            if commit.count() > 0 {
                consumer.commit(&commit, CommitMode::Sync).map_err(|e| {
                    ConnectError::retriable(format!(
                        "cannot commit offsets of target group {group}: {e}"
                    ))
                })?;
                tracing::info!(
                    "synced {} offsets of group {group} to the target",
                    commit.count()
                );
            }
        }
        Ok(())
    }
}

/// The checkpoint record.
fn checkpoint_record(topic: &str, cp: &Checkpoint) -> SourceRecord {
    let schema = Schema::optional_bytes();
    SourceRecord {
        source_partition: [
            ("group".to_owned(), OffsetValue::from(cp.group.as_str())),
            (
                "partition".to_owned(),
                OffsetValue::Int(i64::from(cp.partition)),
            ),
            ("topic".to_owned(), OffsetValue::from(cp.topic.as_str())),
        ]
        .into(),
        source_offset: [("offset".to_owned(), OffsetValue::Int(0))].into(),
        record: ConnectRecord {
            topic: topic.to_owned(),
            kafka_partition: Some(0),
            key_schema: Some(schema.clone()),
            key: Value::Bytes(Bytes::from(cp.key_bytes())),
            value_schema: Some(schema),
            value: Value::Bytes(Bytes::from(cp.value_bytes())),
            timestamp: Some(crate::heartbeat::now_millis()),
            ..Default::default()
        },
    }
}

/// Whether `new` is worth emitting after `last` (downstream advanced, or upstream rewound).
pub(crate) fn should_emit(last: Option<&Checkpoint>, new: &Checkpoint) -> bool {
    new.downstream_offset >= 0
        && last.is_none_or(|l| {
            new.upstream_offset < l.upstream_offset || new.downstream_offset > l.downstream_offset
        })
}

#[async_trait]
impl SourceTask for MirrorCheckpointTask {
    async fn start(&mut self, props: &Props, _context: SourceTaskContext) -> Result<()> {
        let cfg = MirrorConfig::parse(&checkpoint_config_def(), props)?;
        let groups = props
            .get(TASK_CONSUMER_GROUPS)
            .map(|g| {
                g.split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let c = cfg.config();
        self.emit_interval = cfg
            .seconds("emit.checkpoints.interval.seconds")
            .max(Duration::from_millis(100));
        self.sync_interval = c.boolean("sync.group.offsets.enabled").then(|| {
            cfg.seconds("sync.group.offsets.interval.seconds")
                .max(Duration::from_millis(100))
        });
        self.next_emit = Some(Instant::now() + self.emit_interval);
        self.next_sync = self.sync_interval.map(|i| Instant::now() + i);

        let store = Arc::new(Mutex::new(OffsetSyncStore::default()));
        let ready = Arc::new(AtomicBool::new(false));
        let mut settings = cfg.client_settings(cfg.offset_syncs_cluster(), Client::Consumer);
        settings
            .entry("group.id".into())
            .or_insert_with(|| "ferry-mirror-offset-syncs".into());
        settings.insert("enable.auto.commit".into(), "false".into());
        let reader: BaseConsumer =
            kafka::create_client("offset-syncs reader", &settings, |c| c.create())?;
        let topic = cfg.offset_syncs_topic();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&topic, 0, Offset::Beginning)
            .map_err(|e| ConnectError::internal(e.to_string()))?;
        reader
            .assign(&tpl)
            .map_err(|e| ConnectError::external(format!("cannot read {topic}: {e}")))?;
        let (s, r, stop) = (store.clone(), ready.clone(), self.stop.clone());
        self.reader = Some(
            std::thread::Builder::new()
                .name("mirror-offset-syncs".into())
                .spawn(move || read_offset_syncs(reader, topic, s, r, stop))
                .map_err(|e| {
                    ConnectError::internal(format!("cannot start the offset-syncs reader: {e}"))
                })?,
        );
        self.inner = Some(Arc::new(CheckpointWork {
            source_meta: kafka::metadata_consumer(
                "MirrorCheckpointTask source metadata",
                &cfg.client_settings(Cluster::Source, Client::Admin),
                None,
            )?,
            timeout: cfg.millis("admin.timeout.ms").min(Duration::from_secs(30)),
            cfg,
            groups,
            store,
            ready,
            source_groups: Mutex::default(),
            target_groups: Mutex::default(),
        }));
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        let (Some(work), Some(next_emit)) = (self.inner.clone(), self.next_emit) else {
            return Ok(Vec::new());
        };
        let wake = self.next_sync.map_or(next_emit, |s| s.min(next_emit));
        tokio::time::sleep_until(wake).await;
        let now = Instant::now();
        let emit = now >= next_emit;
        let sync = self.next_sync.is_some_and(|s| now >= s);
        if emit {
            self.next_emit = Some(now + self.emit_interval);
        }
        if sync {
            self.next_sync = self.sync_interval.map(|i| now + i);
        }
        let last = self.last.clone();
        let topic = work.cfg.policy.checkpoints_topic(&work.cfg.source_alias);
        let emit_checkpoints = work.cfg.config().boolean("emit.checkpoints.enabled");
        let records = tokio::task::spawn_blocking(move || -> Result<Vec<SourceRecord>> {
            let checkpoints = work.checkpoints()?;
            if sync {
                if let Err(e) = work.sync_group_offsets(&checkpoints) {
                    tracing::warn!("cannot sync group offsets: {e}");
                }
            }
            if !emit || !emit_checkpoints {
                return Ok(Vec::new());
            }
            let mut last = last.lock().unwrap();
            let mut out = Vec::new();
            for cp in checkpoints {
                let key = (cp.group.clone(), cp.topic.clone(), cp.partition);
                if should_emit(last.get(&key), &cp) {
                    out.push(checkpoint_record(&topic, &cp));
                    last.insert(key, cp);
                }
            }
            Ok(out)
        })
        .await
        .map_err(|e| ConnectError::internal(format!("checkpoint task panicked: {e}")))?;
        records
    }

    async fn stop(&mut self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.reader.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp(up: i64, down: i64) -> Checkpoint {
        Checkpoint {
            group: "g".into(),
            topic: "A.t".into(),
            partition: 0,
            upstream_offset: up,
            downstream_offset: down,
            metadata: String::new(),
        }
    }

    #[test]
    fn checkpoints_are_monotonic_unless_upstream_rewinds() {
        let cases = [
            (None, cp(10, 5), true),
            (Some(cp(10, 5)), cp(10, 5), false),
            (Some(cp(10, 5)), cp(12, 5), false),
            (Some(cp(10, 5)), cp(20, 15), true),
            (Some(cp(10, 5)), cp(3, 2), true),
            (None, cp(10, -1), false),
        ];
        for (last, new, want) in cases {
            assert_eq!(
                should_emit(last.as_ref(), &new),
                want,
                "{last:?} -> {new:?}"
            );
        }
    }

    #[test]
    fn checkpoint_record_keys_use_downstream_topic() {
        let r = checkpoint_record("A.checkpoints.internal", &cp(10, 5));
        assert_eq!(r.record.topic, "A.checkpoints.internal");
        assert_eq!(r.record.kafka_partition, Some(0));
        let Value::Bytes(key) = &r.record.key else {
            panic!()
        };
        let Value::Bytes(value) = &r.record.value else {
            panic!()
        };
        assert_eq!(
            Checkpoint::decode(Some(key), Some(value)).unwrap(),
            cp(10, 5)
        );
        assert_eq!(r.source_partition["topic"], OffsetValue::from("A.t"));
    }
}
