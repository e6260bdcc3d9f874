//! `FileStreamSinkConnector`: `tasks.max` tasks, all appending to the same file (or stdout), as
//! Kafka's does.

use std::sync::Arc;

use async_trait::async_trait;
use ferry_api::{ConfigDef, Connector, ConnectorContext, Props, Result};

use crate::config::{sink_config_def, SinkSettings};

/// Kafka's `org.apache.kafka.connect.file.FileStreamSinkConnector`.
#[derive(Debug, Default)]
pub struct FileStreamSinkConnector {
    props: Props,
}

impl FileStreamSinkConnector {
    /// A connector; configured by `start`.
    pub fn new() -> Self {
        FileStreamSinkConnector::default()
    }
}

#[async_trait]
impl Connector for FileStreamSinkConnector {
    fn config_def(&self) -> ConfigDef {
        sink_config_def()
    }

    async fn start(&mut self, props: &Props, _context: Arc<dyn ConnectorContext>) -> Result<()> {
        let settings = SinkSettings::parse(props)?;
        let to = settings.file.as_deref().unwrap_or("standard output");
        tracing::info!("Starting file sink connector writing to {to}");
        self.props = props.clone();
        Ok(())
    }

    /// `max_tasks` copies of the connector config: every task appends to the same file.
    async fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<Props>> {
        Ok(vec![self.props.clone(); max_tasks])
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}
