//! `MaskField$Key` / `MaskField$Value`: replaces the listed fields by their type's empty value
//! (`0`, `false`, `""`, empty array/map, epoch) or by `replacement` parsed as the field's type.

use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, Decimal, Importance, Props,
    Result, Struct, Transformation, Validator, Value,
};

use crate::headers::non_empty_list;
use crate::util::{field_value, into_map, into_struct, map_get, map_put, Part};

const PURPOSE: &str = "mask fields";

/// Kafka's `org.apache.kafka.connect.transforms.MaskField`.
#[derive(Debug)]
pub(crate) struct MaskField {
    part: Part,
    fields: Vec<String>,
    replacement: Option<String>,
}

impl MaskField {
    pub(crate) fn new(part: Part) -> Self {
        MaskField {
            part,
            fields: Vec::new(),
            replacement: None,
        }
    }

    /// The masked form of `value` (field `field`); null stays null.
    fn masked(&self, field: &str, value: &Value) -> Result<Value> {
        let Some(r) = &self.replacement else {
            return Ok(match value {
                Value::Null => Value::Null,
                Value::Boolean(_) => Value::Boolean(false),
                Value::Int8(_) => Value::Int8(0),
                Value::Int16(_) => Value::Int16(0),
                Value::Int32(_) => Value::Int32(0),
                Value::Int64(_) => Value::Int64(0),
                Value::Float32(_) => Value::Float32(0.0),
                Value::Float64(_) => Value::Float64(0.0),
                Value::String(_) => Value::String(String::new()),
                Value::Decimal(d) => Value::Decimal(Decimal::new(0, d.scale)),
                Value::Date(_) => Value::Date(0),
                Value::Time(_) => Value::Time(0),
                Value::Timestamp(_) => Value::Timestamp(0),
                Value::Array(_) => Value::Array(Vec::new()),
                Value::Map(_) => Value::Map(Vec::new()),
                Value::Bytes(_) | Value::Struct(_) => {
                    return Err(ConnectError::data(format!(
                        "Cannot mask value of type {} (field '{field}')",
                        value.java_class()
                    )))
                }
            });
        };
        let bad = || {
            ConnectError::data(format!(
                "Unable to convert {r} ({}) to mask field '{field}'",
                value.java_class()
            ))
        };
        let t = r.trim();
        Ok(match value {
            Value::Null => Value::Null,
            Value::Int8(_) => Value::Int8(t.parse().map_err(|_| bad())?),
            Value::Int16(_) => Value::Int16(t.parse().map_err(|_| bad())?),
            Value::Int32(_) => Value::Int32(t.parse().map_err(|_| bad())?),
            Value::Int64(_) => Value::Int64(t.parse().map_err(|_| bad())?),
            Value::Float32(_) => Value::Float32(t.parse().map_err(|_| bad())?),
            Value::Float64(_) => Value::Float64(t.parse().map_err(|_| bad())?),
            Value::String(_) => Value::String(r.clone()),
            Value::Decimal(d) => {
                let parsed = Decimal::parse(t).ok_or_else(bad)?;
                Value::Decimal(parsed.rescale(d.scale).ok_or_else(bad)?)
            }
            other => {
                return Err(ConnectError::data(format!(
                    "Cannot mask value of type {} with custom replacement (field '{field}').",
                    other.java_class()
                )))
            }
        })
    }
}

impl Transformation for MaskField {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("fields", ConfigType::List)
                    .importance(Importance::High)
                    .validator(non_empty_list())
                    .doc("Names of fields to mask."),
            )
            .define(
                ConfigKey::new("replacement", ConfigType::String)
                    .default_null()
                    .importance(Importance::Low)
                    .validator(Validator::NonEmptyString)
                    .doc("Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only)."),
            )
    }

    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.fields = cfg.list("fields").to_vec();
        self.replacement = cfg.string("replacement").map(str::to_owned);
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        if self.part.value(&record).is_null() {
            return Ok(Some(record));
        }
        let (schema, value) = self.part.take(&mut record);
        match schema {
            None => {
                let mut map = into_map(value, PURPOSE)?;
                for f in &self.fields {
                    // Kafka puts the masked value even for a missing field (then null).
                    let masked = self.masked(f, map_get(&map, f).unwrap_or(&Value::Null))?;
                    map_put(&mut map, f, masked);
                }
                self.part.set(&mut record, None, Value::Map(map));
            }
            Some(schema) => {
                let value = into_struct(value, PURPOSE)?;
                let mut out = Struct::new(schema.clone());
                for field in &schema.fields {
                    let v = field_value(&value, &field.name, true);
                    let v = if self.fields.contains(&field.name) {
                        self.masked(&field.name, &v)?
                    } else {
                        v
                    };
                    out.put(&field.name, v)?;
                }
                self.part.set(&mut record, Some(schema), out.into());
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{configured, map, schemaless};
    use ferry_api::{Schema, SchemaBuilder};

    #[test]
    fn masks_schemaless_with_empty_values_and_replacements() {
        let input = map(&[
            ("int", Value::Int32(42)),
            ("str", "secret".into()),
            ("bool", Value::Boolean(true)),
            ("list", Value::Array(vec![Value::Int8(1)])),
            ("keep", "me".into()),
        ]);
        let mut t = configured(
            MaskField::new(Part::Value),
            &[("fields", "int,str,bool,list")],
        );
        let out = t.apply(schemaless("t", input.clone())).unwrap().unwrap();
        assert_eq!(
            out.value,
            map(&[
                ("int", Value::Int32(0)),
                ("str", "".into()),
                ("bool", Value::Boolean(false)),
                ("list", Value::Array(vec![])),
                ("keep", "me".into()),
            ])
        );
        let mut t = configured(
            MaskField::new(Part::Value),
            &[("fields", "int,str"), ("replacement", "123")],
        );
        let out = t.apply(schemaless("t", input.clone())).unwrap().unwrap();
        assert_eq!(out.value.map_get("int"), Some(&Value::Int32(123)));
        assert_eq!(out.value.map_get("str"), Some(&Value::from("123")));
        let mut t = configured(
            MaskField::new(Part::Value),
            &[("fields", "int"), ("replacement", "abc")],
        );
        let err = t.apply(schemaless("t", input.clone())).unwrap_err();
        assert_eq!(
            err.message(),
            "Unable to convert abc (java.lang.Integer) to mask field 'int'"
        );
        let mut t = configured(
            MaskField::new(Part::Value),
            &[("fields", "bool"), ("replacement", "x")],
        );
        assert!(t
            .apply(schemaless("t", input))
            .unwrap_err()
            .message()
            .contains("field 'bool'"));
    }

    #[test]
    fn masks_with_schema() {
        let schema = SchemaBuilder::struct_()
            .field("ssn", Schema::string())
            .field("amount", SchemaBuilder::decimal(2).build())
            .field("id", Schema::int64())
            .build();
        let value = Struct::new(schema.clone())
            .with("ssn", "123-45-6789")
            .unwrap()
            .with("amount", Decimal::new(1234, 2))
            .unwrap()
            .with("id", 7i64)
            .unwrap();
        let mut t = configured(MaskField::new(Part::Value), &[("fields", "ssn,amount")]);
        let out = t
            .apply(ConnectRecord::new("t", Some(schema), value.into()))
            .unwrap()
            .unwrap();
        assert_eq!(
            out.value.as_struct().unwrap().values(),
            &[
                Value::from(""),
                Value::Decimal(Decimal::new(0, 2)),
                Value::Int64(7)
            ]
        );
    }
}
