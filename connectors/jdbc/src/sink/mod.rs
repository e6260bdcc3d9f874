//! `JdbcSinkConnector`: `tasks.max` identical tasks; the worker's consumer group spreads the
//! topic partitions over them.

mod fields;
mod pipeline;
mod task;
mod writer;

use std::sync::Arc;

use async_trait::async_trait;
use ferry_api::{ConfigDef, ConfigValue, Connector, ConnectorContext, Props, Result};

pub use task::JdbcSinkTask;

use crate::config::{sink_config_def, validate_with, SinkSettings};

/// Confluent's `io.confluent.connect.jdbc.JdbcSinkConnector`.
#[derive(Debug, Default)]
pub struct JdbcSinkConnector {
    props: Props,
}

impl JdbcSinkConnector {
    /// A connector; configured by `start`.
    pub fn new() -> Self {
        JdbcSinkConnector::default()
    }
}

#[async_trait]
impl Connector for JdbcSinkConnector {
    fn config_def(&self) -> ConfigDef {
        sink_config_def()
    }

    fn validate(&self, props: &Props) -> Vec<ConfigValue> {
        validate_with(&sink_config_def(), props, |p| {
            SinkSettings::parse(p).map(|_| ())
        })
    }

    async fn start(&mut self, props: &Props, _context: Arc<dyn ConnectorContext>) -> Result<()> {
        SinkSettings::parse(props)?;
        self.props = props.clone();
        Ok(())
    }

    async fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<Props>> {
        Ok(vec![self.props.clone(); max_tasks])
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod live_tests;
