//! `Flatten$Key` / `Flatten$Value`: flattens nested structs (or nested maps, schemaless) into
//! top-level fields named by joining the path with `delimiter`. Arrays and maps inside a schema
//! are kept as they are; a field under an optional struct becomes optional.

use std::sync::Arc;

use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectRecord, Importance, Props, Result, Schema, SchemaType,
    Struct, Transformation, Value,
};

use crate::util::{
    build_struct, into_struct, push_field, require_map, struct_basics, Part, SchemaCache,
};

const PURPOSE: &str = "flattening";

/// Kafka's `org.apache.kafka.connect.transforms.Flatten`.
#[derive(Debug)]
pub(crate) struct Flatten {
    part: Part,
    delimiter: String,
    cache: SchemaCache,
}

impl Flatten {
    pub(crate) fn new(part: Part) -> Self {
        Flatten {
            part,
            delimiter: ".".into(),
            cache: SchemaCache::default(),
        }
    }

    fn flatten_map(
        &self,
        prefix: &str,
        entries: &[(Value, Value)],
        out: &mut Vec<(Value, Value)>,
    ) -> Result<()> {
        for (k, v) in entries {
            let key = match k {
                Value::String(s) => s.clone(),
                other => {
                    return Err(ferry_api::ConnectError::data(format!(
                        "Flatten only supports string keys in maps, found: {}",
                        other.java_class()
                    )))
                }
            };
            let name = joined(&self.delimiter, prefix, &key);
            match v {
                Value::Map(inner) => self.flatten_map(&name, inner, out)?,
                other => out.push((Value::String(name), other.clone())),
            }
        }
        Ok(())
    }

    fn flatten_values(value: Option<&Struct>, schema: &Schema, out: &mut Vec<Value>) {
        for f in &schema.fields {
            let v = value.map_or(&Value::Null, |s| s.get_at(f.index));
            if f.schema.schema_type == SchemaType::Struct {
                Self::flatten_values(v.as_struct(), &f.schema, out);
            } else {
                out.push(v.clone());
            }
        }
    }
}

/// `prefix` + `delimiter` + `name`, or `name` at the top level.
fn joined(delimiter: &str, prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}{delimiter}{name}")
    }
}

/// Appends the flattened fields of `schema` to `out`.
fn flatten_schema(
    delimiter: &str,
    prefix: &str,
    schema: &Schema,
    optional: bool,
    out: &mut Schema,
) -> Result<()> {
    for f in &schema.fields {
        let name = joined(delimiter, prefix, &f.name);
        let opt = optional || f.schema.optional;
        if f.schema.schema_type == SchemaType::Struct {
            flatten_schema(delimiter, &name, &f.schema, opt, out)?;
        } else if opt && !f.schema.optional {
            push_field(out, &name, Arc::new(f.schema.to_optional()))?;
        } else {
            push_field(out, &name, f.schema.clone())?;
        }
    }
    Ok(())
}

impl Transformation for Flatten {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("delimiter", ConfigType::String)
                .default(".")
                .importance(Importance::Medium)
                .doc("Delimiter to insert between field names from the input record when generating field names for the output record"),
        )
    }

    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        // Values are trimmed by the config parser; a delimiter is taken as written when given.
        self.delimiter = props
            .get("delimiter")
            .cloned()
            .unwrap_or_else(|| cfg.string("delimiter").unwrap_or(".").to_owned());
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let (schema, value) = self.part.take(&mut record);
        match schema {
            None => {
                if value.is_null() {
                    self.part.set(&mut record, None, value);
                    return Ok(Some(record));
                }
                let mut out = Vec::new();
                self.flatten_map("", require_map(&value, PURPOSE)?, &mut out)?;
                self.part.set(&mut record, None, Value::Map(out));
            }
            Some(schema) => {
                let delimiter = &self.delimiter;
                let updated = self.cache.get_or_build(&schema, |s| {
                    let mut out = struct_basics(s);
                    out.optional = s.optional;
                    flatten_schema(delimiter, "", s, s.optional, &mut out)?;
                    Ok(Arc::new(out))
                })?;
                if value.is_null() {
                    self.part.set(&mut record, Some(updated), Value::Null);
                    return Ok(Some(record));
                }
                let value = into_struct(value, PURPOSE)?;
                let mut values = Vec::with_capacity(updated.fields.len());
                Self::flatten_values(Some(&value), &schema, &mut values);
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
    use crate::util::testing::{configured, map, schemaless};
    use ferry_api::SchemaBuilder;

    #[test]
    fn flattens_nested_maps() {
        let input = map(&[
            (
                "A",
                map(&[("B", map(&[("int8", Value::Int8(8))])), ("s", "x".into())]),
            ),
            ("list", Value::Array(vec![Value::Int8(1)])),
        ]);
        let mut t = configured(Flatten::new(Part::Value), &[]);
        let out = t.apply(schemaless("t", input.clone())).unwrap().unwrap();
        assert_eq!(
            out.value,
            map(&[
                ("A.B.int8", Value::Int8(8)),
                ("A.s", "x".into()),
                ("list", Value::Array(vec![Value::Int8(1)]))
            ])
        );
        let mut t = configured(Flatten::new(Part::Value), &[("delimiter", "_")]);
        let out = t.apply(schemaless("t", input)).unwrap().unwrap();
        assert_eq!(out.value.map_get("A_B_int8"), Some(&Value::Int8(8)));
    }

    #[test]
    fn flattens_structs_and_makes_children_of_optional_structs_optional() {
        let inner = SchemaBuilder::struct_()
            .optional()
            .field("x", Schema::int32())
            .build();
        let schema = SchemaBuilder::struct_()
            .name("s")
            .field("id", Schema::int64())
            .field("inner", inner.clone())
            .build();
        let value = Struct::new(schema.clone())
            .with("id", 1i64)
            .unwrap()
            .with("inner", Struct::new(inner).with("x", 5i32).unwrap())
            .unwrap();
        let mut t = configured(Flatten::new(Part::Value), &[]);
        let out = t
            .apply(ConnectRecord::new("t", Some(schema.clone()), value.into()))
            .unwrap()
            .unwrap();
        let s = out.value_schema.unwrap();
        assert_eq!(
            s.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["id", "inner.x"]
        );
        assert!(s.field("inner.x").unwrap().schema.optional);
        assert_eq!(
            out.value.as_struct().unwrap().values(),
            &[Value::Int64(1), Value::Int32(5)]
        );
        let err = t
            .apply(ConnectRecord::new("t", Some(schema), Value::Int8(1)))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Only Struct objects supported for [flattening], found: java.lang.Byte"
        );
    }
}
