//! Connect schemas: every Connect type, optionality, defaults, name/version/doc/parameters, and the
//! logical types Decimal, Date, Time and Timestamp (recognised by their schema names, as in Kafka).
//!
//! Schemas are built once and shared as [`SchemaRef`] (`Arc`): never clone a schema per record.

use std::fmt;
use std::sync::{Arc, LazyLock};

use crate::error::{ConnectError, Result};
use crate::value::Value;

/// A shared, immutable schema.
pub type SchemaRef = Arc<Schema>;

/// The Connect types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaType {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Array,
    Map,
    Struct,
}

impl SchemaType {
    /// The upper-case Java enum name (`INT32`, `STRUCT`, …).
    pub fn java_name(self) -> &'static str {
        match self {
            SchemaType::Int8 => "INT8",
            SchemaType::Int16 => "INT16",
            SchemaType::Int32 => "INT32",
            SchemaType::Int64 => "INT64",
            SchemaType::Float32 => "FLOAT32",
            SchemaType::Float64 => "FLOAT64",
            SchemaType::Boolean => "BOOLEAN",
            SchemaType::String => "STRING",
            SchemaType::Bytes => "BYTES",
            SchemaType::Array => "ARRAY",
            SchemaType::Map => "MAP",
            SchemaType::Struct => "STRUCT",
        }
    }
    /// Parses a Java enum name, case-insensitively.
    pub fn from_java_name(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "INT8" => SchemaType::Int8,
            "INT16" => SchemaType::Int16,
            "INT32" => SchemaType::Int32,
            "INT64" => SchemaType::Int64,
            "FLOAT32" => SchemaType::Float32,
            "FLOAT64" => SchemaType::Float64,
            "BOOLEAN" => SchemaType::Boolean,
            "STRING" => SchemaType::String,
            "BYTES" => SchemaType::Bytes,
            "ARRAY" => SchemaType::Array,
            "MAP" => SchemaType::Map,
            "STRUCT" => SchemaType::Struct,
            _ => return None,
        })
    }
    /// Whether this is a primitive (non-container) type.
    pub fn is_primitive(self) -> bool {
        !matches!(
            self,
            SchemaType::Array | SchemaType::Map | SchemaType::Struct
        )
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.java_name())
    }
}

/// Names of the logical types Kafka defines.
pub mod logical {
    /// `org.apache.kafka.connect.data.Decimal`: BYTES holding the big-endian two's-complement
    /// unscaled value; parameter [`DECIMAL_SCALE`].
    pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
    /// The Decimal schema parameter holding the scale.
    pub const DECIMAL_SCALE: &str = "scale";
    /// `org.apache.kafka.connect.data.Date`: INT32 days since the epoch.
    pub const DATE: &str = "org.apache.kafka.connect.data.Date";
    /// `org.apache.kafka.connect.data.Time`: INT32 milliseconds since midnight.
    pub const TIME: &str = "org.apache.kafka.connect.data.Time";
    /// `org.apache.kafka.connect.data.Timestamp`: INT64 milliseconds since the epoch.
    pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
}

/// One field of a struct schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// Position in the struct.
    pub index: usize,
    /// Field schema.
    pub schema: SchemaRef,
}

/// A Connect schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The type.
    pub schema_type: SchemaType,
    /// Whether null is a legal value.
    pub optional: bool,
    /// Default value, used when a value is null.
    pub default: Option<Value>,
    /// Fully qualified name (also marks logical types).
    pub name: Option<String>,
    /// Version.
    pub version: Option<i32>,
    /// Documentation.
    pub doc: Option<String>,
    /// Parameters, in insertion order (the JSON converter writes them in that order).
    pub parameters: Vec<(String, String)>,
    /// Fields, for structs.
    pub fields: Vec<Field>,
    /// Key schema, for maps.
    pub key_schema: Option<SchemaRef>,
    /// Value schema for maps, element schema for arrays.
    pub value_schema: Option<SchemaRef>,
}

impl Schema {
    /// A bare schema of `schema_type`; use [`SchemaBuilder`] for anything richer.
    pub fn of(schema_type: SchemaType, optional: bool) -> Schema {
        Schema {
            schema_type,
            optional,
            default: None,
            name: None,
            version: None,
            doc: None,
            parameters: Vec::new(),
            fields: Vec::new(),
            key_schema: None,
            value_schema: None,
        }
    }
    /// The field named `name`, for structs.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
    /// The parameter `key`.
    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// The name, or "" when unnamed.
    pub fn name_or_empty(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
    /// The Decimal scale, when this is a Decimal schema.
    pub fn decimal_scale(&self) -> Option<i32> {
        if self.name.as_deref() == Some(logical::DECIMAL) {
            self.parameter(logical::DECIMAL_SCALE)
                .and_then(|s| s.parse().ok())
        } else {
            None
        }
    }
    /// Whether the schema carries the logical name `logical_name` (see [`logical`]).
    pub fn is_logical(&self, logical_name: &str) -> bool {
        self.name.as_deref() == Some(logical_name)
    }
    /// Checks `value` against this schema (Kafka's `ConnectSchema.validateValue`).
    pub fn validate(&self, value: &Value) -> Result<()> {
        crate::value::validate(self, value, None)
    }
    /// A copy made optional (keeps everything else).
    pub fn to_optional(&self) -> Schema {
        let mut s = self.clone();
        s.optional = true;
        s
    }
}

macro_rules! shared_schemas {
    ($($fn_name:ident => $ty:expr, $opt:expr;)*) => {
        impl Schema {
            $(
                #[doc = concat!("The shared `", stringify!($fn_name), "` schema.")]
                pub fn $fn_name() -> SchemaRef {
                    static S: LazyLock<SchemaRef> = LazyLock::new(|| Arc::new(Schema::of($ty, $opt)));
                    S.clone()
                }
            )*
        }
    };
}

shared_schemas! {
    int8 => SchemaType::Int8, false;
    int16 => SchemaType::Int16, false;
    int32 => SchemaType::Int32, false;
    int64 => SchemaType::Int64, false;
    float32 => SchemaType::Float32, false;
    float64 => SchemaType::Float64, false;
    boolean => SchemaType::Boolean, false;
    string => SchemaType::String, false;
    bytes => SchemaType::Bytes, false;
    optional_int8 => SchemaType::Int8, true;
    optional_int16 => SchemaType::Int16, true;
    optional_int32 => SchemaType::Int32, true;
    optional_int64 => SchemaType::Int64, true;
    optional_float32 => SchemaType::Float32, true;
    optional_float64 => SchemaType::Float64, true;
    optional_boolean => SchemaType::Boolean, true;
    optional_string => SchemaType::String, true;
    optional_bytes => SchemaType::Bytes, true;
}

/// Builds schemas fluently, like Kafka's `SchemaBuilder`.
#[derive(Debug, Clone)]
pub struct SchemaBuilder {
    schema: Schema,
}

impl SchemaBuilder {
    /// A builder for `schema_type`.
    pub fn new(schema_type: SchemaType) -> Self {
        SchemaBuilder {
            schema: Schema::of(schema_type, false),
        }
    }
    /// A builder starting from an existing schema.
    pub fn from_schema(schema: &Schema) -> Self {
        SchemaBuilder {
            schema: schema.clone(),
        }
    }
    /// INT8.
    pub fn int8() -> Self {
        Self::new(SchemaType::Int8)
    }
    /// INT16.
    pub fn int16() -> Self {
        Self::new(SchemaType::Int16)
    }
    /// INT32.
    pub fn int32() -> Self {
        Self::new(SchemaType::Int32)
    }
    /// INT64.
    pub fn int64() -> Self {
        Self::new(SchemaType::Int64)
    }
    /// FLOAT32.
    pub fn float32() -> Self {
        Self::new(SchemaType::Float32)
    }
    /// FLOAT64.
    pub fn float64() -> Self {
        Self::new(SchemaType::Float64)
    }
    /// BOOLEAN.
    pub fn boolean() -> Self {
        Self::new(SchemaType::Boolean)
    }
    /// STRING.
    pub fn string() -> Self {
        Self::new(SchemaType::String)
    }
    /// BYTES.
    pub fn bytes() -> Self {
        Self::new(SchemaType::Bytes)
    }
    /// STRUCT (add fields with [`SchemaBuilder::field`]).
    pub fn struct_() -> Self {
        Self::new(SchemaType::Struct)
    }
    /// ARRAY of `items`.
    pub fn array(items: SchemaRef) -> Self {
        let mut b = Self::new(SchemaType::Array);
        b.schema.value_schema = Some(items);
        b
    }
    /// MAP from `keys` to `values`.
    pub fn map(keys: SchemaRef, values: SchemaRef) -> Self {
        let mut b = Self::new(SchemaType::Map);
        b.schema.key_schema = Some(keys);
        b.schema.value_schema = Some(values);
        b
    }
    /// Decimal logical type with `scale`.
    pub fn decimal(scale: i32) -> Self {
        Self::bytes()
            .name(logical::DECIMAL)
            .version(1)
            .parameter(logical::DECIMAL_SCALE, scale.to_string())
    }
    /// Date logical type.
    pub fn date() -> Self {
        Self::int32().name(logical::DATE).version(1)
    }
    /// Time logical type.
    pub fn time() -> Self {
        Self::int32().name(logical::TIME).version(1)
    }
    /// Timestamp logical type.
    pub fn timestamp() -> Self {
        Self::int64().name(logical::TIMESTAMP).version(1)
    }
    /// Marks the schema optional.
    pub fn optional(mut self) -> Self {
        self.schema.optional = true;
        self
    }
    /// Marks the schema required (not optional).
    pub fn required(mut self) -> Self {
        self.schema.optional = false;
        self
    }
    /// Sets the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.schema.name = Some(name.into());
        self
    }
    /// Sets the version.
    pub fn version(mut self, version: i32) -> Self {
        self.schema.version = Some(version);
        self
    }
    /// Sets the doc.
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        self.schema.doc = Some(doc.into());
        self
    }
    /// Sets (or replaces) a parameter.
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        let value = value.into();
        match self.schema.parameters.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.schema.parameters.push((key, value)),
        }
        self
    }
    /// Sets the default value; it is checked against the schema in [`SchemaBuilder::try_build`].
    pub fn default_value(mut self, value: Value) -> Self {
        self.schema.default = Some(value);
        self
    }
    /// Appends a struct field.
    pub fn field(mut self, name: impl Into<String>, schema: SchemaRef) -> Self {
        let index = self.schema.fields.len();
        self.schema.fields.push(Field {
            name: name.into(),
            index,
            schema,
        });
        self
    }
    /// Builds, checking the default and field names.
    pub fn try_build(self) -> Result<SchemaRef> {
        let s = self.schema;
        if let Some(d) = &s.default {
            let mut probe = s.clone();
            probe.default = None;
            probe.validate(d).map_err(|e| {
                ConnectError::data(format!("Invalid default value: {}", e.message()))
            })?;
        }
        if s.schema_type == SchemaType::Struct {
            for (i, f) in s.fields.iter().enumerate() {
                if s.fields[..i].iter().any(|g| g.name == f.name) {
                    return Err(ConnectError::data(format!(
                        "Cannot create field because of field name duplication {}",
                        f.name
                    )));
                }
            }
        }
        Ok(Arc::new(s))
    }
    /// Builds; panics on an invalid default (a programming error in the plugin).
    pub fn build(self) -> SchemaRef {
        self.try_build().expect("invalid schema")
    }
}
