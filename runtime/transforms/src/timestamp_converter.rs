//! `TimestampConverter$Key` / `TimestampConverter$Value`: converts a timestamp (the whole
//! key/value, or `field`) between `string` (with `format`, a `SimpleDateFormat` pattern, UTC),
//! `unix` (an INT64 in `unix.precision`), and the `Date`, `Time` and `Timestamp` logical types.

use std::sync::Arc;

use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, Importance, Props, Result,
    Schema, SchemaBuilder, SchemaRef, SchemaType, Transformation, Validator, Value,
};

use crate::datefmt::DateFormat;
use crate::util::{
    build_struct, field_value, into_map, into_struct, map_get, map_put, push_field,
    replace_null_with_default_key, struct_basics, Part, SchemaCache, REPLACE_NULL_WITH_DEFAULT,
};

const PURPOSE: &str = "converting timestamp formats";
const MS_PER_DAY: i64 = 86_400_000;
const FORMAT_REQUIRED: &str =
    "TimestampConverter requires format option to be specified when using string timestamps";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Kind {
    String,
    Unix,
    Date,
    Time,
    #[default]
    Timestamp,
}

/// Kafka's `org.apache.kafka.connect.transforms.TimestampConverter`.
#[derive(Debug)]
pub(crate) struct TimestampConverter {
    part: Part,
    field: String,
    target: Kind,
    format: Option<DateFormat>,
    /// Milliseconds per unix unit as (multiply, divide): seconds = (1000, 1), micros = (1, 1000).
    unix_scale: (i64, i64),
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl TimestampConverter {
    pub(crate) fn new(part: Part) -> Self {
        TimestampConverter {
            part,
            field: String::new(),
            target: Kind::Timestamp,
            format: None,
            unix_scale: (1, 1),
            replace_null_with_default: true,
            cache: SchemaCache::default(),
        }
    }

    /// The target schema, optional like `source`.
    fn target_schema(&self, optional: bool) -> SchemaRef {
        let b = match self.target {
            Kind::String => SchemaBuilder::string(),
            Kind::Unix => SchemaBuilder::int64(),
            Kind::Date => SchemaBuilder::date(),
            Kind::Time => SchemaBuilder::time(),
            Kind::Timestamp => SchemaBuilder::timestamp(),
        };
        if optional {
            b.optional().build()
        } else {
            b.build()
        }
    }

    /// Reads a timestamp as epoch milliseconds; `schema` is the value's schema when known.
    fn to_millis(&self, value: &Value, schema: Option<&Schema>) -> Result<i64> {
        let unsupported = || {
            ConnectError::data(format!(
                "TimestampConverter does not support {} objects as timestamps",
                value.java_class()
            ))
        };
        if let Some(s) = schema {
            let logical = s.is_logical(ferry_api::schema::logical::DATE)
                || s.is_logical(ferry_api::schema::logical::TIME)
                || s.is_logical(ferry_api::schema::logical::TIMESTAMP);
            if !logical && !matches!(s.schema_type, SchemaType::Int64 | SchemaType::String) {
                return Err(ConnectError::data(format!(
                    "Schema {} does not correspond to a known timestamp type format",
                    s.schema_type
                )));
            }
        }
        Ok(match value {
            Value::Timestamp(ms) => *ms,
            Value::Date(days) => *days as i64 * MS_PER_DAY,
            Value::Time(ms) => *ms as i64,
            Value::Int64(n) => n * self.unix_scale.0 / self.unix_scale.1,
            Value::String(s) => {
                let f = self
                    .format
                    .as_ref()
                    .ok_or_else(|| ConnectError::data(FORMAT_REQUIRED))?;
                f.parse(s).map_err(|e| {
                    ConnectError::data(format!(
                        "Could not parse timestamp: value ({s}) does not match pattern: {e}"
                    ))
                })?
            }
            _ => return Err(unsupported()),
        })
    }

    fn millis_to_target(&self, ms: i64) -> Value {
        match self.target {
            Kind::String => Value::String(
                self.format
                    .as_ref()
                    .map(|f| f.format(ms))
                    .unwrap_or_default(),
            ),
            Kind::Unix => Value::Int64(if self.unix_scale.0 > 1 {
                ms / self.unix_scale.0
            } else {
                ms * self.unix_scale.1
            }),
            Kind::Date => Value::Date(ms.div_euclid(MS_PER_DAY) as i32),
            Kind::Time => Value::Time(ms.rem_euclid(MS_PER_DAY) as i32),
            Kind::Timestamp => Value::Timestamp(ms),
        }
    }

    fn convert(&self, value: &Value, schema: Option<&Schema>) -> Result<Value> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        Ok(self.millis_to_target(self.to_millis(value, schema)?))
    }
}

impl Transformation for TimestampConverter {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("field", ConfigType::String)
                    .default("")
                    .importance(Importance::High)
                    .doc("The field containing the timestamp, or empty if the entire value is a timestamp"),
            )
            .define(
                ConfigKey::new("target.type", ConfigType::String)
                    .importance(Importance::High)
                    .validator(Validator::OneOf(vec!["string", "unix", "Date", "Time", "Timestamp"]))
                    .doc("The desired timestamp representation: string, unix, Date, Time, or Timestamp"),
            )
            .define(
                ConfigKey::new("format", ConfigType::String)
                    .default("")
                    .importance(Importance::Medium)
                    .doc("A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string."),
            )
            .define(
                ConfigKey::new("unix.precision", ConfigType::String)
                    .default("milliseconds")
                    .importance(Importance::Low)
                    .validator(Validator::OneOf(vec!["nanoseconds", "microseconds", "milliseconds", "seconds"]))
                    .doc("The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds."),
            )
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.field = cfg.string("field").unwrap_or_default().to_owned();
        self.target = match cfg
            .string("target.type")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "string" => Kind::String,
            "unix" => Kind::Unix,
            "date" => Kind::Date,
            "time" => Kind::Time,
            _ => Kind::Timestamp,
        };
        let pattern = cfg.string("format").unwrap_or_default();
        self.format = if pattern.is_empty() {
            None
        } else {
            Some(DateFormat::new(pattern).map_err(|e| {
                ConnectError::config(format!(
                    "Invalid value {pattern} for configuration format: TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: {e}"
                ))
            })?)
        };
        if self.target == Kind::String && self.format.is_none() {
            return Err(ConnectError::config(FORMAT_REQUIRED));
        }
        self.unix_scale = match cfg
            .string("unix.precision")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "seconds" => (1000, 1),
            "microseconds" => (1, 1000),
            "nanoseconds" => (1, 1_000_000),
            _ => (1, 1),
        };
        self.replace_null_with_default = cfg.boolean(REPLACE_NULL_WITH_DEFAULT);
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let (schema, value) = self.part.take(&mut record);
        match (self.field.is_empty(), schema) {
            (true, None) => {
                let v = self.convert(&value, None)?;
                self.part.set(&mut record, None, v);
            }
            (true, Some(schema)) => {
                let v = self.convert(&value, Some(&schema))?;
                let target = self.target_schema(schema.optional);
                self.part.set(&mut record, Some(target), v);
            }
            (false, None) => {
                if value.is_null() {
                    self.part.set(&mut record, None, value);
                    return Ok(Some(record));
                }
                let mut map = into_map(value, PURPOSE)?;
                if let Some(v) = map_get(&map, &self.field) {
                    let converted = self.convert(v, None)?;
                    map_put(&mut map, &self.field, converted);
                }
                self.part.set(&mut record, None, Value::Map(map));
            }
            (false, Some(schema)) => {
                let field = self.field.clone();
                let target_field = schema
                    .field(&field)
                    .map(|f| self.target_schema(f.schema.optional))
                    .ok_or_else(|| {
                        ConnectError::data(format!("{field} is not a valid field name"))
                    })?;
                let updated = self.cache.get_or_build(&schema, |s| {
                    let mut out = struct_basics(s);
                    out.optional = s.optional;
                    for f in &s.fields {
                        let fs = if f.name == field {
                            target_field.clone()
                        } else {
                            f.schema.clone()
                        };
                        push_field(&mut out, &f.name, fs)?;
                    }
                    Ok(Arc::new(out))
                })?;
                if value.is_null() {
                    self.part.set(&mut record, Some(updated), Value::Null);
                    return Ok(Some(record));
                }
                let value = into_struct(value, PURPOSE)?;
                let mut values = Vec::with_capacity(schema.fields.len());
                for f in &schema.fields {
                    let v = field_value(&value, &f.name, self.replace_null_with_default);
                    values.push(if f.name == field {
                        self.convert(&v, Some(&f.schema))?
                    } else {
                        v
                    });
                }
                let s = build_struct(&updated, values)?;
                self.part.set(&mut record, Some(updated), s.into());
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{configured, map, props, schemaless, Pairs};
    use ferry_api::Struct;

    // 2017-01-03T06:30:01.864Z
    const TS: i64 = 1_483_425_001_864;
    const DAYS: i32 = 17169;
    const TIME: i32 = 23_401_864;

    #[test]
    fn schemaless_conversions() {
        let cases: Vec<(Pairs, Value, Value)> = vec![
            (
                &[("target.type", "Date")],
                Value::Timestamp(TS),
                Value::Date(DAYS),
            ),
            (
                &[("target.type", "Time")],
                Value::Timestamp(TS),
                Value::Time(TIME),
            ),
            (
                &[("target.type", "unix")],
                Value::Timestamp(TS),
                Value::Int64(TS),
            ),
            (
                &[("target.type", "unix"), ("unix.precision", "seconds")],
                Value::Timestamp(TS),
                Value::Int64(TS / 1000),
            ),
            (
                &[
                    ("target.type", "Timestamp"),
                    ("unix.precision", "microseconds"),
                ],
                Value::Int64(TS * 1000),
                Value::Timestamp(TS),
            ),
            (
                &[("target.type", "Timestamp"), ("unix.precision", "seconds")],
                Value::Int64(TS / 1000),
                Value::Timestamp(TS - 864),
            ),
            (
                &[
                    ("target.type", "string"),
                    ("format", "yyyy MM dd HH mm ss SSS"),
                ],
                Value::Timestamp(TS),
                Value::from("2017 01 03 06 30 01 864"),
            ),
            (
                &[
                    ("target.type", "Timestamp"),
                    ("format", "yyyy MM dd HH mm ss SSS"),
                ],
                Value::from("2017 01 03 06 30 01 864"),
                Value::Timestamp(TS),
            ),
            (
                &[("target.type", "Timestamp")],
                Value::Date(DAYS),
                Value::Timestamp(DAYS as i64 * MS_PER_DAY),
            ),
        ];
        for (cfg, input, expected) in cases {
            let mut t = configured(TimestampConverter::new(Part::Value), cfg);
            let out = t.apply(schemaless("t", input.clone())).unwrap().unwrap();
            assert_eq!(out.value, expected, "{cfg:?} {input:?}");
        }
        let mut t = configured(
            TimestampConverter::new(Part::Value),
            &[("target.type", "Date"), ("field", "ts")],
        );
        let out = t
            .apply(schemaless(
                "t",
                map(&[("ts", Value::Int64(TS)), ("o", Value::Int8(1))]),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(
            out.value,
            map(&[("ts", Value::Date(DAYS)), ("o", Value::Int8(1))])
        );
    }

    #[test]
    fn with_schema_and_errors() {
        let schema = SchemaBuilder::struct_()
            .field("ts", SchemaBuilder::timestamp().build())
            .field("other", Schema::string())
            .build();
        let value = Struct::new(schema.clone())
            .with("ts", Value::Timestamp(TS))
            .unwrap()
            .with("other", "x")
            .unwrap();
        let mut t = configured(
            TimestampConverter::new(Part::Value),
            &[
                ("target.type", "string"),
                ("field", "ts"),
                ("format", "yyyy-MM-dd"),
            ],
        );
        let out = t
            .apply(ConnectRecord::new("t", Some(schema), value.into()))
            .unwrap()
            .unwrap();
        assert_eq!(
            out.value_schema
                .as_ref()
                .unwrap()
                .field("ts")
                .unwrap()
                .schema,
            Schema::string()
        );
        assert_eq!(
            out.value.as_struct().unwrap().get("ts"),
            Some(&Value::from("2017-01-03"))
        );

        let mut t = configured(
            TimestampConverter::new(Part::Value),
            &[("target.type", "Date")],
        );
        let out = t
            .apply(ConnectRecord::new(
                "t",
                Some(SchemaBuilder::timestamp().optional().build()),
                Value::Timestamp(TS),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(out.value, Value::Date(DAYS));
        assert!(out
            .value_schema
            .unwrap()
            .is_logical(ferry_api::schema::logical::DATE));
        let err = t
            .apply(ConnectRecord::new(
                "t",
                Some(Schema::int32()),
                Value::Int32(1),
            ))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Schema INT32 does not correspond to a known timestamp type format"
        );
        let err = t.apply(schemaless("t", Value::Boolean(true))).unwrap_err();
        assert_eq!(
            err.message(),
            "TimestampConverter does not support java.lang.Boolean objects as timestamps"
        );
        let err = t.apply(schemaless("t", Value::from("2017"))).unwrap_err();
        assert_eq!(err.message(), FORMAT_REQUIRED);
        let err = TimestampConverter::new(Part::Value)
            .configure(&props(&[("target.type", "string")]))
            .unwrap_err();
        assert_eq!(err.message(), FORMAT_REQUIRED);
    }
}
