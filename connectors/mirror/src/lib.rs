//! MirrorMaker 2 (`org.apache.kafka.connect.mirror`), bundled in Ferry.
//!
//! * [`MirrorSourceConnector`] / [`MirrorSourceTask`]: replicates topic-partitions from the source
//!   cluster byte for byte (key, value, headers, timestamp, partition) into remote topics named by
//!   the [`ReplicationPolicy`], creating them with the source's partition count and configs, and
//!   writes offset syncs.
//! * [`MirrorCheckpointConnector`] / [`MirrorCheckpointTask`]: translates consumer-group offsets
//!   through the offset syncs into `<source>.checkpoints.internal`, and optionally into the target
//!   cluster's groups (`sync.group.offsets.enabled`).
//! * [`MirrorHeartbeatConnector`] / [`MirrorHeartbeatTask`]: writes `heartbeats`.
//! * [`dedicated`]: `mm2.properties` → one worker config and three connector configs per flow,
//!   for `ferry mirror` (Kafka's `connect-mirror-maker.sh`).
//!
//! The pure parts (binary formats of the internal topics, policies, filters, offset translation)
//! live in their own modules with golden-byte tests. The connectors run on a worker pointed at the
//! **target** cluster with `ByteArrayConverter` for keys, values and headers, so nothing is decoded
//! on the data path. This crate depends on the plugin API and rdkafka only, never on the worker.

mod checkpoint;
pub mod config;
pub mod dedicated;
pub mod filter;
pub mod formats;
mod heartbeat;
mod kafka;
pub mod policy;
mod source;
mod source_task;
pub mod translate;

pub use checkpoint::{MirrorCheckpointConnector, MirrorCheckpointTask};
pub use formats::{Checkpoint, FormatError, Heartbeat, OffsetSync};
pub use heartbeat::{MirrorHeartbeatConnector, MirrorHeartbeatTask};
pub use policy::ReplicationPolicy;
pub use source::MirrorSourceConnector;
pub use source_task::MirrorSourceTask;

use ferry_api::{ConnectorPlugin, TaskFactory};

/// Java class of the source connector.
pub const SOURCE_CONNECTOR_CLASS: &str = "org.apache.kafka.connect.mirror.MirrorSourceConnector";
/// Java class of the checkpoint connector.
pub const CHECKPOINT_CONNECTOR_CLASS: &str =
    "org.apache.kafka.connect.mirror.MirrorCheckpointConnector";
/// Java class of the heartbeat connector.
pub const HEARTBEAT_CONNECTOR_CLASS: &str =
    "org.apache.kafka.connect.mirror.MirrorHeartbeatConnector";

/// The plugins of this crate, for the binary's compile-time plugin list.
pub fn plugins() -> Vec<ConnectorPlugin> {
    vec![
        ConnectorPlugin {
            class: SOURCE_CONNECTOR_CLASS,
            task_class: "org.apache.kafka.connect.mirror.MirrorSourceTask",
            extra_aliases: &[],
            version: env!("CARGO_PKG_VERSION"),
            new_connector: || Box::new(MirrorSourceConnector::new()),
            new_task: TaskFactory::Source(|| Box::new(MirrorSourceTask::new())),
        },
        ConnectorPlugin {
            class: CHECKPOINT_CONNECTOR_CLASS,
            task_class: "org.apache.kafka.connect.mirror.MirrorCheckpointTask",
            extra_aliases: &[],
            version: env!("CARGO_PKG_VERSION"),
            new_connector: || Box::new(MirrorCheckpointConnector::new()),
            new_task: TaskFactory::Source(|| Box::new(MirrorCheckpointTask::new())),
        },
        ConnectorPlugin {
            class: HEARTBEAT_CONNECTOR_CLASS,
            task_class: "org.apache.kafka.connect.mirror.MirrorHeartbeatTask",
            extra_aliases: &[],
            version: env!("CARGO_PKG_VERSION"),
            new_connector: || Box::new(MirrorHeartbeatConnector::new()),
            new_task: TaskFactory::Source(|| Box::new(MirrorHeartbeatTask::new())),
        },
    ]
}
