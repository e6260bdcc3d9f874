//! `org.apache.kafka.connect.json.JsonConverter`, byte-exact with Kafka's (COMPAT.md §6.1), and the
//! JSON helpers the worker reuses for its internal topics (which use this converter with
//! `schemas.enable=false`): [`value_to_json_bytes`], [`schemaless_from_json`], [`write_value`],
//! [`write_schema`], [`schema_from_json`].
//!
//! With `schemas.enable=true` (the default) data travels as `{"schema":…,"payload":…}`; reading
//! insists on exactly those two members. Schemas are cached both ways, bounded by
//! `schemas.cache.size`: writing keyed by the schema's `Arc` (the JSON text is built once per
//! schema), reading keyed by the schema's raw JSON bytes (an envelope schema seen before is neither
//! parsed nor rebuilt, and every record gets the same `Arc`).

mod cache;
mod decode;
mod encode;
pub mod java_number;
mod parse;
mod schema;

use std::sync::Arc;

use bytes::Bytes;
use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, Converter, HeaderConverter, Headers,
    Importance, Props, Result, Schema, SchemaAndValue, SchemaRef, SchemaType, Validator, Value,
    Width,
};

pub use encode::{write_str, write_value};
pub use schema::{schema_from_json, schema_to_json_bytes, type_name, write_schema};

pub(crate) use decode::parse_big_decimal as parse_decimal_text;

use cache::LruCache;
use parse::{Node, Reader};

/// `schemas.enable`.
pub const SCHEMAS_ENABLE_CONFIG: &str = "schemas.enable";
/// `schemas.cache.size`.
pub const SCHEMAS_CACHE_SIZE_CONFIG: &str = "schemas.cache.size";
/// `decimal.format`.
pub const DECIMAL_FORMAT_CONFIG: &str = "decimal.format";
/// `replace.null.with.default`.
pub const REPLACE_NULL_WITH_DEFAULT_CONFIG: &str = "replace.null.with.default";

const ENVELOPE_ERROR: &str = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.";

/// How Decimal values are written (`decimal.format`); reading accepts both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecimalFormat {
    /// Base64 of the unscaled value's big-endian two's-complement bytes (Kafka's default).
    #[default]
    Base64,
    /// A JSON number (Java `BigDecimal.toString`).
    Numeric,
}

/// The value-encoding settings of the JSON converter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonOptions {
    /// `decimal.format`.
    pub decimal_format: DecimalFormat,
    /// `replace.null.with.default`: a null with a schema default is written/read as the default.
    pub replace_null_with_default: bool,
}

impl Default for JsonOptions {
    fn default() -> Self {
        JsonOptions {
            decimal_format: DecimalFormat::Base64,
            replace_null_with_default: true,
        }
    }
}

/// Connect data → JSON bytes with `schemas.enable=false` semantics and default options (what the
/// worker writes to its config, offsets and status topics). A null value gives `null`.
pub fn value_to_json_bytes(schema: Option<&Schema>, value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64);
    write_value(&mut out, schema, value, &JsonOptions::default())?;
    Ok(out)
}

/// JSON bytes → schemaless Connect data (integers INT64, other numbers FLOAT64, objects MAPs with
/// string keys, arrays ARRAYs); empty input gives null, as Kafka's converter does.
pub fn schemaless_from_json(bytes: &[u8]) -> Result<Value> {
    Ok(parse(bytes)?.map_or(Value::Null, |n| decode::schemaless(&n)))
}

/// JSON bytes → Connect data under `schema` (schemaless when `None`), without an envelope.
pub fn value_from_json(
    schema: Option<&SchemaRef>,
    bytes: &[u8],
    opts: &JsonOptions,
) -> Result<Value> {
    let node = parse(bytes)?;
    match (schema, node) {
        (None, None) => Ok(Value::Null),
        (schema, node) => decode::to_connect(schema, node.as_ref(), opts),
    }
}

fn syntax_error(e: ConnectError) -> ConnectError {
    ConnectError::data(format!(
        "Converting byte[] to Kafka Connect data failed due to serialization error: {}",
        e.message()
    ))
}

fn parse(bytes: &[u8]) -> Result<Option<Node<'_>>> {
    parse::parse_document(bytes).map_err(syntax_error)
}

/// Kafka's `JsonConverter`; also a header converter (headers are converted like values).
#[derive(Debug)]
pub struct JsonConverter {
    schemas_enable: bool,
    opts: JsonOptions,
    /// Schema JSON by schema `Arc` address; the entry holds the `Arc`, so the address stays unique.
    schema_json: LruCache<usize, (SchemaRef, Box<[u8]>)>,
    /// Schemas by their raw JSON bytes.
    schemas: LruCache<Box<[u8]>, SchemaRef>,
    /// The schema of the last envelope read, by its raw bytes: a topic's records usually share
    /// one schema, and comparing bytes costs a fraction of hashing them for the cache lookup.
    /// None when caching is off (`schemas.cache.size=0`).
    last_schema: Option<(Box<[u8]>, SchemaRef)>,
    cache_schemas: bool,
    /// Size of the last output, to allocate the next one once.
    size_hint: usize,
}

impl Default for JsonConverter {
    fn default() -> Self {
        Self::with_settings(true, 1000, JsonOptions::default())
    }
}

impl JsonConverter {
    /// A converter with Kafka's defaults (schemas enabled).
    pub fn new() -> Self {
        Self::default()
    }

    /// A converter with explicit settings.
    pub fn with_settings(schemas_enable: bool, cache_size: usize, opts: JsonOptions) -> Self {
        JsonConverter {
            schemas_enable,
            opts,
            schema_json: LruCache::new(cache_size),
            schemas: LruCache::new(cache_size),
            last_schema: None,
            cache_schemas: cache_size > 0,
            size_hint: 64,
        }
    }

    /// The declared keys (Kafka's `JsonConverterConfig`).
    pub fn definition() -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new(SCHEMAS_ENABLE_CONFIG, ConfigType::Boolean)
                    .default("true")
                    .importance(Importance::High)
                    .doc("Include schemas within each of the serialized values and keys.")
                    .group("Schemas", 0)
                    .width(Width::Medium)
                    .display_name("Enable Schemas"),
            )
            .define(
                ConfigKey::new(SCHEMAS_CACHE_SIZE_CONFIG, ConfigType::Int)
                    .default("1000")
                    .importance(Importance::High)
                    .doc("The maximum number of schemas that can be cached in this converter instance.")
                    .group("Schemas", 1)
                    .width(Width::Medium)
                    .display_name("Schema Cache Size"),
            )
            .define(
                ConfigKey::new(DECIMAL_FORMAT_CONFIG, ConfigType::String)
                    .default("BASE64")
                    .validator(Validator::OneOf(vec!["BASE64", "NUMERIC"]))
                    .importance(Importance::Low)
                    .doc("Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'")
                    .group("Serialization", 0)
                    .width(Width::Medium)
                    .display_name("Decimal Format"),
            )
            .define(
                ConfigKey::new(REPLACE_NULL_WITH_DEFAULT_CONFIG, ConfigType::Boolean)
                    .default("true")
                    .importance(Importance::Low)
                    .doc("Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.")
                    .group("Serialization", 1)
                    .width(Width::Medium)
                    .display_name("Replace null with default"),
            )
    }

    fn configure_from(&mut self, props: &Props) -> Result<()> {
        let config = Self::definition().parse(props)?;
        let decimal_format = if config
            .string(DECIMAL_FORMAT_CONFIG)
            .is_some_and(|f| f.eq_ignore_ascii_case("NUMERIC"))
        {
            DecimalFormat::Numeric
        } else {
            DecimalFormat::Base64
        };
        let opts = JsonOptions {
            decimal_format,
            replace_null_with_default: config.boolean(REPLACE_NULL_WITH_DEFAULT_CONFIG),
        };
        let cache_size = usize::try_from(config.int(SCHEMAS_CACHE_SIZE_CONFIG)).unwrap_or(0);
        *self = Self::with_settings(config.boolean(SCHEMAS_ENABLE_CONFIG), cache_size, opts);
        Ok(())
    }

    /// Connect data → JSON bytes; `None` (a tombstone) for a null value without a schema.
    pub fn encode(&mut self, schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Bytes>> {
        if schema.is_none() && value.is_null() {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(self.size_hint);
        if self.schemas_enable {
            out.extend_from_slice(b"{\"schema\":");
            self.write_cached_schema(&mut out, schema)?;
            out.extend_from_slice(b",\"payload\":");
            write_value(&mut out, schema.map(|s| s.as_ref()), value, &self.opts)?;
            out.push(b'}');
        } else {
            write_value(&mut out, schema.map(|s| s.as_ref()), value, &self.opts)?;
        }
        self.size_hint = out.len().next_power_of_two().max(64);
        Ok(Some(Bytes::from(out)))
    }

    fn write_cached_schema(&mut self, out: &mut Vec<u8>, schema: Option<&SchemaRef>) -> Result<()> {
        let Some(schema) = schema else {
            out.extend_from_slice(b"null");
            return Ok(());
        };
        let key = Arc::as_ptr(schema) as usize;
        if let Some((held, json)) = self.schema_json.get(&key) {
            if Arc::ptr_eq(held, schema) {
                out.extend_from_slice(json);
                return Ok(());
            }
        }
        let json = schema_to_json_bytes(schema, &self.opts)?;
        out.extend_from_slice(&json);
        self.schema_json
            .insert(key, (schema.clone(), json.into_boxed_slice()));
        Ok(())
    }

    /// JSON bytes → Connect data.
    pub fn decode(&mut self, data: Option<&[u8]>) -> Result<SchemaAndValue> {
        let Some(bytes) = data else {
            return Ok(SchemaAndValue::null());
        };
        if !self.schemas_enable {
            return Ok(SchemaAndValue {
                schema: None,
                value: schemaless_from_json(bytes)?,
            });
        }
        if let Some(fast) = self.decode_with_last_schema(bytes) {
            return fast;
        }
        let (schema_raw, payload) = match read_envelope(bytes).map_err(syntax_error)? {
            Some(parts) => parts,
            None => {
                parse(bytes)?;
                return Err(ConnectError::data(ENVELOPE_ERROR));
            }
        };
        let schema = self.cached_schema(schema_raw)?;
        let value = decode::to_connect(schema.as_ref(), Some(&payload), &self.opts)?;
        Ok(SchemaAndValue { schema, value })
    }

    /// The fast path for a topic's usual record: `{"schema":<the last schema's exact bytes>,
    /// "payload":<value>}` as JsonConverter writes it. The schema is recognised by one byte
    /// comparison instead of being scanned (for small rows the schema is most of the record: the
    /// scan was a quarter of a JDBC sink's CPU); only the payload is read, a struct payload in
    /// schema order straight into its [`Struct`] ([`decode::struct_in_schema_order`]). Anything
    /// else — other spacing, member order, extra members, a syntax error — returns `None`, and
    /// the general path reads the document and reports its errors.
    fn decode_with_last_schema(&self, bytes: &[u8]) -> Option<Result<SchemaAndValue>> {
        const HEAD: &[u8] = b"{\"schema\":";
        const PAYLOAD: &[u8] = b",\"payload\":";
        let (schema_bytes, schema) = self.last_schema.as_ref()?;
        let rest = bytes.strip_prefix(HEAD)?.strip_prefix(&**schema_bytes)?;
        rest.strip_prefix(PAYLOAD)?;
        let at = bytes.len() - rest.len() + PAYLOAD.len();
        let done = |value| {
            Some(Ok(SchemaAndValue {
                schema: Some(schema.clone()),
                value,
            }))
        };
        // Inside the envelope object: one level deep, as the general path reads the payload.
        if schema.schema_type == SchemaType::Struct {
            let mut r = Reader::at(bytes, at, 1);
            if let Some(value) = decode::struct_in_schema_order(&mut r, schema, &self.opts) {
                if let Ok(false) = r.object_continues() {
                    return done(value);
                }
            }
        }
        let mut r = Reader::at(bytes, at, 1);
        let payload = r.parse_value().ok()?;
        match r.object_continues() {
            Ok(false) => Some(
                decode::to_connect(Some(schema), Some(&payload), &self.opts).map(|value| {
                    SchemaAndValue {
                        schema: Some(schema.clone()),
                        value,
                    }
                }),
            ),
            _ => None,
        }
    }

    fn cached_schema(&mut self, raw: &[u8]) -> Result<Option<SchemaRef>> {
        if raw == b"null" {
            return Ok(None);
        }
        if let Some((bytes, schema)) = &self.last_schema {
            if **bytes == *raw {
                return Ok(Some(schema.clone()));
            }
        }
        let schema = match self.schemas.get(raw) {
            Some(schema) => Some(schema.clone()),
            None => {
                let node = parse(raw)?.expect("envelope schema is a value");
                let schema = schema::schema_from_node(&node, &self.opts)?;
                if let Some(s) = &schema {
                    self.schemas.insert(raw.into(), s.clone());
                }
                schema
            }
        };
        if let (Some(s), true) = (&schema, self.cache_schemas) {
            self.last_schema = Some((raw.into(), s.clone()));
        }
        Ok(schema)
    }
}

/// Reads `{"schema":<raw>,"payload":<node>}` in either order; `None` when the document is not
/// exactly that envelope. The schema is only skipped over, so a cached schema is never parsed.
fn read_envelope(bytes: &[u8]) -> Result<Option<(&[u8], Node<'_>)>> {
    let mut r = Reader::new(bytes);
    match r.begin_object()? {
        None | Some(true) => return Ok(None),
        Some(false) => {}
    }
    let (mut schema, mut payload, mut extra) = (None, None, false);
    loop {
        let key = r.parse_key()?;
        match key.as_ref() {
            "schema" => schema = Some(r.skip_value()?),
            "payload" => payload = Some(r.parse_value()?),
            _ => {
                extra = true;
                r.skip_value()?;
            }
        }
        if !r.object_continues()? {
            break;
        }
    }
    r.end_object();
    Ok(match (schema, payload, extra) {
        (Some(s), Some(p), false) => Some((s, p)),
        _ => None,
    })
}

impl Converter for JsonConverter {
    fn config_def(&self) -> ConfigDef {
        Self::definition()
    }
    fn configure(&mut self, props: &Props, _is_key: bool) -> Result<()> {
        self.configure_from(props)
    }
    fn from_connect(
        &mut self,
        _topic: &str,
        _headers: &mut Headers,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Bytes>> {
        self.encode(schema, value)
    }
    fn to_connect(
        &mut self,
        _topic: &str,
        _headers: &Headers,
        data: Option<Bytes>,
    ) -> Result<SchemaAndValue> {
        self.decode(data.as_deref())
    }
}

impl HeaderConverter for JsonConverter {
    fn config_def(&self) -> ConfigDef {
        Self::definition()
    }
    fn configure(&mut self, props: &Props) -> Result<()> {
        self.configure_from(props)
    }
    fn from_connect_header(
        &mut self,
        _topic: &str,
        _header_key: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Bytes>> {
        self.encode(schema, value)
    }
    fn to_connect_header(
        &mut self,
        _topic: &str,
        _header_key: &str,
        data: Option<Bytes>,
    ) -> Result<SchemaAndValue> {
        self.decode(data.as_deref())
    }
}

#[cfg(test)]
mod tests;
