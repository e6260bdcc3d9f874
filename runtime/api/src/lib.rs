//! Ferry's plugin API.
//!
//! This crate owns the contract between the engine (`ferry-worker`) and every plugin: the Connect data
//! model ([`Schema`], [`Value`], [`Struct`], logical types), records ([`SourceRecord`], [`SinkRecord`]),
//! the plugin traits ([`Connector`], [`SourceTask`], [`SinkTask`], [`Converter`], [`HeaderConverter`],
//! [`Transformation`], [`Predicate`]), typed configuration ([`ConfigDef`]) and errors ([`ConnectError`]).
//!
//! It must not do I/O and keeps its dependencies few: connectors, converters and transforms depend on
//! it, never on the worker.

pub mod config;
pub mod connector;
pub mod convert;
pub mod error;
pub mod plugin;
pub mod record;
pub mod schema;
pub mod transform;
pub mod value;

pub use config::{
    Config, ConfigDef, ConfigKey, ConfigType, ConfigValue, Importance, Validator, Width,
};
pub use connector::{
    Connector, ConnectorContext, ConnectorType, ErrantRecordReporter, OffsetStorageReader,
    SinkTask, SinkTaskContext, SourceTask, SourceTaskContext, TopicPartitionOffsets,
};
pub use convert::{Converter, HeaderConverter, SchemaAndValue};
pub use error::{ConnectError, ErrorKind, Result};
pub use plugin::{
    ConnectorPlugin, ConverterPlugin, HeaderConverterPlugin, PluginKind, PredicatePlugin,
    TaskFactory, TransformationPlugin,
};
pub use record::{
    ConnectRecord, Header, Headers, OffsetValue, RecordMetadata, SinkRecord, SourceMap,
    SourceRecord, TimestampType, TopicPartition,
};
pub use schema::{Field, Schema, SchemaBuilder, SchemaRef, SchemaType};
pub use transform::{Predicate, Transformation};
pub use value::{Decimal, Struct, Value};

/// A flat string-to-string configuration map, as Connect passes configs around. Sorted, so that
/// everything printed from it (REST answers, stored configs) is stable.
pub type Props = std::collections::BTreeMap<String, String>;
