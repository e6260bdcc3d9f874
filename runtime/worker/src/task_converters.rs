//! The converters of one task: key, value and header converters taken from the connector config
//! when it names them, else from the worker config (COMPAT §5.1), each configured with the settings
//! under its prefix (`value.converter.schemas.enable`, …).

use bytes::Bytes;
use ferry_api::config::with_prefix_stripped;
use ferry_api::{
    ConnectError, ConnectRecord, Converter, HeaderConverter, Headers, Props, SchemaAndValue,
};

use crate::plugins::Plugins;
use crate::worker_config::WorkerConfig;

/// Where a conversion failed, for error messages and DLQ headers (`__connect.errors.stage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Key converter.
    KeyConverter,
    /// Value converter.
    ValueConverter,
    /// Header converter.
    HeaderConverter,
}

impl Stage {
    /// Connect's stage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::HeaderConverter => "HEADER_CONVERTER",
        }
    }
}

/// A conversion failure: the stage, the converter's class and the error.
#[derive(Debug)]
pub struct ConversionError {
    /// Stage.
    pub stage: Stage,
    /// Converter class name.
    pub class: String,
    /// The error.
    pub error: ConnectError,
}

/// Tags a converter error with its stage and converter class.
fn at_stage(stage: Stage, class: &str) -> impl FnOnce(ConnectError) -> ConversionError + '_ {
    move |error| ConversionError {
        stage,
        class: class.to_owned(),
        error,
    }
}

/// Raw record parts as they go to or come from Kafka.
#[derive(Debug, Clone, Default)]
pub struct RawRecord {
    /// Key bytes.
    pub key: Option<Bytes>,
    /// Value bytes.
    pub value: Option<Bytes>,
    /// Headers as (key, bytes).
    pub headers: Vec<(String, Option<Bytes>)>,
}

/// The three converters of a task.
pub struct TaskConverters {
    key: Box<dyn Converter>,
    key_class: String,
    value: Box<dyn Converter>,
    value_class: String,
    header: Box<dyn HeaderConverter>,
    header_class: String,
}

impl std::fmt::Debug for TaskConverters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskConverters")
            .field("key", &self.key_class)
            .field("value", &self.value_class)
            .field("header", &self.header_class)
            .finish()
    }
}

/// Which converter setting to read: the connector's if it names the class, else the worker's.
fn converter_source<'a>(
    key: &str,
    connector: &'a Props,
    worker: &'a Props,
) -> Option<(String, Props)> {
    let (class, from) = match connector.get(key) {
        Some(c) if !c.trim().is_empty() => (c.trim().to_owned(), connector),
        _ => (worker.get(key)?.trim().to_owned(), worker),
    };
    Some((class, with_prefix_stripped(from, &format!("{key}."))))
}

impl TaskConverters {
    /// Builds and configures the converters for a connector.
    pub fn build(
        plugins: &Plugins,
        worker: &WorkerConfig,
        connector: &Props,
    ) -> Result<Self, ConnectError> {
        let w = worker.originals();
        let make = |key: &str,
                    is_key: bool|
         -> Result<(Box<dyn Converter>, String), ConnectError> {
            let (class, props) = converter_source(key, connector, w).ok_or_else(|| {
                ConnectError::config(format!(
                    "Missing required configuration \"{key}\" which has no default value."
                ))
            })?;
            let mut conv = plugins.new_converter(&class).ok_or_else(|| {
                ConnectError::config(format!("Invalid value {class} for configuration {key}: Class {class} could not be found."))
            })?;
            conv.configure(&props, is_key)
                .map_err(|e| e.context(format!("Failed to configure {key} {class}")))?;
            Ok((conv, class))
        };
        let (key, key_class) = make("key.converter", true)?;
        let (value, value_class) = make("value.converter", false)?;
        let (header_class, header_props) = converter_source("header.converter", connector, w)
            .unwrap_or_else(|| {
                (
                    "org.apache.kafka.connect.storage.SimpleHeaderConverter".to_owned(),
                    Props::new(),
                )
            });
        let mut header = plugins.new_header_converter(&header_class).ok_or_else(|| {
            ConnectError::config(format!(
                "Invalid value {header_class} for configuration header.converter: Class {header_class} could not be found."
            ))
        })?;
        header.configure(&header_props).map_err(|e| {
            e.context(format!(
                "Failed to configure header.converter {header_class}"
            ))
        })?;
        Ok(TaskConverters {
            key,
            key_class,
            value,
            value_class,
            header,
            header_class,
        })
    }

    /// Connect record → raw bytes (source path).
    pub fn from_connect(&mut self, record: &ConnectRecord) -> Result<RawRecord, ConversionError> {
        let mut headers = record.headers.clone();
        let mut raw_headers = Vec::with_capacity(headers.len());
        for h in headers.iter() {
            let bytes = self
                .header
                .from_connect_header(&record.topic, &h.key, h.schema.as_ref(), &h.value)
                .map_err(at_stage(Stage::HeaderConverter, &self.header_class))?;
            raw_headers.push((h.key.clone(), bytes));
        }
        let key = self
            .key
            .from_connect(
                &record.topic,
                &mut headers,
                record.key_schema.as_ref(),
                &record.key,
            )
            .map_err(at_stage(Stage::KeyConverter, &self.key_class))?;
        let value = self
            .value
            .from_connect(
                &record.topic,
                &mut headers,
                record.value_schema.as_ref(),
                &record.value,
            )
            .map_err(at_stage(Stage::ValueConverter, &self.value_class))?;
        // Converters may add headers (e.g. schema ids); convert any they appended.
        for h in headers.iter().skip(raw_headers.len()) {
            let bytes = self
                .header
                .from_connect_header(&record.topic, &h.key, h.schema.as_ref(), &h.value)
                .map_err(at_stage(Stage::HeaderConverter, &self.header_class))?;
            raw_headers.push((h.key.clone(), bytes));
        }
        Ok(RawRecord {
            key,
            value,
            headers: raw_headers,
        })
    }

    /// Raw bytes → key, value and headers (sink path).
    pub fn to_connect(
        &mut self,
        topic: &str,
        raw: &RawRecord,
    ) -> Result<(SchemaAndValue, SchemaAndValue, Headers), ConversionError> {
        let mut headers = Headers::new();
        for (k, v) in &raw.headers {
            let sv = self
                .header
                .to_connect_header(topic, k, v.clone())
                .map_err(at_stage(Stage::HeaderConverter, &self.header_class))?;
            headers.add(k.clone(), sv.schema, sv.value);
        }
        let key = self
            .key
            .to_connect(topic, &headers, raw.key.clone())
            .map_err(at_stage(Stage::KeyConverter, &self.key_class))?;
        let value = self
            .value
            .to_connect(topic, &headers, raw.value.clone())
            .map_err(at_stage(Stage::ValueConverter, &self.value_class))?;
        Ok((key, value, headers))
    }
}
