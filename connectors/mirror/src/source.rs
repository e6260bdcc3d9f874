//! `MirrorSourceConnector`: finds the source topics this flow replicates, creates their remote
//! topics on the target (same partition count, synced configs) and the offset-syncs topic, spreads
//! topic-partitions over tasks round-robin, and re-checks every `refresh.topics.interval.seconds`
//! for new topics and partitions (asking the worker for new task configs when they change).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ferry_api::{ConfigDef, Connector, ConnectorContext, Props, Result};
use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::BaseConsumer;
use tokio::sync::watch;

use crate::config::{
    encode_topic_partition, source_config_def, Client, Cluster, MirrorConfig, TASK_TOPIC_PARTITIONS,
};
use crate::filter::PatternList;
use crate::kafka::{self, TopicSpec};

/// Source topic → partition count, of the topics this flow replicates.
type TopicPartitions = BTreeMap<String, i32>;

/// The Kafka side of the connector: clients of both clusters and the settings they act on.
struct Topology {
    cfg: MirrorConfig,
    source_meta: Arc<BaseConsumer>,
    source_admin: AdminClient<DefaultClientContext>,
    target_meta: Arc<BaseConsumer>,
    target_admin: AdminClient<DefaultClientContext>,
    config_exclude: PatternList,
    timeout: Duration,
}

impl Topology {
    fn new(cfg: MirrorConfig) -> Result<Self> {
        let source_admin_settings = cfg.client_settings(Cluster::Source, Client::Admin);
        let target_admin_settings = cfg.client_settings(Cluster::Target, Client::Admin);
        Ok(Topology {
            source_meta: Arc::new(kafka::metadata_consumer(
                "MirrorSourceConnector source metadata",
                &source_admin_settings,
                None,
            )?),
            source_admin: kafka::admin(
                "MirrorSourceConnector source admin",
                &source_admin_settings,
            )?,
            target_meta: Arc::new(kafka::metadata_consumer(
                "MirrorSourceConnector target metadata",
                &target_admin_settings,
                None,
            )?),
            target_admin: kafka::admin(
                "MirrorSourceConnector target admin",
                &target_admin_settings,
            )?,
            config_exclude: PatternList::new(
                "config.properties.exclude",
                cfg.config().list("config.properties.exclude"),
            )?,
            timeout: cfg.millis("admin.timeout.ms"),
            cfg,
        })
    }

    async fn list(&self, consumer: &Arc<BaseConsumer>) -> Result<BTreeMap<String, i32>> {
        let consumer = consumer.clone();
        let timeout = self.timeout;
        tokio::task::spawn_blocking(move || kafka::list_topics(&consumer, timeout))
            .await
            .map_err(|e| {
                ferry_api::ConnectError::internal(format!("topic listing panicked: {e}"))
            })?
    }

    /// The replicated source topics and their partition counts.
    async fn source_topics(&self) -> Result<TopicPartitions> {
        let heartbeats = self.cfg.config().boolean("heartbeats.replication.enabled");
        Ok(self
            .list(&self.source_meta)
            .await?
            .into_iter()
            .filter(|(t, _)| self.cfg.should_replicate_topic(t, heartbeats))
            .collect())
    }

    fn remote(&self, topic: &str) -> String {
        self.cfg
            .policy
            .format_remote_topic(&self.cfg.source_alias, topic)
    }

    /// The source configs of `topics` that are replicated (not excluded).
    async fn synced_configs(
        &self,
        topics: &[String],
    ) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
        let described =
            kafka::describe_topic_configs(&self.source_admin, topics, self.timeout).await?;
        Ok(described
            .into_iter()
            .map(|(topic, configs)| {
                let kept = configs
                    .into_iter()
                    .filter(|(k, _)| !self.config_exclude.matches(k))
                    .collect();
                (self.remote(&topic), kept)
            })
            .collect())
    }

    /// Creates missing remote topics and grows remote partition counts to the source's.
    async fn create_remote_topics(&self, topics: &TopicPartitions) -> Result<()> {
        let existing = self.list(&self.target_meta).await?;
        let missing: Vec<String> = topics
            .keys()
            .filter(|t| !existing.contains_key(&self.remote(t)))
            .cloned()
            .collect();
        let mut configs = if self.cfg.config().boolean("sync.topic.configs.enabled") {
            self.synced_configs(&missing).await?
        } else {
            BTreeMap::new()
        };
        let rf = self.cfg.config().int("replication.factor");
        let specs: Vec<TopicSpec> = missing
            .iter()
            .map(|t| {
                let name = self.remote(t);
                TopicSpec {
                    configs: configs.remove(&name).unwrap_or_default(),
                    partitions: topics[t],
                    replication_factor: rf,
                    name,
                }
            })
            .collect();
        kafka::create_topics(&self.target_admin, &specs, self.timeout).await?;
        let grown: Vec<(String, i32)> = topics
            .iter()
            .filter_map(|(t, &n)| {
                let remote = self.remote(t);
                let have = *existing.get(&remote)?;
                (have < n).then_some((remote, n))
            })
            .collect();
        kafka::create_partitions(&self.target_admin, &grown, self.timeout).await
    }

    async fn create_offset_syncs_topic(&self) -> Result<()> {
        if !self.cfg.config().boolean("emit.offset-syncs.enabled") {
            return Ok(());
        }
        let admin = match self.cfg.offset_syncs_cluster() {
            Cluster::Source => &self.source_admin,
            Cluster::Target => &self.target_admin,
        };
        let spec = TopicSpec::internal(
            self.cfg.offset_syncs_topic(),
            i32::from(
                self.cfg
                    .config()
                    .short("offset-syncs.topic.replication.factor"),
            ),
        );
        kafka::create_topics(admin, &[spec], self.timeout).await
    }

    async fn sync_topic_configs(&self, topics: &TopicPartitions) -> Result<()> {
        let names: Vec<String> = topics.keys().cloned().collect();
        let configs = self.synced_configs(&names).await?;
        let configs = configs.into_iter().filter(|(_, c)| !c.is_empty()).collect();
        kafka::alter_topic_configs(&self.target_admin, &configs, self.timeout).await
    }
}

/// Kafka's `org.apache.kafka.connect.mirror.MirrorSourceConnector`.
#[derive(Default)]
pub struct MirrorSourceConnector {
    props: Props,
    enabled: bool,
    known: Arc<Mutex<TopicPartitions>>,
    stop: Option<watch::Sender<bool>>,
}

impl std::fmt::Debug for MirrorSourceConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorSourceConnector")
            .field("enabled", &self.enabled)
            .field("known", &self.known.lock().unwrap().len())
            .finish()
    }
}

impl MirrorSourceConnector {
    /// An unstarted connector.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Spreads topic-partitions over at most `max_tasks` groups, round-robin in (topic, partition)
/// order, so every task gets a similar share of every topic.
pub(crate) fn assign_round_robin(topics: &TopicPartitions, max_tasks: usize) -> Vec<Vec<String>> {
    let all: Vec<String> = topics
        .iter()
        .flat_map(|(t, &n)| (0..n).map(move |p| encode_topic_partition(t, p)))
        .collect();
    let n = max_tasks.max(1).min(all.len());
    let mut out = vec![Vec::new(); n];
    for (i, tp) in all.into_iter().enumerate() {
        out[i % n].push(tp);
    }
    out
}

#[async_trait]
impl Connector for MirrorSourceConnector {
    fn config_def(&self) -> ConfigDef {
        source_config_def()
    }

    async fn start(&mut self, props: &Props, context: Arc<dyn ConnectorContext>) -> Result<()> {
        let cfg = MirrorConfig::parse(&source_config_def(), props)?;
        self.props = props.clone();
        self.enabled = cfg.config().boolean("enabled");
        if !self.enabled {
            tracing::info!(
                "{}->{} replication is disabled: MirrorSourceConnector generates no tasks",
                cfg.source_alias,
                cfg.target_alias
            );
            return Ok(());
        }
        let topology = Topology::new(cfg)?;
        topology.create_offset_syncs_topic().await?;
        let topics = topology.source_topics().await?;
        topology.create_remote_topics(&topics).await?;
        tracing::info!(
            "{}->{}: replicating {} topics",
            topology.cfg.source_alias,
            topology.cfg.target_alias,
            topics.len()
        );
        *self.known.lock().unwrap() = topics;
        let (tx, rx) = watch::channel(false);
        self.stop = Some(tx);
        tokio::spawn(refresh_loop(topology, self.known.clone(), context, rx));
        Ok(())
    }

    async fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<Props>> {
        if !self.enabled {
            return Ok(Vec::new());
        }
        let known = self.known.lock().unwrap().clone();
        Ok(assign_round_robin(&known, max_tasks)
            .into_iter()
            .map(|tps| {
                let mut p = self.props.clone();
                p.insert(TASK_TOPIC_PARTITIONS.into(), tps.join(","));
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

/// Re-lists topics every `refresh.topics.interval.seconds` and syncs configs every
/// `sync.topic.configs.interval.seconds`, until stopped.
async fn refresh_loop(
    topology: Topology,
    known: Arc<Mutex<TopicPartitions>>,
    context: Arc<dyn ConnectorContext>,
    mut stop: watch::Receiver<bool>,
) {
    let cfg = topology.cfg.config();
    let refresh = cfg.boolean("refresh.topics.enabled").then(|| {
        topology
            .cfg
            .seconds("refresh.topics.interval.seconds")
            .max(Duration::from_millis(100))
    });
    let sync = cfg.boolean("sync.topic.configs.enabled").then(|| {
        topology
            .cfg
            .seconds("sync.topic.configs.interval.seconds")
            .max(Duration::from_millis(100))
    });
    let far = Duration::from_secs(365 * 24 * 3600);
    let mut next_refresh = tokio::time::Instant::now() + refresh.unwrap_or(far);
    let mut next_sync = tokio::time::Instant::now() + sync.unwrap_or(far);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep_until(next_refresh) => {
                next_refresh += refresh.unwrap_or(far);
                match topology.source_topics().await {
                    Ok(topics) => {
                        let changed = *known.lock().unwrap() != topics;
                        if changed {
                            if let Err(e) = topology.create_remote_topics(&topics).await {
                                tracing::warn!("cannot create remote topics, retrying at the next refresh: {e}");
                                continue;
                            }
                            let old: BTreeSet<String> = known.lock().unwrap().keys().cloned().collect();
                            let added: Vec<&String> = topics.keys().filter(|t| !old.contains(*t)).collect();
                            tracing::info!("topic-partitions changed (new topics: {added:?}): reconfiguring tasks");
                            *known.lock().unwrap() = topics;
                            context.request_task_reconfiguration();
                        }
                    }
                    Err(e) => tracing::warn!("cannot refresh source topics: {e}"),
                }
            }
            _ = tokio::time::sleep_until(next_sync) => {
                next_sync += sync.unwrap_or(far);
                let topics = known.lock().unwrap().clone();
                if let Err(e) = topology.sync_topic_configs(&topics).await {
                    tracing::warn!("cannot sync topic configs: {e}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_spread_round_robin() {
        let topics: TopicPartitions = [("a".to_owned(), 3), ("b".to_owned(), 2)].into();
        assert_eq!(
            assign_round_robin(&topics, 2),
            [vec!["a-0", "a-2", "b-1"], vec!["a-1", "b-0"]]
        );
        assert_eq!(assign_round_robin(&topics, 10).len(), 5);
        assert!(assign_round_robin(&BTreeMap::new(), 4).is_empty());
    }
}
