//! `org.apache.kafka.connect.converters.{Short,Integer,Long,Float,Double,Boolean}Converter`: Kafka's
//! primitive serializers (big-endian; a boolean is one byte 0 or 1), reading as the optional schema
//! of the type. Each is also a header converter.

use bytes::Bytes;
use ferry_api::{
    ConnectError, Converter, HeaderConverter, Headers, Props, Result, Schema, SchemaAndValue,
    SchemaRef, SchemaType, Value,
};

/// Which primitive a [`NumberConverter`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    /// `ShortConverter` (INT16).
    Short,
    /// `IntegerConverter` (INT32).
    Integer,
    /// `LongConverter` (INT64).
    Long,
    /// `FloatConverter` (FLOAT32).
    Float,
    /// `DoubleConverter` (FLOAT64).
    Double,
    /// `BooleanConverter` (BOOLEAN).
    Boolean,
}

impl NumberKind {
    /// The name Kafka's messages use (`short`, `integer`, …).
    fn type_name(self) -> &'static str {
        match self {
            NumberKind::Short => "short",
            NumberKind::Integer => "integer",
            NumberKind::Long => "long",
            NumberKind::Float => "float",
            NumberKind::Double => "double",
            NumberKind::Boolean => "boolean",
        }
    }
    fn width(self) -> usize {
        match self {
            NumberKind::Short => 2,
            NumberKind::Integer | NumberKind::Float => 4,
            NumberKind::Long | NumberKind::Double => 8,
            NumberKind::Boolean => 1,
        }
    }
    /// The Kafka deserializer's name in its size error.
    fn deserializer(self) -> &'static str {
        match self {
            NumberKind::Short => "ShortDeserializer",
            NumberKind::Integer => "IntegerDeserializer",
            NumberKind::Long => "LongDeserializer",
            NumberKind::Float | NumberKind::Double => "Deserializer",
            NumberKind::Boolean => "BooleanDeserializer",
        }
    }
    fn schema(self) -> SchemaRef {
        match self {
            NumberKind::Short => Schema::optional_int16(),
            NumberKind::Integer => Schema::optional_int32(),
            NumberKind::Long => Schema::optional_int64(),
            NumberKind::Float => Schema::optional_float32(),
            NumberKind::Double => Schema::optional_float64(),
            NumberKind::Boolean => Schema::optional_boolean(),
        }
    }
}

/// One of Kafka's primitive converters.
#[derive(Debug, Clone, Copy)]
pub struct NumberConverter {
    kind: NumberKind,
}

impl NumberConverter {
    /// A converter for `kind`.
    pub fn new(kind: NumberKind) -> Self {
        NumberConverter { kind }
    }

    /// Connect data → big-endian bytes.
    pub fn encode(&self, schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Bytes>> {
        let kind = self.kind;
        if kind == NumberKind::Boolean {
            if let Some(s) = schema.filter(|s| s.schema_type != SchemaType::Boolean) {
                return Err(ConnectError::data(format!(
                    "Invalid schema type for BooleanConverter: {}",
                    s.schema_type
                )));
            }
        }
        let bytes: Vec<u8> = match (kind, value) {
            (_, Value::Null) => return Ok(None),
            (NumberKind::Short, Value::Int16(v)) => v.to_be_bytes().to_vec(),
            (NumberKind::Integer, Value::Int32(v)) => v.to_be_bytes().to_vec(),
            (NumberKind::Long, Value::Int64(v)) => v.to_be_bytes().to_vec(),
            (NumberKind::Float, Value::Float32(v)) => v.to_be_bytes().to_vec(),
            (NumberKind::Double, Value::Float64(v)) => v.to_be_bytes().to_vec(),
            (NumberKind::Boolean, Value::Boolean(b)) => vec![u8::from(*b)],
            (NumberKind::Boolean, other) => {
                return Err(ConnectError::data(format!(
                    "BooleanConverter is not compatible with objects of type class {}",
                    other.java_class()
                )))
            }
            (_, other) => {
                return Err(ConnectError::data(format!(
                    "Failed to serialize to {} (was class {}): ",
                    kind.type_name(),
                    other.java_class()
                )))
            }
        };
        Ok(Some(Bytes::from(bytes)))
    }

    /// Big-endian bytes → the optional schema of the type and its value.
    pub fn decode(&self, data: Option<&[u8]>) -> Result<SchemaAndValue> {
        let kind = self.kind;
        let schema = Some(kind.schema());
        let Some(b) = data else {
            return Ok(SchemaAndValue {
                schema,
                value: Value::Null,
            });
        };
        let fail = |cause: String| {
            ConnectError::data(format!(
                "Failed to deserialize {}: {cause}",
                kind.type_name()
            ))
        };
        if b.len() != kind.width() {
            return Err(fail(format!(
                "Size of data received by {} is not {}",
                kind.deserializer(),
                kind.width()
            )));
        }
        let value = match kind {
            NumberKind::Short => Value::Int16(i16::from_be_bytes([b[0], b[1]])),
            NumberKind::Integer => Value::Int32(i32::from_be_bytes(b.try_into().expect("4 bytes"))),
            NumberKind::Long => Value::Int64(i64::from_be_bytes(b.try_into().expect("8 bytes"))),
            NumberKind::Float => Value::Float32(f32::from_be_bytes(b.try_into().expect("4 bytes"))),
            NumberKind::Double => {
                Value::Float64(f64::from_be_bytes(b.try_into().expect("8 bytes")))
            }
            NumberKind::Boolean => match b[0] {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                other => {
                    return Err(fail(format!(
                        "Unexpected byte received by BooleanDeserializer: {}",
                        other as i8
                    )))
                }
            },
        };
        Ok(SchemaAndValue { schema, value })
    }
}

impl Converter for NumberConverter {
    fn configure(&mut self, _props: &Props, _is_key: bool) -> Result<()> {
        Ok(())
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

impl HeaderConverter for NumberConverter {
    fn configure(&mut self, _props: &Props) -> Result<()> {
        Ok(())
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
mod tests {
    use super::*;

    #[test]
    fn big_endian_round_trips() {
        let cases: Vec<(NumberKind, Value, &[u8])> = vec![
            (NumberKind::Short, Value::Int16(-2), b"\xff\xfe"),
            (
                NumberKind::Integer,
                Value::Int32(0x0102_0304),
                b"\x01\x02\x03\x04",
            ),
            (NumberKind::Long, Value::Int64(1), b"\0\0\0\0\0\0\0\x01"),
            (NumberKind::Float, Value::Float32(1.0), b"\x3f\x80\0\0"),
            (
                NumberKind::Double,
                Value::Float64(-2.0),
                b"\xc0\0\0\0\0\0\0\0",
            ),
            (NumberKind::Boolean, Value::Boolean(true), b"\x01"),
            (NumberKind::Boolean, Value::Boolean(false), b"\x00"),
        ];
        for (kind, value, bytes) in cases {
            let c = NumberConverter::new(kind);
            assert_eq!(c.encode(None, &value).unwrap().as_deref(), Some(bytes));
            let back = c.decode(Some(bytes)).unwrap();
            assert_eq!(back.value, value);
            assert_eq!(back.schema, Some(kind.schema()));
            assert_eq!(c.encode(None, &Value::Null).unwrap(), None);
            assert_eq!(c.decode(None).unwrap().value, Value::Null);
        }
    }

    #[test]
    fn errors_match_kafka() {
        let short = NumberConverter::new(NumberKind::Short);
        assert_eq!(
            short.decode(Some(b"\x01")).unwrap_err().message(),
            "Failed to deserialize short: Size of data received by ShortDeserializer is not 2"
        );
        assert_eq!(
            short.encode(None, &Value::Int32(1)).unwrap_err().message(),
            "Failed to serialize to short (was class java.lang.Integer): "
        );
        let boolean = NumberConverter::new(NumberKind::Boolean);
        assert_eq!(
            boolean.decode(Some(b"\x02")).unwrap_err().message(),
            "Failed to deserialize boolean: Unexpected byte received by BooleanDeserializer: 2"
        );
        assert_eq!(
            boolean
                .encode(Some(&Schema::int8()), &Value::Boolean(true))
                .unwrap_err()
                .message(),
            "Invalid schema type for BooleanConverter: INT8"
        );
    }
}
