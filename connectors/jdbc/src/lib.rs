//! Confluent's JDBC connectors (`io.confluent.connect.jdbc`) for MySQL/MariaDB and PostgreSQL,
//! bundled in Ferry.
//!
//! * [`JdbcSourceConnector`] / [`JdbcSourceTask`]: copies tables (or a custom query) to topics
//!   in the modes `bulk`, `incrementing`, `timestamp` and `timestamp+incrementing`, with
//!   Confluent's source partitions and offsets so that a migrated connector resumes.
//! * [`JdbcSinkConnector`] / [`JdbcSinkTask`]: writes records to tables with `insert`, `upsert`
//!   or `update`, deletes on tombstones, and creates or evolves tables.
//!
//! Layout: `url` parses JDBC URLs; `tls` reads their TLS parameters and builds the rustls setup;
//! `dialect` holds what differs between the databases (quoting, catalog queries, type names, DDL
//! types, upsert clause); `types` maps SQL types and cells to Connect schemas and values once for
//! both; `time` holds the calendar, `db.timezone` (fixed offsets and tz database zones) and
//! `timestamp.granularity`; `sql` builds statements from dialect pieces; `db` is the one
//! connection type over mysql_async and tokio-postgres. The crate talks to databases only through
//! those drivers' async APIs (no blocking calls on the reactor) and depends on
//! nothing of Ferry but the plugin API.

mod config;
mod db;
mod dialect;
#[cfg(test)]
mod live_tests;

/// The ferry binary's allocator, so that measurements in tests count allocations at its price.
#[cfg(test)]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
mod sink;
mod source;
mod sql;
mod time;
mod tls;
#[cfg(test)]
mod tls_live_tests;
mod types;
mod url;

pub use config::{sink_config_def, source_config_def};
pub use sink::{JdbcSinkConnector, JdbcSinkTask};
pub use source::{JdbcSourceConnector, JdbcSourceTask};
pub use url::{DbKind, JdbcUrl};

use ferry_api::{ConnectorPlugin, TaskFactory};

/// Java class of the source connector.
pub const SOURCE_CONNECTOR_CLASS: &str = "io.confluent.connect.jdbc.JdbcSourceConnector";
/// Java class of the source task.
pub const SOURCE_TASK_CLASS: &str = "io.confluent.connect.jdbc.source.JdbcSourceTask";
/// Java class of the sink connector.
pub const SINK_CONNECTOR_CLASS: &str = "io.confluent.connect.jdbc.JdbcSinkConnector";
/// Java class of the sink task.
pub const SINK_TASK_CLASS: &str = "io.confluent.connect.jdbc.sink.JdbcSinkTask";

/// The plugins of this crate, for the binary's compile-time plugin list.
pub fn plugins() -> Vec<ConnectorPlugin> {
    vec![
        ConnectorPlugin {
            class: SOURCE_CONNECTOR_CLASS,
            task_class: SOURCE_TASK_CLASS,
            extra_aliases: &[],
            version: env!("CARGO_PKG_VERSION"),
            new_connector: || Box::new(JdbcSourceConnector::new()),
            new_task: TaskFactory::Source(|| Box::new(JdbcSourceTask::new())),
        },
        ConnectorPlugin {
            class: SINK_CONNECTOR_CLASS,
            task_class: SINK_TASK_CLASS,
            extra_aliases: &[],
            version: env!("CARGO_PKG_VERSION"),
            new_connector: || Box::new(JdbcSinkConnector::new()),
            new_task: TaskFactory::Sink(|| Box::new(JdbcSinkTask::new())),
        },
    ]
}

#[cfg(test)]
mod tests {
    use ferry_api::ConnectorType;

    use super::*;

    #[test]
    fn plugins_use_confluent_class_names() {
        let p = plugins();
        assert_eq!(p[0].class, "io.confluent.connect.jdbc.JdbcSourceConnector");
        assert_eq!(p[0].connector_type(), ConnectorType::Source);
        assert_eq!(p[1].class, "io.confluent.connect.jdbc.JdbcSinkConnector");
        assert_eq!(p[1].connector_type(), ConnectorType::Sink);
    }
}
