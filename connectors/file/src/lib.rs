//! Kafka's FileStream connectors (`org.apache.kafka.connect.file`), bundled in Ferry.
//!
//! * [`FileStreamSourceConnector`] / [`FileStreamSourceTask`]: one task tails a file (or stdin) and
//!   writes each line to `topic`, resuming from the committed byte position.
//! * [`FileStreamSinkConnector`] / [`FileStreamSinkTask`]: each task appends every record's value
//!   as a line to `file` (or stdout).
//!
//! Keys, messages, record shapes and offset keys are Kafka's; see `config.rs` and the module docs
//! of the tasks for where and why Ferry goes further (truncation, rotation, byte positions).
//! This crate does file I/O only through tokio (`tokio::fs` / `spawn_blocking`), never blocking
//! the reactor, and depends on nothing but the plugin API.

mod config;
mod java_text;
mod lines;
mod sink;
mod sink_task;
mod source;
mod source_task;

pub use config::{
    sink_config_def, source_config_def, DEFAULT_TASK_BATCH_SIZE, FILE_CONFIG,
    TASK_BATCH_SIZE_CONFIG, TOPIC_CONFIG,
};
pub use sink::FileStreamSinkConnector;
pub use sink_task::FileStreamSinkTask;
pub use source::{validate_offset_alteration, FileStreamSourceConnector};
pub use source_task::{FileStreamSourceTask, FILENAME_FIELD, POSITION_FIELD};

use ferry_api::{ConnectorPlugin, TaskFactory};

/// Java class of the source connector.
pub const SOURCE_CONNECTOR_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
/// Java class of the source task.
pub const SOURCE_TASK_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSourceTask";
/// Java class of the sink connector.
pub const SINK_CONNECTOR_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
/// Java class of the sink task.
pub const SINK_TASK_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSinkTask";

/// The plugins of this crate, for the binary's compile-time plugin list.
pub fn plugins() -> Vec<ConnectorPlugin> {
    vec![
        ConnectorPlugin {
            class: SOURCE_CONNECTOR_CLASS,
            task_class: SOURCE_TASK_CLASS,
            extra_aliases: &[],
            version: env!("CARGO_PKG_VERSION"),
            new_connector: || Box::new(FileStreamSourceConnector::new()),
            new_task: TaskFactory::Source(|| Box::new(FileStreamSourceTask::new())),
        },
        ConnectorPlugin {
            class: SINK_CONNECTOR_CLASS,
            task_class: SINK_TASK_CLASS,
            extra_aliases: &[],
            version: env!("CARGO_PKG_VERSION"),
            new_connector: || Box::new(FileStreamSinkConnector::new()),
            new_task: TaskFactory::Sink(|| Box::new(FileStreamSinkTask::new())),
        },
    ]
}
