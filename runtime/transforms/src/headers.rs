//! The transforms that need no `$Key`/`$Value` variant: `Filter` (drops every record it is applied
//! to — used with a predicate), `DropHeaders` and `InsertHeader`.

use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectRecord, Importance, Props, Result, Schema, SchemaRef,
    Transformation, Validator, Value,
};

/// Kafka's `org.apache.kafka.connect.transforms.Filter`.
#[derive(Debug, Default)]
pub(crate) struct Filter;

impl Transformation for Filter {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    fn configure(&mut self, _props: &Props) -> Result<()> {
        Ok(())
    }
    fn apply(&mut self, _record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        Ok(None)
    }
}

/// Kafka's `org.apache.kafka.connect.transforms.DropHeaders`: removes every header whose key is
/// listed in `headers`.
#[derive(Debug, Default)]
pub(crate) struct DropHeaders {
    headers: Vec<String>,
}

impl Transformation for DropHeaders {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("headers", ConfigType::List)
                .importance(Importance::High)
                .validator(non_empty_list())
                .doc("The name of the headers to be removed."),
        )
    }
    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.headers = cfg.list("headers").to_vec();
        Ok(())
    }
    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        record.headers.0.retain(|h| !self.headers.contains(&h.key));
        Ok(Some(record))
    }
}

/// Connect's `NonEmptyListValidator`.
pub(crate) fn non_empty_list() -> Validator {
    Validator::Custom(std::sync::Arc::new(|_, v| match v {
        ferry_api::config::ParsedValue::List(l) if l.is_empty() => Err("Empty list".into()),
        _ => Ok(()),
    }))
}

/// Kafka's `org.apache.kafka.connect.transforms.InsertHeader`: adds header `header` with the
/// literal `value.literal`, typed the way Connect's `Values.parseString` reads a literal.
#[derive(Debug, Default)]
pub(crate) struct InsertHeader {
    header: String,
    schema: Option<SchemaRef>,
    value: Value,
}

/// Infers a typed value from a literal, after Connect's `Values.parseString`: booleans, then the
/// smallest integer type that holds the number, then floating point, else the string itself.
/// (Connect also parses arrays, maps and dates here; those stay strings in Ferry.)
pub(crate) fn parse_literal(s: &str) -> (SchemaRef, Value) {
    if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") {
        return (
            Schema::boolean(),
            Value::Boolean(s.eq_ignore_ascii_case("true")),
        );
    }
    if let Ok(i) = s.parse::<i64>() {
        return if let Ok(v) = i8::try_from(i) {
            (Schema::int8(), Value::Int8(v))
        } else if let Ok(v) = i16::try_from(i) {
            (Schema::int16(), Value::Int16(v))
        } else if let Ok(v) = i32::try_from(i) {
            (Schema::int32(), Value::Int32(v))
        } else {
            (Schema::int64(), Value::Int64(i))
        };
    }
    let looks_numeric = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+' || c == '.');
    if looks_numeric {
        if let Ok(f) = s.parse::<f64>() {
            let narrow = f as f32;
            return if narrow.is_finite() && f64::from(narrow) == f {
                (Schema::float32(), Value::Float32(narrow))
            } else {
                (Schema::float64(), Value::Float64(f))
            };
        }
    }
    (Schema::string(), Value::String(s.to_owned()))
}

impl Transformation for InsertHeader {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("header", ConfigType::String)
                    .importance(Importance::High)
                    .validator(Validator::NonEmptyString)
                    .doc("The name of the header."),
            )
            .define(
                ConfigKey::new("value.literal", ConfigType::String)
                    .importance(Importance::High)
                    .doc("The literal value that is to be set as the header value on all records."),
            )
    }
    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.header = cfg.string("header").unwrap_or_default().to_owned();
        let (schema, value) = parse_literal(cfg.string("value.literal").unwrap_or_default());
        self.schema = Some(schema);
        self.value = value;
        Ok(())
    }
    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        record
            .headers
            .add(self.header.clone(), self.schema.clone(), self.value.clone());
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{configured, props, schemaless};
    use ferry_api::Headers;

    #[test]
    fn filter_drops_everything() {
        assert_eq!(Filter.apply(schemaless("t", Value::Int8(1))).unwrap(), None);
    }

    #[test]
    fn drop_headers_removes_every_occurrence() {
        let mut t = configured(DropHeaders::default(), &[("headers", "a, c")]);
        let mut r = schemaless("t", Value::Null);
        r.headers = Headers::new();
        for k in ["a", "b", "a", "c", "d"] {
            r.headers.add(k, None, Value::from(k));
        }
        let out = t.apply(r).unwrap().unwrap();
        let keys: Vec<_> = out.headers.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(keys, ["b", "d"]);
        let err = DropHeaders::default()
            .configure(&props(&[("headers", "")]))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Invalid value  for configuration headers: Empty list"
        );
    }

    #[test]
    fn insert_header_types_the_literal() {
        let cases: [(&str, Value); 6] = [
            ("hello", Value::from("hello")),
            ("42", Value::Int8(42)),
            ("40000", Value::Int32(40000)),
            ("true", Value::Boolean(true)),
            ("1.5", Value::Float32(1.5)),
            ("0.1", Value::Float64(0.1)),
        ];
        for (literal, expected) in cases {
            let mut t = configured(
                InsertHeader::default(),
                &[("header", "h"), ("value.literal", literal)],
            );
            let out = t.apply(schemaless("t", Value::Null)).unwrap().unwrap();
            let h = out.headers.last_with_name("h").unwrap();
            assert_eq!(h.value, expected, "{literal}");
            assert_eq!(
                h.schema.as_ref().unwrap().schema_type,
                expected.inferred_type().unwrap()
            );
        }
        let err = InsertHeader::default()
            .configure(&props(&[("header", "h")]))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Missing required configuration \"value.literal\" which has no default value."
        );
    }
}
