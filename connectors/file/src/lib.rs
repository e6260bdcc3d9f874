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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ferry_api::{ConnectError, Connector, ConnectorContext, ConnectorType, Props};

    use super::*;

    #[derive(Debug)]
    struct NoContext;

    impl ConnectorContext for NoContext {
        fn request_task_reconfiguration(&self) {}
        fn raise_error(&self, _error: ConnectError) {}
    }

    fn plugin(class: &str) -> ConnectorPlugin {
        plugins().into_iter().find(|p| p.class == class).unwrap()
    }

    #[test]
    fn plugins_use_kafka_class_names() {
        let source = plugin(SOURCE_CONNECTOR_CLASS);
        assert_eq!(source.task_class, SOURCE_TASK_CLASS);
        assert_eq!(source.connector_type(), ConnectorType::Source);
        let sink = plugin(SINK_CONNECTOR_CLASS);
        assert_eq!(sink.task_class, SINK_TASK_CLASS);
        assert_eq!(sink.connector_type(), ConnectorType::Sink);
    }

    #[tokio::test]
    async fn source_has_exactly_one_task_and_sink_as_many_as_asked() {
        let props = Props::from([
            ("file".to_owned(), "/in".to_owned()),
            ("topic".to_owned(), "t".to_owned()),
            ("tasks.max".to_owned(), "4".to_owned()),
        ]);
        let mut source = (plugin(SOURCE_CONNECTOR_CLASS).new_connector)();
        source.start(&props, Arc::new(NoContext)).await.unwrap();
        assert_eq!(source.task_configs(4).await.unwrap(), vec![props.clone()]);

        let mut sink = (plugin(SINK_CONNECTOR_CLASS).new_connector)();
        sink.start(&props, Arc::new(NoContext)).await.unwrap();
        assert_eq!(sink.task_configs(3).await.unwrap(), vec![props; 3]);
    }

    #[tokio::test]
    async fn source_start_and_validate_reject_a_bad_config() {
        let props = Props::from([("topic".to_owned(), "a,b".to_owned())]);
        let mut source = FileStreamSourceConnector::new();
        let err = source.start(&props, Arc::new(NoContext)).await.unwrap_err();
        assert!(err.message().contains("configuration topic"), "{err}");
        let values = source.validate(&props);
        let topic = values.iter().find(|v| v.name == TOPIC_CONFIG).unwrap();
        assert_eq!(topic.value.as_deref(), Some("a,b"));
        assert_eq!(
            topic.errors,
            [
                "Invalid value a,b for configuration topic: 'topic' in FileStreamSourceConnector \
              configuration requires definition of a single topic"
            ]
        );
    }
}
