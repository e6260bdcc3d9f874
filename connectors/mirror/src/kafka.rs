//! The Kafka clients MM2 needs of its own (the worker's producer only writes the target): source
//! consumers, admin clients of both clusters, the offset-syncs producer, and the few admin calls
//! (topic listing, creation, config sync, group offsets) the connectors make.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use ferry_api::{ConnectError, Props, Result};
use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, NewPartitions, NewTopic, ResourceSpecifier,
    TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// Java client settings with no librdkafka meaning.
const IGNORED: &[&str] = &["max.poll.records", "key.deserializer", "value.deserializer"];

/// Creates a client from Connect-style `settings`, dropping (and logging) keys librdkafka does not
/// know, as the worker does: Java-only keys in users' files must not stop a flow.
pub(crate) fn create_client<T>(
    what: &str,
    settings: &Props,
    create: impl Fn(&ClientConfig) -> std::result::Result<T, KafkaError>,
) -> Result<T> {
    let mut cfg = ClientConfig::new();
    for (k, v) in settings {
        if !IGNORED.contains(&k.as_str()) {
            cfg.set(k, v);
        }
    }
    for _ in 0..=settings.len() {
        match create(&cfg) {
            Ok(c) => return Ok(c),
            Err(KafkaError::ClientConfig(_, desc, key, _))
                if desc.contains("No such configuration property") =>
            {
                tracing::info!("{what}: ignoring client setting {key}, unknown to librdkafka");
                cfg.remove(&key);
            }
            Err(e) => {
                return Err(ConnectError::config(format!(
                    "{what}: invalid client configuration: {e}"
                ))
                .with_source(e))
            }
        }
    }
    Err(ConnectError::config(format!(
        "{what}: could not build a client configuration"
    )))
}

/// An admin client.
pub(crate) fn admin(what: &str, settings: &Props) -> Result<AdminClient<DefaultClientContext>> {
    create_client(what, settings, |c| c.create())
}

/// A consumer for metadata and group-offset calls (no subscription).
pub(crate) fn metadata_consumer(
    what: &str,
    settings: &Props,
    group: Option<&str>,
) -> Result<BaseConsumer> {
    let mut s = settings.clone();
    if let Some(g) = group {
        s.insert("group.id".into(), g.to_owned());
    }
    s.insert("enable.auto.commit".into(), "false".into());
    create_client(what, &s, |c| c.create())
}

/// Every topic of a cluster with its partition count. Blocking.
pub(crate) fn list_topics(
    consumer: &BaseConsumer,
    timeout: Duration,
) -> Result<BTreeMap<String, i32>> {
    let md = consumer
        .fetch_metadata(None, timeout)
        .map_err(|e| ConnectError::retriable(format!("cannot list topics: {e}")).with_source(e))?;
    Ok(md
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| (t.name().to_owned(), t.partitions().len() as i32))
        .collect())
}

/// What to create.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TopicSpec {
    /// Name.
    pub(crate) name: String,
    /// Partitions.
    pub(crate) partitions: i32,
    /// Replication factor (-1: broker default).
    pub(crate) replication_factor: i32,
    /// Topic configs.
    pub(crate) configs: BTreeMap<String, String>,
}

impl TopicSpec {
    /// A single-partition compacted internal topic.
    pub(crate) fn internal(name: String, replication_factor: i32) -> Self {
        TopicSpec {
            name,
            partitions: 1,
            replication_factor,
            configs: [("cleanup.policy".to_owned(), "compact".to_owned())].into(),
        }
    }
}

fn options(timeout: Duration) -> AdminOptions {
    AdminOptions::new()
        .operation_timeout(Some(timeout))
        .request_timeout(Some(timeout))
}

/// Creates topics; ones that exist already are fine.
pub(crate) async fn create_topics(
    admin: &AdminClient<DefaultClientContext>,
    topics: &[TopicSpec],
    timeout: Duration,
) -> Result<()> {
    if topics.is_empty() {
        return Ok(());
    }
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| {
            let mut n = NewTopic::new(
                &t.name,
                t.partitions,
                TopicReplication::Fixed(t.replication_factor),
            );
            for (k, v) in &t.configs {
                n = n.set(k, v);
            }
            n
        })
        .collect();
    let results = admin
        .create_topics(&new, &options(timeout))
        .await
        .map_err(|e| ConnectError::retriable(format!("cannot create topics: {e}")))?;
    for r in results {
        match r {
            Ok(name) => tracing::info!("created topic {name}"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(ConnectError::retriable(format!(
                    "cannot create topic {name}: {code}"
                )))
            }
        }
    }
    Ok(())
}

/// Raises partition counts (Kafka propagates partition increases upstream → remote).
pub(crate) async fn create_partitions(
    admin: &AdminClient<DefaultClientContext>,
    increases: &[(String, i32)],
    timeout: Duration,
) -> Result<()> {
    if increases.is_empty() {
        return Ok(());
    }
    let parts: Vec<NewPartitions<'_>> = increases
        .iter()
        .map(|(t, n)| NewPartitions::new(t, *n as usize))
        .collect();
    let results = admin
        .create_partitions(&parts, &options(timeout))
        .await
        .map_err(|e| ConnectError::retriable(format!("cannot add partitions: {e}")))?;
    for r in results {
        if let Err((name, code)) = r {
            tracing::warn!("cannot add partitions to {name}: {code}");
        }
    }
    Ok(())
}

/// The explicitly set (non-default) configs of `topics`.
pub(crate) async fn describe_topic_configs(
    admin: &AdminClient<DefaultClientContext>,
    topics: &[String],
    timeout: Duration,
) -> Result<HashMap<String, BTreeMap<String, String>>> {
    if topics.is_empty() {
        return Ok(HashMap::new());
    }
    let specs: Vec<ResourceSpecifier<'_>> =
        topics.iter().map(|t| ResourceSpecifier::Topic(t)).collect();
    let results = admin
        .describe_configs(&specs, &options(timeout))
        .await
        .map_err(|e| ConnectError::retriable(format!("cannot describe topic configs: {e}")))?;
    let mut out = HashMap::new();
    for (topic, r) in topics.iter().zip(results) {
        match r {
            Ok(resource) => {
                let configs = resource
                    .entries
                    .into_iter()
                    .filter(|e| !e.is_default && !e.is_read_only)
                    .filter_map(|e| Some((e.name, e.value?)))
                    .collect();
                out.insert(topic.clone(), configs);
            }
            Err(code) => tracing::warn!("cannot describe configs of topic {topic}: {code}"),
        }
    }
    Ok(out)
}

/// Sets topic configs (legacy AlterConfigs: the given set replaces the topic's explicit configs).
pub(crate) async fn alter_topic_configs(
    admin: &AdminClient<DefaultClientContext>,
    configs: &BTreeMap<String, BTreeMap<String, String>>,
    timeout: Duration,
) -> Result<()> {
    let alters: Vec<AlterConfig<'_>> = configs
        .iter()
        .map(|(topic, entries)| {
            entries.iter().fold(
                AlterConfig::new(ResourceSpecifier::Topic(topic)),
                |a, (k, v)| a.set(k, v),
            )
        })
        .collect();
    if alters.is_empty() {
        return Ok(());
    }
    let results = admin
        .alter_configs(&alters, &options(timeout))
        .await
        .map_err(|e| ConnectError::retriable(format!("cannot alter topic configs: {e}")))?;
    for r in results {
        if let Err((spec, code)) = r {
            tracing::warn!("cannot sync configs of {spec:?}: {code}");
        }
    }
    Ok(())
}
