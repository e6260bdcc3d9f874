//! `org.apache.kafka.connect.storage.SimpleHeaderConverter`, the default header converter: writes
//! a value's `Values.convertToString` form as UTF-8 and reads by inferring a schema with
//! `Values.parseString` (see [`crate::values`]).

use bytes::Bytes;
use ferry_api::{HeaderConverter, Props, Result, SchemaAndValue, SchemaRef, Value};

use crate::values::{convert_to_string, parse_string};

/// Kafka's `SimpleHeaderConverter`.
#[derive(Debug, Default)]
pub struct SimpleHeaderConverter;

impl HeaderConverter for SimpleHeaderConverter {
    fn configure(&mut self, _props: &Props) -> Result<()> {
        Ok(())
    }
    fn from_connect_header(
        &mut self,
        _topic: &str,
        _header_key: &str,
        _schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Bytes>> {
        Ok(match value {
            Value::Null => None,
            Value::String(s) => Some(Bytes::copy_from_slice(s.as_bytes())),
            other => Some(Bytes::from(convert_to_string(other))),
        })
    }
    fn to_connect_header(
        &mut self,
        _topic: &str,
        _header_key: &str,
        data: Option<Bytes>,
    ) -> Result<SchemaAndValue> {
        let Some(bytes) = data else {
            return Ok(SchemaAndValue::null());
        };
        Ok(parse_string(&String::from_utf8_lossy(&bytes)))
    }
}
