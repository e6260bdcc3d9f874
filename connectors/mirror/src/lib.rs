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

pub mod config;
pub mod dedicated;
pub mod filter;
pub mod formats;
pub mod policy;
pub mod translate;

pub use formats::{Checkpoint, FormatError, Heartbeat, OffsetSync};
pub use policy::ReplicationPolicy;
