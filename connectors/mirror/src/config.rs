//! The configuration keys of the three MM2 connectors, declared once as Kafka declares them
//! (`MirrorConnectorConfig`, `MirrorSourceConfig`, `MirrorCheckpointConfig`,
//! `MirrorHeartbeatConfig`, COMPAT §9.1), and the parsed view the connectors and tasks share.

use std::time::Duration;

use ferry_api::config::with_prefix_stripped;
use ferry_api::{Config, ConfigDef, ConfigKey, ConfigType, Importance, Props, Result};

use crate::filter::NameFilter;
use crate::policy::{ReplicationPolicy, DEFAULT_POLICY_CLASS};

/// `source.cluster.alias`.
pub const SOURCE_CLUSTER_ALIAS: &str = "source.cluster.alias";
/// `target.cluster.alias`.
pub const TARGET_CLUSTER_ALIAS: &str = "target.cluster.alias";
/// Task key: the topic-partitions of a source task (`topic-partition`, comma-separated).
pub const TASK_TOPIC_PARTITIONS: &str = "task.assigned.partitions";
/// Task key: the consumer groups of a checkpoint task.
pub const TASK_CONSUMER_GROUPS: &str = "task.assigned.groups";

/// Kafka's default `topics.exclude`.
pub const DEFAULT_TOPICS_EXCLUDE: &str = ".*[\\-\\.]internal, .*\\.replica, __.*";
/// Kafka's default `groups.exclude`.
pub const DEFAULT_GROUPS_EXCLUDE: &str = "console-consumer-.*, connect-.*, __.*";
/// Kafka's default `config.properties.exclude`.
pub const DEFAULT_CONFIG_PROPERTIES_EXCLUDE: &str =
    "follower\\.replication\\.throttled\\.replicas, \
     leader\\.replication\\.throttled\\.replicas, message\\.timestamp\\.difference\\.max\\.ms, \
     message\\.timestamp\\.type, unclean\\.leader\\.election\\.enable, min\\.insync\\.replicas";

fn key(name: &str, t: ConfigType, default: &str, doc: &str) -> ConfigKey {
    ConfigKey::new(name, t)
        .default(default)
        .importance(Importance::Low)
        .doc(doc)
}

/// Keys every MM2 connector has (`MirrorConnectorConfig`).
pub fn common_config_def() -> ConfigDef {
    use ConfigType::*;
    ConfigDef::new()
        .define(key(SOURCE_CLUSTER_ALIAS, String, "source", "Alias of source cluster").importance(Importance::High))
        .define(key(TARGET_CLUSTER_ALIAS, String, "target", "Alias of target cluster. Used in metrics reporting.").importance(Importance::High))
        .define(key("replication.policy.class", Class, DEFAULT_POLICY_CLASS, "Class which defines the remote topic naming convention."))
        .define(key("replication.policy.separator", String, ".", "Separator used in remote topic naming convention."))
        .define(key("replication.policy.internal.topic.separator.enabled", Boolean, "true", "Whether to use replication.policy.separator to control the names of topics used for checkpoints and offset syncs."))
        .define(key("admin.timeout.ms", Long, "60000", "Timeout for administrative tasks, e.g. detecting new topics."))
        .define(key("offset-syncs.topic.location", String, "source", "The location (source/target) of the offset-syncs topic."))
        .define(key("emit.offset-syncs.enabled", Boolean, "true", "Whether to store the new offset of the replicated records in offset-syncs topic or not."))
        .define(key("enabled", Boolean, "true", "Whether to replicate source->target."))
        .define(key("topics", List, ".*", "Topics to replicate. Supports comma-separated topic names and regexes.").importance(Importance::High))
        .define(key("topics.exclude", List, DEFAULT_TOPICS_EXCLUDE, "Topics to exclude from replication. Supports comma-separated topic names and regexes."))
        .define(key("consumer.poll.timeout.ms", Long, "1000", "Timeout when polling source cluster."))
}

/// `MirrorSourceConnector`'s keys.
pub fn source_config_def() -> ConfigDef {
    use ConfigType::*;
    common_config_def()
        .define(key("config.properties.exclude", List, DEFAULT_CONFIG_PROPERTIES_EXCLUDE, "Topic config properties that should not be replicated. Supports comma-separated property names and regexes."))
        .define(key("use.defaults.from", String, "target", "Whether to use the default config values from the source or target cluster when replicating topic configs."))
        .define(key("replication.factor", Int, "2", "Replication factor for newly created remote topics."))
        .define(key("offset-syncs.topic.replication.factor", Short, "3", "Replication factor for offset-syncs topic."))
        .define(key("refresh.topics.enabled", Boolean, "true", "Whether to periodically check for new topics and partitions."))
        .define(key("refresh.topics.interval.seconds", Long, "600", "Frequency of topic refresh."))
        .define(key("sync.topic.configs.enabled", Boolean, "true", "Whether to periodically configure remote topics to match their corresponding upstream topics."))
        .define(key("sync.topic.configs.interval.seconds", Long, "600", "Frequency of topic config sync."))
        .define(key("sync.topic.acls.enabled", Boolean, "true", "Whether to periodically configure remote topic ACLs to match their corresponding upstream topics."))
        .define(key("sync.topic.acls.interval.seconds", Long, "600", "Frequency of topic ACL sync."))
        .define(key("offset.lag.max", Long, "100", "How out-of-sync a remote partition can be before it is resynced."))
        .define(key("heartbeats.replication.enabled", Boolean, "true", "Whether to replicate the heartbeat topics even when the topic filter does not include them."))
}

/// `MirrorCheckpointConnector`'s keys.
pub fn checkpoint_config_def() -> ConfigDef {
    use ConfigType::*;
    common_config_def()
        .define(key("groups", List, ".*", "Consumer groups to replicate. Supports comma-separated group IDs and regexes.").importance(Importance::High))
        .define(key("groups.exclude", List, DEFAULT_GROUPS_EXCLUDE, "Consumer groups to exclude from replication. Supports comma-separated group IDs and regexes."))
        .define(key("checkpoints.topic.replication.factor", Short, "3", "Replication factor for checkpoints topic."))
        .define(key("emit.checkpoints.enabled", Boolean, "true", "Whether to replicate consumer offsets to target cluster."))
        .define(key("emit.checkpoints.interval.seconds", Long, "60", "Frequency of checkpoints."))
        .define(key("sync.group.offsets.enabled", Boolean, "false", "Whether to periodically write the translated offsets to __consumer_offsets topic in target cluster, as long as no active consumers in that group are connected to the target cluster"))
        .define(key("sync.group.offsets.interval.seconds", Long, "60", "Frequency of consumer group offset sync."))
        .define(key("refresh.groups.enabled", Boolean, "true", "Whether to periodically check for new consumer groups."))
        .define(key("refresh.groups.interval.seconds", Long, "600", "Frequency of group refresh."))
}

/// `MirrorHeartbeatConnector`'s keys.
pub fn heartbeat_config_def() -> ConfigDef {
    use ConfigType::*;
    common_config_def()
        .define(key(
            "emit.heartbeats.enabled",
            Boolean,
            "true",
            "Whether to emit heartbeats to target cluster.",
        ))
        .define(key(
            "emit.heartbeats.interval.seconds",
            Long,
            "1",
            "Frequency of heartbeats.",
        ))
        .define(key(
            "heartbeats.topic.replication.factor",
            Short,
            "3",
            "Replication factor for heartbeats topic.",
        ))
}

/// A cluster's role for a connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cluster {
    /// Replicated from.
    Source,
    /// Replicated to (the cluster the worker writes to).
    Target,
}

impl Cluster {
    fn name(self) -> &'static str {
        match self {
            Cluster::Source => "source",
            Cluster::Target => "target",
        }
    }
}

/// Which client of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// Consumer.
    Consumer,
    /// Producer.
    Producer,
    /// Admin.
    Admin,
}

impl Client {
    fn name(self) -> &'static str {
        match self {
            Client::Consumer => "consumer",
            Client::Producer => "producer",
            Client::Admin => "admin",
        }
    }
}

/// A parsed MM2 connector config.
#[derive(Debug, Clone)]
pub struct MirrorConfig {
    config: Config,
    /// `source.cluster.alias`.
    pub source_alias: String,
    /// `target.cluster.alias`.
    pub target_alias: String,
    /// The replication policy.
    pub policy: ReplicationPolicy,
    /// `topics` minus `topics.exclude`.
    pub topic_filter: NameFilter,
}

impl MirrorConfig {
    /// Parses `props` against `def` (one of the connectors' definitions).
    pub fn parse(def: &ConfigDef, props: &Props) -> Result<Self> {
        let config = def.parse(props)?;
        let source_alias = config
            .string(SOURCE_CLUSTER_ALIAS)
            .unwrap_or("source")
            .to_owned();
        let policy = ReplicationPolicy::new(
            config
                .string("replication.policy.class")
                .unwrap_or(DEFAULT_POLICY_CLASS),
            config.string("replication.policy.separator").unwrap_or("."),
            config.boolean("replication.policy.internal.topic.separator.enabled"),
            Some(&source_alias),
        )?;
        let topic_filter = NameFilter::new(
            "topics",
            config.list("topics"),
            "topics.exclude",
            config.list("topics.exclude"),
        )?;
        let location = config
            .string("offset-syncs.topic.location")
            .unwrap_or("source");
        if location != "source" && location != "target" {
            return Err(ferry_api::ConnectError::config(format!(
                "Invalid value {location} for configuration offset-syncs.topic.location: String must be one of: source, target"
            )));
        }
        Ok(MirrorConfig {
            target_alias: config
                .string(TARGET_CLUSTER_ALIAS)
                .unwrap_or("target")
                .to_owned(),
            source_alias,
            policy,
            topic_filter,
            config,
        })
    }

    /// The typed config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The config as given.
    pub fn originals(&self) -> &Props {
        self.config.originals()
    }

    /// A duration key in seconds.
    pub fn seconds(&self, key: &str) -> Duration {
        Duration::from_secs(self.config.long(key).max(0) as u64)
    }

    /// A duration key in milliseconds.
    pub fn millis(&self, key: &str) -> Duration {
        Duration::from_millis(self.config.long(key).max(0) as u64)
    }

    /// Client settings for `client` of `cluster`, as MM2 builds them: the `<cluster>.cluster.*`
    /// settings (not the per-client ones), then `<cluster>.cluster.<client>.*`, then the
    /// connector-level `<cluster>.<client>.*` overrides.
    pub fn client_settings(&self, cluster: Cluster, client: Client) -> Props {
        let props = self.originals();
        let cluster_prefix = format!("{}.cluster.", cluster.name());
        let mut out: Props = with_prefix_stripped(props, &cluster_prefix)
            .into_iter()
            .filter(|(k, _)| {
                k != "alias"
                    && !k.starts_with("consumer.")
                    && !k.starts_with("producer.")
                    && !k.starts_with("admin.")
            })
            .collect();
        out.extend(with_prefix_stripped(
            props,
            &format!("{cluster_prefix}{}.", client.name()),
        ));
        out.extend(with_prefix_stripped(
            props,
            &format!("{}.{}.", cluster.name(), client.name()),
        ));
        out
    }

    /// Where the offset-syncs topic lives.
    pub fn offset_syncs_cluster(&self) -> Cluster {
        if self.config.string("offset-syncs.topic.location") == Some("target") {
            Cluster::Target
        } else {
            Cluster::Source
        }
    }

    /// The offset-syncs topic: `mm2-offset-syncs.<target>.internal` on the source cluster, or
    /// `mm2-offset-syncs.<source>.internal` on the target cluster.
    pub fn offset_syncs_topic(&self) -> String {
        match self.offset_syncs_cluster() {
            Cluster::Source => self.policy.offset_syncs_topic(&self.target_alias),
            Cluster::Target => self.policy.offset_syncs_topic(&self.source_alias),
        }
    }

    /// Whether an upstream topic is replicated by this flow (`MirrorSourceConnector.shouldReplicateTopic`).
    pub fn should_replicate_topic(&self, topic: &str, heartbeats_replication: bool) -> bool {
        let heartbeat = self.policy.is_heartbeats_topic(topic);
        (self.topic_filter.accepts(topic) || (heartbeat && heartbeats_replication))
            && !self.policy.is_internal_topic(topic)
            && !self.policy.is_cycle(topic, &self.target_alias)
    }
}

/// Encodes a topic-partition as MM2 does in task configs (`topic-partition`).
pub fn encode_topic_partition(topic: &str, partition: i32) -> String {
    format!("{topic}-{partition}")
}

/// Decodes `topic-partition` (split on the last dash).
pub fn decode_topic_partition(s: &str) -> Option<(String, i32)> {
    let (topic, partition) = s.trim().rsplit_once('-')?;
    Some((topic.to_owned(), partition.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn client_settings_layer_cluster_client_and_connector_prefixes() {
        let cfg = MirrorConfig::parse(
            &source_config_def(),
            &props(&[
                ("source.cluster.alias", "A"),
                ("source.cluster.bootstrap.servers", "a:9092"),
                ("source.cluster.client.id", "base"),
                ("source.cluster.consumer.client.id", "cluster-consumer"),
                ("source.consumer.fetch.min.bytes", "5"),
                ("target.cluster.bootstrap.servers", "b:9092"),
            ]),
        )
        .unwrap();
        assert_eq!(
            cfg.client_settings(Cluster::Source, Client::Consumer),
            props(&[
                ("bootstrap.servers", "a:9092"),
                ("client.id", "cluster-consumer"),
                ("fetch.min.bytes", "5"),
            ])
        );
        assert_eq!(
            cfg.client_settings(Cluster::Source, Client::Admin),
            props(&[("bootstrap.servers", "a:9092"), ("client.id", "base")])
        );
        assert_eq!(
            cfg.client_settings(Cluster::Target, Client::Producer),
            props(&[("bootstrap.servers", "b:9092")])
        );
    }

    #[test]
    fn offset_syncs_topic_follows_location() {
        let base = [("source.cluster.alias", "A"), ("target.cluster.alias", "B")];
        let cfg = MirrorConfig::parse(&source_config_def(), &props(&base)).unwrap();
        assert_eq!(cfg.offset_syncs_cluster(), Cluster::Source);
        assert_eq!(cfg.offset_syncs_topic(), "mm2-offset-syncs.B.internal");
        let mut p = props(&base);
        p.insert("offset-syncs.topic.location".into(), "target".into());
        let cfg = MirrorConfig::parse(&source_config_def(), &p).unwrap();
        assert_eq!(cfg.offset_syncs_cluster(), Cluster::Target);
        assert_eq!(cfg.offset_syncs_topic(), "mm2-offset-syncs.A.internal");
        p.insert("offset-syncs.topic.location".into(), "elsewhere".into());
        let err = MirrorConfig::parse(&source_config_def(), &p).unwrap_err();
        assert!(err.message().contains("offset-syncs.topic.location"));
    }

    #[test]
    fn replicated_topics() {
        let cfg = MirrorConfig::parse(
            &source_config_def(),
            &props(&[
                ("source.cluster.alias", "A"),
                ("target.cluster.alias", "B"),
                ("topics", "orders.*, B\\..*"),
            ]),
        )
        .unwrap();
        let cases = [
            ("orders", true),
            ("payments", false),
            ("heartbeats", true),
            ("C.heartbeats", true),
            ("B.orders", false), // came from B: a cycle
            ("mm2-offset-syncs.B.internal", false),
        ];
        for (topic, want) in cases {
            assert_eq!(cfg.should_replicate_topic(topic, true), want, "{topic}");
        }
        assert!(!cfg.should_replicate_topic("heartbeats", false));
    }

    #[test]
    fn topic_partition_encoding() {
        assert_eq!(encode_topic_partition("a-b", 3), "a-b-3");
        assert_eq!(decode_topic_partition("a-b-3"), Some(("a-b".into(), 3)));
        assert_eq!(decode_topic_partition("nodash"), None);
    }
}
