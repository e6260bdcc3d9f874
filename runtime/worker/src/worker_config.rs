//! Worker configuration (COMPAT §2.1, §2.3): the keys of a Kafka Connect worker `.properties` file,
//! declared once, plus how client settings for producers, consumers and admin clients are derived
//! from the `producer.`/`consumer.`/`admin.` prefixes and connector overrides.

use std::path::PathBuf;

use ferry_api::config::with_prefix_stripped;
use ferry_api::{
    Config, ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Props, Validator,
};

/// Which client a set of settings is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientRole {
    /// Source task producers and the DLQ producer.
    Producer,
    /// Sink task consumers.
    Consumer,
    /// Admin clients.
    Admin,
}

impl ClientRole {
    fn worker_prefix(self) -> &'static str {
        match self {
            ClientRole::Producer => "producer.",
            ClientRole::Consumer => "consumer.",
            ClientRole::Admin => "admin.",
        }
    }
    fn override_prefix(self) -> &'static str {
        match self {
            ClientRole::Producer => "producer.override.",
            ClientRole::Consumer => "consumer.override.",
            ClientRole::Admin => "admin.override.",
        }
    }
}

/// The worker keys shared by standalone and distributed mode.
pub fn worker_config_def() -> ConfigDef {
    let k = |name: &str, t: ConfigType| ConfigKey::new(name, t);
    ConfigDef::new()
        .define(k("bootstrap.servers", ConfigType::List).default("localhost:9092").importance(Importance::High)
            .doc("A list of host/port pairs used to establish the initial connection to the Kafka cluster."))
        .define(k("key.converter", ConfigType::Class).importance(Importance::High)
            .doc("Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka."))
        .define(k("value.converter", ConfigType::Class).importance(Importance::High)
            .doc("Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka."))
        .define(k("header.converter", ConfigType::Class).default("org.apache.kafka.connect.storage.SimpleHeaderConverter")
            .importance(Importance::Low).doc("HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka."))
        .define(k("offset.flush.interval.ms", ConfigType::Long).default("60000").validator(Validator::at_least(0.0))
            .importance(Importance::Low).doc("Interval at which to try committing offsets for tasks."))
        .define(k("offset.flush.timeout.ms", ConfigType::Long).default("5000").validator(Validator::at_least(0.0))
            .importance(Importance::Low).doc("Maximum number of milliseconds to wait for records to flush and partition offset data to be committed to offset storage before cancelling the process and restoring the offset data to be committed in a future attempt."))
        .define(k("task.shutdown.graceful.timeout.ms", ConfigType::Long).default("5000")
            .importance(Importance::Low).doc("Amount of time to wait for tasks to shutdown gracefully. This is the total amount of time, not per task."))
        .define(k("listeners", ConfigType::List).default("http://:8083").importance(Importance::Low)
            .doc("List of comma-separated URIs the REST API will listen on."))
        .define(k("rest.advertised.host.name", ConfigType::String).default_null().importance(Importance::Low)
            .doc("If this is set, this is the hostname that will be given out to other workers to connect to."))
        .define(k("rest.advertised.port", ConfigType::Int).default_null().importance(Importance::Low)
            .doc("If this is set, this is the port that will be given out to other workers to connect to."))
        .define(k("rest.advertised.listener", ConfigType::String).default_null().importance(Importance::Low)
            .doc("Sets the advertised listener (HTTP or HTTPS) which will be given to other workers to use."))
        .define(k("connector.client.config.override.policy", ConfigType::String).default("All")
            .validator(Validator::OneOf(vec!["All", "None", "Principal",
                "org.apache.kafka.connect.connector.policy.AllConnectorClientConfigOverridePolicy",
                "org.apache.kafka.connect.connector.policy.NoneConnectorClientConfigOverridePolicy",
                "org.apache.kafka.connect.connector.policy.PrincipalConnectorClientConfigOverridePolicy"]))
            .importance(Importance::Medium)
            .doc("Class name or alias of implementation of ConnectorClientConfigOverridePolicy. Defines what client configurations can be overridden by the connector."))
        .define(k("topic.creation.enable", ConfigType::Boolean).default("true").importance(Importance::Low)
            .doc("Whether to allow automatic creation of topics used by source connectors, when source connectors are configured with `topic.creation.` properties."))
        .define(k("topic.tracking.enable", ConfigType::Boolean).default("true").importance(Importance::Low)
            .doc("Enable tracking the set of active topics per connector during runtime."))
        .define(k("topic.tracking.allow.reset", ConfigType::Boolean).default("true").importance(Importance::Low)
            .doc("If set to true, it allows user requests to reset the set of active topics per connector."))
        .define(k("plugin.path", ConfigType::List).default_null().importance(Importance::Low)
            .doc("Accepted for compatibility and ignored: Ferry's plugins are compiled in."))
}

/// Standalone-only keys.
pub fn standalone_config_def() -> ConfigDef {
    worker_config_def()
        .define(ConfigKey::new("offset.storage.file.filename", ConfigType::String).importance(Importance::High)
            .doc("File to store source connector offsets in (Java-serialised, compatible with Kafka Connect)."))
        .define(ConfigKey::new("ferry.connectors.storage.file", ConfigType::String).default_null().importance(Importance::Low)
            .doc("Ferry extension: file where connectors created over REST are kept so they survive a restart. Defaults to <offset.storage.file.filename>.connectors.json."))
}

/// Settings no longer honoured by Connect that old worker files still carry; logged and ignored.
const REMOVED_KEYS: &[&str] = &[
    "rest.port",
    "rest.host.name",
    "internal.key.converter",
    "internal.value.converter",
];

/// A parsed worker config.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    config: Config,
}

impl WorkerConfig {
    /// Parses a standalone worker's properties.
    pub fn standalone(props: &Props) -> Result<Self, ConnectError> {
        Self::parse(&standalone_config_def(), props)
    }

    /// Parses a worker's properties against `def` (the distributed worker's def lives in
    /// `ferry-cluster`, on top of [`worker_config_def`]).
    pub fn parse(def: &ConfigDef, props: &Props) -> Result<Self, ConnectError> {
        for key in REMOVED_KEYS {
            if props.contains_key(*key) {
                tracing::warn!("worker config key {key} was removed in Kafka 3.0 and is ignored");
            }
        }
        let config = def
            .parse(props)
            .map_err(|e| e.context("invalid worker configuration"))?;
        Ok(WorkerConfig { config })
    }

    /// The typed config.
    pub fn config(&self) -> &Config {
        &self.config
    }
    /// Everything as given.
    pub fn originals(&self) -> &Props {
        self.config.originals()
    }
    /// `bootstrap.servers` joined for librdkafka.
    pub fn bootstrap_servers(&self) -> String {
        self.config.list("bootstrap.servers").join(",")
    }
    /// `offset.flush.interval.ms`.
    pub fn offset_flush_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.config.long("offset.flush.interval.ms").max(0) as u64)
    }
    /// `offset.flush.timeout.ms`.
    pub fn offset_flush_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.config.long("offset.flush.timeout.ms").max(0) as u64)
    }
    /// `task.shutdown.graceful.timeout.ms`.
    pub fn task_shutdown_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(
            self.config.long("task.shutdown.graceful.timeout.ms").max(0) as u64,
        )
    }
    /// `offset.storage.file.filename` (standalone).
    pub fn offsets_file(&self) -> Option<PathBuf> {
        self.config.value("offset.storage.file.filename")?;
        self.config
            .string("offset.storage.file.filename")
            .map(PathBuf::from)
    }
    /// Where standalone keeps connectors created over REST.
    pub fn connectors_file(&self) -> Option<PathBuf> {
        self.config.value("ferry.connectors.storage.file")?;
        match self.config.string("ferry.connectors.storage.file") {
            Some(p) => Some(PathBuf::from(p)),
            None => self.offsets_file().map(|p| {
                let mut s = p.into_os_string();
                s.push(".connectors.json");
                PathBuf::from(s)
            }),
        }
    }
    /// `listeners`.
    pub fn listeners(&self) -> &[String] {
        self.config.list("listeners")
    }
    /// Whether `topic.creation.enable`.
    pub fn topic_creation_enabled(&self) -> bool {
        self.config.boolean("topic.creation.enable")
    }
    /// Whether `topic.tracking.enable`.
    pub fn topic_tracking_enabled(&self) -> bool {
        self.config.boolean("topic.tracking.enable")
    }
    /// Whether `topic.tracking.allow.reset`.
    pub fn topic_tracking_reset_allowed(&self) -> bool {
        self.config.boolean("topic.tracking.allow.reset")
    }

    /// The worker's id / advertised REST address (`host:port`), given the port actually bound.
    pub fn advertised_worker_id(&self, bound_port: u16) -> String {
        let host = self
            .config
            .string("rest.advertised.host.name")
            .map(str::to_owned)
            .or_else(|| {
                self.listeners().first().and_then(|l| {
                    let rest = l.split("://").nth(1)?;
                    let host = rest.rsplit_once(':').map(|(h, _)| h).unwrap_or(rest);
                    (!host.is_empty()).then(|| host.to_owned())
                })
            })
            .unwrap_or_else(|| "localhost".to_owned());
        let port = match self.config.value("rest.advertised.port") {
            Some(ferry_api::config::ParsedValue::Int(p)) => *p as u16,
            _ => bound_port,
        };
        format!("{host}:{port}")
    }

    /// Whether connector configs may override client settings (`connector.client.config.override.policy`).
    fn overrides_allowed(&self) -> bool {
        let p = self
            .config
            .string("connector.client.config.override.policy")
            .unwrap_or("All");
        !p.to_ascii_lowercase().contains("none")
    }

    /// Client settings for a connector's client of `role`: the worker's `bootstrap.servers`, the
    /// worker's `<role>.` settings, then the connector's `<role>.override.` settings (when the
    /// override policy allows). Returns an error naming the key if an override is refused.
    pub fn client_settings(
        &self,
        role: ClientRole,
        connector_config: &Props,
    ) -> Result<Props, ConnectError> {
        let mut out = Props::new();
        out.insert("bootstrap.servers".into(), self.bootstrap_servers());
        if role == ClientRole::Admin {
            // Connect passes un-prefixed worker settings to admin clients too, except client prefixes.
            for (k, v) in self.originals() {
                if is_client_setting(k) {
                    out.insert(k.clone(), v.clone());
                }
            }
        } else {
            for (k, v) in self.originals() {
                if is_security_setting(k) {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        out.extend(with_prefix_stripped(self.originals(), role.worker_prefix()));
        let overrides = with_prefix_stripped(connector_config, role.override_prefix());
        if !overrides.is_empty() && !self.overrides_allowed() {
            let keys: Vec<String> = overrides
                .keys()
                .map(|k| format!("{}{k}", role.override_prefix()))
                .collect();
            return Err(ConnectError::config(format!(
                "The following configurations are not allowed to be overridden by the connector client config override policy: {}",
                keys.join(", ")
            )));
        }
        out.extend(overrides);
        Ok(out)
    }
}

fn is_security_setting(k: &str) -> bool {
    k == "security.protocol"
        || k.starts_with("sasl.")
        || k.starts_with("ssl.")
        || k == "client.dns.lookup"
}

fn is_client_setting(k: &str) -> bool {
    is_security_setting(k)
        || matches!(
            k,
            "request.timeout.ms"
                | "metadata.max.age.ms"
                | "retry.backoff.ms"
                | "connections.max.idle.ms"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn base() -> Props {
        props(&[
            ("bootstrap.servers", "a:1, b:2"),
            (
                "key.converter",
                "org.apache.kafka.connect.storage.StringConverter",
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.storage.StringConverter",
            ),
            ("offset.storage.file.filename", "/tmp/x.offsets"),
            ("producer.linger.ms", "7"),
            ("consumer.fetch.wait.max.ms", "20"),
        ])
    }

    #[test]
    fn converters_are_required() {
        let mut p = base();
        p.remove("key.converter");
        let err = WorkerConfig::standalone(&p).unwrap_err();
        assert!(
            err.message().contains("\"key.converter\""),
            "{}",
            err.message()
        );
    }

    #[test]
    fn client_settings_layer_worker_prefixes_and_overrides() {
        let w = WorkerConfig::standalone(&base()).unwrap();
        assert_eq!(w.bootstrap_servers(), "a:1,b:2");
        let c = props(&[
            ("producer.override.linger.ms", "9"),
            ("consumer.override.x", "y"),
        ]);
        let p = w.client_settings(ClientRole::Producer, &c).unwrap();
        assert_eq!(p["linger.ms"], "9");
        assert!(!p.contains_key("fetch.wait.max.ms"));
        let c2 = w.client_settings(ClientRole::Consumer, &c).unwrap();
        assert_eq!(c2["fetch.wait.max.ms"], "20");
        assert_eq!(c2["x"], "y");

        let mut none = base();
        none.insert(
            "connector.client.config.override.policy".into(),
            "None".into(),
        );
        let w = WorkerConfig::standalone(&none).unwrap();
        let err = w.client_settings(ClientRole::Producer, &c).unwrap_err();
        assert!(err.message().contains("producer.override.linger.ms"));
    }

    #[test]
    fn worker_id_and_connectors_file() {
        let mut p = base();
        p.insert("listeners".into(), "http://127.0.0.1:0".into());
        let w = WorkerConfig::standalone(&p).unwrap();
        assert_eq!(w.advertised_worker_id(4321), "127.0.0.1:4321");
        assert_eq!(
            w.connectors_file().unwrap(),
            PathBuf::from("/tmp/x.offsets.connectors.json")
        );
    }
}
