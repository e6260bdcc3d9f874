//! Dedicated mode (`connect-mirror-maker.sh mm2.properties [--clusters A B]`, COMPAT §9.2): turns
//! one `mm2.properties` into, for every ordered pair of clusters that needs a herder, a worker
//! config (on the target cluster) and the configs of the three MM2 connectors.
//!
//! A pair `S->T` gets a herder when `S->T.enabled=true` or heartbeats are enabled for it
//! (`emit.heartbeats.enabled`, global or `S->T.`-prefixed; default true). In a disabled pair the
//! source and checkpoint connectors exist with `enabled=false` (no tasks); only heartbeats flow.

use ferry_api::config::split_list;
use ferry_api::{ConnectError, Props, Result};

use crate::{CHECKPOINT_CONNECTOR_CLASS, HEARTBEAT_CONNECTOR_CLASS, SOURCE_CONNECTOR_CLASS};

const BYTES: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";

/// Top-level key prefixes that configure the per-flow workers (`MirrorMakerConfig`).
const WORKER_PREFIXES: &[&str] = &[
    "offset.storage",
    "config.storage",
    "status.storage",
    "key.converter",
    "value.converter",
    "header.converter",
    "task",
    "worker",
    "replication.policy",
    "config.providers",
];

/// One replication direction and what runs for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    /// Source cluster alias.
    pub source: String,
    /// Target cluster alias.
    pub target: String,
    /// Whether `source->target.enabled` (data and checkpoints flow) or only heartbeats.
    pub enabled: bool,
    /// The worker config of this flow's herder (on the target cluster).
    pub worker: Props,
    /// The MirrorSource, MirrorCheckpoint and MirrorHeartbeat connector configs, in that order.
    pub connectors: Vec<Props>,
}

fn flag(props: &Props, key: &str, default: bool) -> Result<bool> {
    match props.get(key).map(|v| v.trim()) {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(ConnectError::config(format!(
            "Invalid value {v} for configuration {key}: Expected value to be either true or false"
        ))),
    }
}

/// The settings of cluster `alias` (`<alias>.<key>`), prefix removed.
fn cluster_settings(props: &Props, alias: &str) -> Props {
    ferry_api::config::with_prefix_stripped(props, &format!("{alias}."))
}

/// Whether `key` belongs to a cluster (`<alias>.…`) or a flow (`<a>-><b>.…`).
fn is_scoped(key: &str, clusters: &[String]) -> bool {
    key.contains("->") || clusters.iter().any(|c| key.starts_with(&format!("{c}.")))
}

/// The flows of `props` (an mm2.properties), limited to those whose target is in `only` when
/// given (`--clusters`).
pub fn flows(props: &Props, only: Option<&[String]>) -> Result<Vec<Flow>> {
    let clusters = split_list(props.get("clusters").map_or("", String::as_str));
    if clusters.is_empty() {
        return Err(ConnectError::config(
            "Missing required configuration \"clusters\" which has no default value.",
        ));
    }
    for c in &clusters {
        if !props.contains_key(&format!("{c}.bootstrap.servers")) {
            return Err(ConnectError::config(format!(
                "Missing required configuration \"{c}.bootstrap.servers\" for cluster {c}"
            )));
        }
    }
    let global: Props = props
        .iter()
        .filter(|(k, _)| *k != "clusters" && !is_scoped(k, &clusters))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut out = Vec::new();
    for source in &clusters {
        for target in &clusters {
            if source == target || only.is_some_and(|o| !o.contains(target)) {
                continue;
            }
            let flow_prefix = format!("{source}->{target}.");
            let mut flow_props = global.clone();
            flow_props.extend(ferry_api::config::with_prefix_stripped(props, &flow_prefix));
            let enabled = flag(&flow_props, "enabled", false)?;
            let heartbeats = flag(&flow_props, "emit.heartbeats.enabled", true)?;
            if !enabled && !heartbeats {
                continue;
            }
            let mut connector = flow_props.clone();
            connector.insert("enabled".into(), enabled.to_string());
            connector.insert("source.cluster.alias".into(), source.clone());
            connector.insert("target.cluster.alias".into(), target.clone());
            for (k, v) in cluster_settings(props, source) {
                connector.insert(format!("source.cluster.{k}"), v);
            }
            for (k, v) in cluster_settings(props, target) {
                connector.insert(format!("target.cluster.{k}"), v);
            }
            for key in ["key.converter", "value.converter", "header.converter"] {
                connector.insert(key.into(), BYTES.into());
            }
            let connectors = [
                SOURCE_CONNECTOR_CLASS,
                CHECKPOINT_CONNECTOR_CLASS,
                HEARTBEAT_CONNECTOR_CLASS,
            ]
            .iter()
            .map(|class| {
                let mut c = connector.clone();
                c.insert("connector.class".into(), (*class).to_owned());
                c.insert(
                    "name".into(),
                    class.rsplit('.').next().unwrap_or(class).to_owned(),
                );
                c
            })
            .collect();
            out.push(Flow {
                worker: worker_config(props, &global, source, target),
                source: source.clone(),
                target: target.clone(),
                enabled,
                connectors,
            });
        }
    }
    Ok(out)
}

/// The worker config of the herder for `source->target` (MirrorMakerConfig.workerConfig).
fn worker_config(props: &Props, global: &Props, source: &str, target: &str) -> Props {
    let mut w = Props::new();
    // The target cluster's client settings (bootstrap, security, producer./consumer./admin.).
    w.extend(cluster_settings(props, target));
    w.insert("client.id".into(), format!("{source}->{target}"));
    w.insert("group.id".into(), format!("{source}-mm2"));
    w.insert(
        "offset.storage.topic".into(),
        format!("mm2-offsets.{source}.internal"),
    );
    w.insert(
        "config.storage.topic".into(),
        format!("mm2-configs.{source}.internal"),
    );
    w.insert(
        "status.storage.topic".into(),
        format!("mm2-status.{source}.internal"),
    );
    for key in ["key.converter", "value.converter", "header.converter"] {
        w.insert(key.into(), BYTES.into());
    }
    for (k, v) in global {
        if WORKER_PREFIXES.iter().any(|p| k.starts_with(p)) {
            w.insert(k.clone(), v.clone());
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(text: &str) -> Props {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect()
    }

    const MM2: &str = "
        clusters = A, B
        A.bootstrap.servers = a:9092
        B.bootstrap.servers = b:9092
        A->B.enabled = true
        A->B.topics = orders.*
        replication.factor = 1
        B.producer.compression.type = zstd
        A->B.emit.checkpoints.interval.seconds = 10
        offset.storage.replication.factor = 1
    ";

    #[test]
    fn every_pair_has_a_herder_by_default_heartbeats_only_when_disabled() {
        let flows = flows(&props(MM2), None).unwrap();
        let pairs: Vec<(&str, &str, bool)> = flows
            .iter()
            .map(|f| (f.source.as_str(), f.target.as_str(), f.enabled))
            .collect();
        assert_eq!(pairs, [("A", "B", true), ("B", "A", false)]);
        let back = &flows[1].connectors[0];
        assert_eq!(back["enabled"], "false");
        assert_eq!(back["source.cluster.alias"], "B");
    }

    #[test]
    fn flow_connector_configs_layer_global_flow_and_cluster_settings() {
        let flows = flows(&props(MM2), None).unwrap();
        let ab = &flows[0];
        let names: Vec<&str> = ab.connectors.iter().map(|c| c["name"].as_str()).collect();
        assert_eq!(
            names,
            [
                "MirrorSourceConnector",
                "MirrorCheckpointConnector",
                "MirrorHeartbeatConnector"
            ]
        );
        let c = &ab.connectors[0];
        assert_eq!(c["topics"], "orders.*");
        assert_eq!(c["emit.checkpoints.interval.seconds"], "10");
        assert_eq!(c["replication.factor"], "1");
        assert_eq!(c["source.cluster.bootstrap.servers"], "a:9092");
        assert_eq!(c["target.cluster.bootstrap.servers"], "b:9092");
        assert_eq!(c["target.cluster.producer.compression.type"], "zstd");
        assert_eq!(c["value.converter"], BYTES);
        assert!(!c.contains_key("A.bootstrap.servers"));
        assert!(!c.contains_key("A->B.topics"));
    }

    #[test]
    fn worker_configs_are_on_the_target_with_mm2_topic_names() {
        let flows = flows(&props(MM2), None).unwrap();
        let w = &flows[0].worker;
        let want = [
            ("bootstrap.servers", "b:9092"),
            ("group.id", "A-mm2"),
            ("client.id", "A->B"),
            ("offset.storage.topic", "mm2-offsets.A.internal"),
            ("config.storage.topic", "mm2-configs.A.internal"),
            ("status.storage.topic", "mm2-status.A.internal"),
            ("producer.compression.type", "zstd"),
            ("offset.storage.replication.factor", "1"),
            ("key.converter", BYTES),
        ];
        for (k, v) in want {
            assert_eq!(w.get(k).map(String::as_str), Some(v), "{k}");
        }
        assert!(!w.contains_key("replication.factor"));
    }

    #[test]
    fn clusters_option_and_disabled_heartbeats_limit_flows() {
        let p = props(MM2);
        let only_a = flows(&p, Some(&["A".to_owned()])).unwrap();
        assert_eq!(only_a.len(), 1);
        assert_eq!(
            (only_a[0].source.as_str(), only_a[0].target.as_str()),
            ("B", "A")
        );
        let mut p = props(MM2);
        p.insert("emit.heartbeats.enabled".into(), "false".into());
        let f = flows(&p, None).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].source, "A");
    }

    #[test]
    fn missing_clusters_or_bootstrap_are_named() {
        let err = flows(&Props::new(), None).unwrap_err();
        assert!(err.message().contains("\"clusters\""));
        let err = flows(&props("clusters = A, B\nA.bootstrap.servers = a"), None).unwrap_err();
        assert!(err.message().contains("B.bootstrap.servers"), "{err}");
    }
}
