//! The distributed-only worker keys (COMPAT §2.2), declared once on top of the common worker
//! keys, with typed accessors for what the group member and the internal-topic stores need.

use std::time::Duration;

use ferry_api::config::ParsedValue;
use ferry_api::{
    Config, ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Props, Validator,
};
use ferry_worker::worker_config::worker_config_def;

use crate::group::protocol::SubProtocol;
use crate::signature::HMAC_SHA256;

/// The keys of a distributed worker's `.properties` file.
pub fn distributed_config_def() -> ConfigDef {
    let k = |name: &str, t: ConfigType| ConfigKey::new(name, t);
    let ms = |name: &str, default: &str, doc: &str| {
        k(name, ConfigType::Int)
            .default(default)
            .validator(Validator::at_least(0.0))
            .importance(Importance::Medium)
            .doc(doc)
    };
    worker_config_def()
        .define(k("group.id", ConfigType::String).importance(Importance::High)
            .doc("A unique string that identifies the Connect cluster group this worker belongs to."))
        .define(k("config.storage.topic", ConfigType::String).importance(Importance::High)
            .doc("The name of the Kafka topic where connector configurations are stored"))
        .define(k("config.storage.replication.factor", ConfigType::Short).default("3").importance(Importance::Low)
            .doc("Replication factor used when creating the configuration storage topic (-1 = the broker's default)."))
        .define(k("offset.storage.topic", ConfigType::String).importance(Importance::High)
            .doc("The name of the Kafka topic where source connector offsets are stored"))
        .define(k("offset.storage.partitions", ConfigType::Int).default("25").importance(Importance::Low)
            .doc("The number of partitions used when creating the offset storage topic (-1 = the broker's default)."))
        .define(k("offset.storage.replication.factor", ConfigType::Short).default("3").importance(Importance::Low)
            .doc("Replication factor used when creating the offset storage topic (-1 = the broker's default)."))
        .define(k("status.storage.topic", ConfigType::String).importance(Importance::High)
            .doc("The name of the Kafka topic where connector and task status are stored"))
        .define(k("status.storage.partitions", ConfigType::Int).default("5").importance(Importance::Low)
            .doc("The number of partitions used when creating the status storage topic (-1 = the broker's default)."))
        .define(k("status.storage.replication.factor", ConfigType::Short).default("3").importance(Importance::Low)
            .doc("Replication factor used when creating the status storage topic (-1 = the broker's default)."))
        .define(k("connect.protocol", ConfigType::String).default("sessioned")
            .validator(Validator::OneOf(vec!["eager", "compatible", "sessioned"])).importance(Importance::Low)
            .doc("Compatibility mode for Kafka Connect Protocol"))
        .define(ms("scheduled.rebalance.max.delay.ms", "300000",
            "The maximum delay that is scheduled in order to wait for the return of one or more departed workers before rebalancing and reassigning their connectors and tasks to the group."))
        .define(ms("session.timeout.ms", "10000",
            "The timeout used to detect worker failures."))
        .define(ms("heartbeat.interval.ms", "3000",
            "The expected time between heartbeats to the group coordinator when using Kafka's group management facilities."))
        .define(ms("rebalance.timeout.ms", "60000",
            "The maximum allowed time for each worker to join the group once a rebalance has begun."))
        .define(ms("request.timeout.ms", "40000",
            "The maximum amount of time the client will wait for the response of a request."))
        .define(ms("worker.sync.timeout.ms", "3000",
            "When the worker is out of sync with other workers and needs to resynchronize configurations, wait up to this amount of time before giving up, leaving the group, and waiting a backoff period before rejoining."))
        .define(ms("inter.worker.key.ttl.ms", "3600000",
            "The TTL of generated session keys used for internal request validation (in milliseconds)"))
        // Ferry signs with HmacSHA256 only (Connect's default); another algorithm is refused
        // at start-up by name rather than failing the first internal request.
        .define(k("inter.worker.key.generation.algorithm", ConfigType::String).default(HMAC_SHA256)
            .validator(Validator::OneOf(vec![HMAC_SHA256])).importance(Importance::Low)
            .doc("The algorithm to use for generating internal request keys."))
        .define(k("inter.worker.signature.algorithm", ConfigType::String).default(HMAC_SHA256)
            .validator(Validator::OneOf(vec![HMAC_SHA256])).importance(Importance::Low)
            .doc("The algorithm used to sign internal requests."))
        .define(k("inter.worker.verification.algorithms", ConfigType::List).default(HMAC_SHA256)
            .importance(Importance::Low)
            .doc("A list of permitted algorithms for verifying internal requests, which must include the algorithm used for the inter.worker.signature.algorithm property."))
        .define(k("inter.worker.key.size", ConfigType::Int).default_null().importance(Importance::Low)
            .doc("The size of the key to use for signing internal requests, in bits. If null, the default key size for the key generation algorithm will be used."))
        .define(ms("worker.unsync.backoff.ms", "300000",
            "When the worker is out of sync with other workers and fails to catch up within worker.sync.timeout.ms, leave the Connect cluster for this long before rejoining."))
}

/// A parsed distributed worker config.
#[derive(Debug, Clone)]
pub struct DistributedConfig {
    config: Config,
}

fn millis(v: i32) -> Duration {
    Duration::from_millis(v.max(0) as u64)
}

impl DistributedConfig {
    /// Parses a distributed worker's properties; errors name the missing or invalid key.
    pub fn parse(props: &Props) -> Result<Self, ConnectError> {
        let config = distributed_config_def()
            .parse(props)
            .map_err(|e| e.context("invalid distributed worker configuration"))?;
        Ok(DistributedConfig { config })
    }

    /// The typed config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `bootstrap.servers` as given (host:port entries).
    pub fn bootstrap_servers(&self) -> Vec<String> {
        self.config.list("bootstrap.servers").to_vec()
    }

    /// `group.id`.
    pub fn group_id(&self) -> &str {
        self.config.string("group.id").unwrap_or_default()
    }

    /// The sub-protocols offered in JoinGroup, most preferred first (`connect.protocol`).
    pub fn offered_protocols(&self) -> Vec<SubProtocol> {
        let setting = self
            .config
            .string("connect.protocol")
            .unwrap_or("sessioned");
        SubProtocol::offered(setting).expect("connect.protocol is validated by its OneOf")
    }

    /// `inter.worker.verification.algorithms`.
    pub fn verification_algorithms(&self) -> Vec<String> {
        self.config
            .list("inter.worker.verification.algorithms")
            .to_vec()
    }

    /// `inter.worker.key.size` in bytes (None: the algorithm's default).
    pub fn key_bytes(&self) -> Option<usize> {
        match self.config.value("inter.worker.key.size") {
            Some(ParsedValue::Int(bits)) if *bits > 0 => Some((*bits as usize).div_ceil(8)),
            _ => None,
        }
    }

    /// A duration-valued `*.ms` key of this def.
    pub fn duration(&self, key: &str) -> Duration {
        millis(self.config.int(key))
    }

    /// A topic name key (`config.storage.topic`, …).
    pub fn topic(&self, key: &str) -> &str {
        self.config.string(key).unwrap_or_default()
    }

    /// A replication factor key (-1 = broker default).
    pub fn replication_factor(&self, key: &str) -> i16 {
        self.config.short(key)
    }

    /// A partition count key (-1 = broker default).
    pub fn partitions(&self, key: &str) -> i32 {
        self.config.int(key)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The smallest valid distributed worker file.
    pub(crate) fn minimal_props() -> Props {
        [
            ("bootstrap.servers", "127.0.0.1:9092"),
            ("group.id", "connect-cluster"),
            ("config.storage.topic", "connect-configs"),
            ("offset.storage.topic", "connect-offsets"),
            ("status.storage.topic", "connect-status"),
            (
                "key.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn defaults_are_connects() {
        let c = DistributedConfig::parse(&minimal_props()).unwrap();
        assert_eq!(c.group_id(), "connect-cluster");
        assert_eq!(
            c.offered_protocols(),
            vec![
                SubProtocol::Sessioned,
                SubProtocol::Compatible,
                SubProtocol::Eager
            ]
        );
        for (key, ms) in [
            ("session.timeout.ms", 10_000),
            ("heartbeat.interval.ms", 3_000),
            ("rebalance.timeout.ms", 60_000),
            ("scheduled.rebalance.max.delay.ms", 300_000),
            ("worker.sync.timeout.ms", 3_000),
        ] {
            assert_eq!(c.duration(key), Duration::from_millis(ms), "{key}");
        }
        assert_eq!(c.replication_factor("config.storage.replication.factor"), 3);
        assert_eq!(c.partitions("offset.storage.partitions"), 25);
        assert_eq!(c.partitions("status.storage.partitions"), 5);
    }

    #[test]
    fn missing_group_id_and_bad_protocol_are_named() {
        let mut props = minimal_props();
        props.remove("group.id");
        let err = DistributedConfig::parse(&props).unwrap_err().to_string();
        assert!(err.contains("group.id"), "{err}");
        let mut props = minimal_props();
        props.insert("connect.protocol".into(), "cooperative".into());
        let err = DistributedConfig::parse(&props).unwrap_err().to_string();
        assert!(err.contains("connect.protocol"), "{err}");
        props.insert("connect.protocol".into(), "eager".into());
        assert_eq!(
            DistributedConfig::parse(&props)
                .unwrap()
                .offered_protocols(),
            vec![SubProtocol::Eager]
        );
    }
}
