//! Ferry's engine: the herders (standalone, later distributed), the source and sink task runners,
//! Kafka clients, offset/config/status stores, the Connect REST API, error handling and metrics.
//!
//! It depends on the plugin API and on the shared transform/converter machinery, never on a
//! specific connector: the binary hands it the list of bundled plugins ([`plugins::Plugins`]).

pub mod auto_restart;
pub mod config_providers;
pub mod connector_config;
pub mod connector_validation;
pub mod dlq;
pub mod errant_reporter;
pub mod error_policy;
pub mod herder;
pub mod kafka;
pub mod logging;
pub mod metrics;
pub mod offset_key;
pub mod offset_store;
pub mod offsets_file;
pub mod plugins;
pub mod properties;
pub mod rest;
pub mod sink_offsets;
pub mod sink_task;
pub mod source_task;
pub mod status;
pub mod submitted;
pub mod task_context;
pub mod task_converters;
pub mod task_runner;
pub mod topic_creation;
pub mod worker_config;
