//! `org.apache.kafka.connect.converters.ByteArrayConverter`: bytes through unchanged, zero-copy
//! both ways (the same `Bytes` buffer goes in and comes out).

use bytes::Bytes;
use ferry_api::{
    ConnectError, Converter, HeaderConverter, Headers, Props, Result, Schema, SchemaAndValue,
    SchemaRef, SchemaType, Value,
};

/// Kafka's `ByteArrayConverter`; also a header converter.
#[derive(Debug, Default)]
pub struct ByteArrayConverter;

impl ByteArrayConverter {
    /// Accepts bytes (or null) with no schema or a BYTES schema.
    pub fn encode(schema: Option<&SchemaRef>, value: &Value) -> Result<Option<Bytes>> {
        if let Some(s) = schema {
            if s.schema_type != SchemaType::Bytes {
                return Err(ConnectError::data(format!(
                    "Invalid schema type for ByteArrayConverter: {}",
                    s.schema_type
                )));
            }
        }
        match value {
            Value::Null => Ok(None),
            Value::Bytes(b) => Ok(Some(b.clone())),
            other => Err(ConnectError::data(format!(
                "ByteArrayConverter is not compatible with objects of type class {}",
                other.java_class()
            ))),
        }
    }

    /// Reads as optional BYTES.
    pub fn decode(data: Option<Bytes>) -> SchemaAndValue {
        SchemaAndValue {
            schema: Some(Schema::optional_bytes()),
            value: data.map_or(Value::Null, Value::Bytes),
        }
    }
}

impl Converter for ByteArrayConverter {
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
        Self::encode(schema, value)
    }
    fn to_connect(
        &mut self,
        _topic: &str,
        _headers: &Headers,
        data: Option<Bytes>,
    ) -> Result<SchemaAndValue> {
        Ok(Self::decode(data))
    }
}

impl HeaderConverter for ByteArrayConverter {
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
        Self::encode(schema, value)
    }
    fn to_connect_header(
        &mut self,
        _topic: &str,
        _header_key: &str,
        data: Option<Bytes>,
    ) -> Result<SchemaAndValue> {
        Ok(Self::decode(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_bytes_through_without_copying() {
        let data = Bytes::from_static(b"\x00payload");
        let back = ByteArrayConverter
            .to_connect("t", &Headers::new(), Some(data.clone()))
            .unwrap();
        assert_eq!(back.schema, Some(Schema::optional_bytes()));
        let Value::Bytes(read) = &back.value else {
            panic!("bytes expected")
        };
        assert_eq!(read.as_ptr(), data.as_ptr());
        let out = ByteArrayConverter
            .from_connect(
                "t",
                &mut Headers::new(),
                Some(&Schema::bytes()),
                &back.value,
            )
            .unwrap()
            .unwrap();
        assert_eq!(out.as_ptr(), data.as_ptr());
        assert_eq!(
            ByteArrayConverter::encode(None, &Value::Null).unwrap(),
            None
        );
        assert_eq!(ByteArrayConverter::decode(None).value, Value::Null);
    }

    #[test]
    fn rejects_other_schemas_and_values() {
        let err = ByteArrayConverter::encode(Some(&Schema::string()), &Value::Null).unwrap_err();
        assert_eq!(
            err.message(),
            "Invalid schema type for ByteArrayConverter: STRING"
        );
        let err = ByteArrayConverter::encode(None, &Value::from("s")).unwrap_err();
        assert_eq!(
            err.message(),
            "ByteArrayConverter is not compatible with objects of type class java.lang.String"
        );
    }
}
