//! Replication policies (mirror-client's `ReplicationPolicy`, COMPAT §9.3): how remote topics are
//! named, how a topic's origin is recognised, and the names of MM2's internal topics.

use ferry_api::{ConnectError, Result};

/// `DefaultReplicationPolicy`'s Java class.
pub const DEFAULT_POLICY_CLASS: &str = "org.apache.kafka.connect.mirror.DefaultReplicationPolicy";
/// `IdentityReplicationPolicy`'s Java class.
pub const IDENTITY_POLICY_CLASS: &str = "org.apache.kafka.connect.mirror.IdentityReplicationPolicy";
/// The heartbeats topic name.
pub const HEARTBEATS_TOPIC: &str = "heartbeats";

/// Which naming scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// `<source><sep><topic>`.
    Default,
    /// Topic names kept (heartbeats still prefixed).
    Identity,
}

/// A configured replication policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationPolicy {
    kind: PolicyKind,
    separator: String,
    /// Separator in internal topic names: the separator, or `.` when
    /// `replication.policy.internal.topic.separator.enabled=false`.
    internal_separator: String,
    /// `source.cluster.alias` (IdentityReplicationPolicy's `topicSource`).
    source_alias: Option<String>,
}

impl ReplicationPolicy {
    /// A policy from `replication.policy.class` (Java class or simple name) and its settings.
    pub fn new(
        class: &str,
        separator: &str,
        internal_separator_enabled: bool,
        source_alias: Option<&str>,
    ) -> Result<Self> {
        let simple = class.rsplit('.').next().unwrap_or(class);
        let kind = match simple {
            "DefaultReplicationPolicy" => PolicyKind::Default,
            "IdentityReplicationPolicy" => PolicyKind::Identity,
            _ => {
                return Err(ConnectError::config(format!(
                    "Invalid value {class} for configuration replication.policy.class: \
                     Ferry bundles {DEFAULT_POLICY_CLASS} and {IDENTITY_POLICY_CLASS}"
                )))
            }
        };
        if separator.is_empty() {
            return Err(ConnectError::config(
                "Invalid value for configuration replication.policy.separator: must not be empty",
            ));
        }
        Ok(ReplicationPolicy {
            kind,
            separator: separator.to_owned(),
            internal_separator: if internal_separator_enabled {
                separator.to_owned()
            } else {
                ".".to_owned()
            },
            source_alias: source_alias.map(str::to_owned),
        })
    }

    /// The default policy with `.`.
    pub fn default_policy() -> Self {
        Self::new(DEFAULT_POLICY_CLASS, ".", true, None).expect("valid")
    }

    /// Which scheme.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The remote name of `topic` replicated from `source_alias`.
    pub fn format_remote_topic(&self, source_alias: &str, topic: &str) -> String {
        if self.kind == PolicyKind::Identity && !self.looks_like_heartbeat(topic) {
            return topic.to_owned();
        }
        format!("{source_alias}{}{topic}", self.separator)
    }

    /// The cluster `topic` came from, if it is a remote topic.
    pub fn topic_source(&self, topic: &str) -> Option<String> {
        if self.kind == PolicyKind::Identity && !self.looks_like_heartbeat(topic) {
            return self.source_alias.clone();
        }
        topic.find(&self.separator).map(|i| topic[..i].to_owned())
    }

    /// `topic`'s name on the cluster it came from.
    pub fn upstream_topic(&self, topic: &str) -> Option<String> {
        if self.kind == PolicyKind::Identity && !self.looks_like_heartbeat(topic) {
            return Some(topic.to_owned());
        }
        let source = self.topic_source(topic)?;
        Some(topic[source.len() + self.separator.len()..].to_owned())
    }

    /// The name `topic` had where it was first written (follows every hop).
    pub fn original_topic(&self, topic: &str) -> String {
        let mut current = topic.to_owned();
        // Bounded by the topic length: every hop removes at least the separator.
        for _ in 0..=topic.len() {
            match self.upstream_topic(&current) {
                Some(up) if up != current => current = up,
                _ => break,
            }
        }
        current
    }

    /// With the identity policy, only heartbeats are prefixed: `heartbeats` and `X.heartbeats`.
    fn looks_like_heartbeat(&self, topic: &str) -> bool {
        topic == HEARTBEATS_TOPIC
            || topic.ends_with(&format!("{}{HEARTBEATS_TOPIC}", self.separator))
    }

    /// `heartbeats`.
    pub fn heartbeats_topic(&self) -> &'static str {
        HEARTBEATS_TOPIC
    }

    /// `mm2-offset-syncs.<cluster>.internal`.
    pub fn offset_syncs_topic(&self, cluster_alias: &str) -> String {
        let s = &self.internal_separator;
        format!("mm2-offset-syncs{s}{cluster_alias}{s}internal")
    }

    /// `<cluster>.checkpoints.internal`.
    pub fn checkpoints_topic(&self, cluster_alias: &str) -> String {
        let s = &self.internal_separator;
        format!("{cluster_alias}{s}checkpoints{s}internal")
    }

    /// Whether `topic` is a heartbeats topic (local or remote, after any number of hops).
    pub fn is_heartbeats_topic(&self, topic: &str) -> bool {
        self.original_topic(topic) == HEARTBEATS_TOPIC
    }

    /// Whether `topic` is a checkpoints topic.
    pub fn is_checkpoints_topic(&self, topic: &str) -> bool {
        let s = &self.internal_separator;
        topic.ends_with(&format!("{s}checkpoints{s}internal"))
    }

    /// Whether `topic` is one of MM2's own internal topics.
    pub fn is_mm2_internal_topic(&self, topic: &str) -> bool {
        let s = &self.internal_separator;
        (topic.starts_with("mm2") && topic.ends_with(&format!("{s}internal")))
            || self.is_checkpoints_topic(topic)
    }

    /// Whether `topic` is internal (never replicated): Kafka's (`__…`, `.…`), `*.internal`,
    /// `*-internal`, or MM2's own.
    pub fn is_internal_topic(&self, topic: &str) -> bool {
        topic.starts_with("__")
            || topic.starts_with('.')
            || topic.ends_with(".internal")
            || topic.ends_with("-internal")
            || self.is_mm2_internal_topic(topic)
    }

    /// Whether replicating `topic` to `target_alias` would send it back where it came from.
    pub fn is_cycle(&self, topic: &str, target_alias: &str) -> bool {
        let mut current = topic.to_owned();
        for _ in 0..=topic.len() {
            match self.topic_source(&current) {
                None => return false,
                Some(src) if src == target_alias => return true,
                Some(_) => {}
            }
            match self.upstream_topic(&current) {
                Some(up) if up != current => current = up,
                _ => return false,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(alias: &str) -> ReplicationPolicy {
        ReplicationPolicy::new("IdentityReplicationPolicy", ".", true, Some(alias)).unwrap()
    }

    #[test]
    fn default_policy_names() {
        let p = ReplicationPolicy::default_policy();
        let cases = [
            ("A", "orders", "A.orders"),
            ("B", "A.orders", "B.A.orders"),
            ("A", "heartbeats", "A.heartbeats"),
        ];
        for (src, topic, remote) in cases {
            assert_eq!(p.format_remote_topic(src, topic), remote);
            assert_eq!(p.topic_source(remote).as_deref(), Some(src));
            assert_eq!(p.upstream_topic(remote).as_deref(), Some(topic));
        }
        assert_eq!(p.topic_source("orders"), None);
        assert_eq!(p.original_topic("B.A.orders"), "orders");
        assert!(p.is_heartbeats_topic("B.A.heartbeats"));
        assert!(!p.is_heartbeats_topic("A.orders"));
    }

    #[test]
    fn internal_topic_names_follow_separator_setting() {
        let p = ReplicationPolicy::default_policy();
        assert_eq!(p.offset_syncs_topic("B"), "mm2-offset-syncs.B.internal");
        assert_eq!(p.checkpoints_topic("A"), "A.checkpoints.internal");
        let custom = ReplicationPolicy::new(DEFAULT_POLICY_CLASS, "_", true, None).unwrap();
        assert_eq!(custom.format_remote_topic("A", "t"), "A_t");
        assert_eq!(custom.checkpoints_topic("A"), "A_checkpoints_internal");
        let dotted = ReplicationPolicy::new(DEFAULT_POLICY_CLASS, "_", false, None).unwrap();
        assert_eq!(
            dotted.offset_syncs_topic("B"),
            "mm2-offset-syncs.B.internal"
        );
    }

    #[test]
    fn internal_topics_are_recognised() {
        let p = ReplicationPolicy::default_policy();
        for t in [
            "__consumer_offsets",
            ".hidden",
            "mm2-offsets.A.internal",
            "A.checkpoints.internal",
            "mm2-offset-syncs.B.internal",
            "connect-offsets-internal",
        ] {
            assert!(p.is_internal_topic(t), "{t}");
        }
        for t in ["orders", "A.orders", "heartbeats"] {
            assert!(!p.is_internal_topic(t), "{t}");
        }
    }

    #[test]
    fn identity_keeps_names_but_prefixes_heartbeats() {
        let p = identity("A");
        assert_eq!(p.format_remote_topic("A", "orders"), "orders");
        assert_eq!(p.format_remote_topic("A", "heartbeats"), "A.heartbeats");
        assert_eq!(p.topic_source("orders").as_deref(), Some("A"));
        assert_eq!(p.upstream_topic("orders").as_deref(), Some("orders"));
        assert_eq!(
            p.upstream_topic("A.heartbeats").as_deref(),
            Some("heartbeats")
        );
    }

    #[test]
    fn cycles_are_detected() {
        let p = ReplicationPolicy::default_policy();
        let cases = [
            ("orders", "B", false),
            ("B.orders", "B", true),
            ("C.B.orders", "B", true),
            ("C.orders", "B", false),
        ];
        for (topic, target, cycle) in cases {
            assert_eq!(p.is_cycle(topic, target), cycle, "{topic} -> {target}");
        }
        assert!(!identity("A").is_cycle("orders", "B"));
        assert!(identity("A").is_cycle("orders", "A"));
    }

    #[test]
    fn unknown_policy_class_is_refused() {
        let err = ReplicationPolicy::new("com.example.Custom", ".", true, None).unwrap_err();
        assert!(err.message().contains("replication.policy.class"));
    }
}
