//! Connect values: what a schema describes. Logical types have their own variants (Decimal, Date,
//! Time, Timestamp) as Java uses `BigDecimal` and `java.util.Date` for them.

use bytes::Bytes;
use num_bigint::BigInt;
use std::fmt;

use crate::error::{ConnectError, Result};
use crate::schema::{logical, Schema, SchemaRef, SchemaType};

/// An arbitrary-precision decimal: `unscaled × 10^-scale`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    /// The unscaled integer.
    pub unscaled: BigInt,
    /// Digits after the decimal point.
    pub scale: i32,
}

impl Decimal {
    /// A decimal from its unscaled value and scale.
    pub fn new(unscaled: impl Into<BigInt>, scale: i32) -> Self {
        Decimal {
            unscaled: unscaled.into(),
            scale,
        }
    }
    /// The unscaled value as big-endian two's-complement bytes (Connect's Decimal wire form).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.unscaled.to_signed_bytes_be()
    }
    /// Reads Connect's Decimal wire form.
    pub fn from_bytes(bytes: &[u8], scale: i32) -> Self {
        Decimal {
            unscaled: BigInt::from_signed_bytes_be(bytes),
            scale,
        }
    }
    /// Parses a plain decimal string (`-12.345`, `1E+3` is not accepted) keeping its scale.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (int_part, frac) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        if frac.contains(['-', '+']) {
            return None;
        }
        let digits = format!("{int_part}{frac}");
        let unscaled: BigInt = digits.parse().ok()?;
        Some(Decimal {
            unscaled,
            scale: frac.len() as i32,
        })
    }
    /// This decimal at another scale, when that needs no rounding.
    pub fn rescale(&self, scale: i32) -> Option<Self> {
        use std::cmp::Ordering;
        match scale.cmp(&self.scale) {
            Ordering::Equal => Some(self.clone()),
            Ordering::Greater => {
                let f = BigInt::from(10).pow((scale - self.scale) as u32);
                Some(Decimal::new(&self.unscaled * f, scale))
            }
            Ordering::Less => {
                let f = BigInt::from(10).pow((self.scale - scale) as u32);
                let (q, r) = (&self.unscaled / &f, &self.unscaled % &f);
                (r == BigInt::from(0)).then(|| Decimal::new(q, scale))
            }
        }
    }
}

impl fmt::Display for Decimal {
    /// Plain notation (Java's `BigDecimal.toPlainString`). An unscaled value that fits an i64
    /// (nearly every decimal a database column holds) is printed without allocating: sinks
    /// render one per decimal cell of every row.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut small = itoa::Buffer::new();
        let big;
        let (neg, digits) = match i64::try_from(&self.unscaled) {
            Ok(v) => (v < 0, small.format(v.unsigned_abs())),
            Err(_) => {
                big = self.unscaled.magnitude().to_string();
                (
                    self.unscaled.sign() == num_bigint::Sign::Minus,
                    big.as_str(),
                )
            }
        };
        if neg {
            f.write_str("-")?;
        }
        let zeros =
            |f: &mut fmt::Formatter<'_>, n: usize| (0..n).try_for_each(|_| f.write_str("0"));
        if self.scale <= 0 {
            f.write_str(digits)?;
            return zeros(f, self.scale.unsigned_abs() as usize);
        }
        let scale = self.scale as usize;
        if digits.len() > scale {
            let (i, frac) = digits.split_at(digits.len() - scale);
            f.write_str(i)?;
            f.write_str(".")?;
            f.write_str(frac)
        } else {
            f.write_str("0.")?;
            zeros(f, scale - digits.len())?;
            f.write_str(digits)
        }
    }
}

/// A struct value: its schema and one value per field.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    schema: SchemaRef,
    values: Vec<Value>,
}

impl Struct {
    /// An empty struct (all fields null) of `schema`, which must be a STRUCT schema.
    pub fn new(schema: SchemaRef) -> Self {
        assert_eq!(
            schema.schema_type,
            SchemaType::Struct,
            "Struct::new needs a STRUCT schema"
        );
        let values = vec![Value::Null; schema.fields.len()];
        Struct { schema, values }
    }
    /// The schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }
    /// Sets field `name`, checking the value against the field's schema.
    pub fn put(&mut self, name: &str, value: impl Into<Value>) -> Result<&mut Self> {
        let field = self
            .schema
            .field(name)
            .ok_or_else(|| ConnectError::data(format!("{name} is not a valid field name")))?;
        let value = value.into();
        validate(&field.schema, &value, Some(name))?;
        self.values[field.index] = value;
        Ok(self)
    }
    /// Builder-style [`Struct::put`].
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Result<Self> {
        self.put(name, value)?;
        Ok(self)
    }
    /// Sets the field at `index` without checking (for converters that already validated).
    pub fn put_unchecked(&mut self, index: usize, value: Value) {
        self.values[index] = value;
    }
    /// The value of field `name`, with the field default applied when null.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let field = self.schema.field(name)?;
        Some(self.get_at(field.index))
    }
    /// The raw value of field `name` (no default applied).
    pub fn get_without_default(&self, name: &str) -> Option<&Value> {
        self.schema.field(name).map(|f| &self.values[f.index])
    }
    /// The value at `index`, with the field default applied when null.
    pub fn get_at(&self, index: usize) -> &Value {
        let v = &self.values[index];
        if v.is_null() {
            if let Some(d) = &self.schema.fields[index].schema.default {
                return d;
            }
        }
        v
    }
    /// Field values in schema order (defaults not applied).
    pub fn values(&self) -> &[Value] {
        &self.values
    }
    /// Takes the field values out (schema order, defaults not applied), without copying them.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }
    /// A struct of `schema` from one value per field, in field order, each checked against its
    /// field's schema. Cheaper than [`Struct::put`] per field: no lookup by name.
    pub fn from_values(schema: SchemaRef, values: Vec<Value>) -> Result<Self> {
        if values.len() != schema.fields.len() {
            return Err(ConnectError::data(format!(
                "struct {} has {} fields, got {} values",
                schema.name_or_empty(),
                schema.fields.len(),
                values.len()
            )));
        }
        for (f, v) in schema.fields.iter().zip(&values) {
            validate(&f.schema, v, Some(&f.name))?;
        }
        Ok(Struct { schema, values })
    }
    /// Checks that every required field is set.
    pub fn validate(&self) -> Result<()> {
        for f in &self.schema.fields {
            validate(&f.schema, &self.values[f.index], Some(&f.name))?;
        }
        Ok(())
    }
}

/// A Connect value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// No value.
    #[default]
    Null,
    /// BOOLEAN.
    Boolean(bool),
    /// INT8.
    Int8(i8),
    /// INT16.
    Int16(i16),
    /// INT32.
    Int32(i32),
    /// INT64.
    Int64(i64),
    /// FLOAT32.
    Float32(f32),
    /// FLOAT64.
    Float64(f64),
    /// STRING.
    String(String),
    /// BYTES.
    Bytes(Bytes),
    /// ARRAY.
    Array(Vec<Value>),
    /// MAP, as ordered pairs (keys need not be strings).
    Map(Vec<(Value, Value)>),
    /// STRUCT.
    Struct(Box<Struct>),
    /// Decimal logical type (BYTES underneath).
    Decimal(Decimal),
    /// Date logical type: days since the epoch (INT32 underneath).
    Date(i32),
    /// Time logical type: milliseconds since midnight (INT32 underneath).
    Time(i32),
    /// Timestamp logical type: milliseconds since the epoch (INT64 underneath).
    Timestamp(i64),
}

impl Value {
    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// The string, when this is a STRING.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    /// The struct, when this is a STRUCT.
    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }
    /// Any integer value widened to i64.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int8(v) => Some(v as i64),
            Value::Int16(v) => Some(v as i64),
            Value::Int32(v) | Value::Date(v) | Value::Time(v) => Some(v as i64),
            Value::Int64(v) | Value::Timestamp(v) => Some(v),
            _ => None,
        }
    }
    /// The entry for string key `key`, when this is a map.
    pub fn map_get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
    /// The Java class name of the value, as Kafka's error messages name it.
    pub fn java_class(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Boolean(_) => "java.lang.Boolean",
            Value::Int8(_) => "java.lang.Byte",
            Value::Int16(_) => "java.lang.Short",
            Value::Int32(_) => "java.lang.Integer",
            Value::Int64(_) => "java.lang.Long",
            Value::Float32(_) => "java.lang.Float",
            Value::Float64(_) => "java.lang.Double",
            Value::String(_) => "java.lang.String",
            Value::Bytes(_) => "[B",
            Value::Array(_) => "java.util.ArrayList",
            Value::Map(_) => "java.util.HashMap",
            Value::Struct(_) => "org.apache.kafka.connect.data.Struct",
            Value::Decimal(_) => "java.math.BigDecimal",
            Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => "java.util.Date",
        }
    }
    /// The schema type this value carries when no schema is known (schemaless data), or `None`
    /// for null.
    pub fn inferred_type(&self) -> Option<SchemaType> {
        Some(match self {
            Value::Null => return None,
            Value::Boolean(_) => SchemaType::Boolean,
            Value::Int8(_) => SchemaType::Int8,
            Value::Int16(_) => SchemaType::Int16,
            Value::Int32(_) | Value::Date(_) | Value::Time(_) => SchemaType::Int32,
            Value::Int64(_) | Value::Timestamp(_) => SchemaType::Int64,
            Value::Float32(_) => SchemaType::Float32,
            Value::Float64(_) => SchemaType::Float64,
            Value::String(_) => SchemaType::String,
            Value::Bytes(_) | Value::Decimal(_) => SchemaType::Bytes,
            Value::Array(_) => SchemaType::Array,
            Value::Map(_) => SchemaType::Map,
            Value::Struct(_) => SchemaType::Struct,
        })
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}
impl From<i8> for Value {
    fn from(v: i8) -> Self {
        Value::Int8(v)
    }
}
impl From<i16> for Value {
    fn from(v: i16) -> Self {
        Value::Int16(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int32(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int64(v)
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Float32(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float64(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}
impl From<Bytes> for Value {
    fn from(v: Bytes) -> Self {
        Value::Bytes(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(Bytes::from(v))
    }
}
impl From<Struct> for Value {
    fn from(v: Struct) -> Self {
        Value::Struct(Box::new(v))
    }
}
impl From<Decimal> for Value {
    fn from(v: Decimal) -> Self {
        Value::Decimal(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

fn type_error(schema: &Schema, value: &Value, field: Option<&str>) -> ConnectError {
    let what = match field {
        Some(f) => format!(
            "Invalid Java object for schema with type {} for field: \"{f}\"",
            schema.schema_type
        ),
        None => format!(
            "Invalid Java object for schema \"{}\" with type {}",
            schema.name_or_empty(),
            schema.schema_type
        ),
    };
    ConnectError::data(format!("{what}: {}", value.java_class()))
}

/// Kafka's `ConnectSchema.validateValue`: checks `value` against `schema`, naming `field` in errors.
pub(crate) fn validate(schema: &Schema, value: &Value, field: Option<&str>) -> Result<()> {
    use SchemaType as T;
    if value.is_null() {
        if schema.optional || schema.default.is_some() {
            return Ok(());
        }
        return Err(ConnectError::data(match field {
            Some(f) => format!(
                "Invalid value: null used for required field: \"{f}\", schema type: {}",
                schema.schema_type
            ),
            None => format!(
                "Invalid value: null used for required field, schema type: {}",
                schema.schema_type
            ),
        }));
    }
    let logical_name = schema.name.as_deref();
    let ok = match (logical_name, schema.schema_type, value) {
        (Some(logical::DECIMAL), T::Bytes, Value::Decimal(d)) => {
            match schema.decimal_scale() {
                Some(scale) if scale != d.scale => {
                    return Err(ConnectError::data(format!(
                        "BigDecimal has mismatching scale value for given Decimal schema: scale {} != {scale}",
                        d.scale
                    )))
                }
                _ => true,
            }
        }
        (Some(logical::DECIMAL), _, _) => false,
        (Some(logical::DATE), T::Int32, Value::Date(_)) => true,
        (Some(logical::TIME), T::Int32, Value::Time(_)) => true,
        (Some(logical::TIMESTAMP), T::Int64, Value::Timestamp(_)) => true,
        (Some(logical::DATE | logical::TIME | logical::TIMESTAMP), _, _) => false,
        (_, T::Boolean, Value::Boolean(_))
        | (_, T::Int8, Value::Int8(_))
        | (_, T::Int16, Value::Int16(_))
        | (_, T::Int32, Value::Int32(_))
        | (_, T::Int64, Value::Int64(_))
        | (_, T::Float32, Value::Float32(_))
        | (_, T::Float64, Value::Float64(_))
        | (_, T::String, Value::String(_))
        | (_, T::Bytes, Value::Bytes(_)) => true,
        (_, T::Array, Value::Array(items)) => {
            if let Some(item_schema) = &schema.value_schema {
                for item in items {
                    validate(item_schema, item, field)?;
                }
            }
            true
        }
        (_, T::Map, Value::Map(entries)) => {
            if let (Some(ks), Some(vs)) = (&schema.key_schema, &schema.value_schema) {
                for (k, v) in entries {
                    validate(ks, k, field)?;
                    validate(vs, v, field)?;
                }
            }
            true
        }
        (_, T::Struct, Value::Struct(s)) => {
            // Shared schemas are the same Arc: skip the deep comparison then.
            if !std::ptr::eq(s.schema().as_ref(), schema) && s.schema().as_ref() != schema {
                return Err(ConnectError::data(match field {
                    Some(f) => format!("Struct schemas do not match for field \"{f}\"."),
                    None => "Struct schemas do not match.".to_string(),
                }));
            }
            s.validate()?;
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(type_error(schema, value, field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::SchemaBuilder;

    #[test]
    fn struct_put_validates_field_types() {
        let schema = SchemaBuilder::struct_()
            .name("s")
            .field("id", Schema::int32())
            .field("name", Schema::optional_string())
            .build();
        let mut s = Struct::new(schema.clone());
        s.put("id", 7i32).unwrap();
        let err = s.put("name", 3i64).unwrap_err();
        assert!(err.message().contains("\"name\""), "{}", err.message());
        assert!(s.put("nope", 1i32).is_err());
        assert!(schema.validate(&Value::from(s.clone())).is_ok());
        let empty = Struct::new(schema.clone());
        assert!(schema
            .validate(&Value::from(empty))
            .unwrap_err()
            .message()
            .contains("\"id\""));
    }

    #[test]
    fn decimal_round_trips_and_prints_plainly() {
        let d = Decimal::parse("-12.345").unwrap();
        assert_eq!(d.scale, 3);
        assert_eq!(d.to_string(), "-12.345");
        assert_eq!(Decimal::from_bytes(&d.to_bytes(), 3), d);
        assert_eq!(Decimal::new(5, 3).to_string(), "0.005");
        assert_eq!(Decimal::new(12345, 2).to_bytes(), vec![0x30, 0x39]);
        assert_eq!(Decimal::new(5, -2).to_string(), "500");
        assert_eq!(Decimal::new(-5, 3).to_string(), "-0.005");
        assert_eq!(Decimal::new(-5, -1).to_string(), "-50");
        assert_eq!(Decimal::new(0, 2).to_string(), "0.00");
        assert_eq!(
            Decimal::new(i64::MIN, 2).to_string(),
            "-92233720368547758.08"
        );
        // Beyond an i64: the big-integer path prints the same way.
        let big: BigInt = "-123456789012345678901234567890".parse().unwrap();
        assert_eq!(
            Decimal::new(big, 32).to_string(),
            "-0.00123456789012345678901234567890"
        );
        assert_eq!(
            Decimal::new(1200, 2).rescale(1).unwrap(),
            Decimal::new(120, 1)
        );
        assert!(Decimal::new(1234, 2).rescale(1).is_none());
    }

    #[test]
    fn logical_types_need_their_own_values() {
        let date = SchemaBuilder::date().build();
        assert!(date.validate(&Value::Date(3)).is_ok());
        assert!(date.validate(&Value::Int32(3)).is_err());
        let dec = SchemaBuilder::decimal(2).build();
        assert!(dec.validate(&Value::Decimal(Decimal::new(1, 2))).is_ok());
        assert!(dec.validate(&Value::Decimal(Decimal::new(1, 3))).is_err());
    }
}
