//! Converters turn Connect data into bytes and back, for record keys, values and headers.

use bytes::Bytes;

use crate::config::ConfigDef;
use crate::error::Result;
use crate::record::Headers;
use crate::schema::SchemaRef;
use crate::value::Value;
use crate::Props;

/// A schema and a value, as converters return them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchemaAndValue {
    /// The schema, when known.
    pub schema: Option<SchemaRef>,
    /// The value.
    pub value: Value,
}

impl SchemaAndValue {
    /// The null value with no schema.
    pub fn null() -> Self {
        SchemaAndValue::default()
    }
}

/// Bytes ⇄ Connect data for record keys or values. One instance per task and per role (key or
/// value), so `&mut self` may keep caches.
pub trait Converter: Send {
    /// The converter's keys (prefix-stripped, e.g. `schemas.enable`).
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    /// Configures with the prefix-stripped converter settings; `is_key` tells the role.
    fn configure(&mut self, props: &Props, is_key: bool) -> Result<()>;
    /// Connect data → bytes (`None` = null, a tombstone for values).
    #[allow(clippy::wrong_self_convention)] // Connect's name
    fn from_connect(
        &mut self,
        topic: &str,
        headers: &mut Headers,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Bytes>>;
    /// Bytes → Connect data.
    fn to_connect(
        &mut self,
        topic: &str,
        headers: &Headers,
        data: Option<Bytes>,
    ) -> Result<SchemaAndValue>;
}

/// Bytes ⇄ Connect data for one header value.
pub trait HeaderConverter: Send {
    /// The converter's keys.
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    /// Configures with the prefix-stripped settings.
    fn configure(&mut self, props: &Props) -> Result<()>;
    /// Header value → bytes.
    #[allow(clippy::wrong_self_convention)] // Connect's name
    fn from_connect_header(
        &mut self,
        topic: &str,
        header_key: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Bytes>>;
    /// Bytes → header value.
    fn to_connect_header(
        &mut self,
        topic: &str,
        header_key: &str,
        data: Option<Bytes>,
    ) -> Result<SchemaAndValue>;
}
