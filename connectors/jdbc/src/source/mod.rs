//! `JdbcSourceConnector`: finds the tables to read, spreads them over `tasks.max` tasks, and
//! watches the catalog every `table.poll.interval.ms` for tables added or dropped (asking the
//! worker for new task configs when the set changes).

mod columns;
mod offsets;
mod querier;
mod tables;
mod task;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ferry_api::{ConfigDef, ConfigValue, Connector, ConnectorContext, Props, Result};

#[cfg(test)]
pub(crate) use tables::decode as decode_tables;
pub use task::JdbcSourceTask;

pub(crate) use columns::{ColumnMapping, MappingKind};
#[cfg(test)]
pub(crate) use task::connect;

use crate::config::{source_config_def, validate_with, SourceSettings, TASK_TABLES};
use crate::db::Db;
use crate::dialect::TableId;

/// Confluent's `io.confluent.connect.jdbc.JdbcSourceConnector`.
#[derive(Debug, Default)]
pub struct JdbcSourceConnector {
    props: Props,
    settings: Option<SourceSettings>,
    tables: Arc<Mutex<Vec<TableId>>>,
    monitor: Option<tokio::task::JoinHandle<()>>,
}

impl JdbcSourceConnector {
    /// A connector; configured by `start`.
    pub fn new() -> Self {
        JdbcSourceConnector::default()
    }
}

#[async_trait]
impl Connector for JdbcSourceConnector {
    fn config_def(&self) -> ConfigDef {
        source_config_def()
    }

    fn validate(&self, props: &Props) -> Vec<ConfigValue> {
        validate_with(&source_config_def(), props, |p| {
            SourceSettings::parse(p).map(|_| ())
        })
    }

    async fn start(&mut self, props: &Props, context: Arc<dyn ConnectorContext>) -> Result<()> {
        let settings = SourceSettings::parse(props)?;
        if settings.query.is_none() {
            let mut db = Db::connect(&settings.connection).await?;
            let found = tables::discover(&mut db, &settings).await?;
            tracing::info!("JDBC source found {} tables: {:?}", found.len(), found);
            *self.tables.lock().unwrap() = found;
            self.monitor = Some(tokio::spawn(monitor(
                db,
                settings.clone(),
                Arc::clone(&self.tables),
                context,
            )));
        }
        self.props = props.clone();
        self.settings = Some(settings);
        Ok(())
    }

    /// Query mode: one task. Table mode: the tables in contiguous groups, one per task, at most
    /// `max_tasks`; no tasks when no table matches (as Confluent).
    async fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<Props>> {
        let query_mode = self.settings.as_ref().is_some_and(|s| s.query.is_some());
        if query_mode {
            return Ok(vec![self.props.clone()]);
        }
        let found = self.tables.lock().unwrap().clone();
        if found.is_empty() {
            tracing::warn!("JDBC source: no tables match the configuration; no tasks started");
        }
        Ok(tables::group(&found, max_tasks)
            .into_iter()
            .map(|group| {
                let mut p = self.props.clone();
                p.insert(TASK_TABLES.to_owned(), tables::encode(&group));
                p
            })
            .collect())
    }

    async fn stop(&mut self) -> Result<()> {
        if let Some(m) = self.monitor.take() {
            m.abort();
        }
        Ok(())
    }
}

/// Re-lists the tables every `table.poll.interval.ms`; a changed set asks for reconfiguration.
/// Failures are logged and retried at the next interval (the database may be briefly away).
async fn monitor(
    mut db: Db,
    settings: SourceSettings,
    current: Arc<Mutex<Vec<TableId>>>,
    context: Arc<dyn ConnectorContext>,
) {
    let interval = Duration::from_millis(settings.table_poll_interval_ms.max(100));
    loop {
        tokio::time::sleep(interval).await;
        let found = match tables::discover(&mut db, &settings).await {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!("JDBC source table discovery failed: {e}");
                match Db::connect(&settings.connection).await {
                    Ok(fresh) => db = fresh,
                    Err(e) => tracing::warn!("JDBC source cannot reconnect: {e}"),
                }
                continue;
            }
        };
        let changed = {
            let mut cur = current.lock().unwrap();
            if *cur != found {
                tracing::info!("JDBC source tables changed: {:?} -> {:?}", *cur, found);
                *cur = found;
                true
            } else {
                false
            }
        };
        if changed {
            context.request_task_reconfiguration();
        }
    }
}
