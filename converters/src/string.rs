//! `org.apache.kafka.connect.storage.StringConverter`: writes the value's Java `toString()` in the
//! configured charset (`converter.encoding`, UTF-8 by default), reads bytes as an optional STRING.
//! A string value in UTF-8 costs one copy into the output and nothing else.

use bytes::Bytes;
use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, Converter, HeaderConverter, Headers,
    Importance, Props, Result, Schema, SchemaAndValue, SchemaRef, Value, Width,
};

use crate::java_string::java_to_string;

/// `converter.encoding`.
pub const ENCODING_CONFIG: &str = "converter.encoding";

/// The charsets Ferry supports for `converter.encoding` (Java names and aliases are accepted,
/// case-insensitively).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8 (Java's default). Malformed input decodes to U+FFFD, as Java does.
    #[default]
    Utf8,
    /// ISO-8859-1: one byte per char; unmappable chars encode as `?`.
    Latin1,
    /// US-ASCII: unmappable chars encode as `?`, bytes above 127 decode to U+FFFD.
    Ascii,
    /// UTF-16 big-endian, no byte-order mark.
    Utf16Be,
    /// UTF-16 little-endian, no byte-order mark.
    Utf16Le,
}

impl Encoding {
    /// Looks a Java charset name up.
    pub fn from_java_name(name: &str) -> Option<Self> {
        let n = name.trim().to_ascii_uppercase().replace('_', "-");
        Some(match n.as_str() {
            "UTF-8" | "UTF8" => Encoding::Utf8,
            "ISO-8859-1" | "ISO8859-1" | "LATIN1" | "ISO-LATIN-1" | "L1" | "8859-1" | "CP819" => {
                Encoding::Latin1
            }
            "US-ASCII" | "ASCII" | "US" | "ISO646-US" => Encoding::Ascii,
            "UTF-16BE" | "UNICODEBIGUNMARKED" => Encoding::Utf16Be,
            "UTF-16LE" | "UNICODELITTLEUNMARKED" => Encoding::Utf16Le,
            _ => return None,
        })
    }

    /// Encodes `s`.
    pub fn encode(self, s: &str) -> Bytes {
        match self {
            Encoding::Utf8 => Bytes::copy_from_slice(s.as_bytes()),
            Encoding::Latin1 => s
                .chars()
                .map(|c| u8::try_from(c).unwrap_or(b'?'))
                .collect::<Vec<_>>()
                .into(),
            Encoding::Ascii => s
                .chars()
                .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
                .collect::<Vec<_>>()
                .into(),
            Encoding::Utf16Be => s
                .encode_utf16()
                .flat_map(u16::to_be_bytes)
                .collect::<Vec<_>>()
                .into(),
            Encoding::Utf16Le => s
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<_>>()
                .into(),
        }
    }

    /// Decodes `b`, replacing malformed input with U+FFFD as Java's `new String(bytes, charset)`.
    pub fn decode(self, b: &[u8]) -> String {
        match self {
            Encoding::Utf8 => match std::str::from_utf8(b) {
                Ok(s) => s.to_owned(),
                Err(_) => String::from_utf8_lossy(b).into_owned(),
            },
            Encoding::Latin1 => b.iter().map(|&x| x as char).collect(),
            Encoding::Ascii => b
                .iter()
                .map(|&x| if x.is_ascii() { x as char } else { '\u{FFFD}' })
                .collect(),
            Encoding::Utf16Be | Encoding::Utf16Le => {
                let units = b.chunks(2).map(|c| match (c, self) {
                    ([hi, lo], Encoding::Utf16Be) => u16::from_be_bytes([*hi, *lo]),
                    ([lo, hi], _) => u16::from_be_bytes([*hi, *lo]),
                    _ => 0xFFFD,
                });
                char::decode_utf16(units)
                    .map(|r| r.unwrap_or('\u{FFFD}'))
                    .collect()
            }
        }
    }
}

/// Kafka's `StringConverter`; also a header converter.
#[derive(Debug, Default)]
pub struct StringConverter {
    encoding: Encoding,
}

impl StringConverter {
    /// A UTF-8 converter.
    pub fn new() -> Self {
        Self::default()
    }

    /// The declared keys (Kafka's `StringConverterConfig`).
    pub fn definition() -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new(ENCODING_CONFIG, ConfigType::String)
                .default("UTF-8")
                .importance(Importance::High)
                .doc("The name of the Java character set to use for encoding strings as byte arrays.")
                .width(Width::Medium)
                .display_name("Encoding"),
        )
    }

    fn configure_from(&mut self, props: &Props) -> Result<()> {
        let config = Self::definition().parse(props)?;
        let name = config.string(ENCODING_CONFIG).unwrap_or("UTF-8");
        self.encoding = Encoding::from_java_name(name).ok_or_else(|| {
            ConnectError::config(format!(
                "Invalid value {name} for configuration {ENCODING_CONFIG}: unknown or unsupported character set"
            ))
        })?;
        Ok(())
    }

    /// Connect data → bytes: the value's Java `toString()`; top-level bytes pass through.
    pub fn encode(&self, value: &Value) -> Option<Bytes> {
        match value {
            Value::Null => None,
            Value::String(s) => Some(self.encoding.encode(s)),
            Value::Bytes(b) => Some(b.clone()),
            other => Some(self.encoding.encode(&java_to_string(other))),
        }
    }

    /// Bytes → an optional STRING (the schema is set even for null, as in Kafka).
    pub fn decode(&self, data: Option<&[u8]>) -> SchemaAndValue {
        SchemaAndValue {
            schema: Some(Schema::optional_string()),
            value: data.map_or(Value::Null, |b| Value::String(self.encoding.decode(b))),
        }
    }
}

impl Converter for StringConverter {
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
        _schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Bytes>> {
        Ok(self.encode(value))
    }
    fn to_connect(
        &mut self,
        _topic: &str,
        _headers: &Headers,
        data: Option<Bytes>,
    ) -> Result<SchemaAndValue> {
        Ok(self.decode(data.as_deref()))
    }
}

impl HeaderConverter for StringConverter {
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
        _schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Bytes>> {
        Ok(self.encode(value))
    }
    fn to_connect_header(
        &mut self,
        _topic: &str,
        _header_key: &str,
        data: Option<Bytes>,
    ) -> Result<SchemaAndValue> {
        Ok(self.decode(data.as_deref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_api::{SchemaBuilder, Struct};

    fn configured(encoding: &str) -> Result<StringConverter> {
        let mut c = StringConverter::new();
        let props = Props::from([(ENCODING_CONFIG.to_string(), encoding.to_string())]);
        Converter::configure(&mut c, &props, false)?;
        Ok(c)
    }

    #[test]
    fn writes_java_to_string_and_reads_optional_string() {
        let mut c = StringConverter::new();
        let schema = SchemaBuilder::struct_()
            .field("a", Schema::int32())
            .field("n", Schema::optional_string())
            .field("b", Schema::string())
            .build();
        let st: Value = Struct::new(schema.clone())
            .with("a", 1i32)
            .unwrap()
            .with("b", "x")
            .unwrap()
            .into();
        let cases: Vec<(Value, Option<&[u8]>)> = vec![
            (Value::from("héllo"), Some("héllo".as_bytes())),
            (Value::Int64(-5), Some(b"-5")),
            (Value::Float64(1.0e-5), Some(b"1.0E-5")),
            (st, Some(b"Struct{a=1,b=x}")),
            (Value::Null, None),
        ];
        for (v, want) in cases {
            let got = c.from_connect("t", &mut Headers::new(), None, &v).unwrap();
            assert_eq!(got.as_deref(), want);
        }
        let back = c
            .to_connect("t", &Headers::new(), Some(Bytes::from_static(b"abc")))
            .unwrap();
        assert_eq!(
            back,
            SchemaAndValue {
                schema: Some(Schema::optional_string()),
                value: "abc".into()
            }
        );
        let null = c.to_connect("t", &Headers::new(), None).unwrap();
        assert_eq!(
            null,
            SchemaAndValue {
                schema: Some(Schema::optional_string()),
                value: Value::Null
            }
        );
    }

    #[test]
    fn utf8_string_output_is_the_only_allocation_and_bytes_pass_through() {
        let c = StringConverter::new();
        let payload = Bytes::from_static(b"raw");
        let out = c.encode(&Value::Bytes(payload.clone())).unwrap();
        assert_eq!(out.as_ptr(), payload.as_ptr());
    }

    #[test]
    fn encodings() {
        let latin1 = configured("iso-8859-1").unwrap();
        assert_eq!(latin1.encode(&"é€".into()).unwrap().as_ref(), b"\xe9?");
        assert_eq!(latin1.decode(Some(b"\xe9")).value, Value::from("é"));
        let utf16 = configured("UTF-16BE").unwrap();
        assert_eq!(utf16.encode(&"A".into()).unwrap().as_ref(), b"\x00A");
        assert_eq!(
            configured("utf8").unwrap().decode(Some(b"\xff")).value,
            Value::from("\u{FFFD}")
        );
        let err = configured("EBCDIC-42").unwrap_err();
        assert!(
            err.message().contains("converter.encoding"),
            "{}",
            err.message()
        );
    }
}
