//! `ValueToKey`: replaces the key with a struct (or map, schemaless) of fields copied from the value.

use std::sync::Arc;

use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, Importance, Props, Result,
    Schema, SchemaType, Transformation, Value,
};

use crate::headers::non_empty_list;
use crate::util::{
    build_struct, field_value, map_get, push_field, replace_null_with_default_key, require_map,
    require_schema, require_struct, SchemaCache, REPLACE_NULL_WITH_DEFAULT,
};

const PURPOSE: &str = "copying fields from value to key";

/// Kafka's `org.apache.kafka.connect.transforms.ValueToKey`.
#[derive(Debug, Default)]
pub(crate) struct ValueToKey {
    fields: Vec<String>,
    replace_null_with_default: bool,
    /// Value schema → key schema.
    cache: SchemaCache,
}

impl Transformation for ValueToKey {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("fields", ConfigType::List)
                    .importance(Importance::High)
                    .validator(non_empty_list())
                    .doc("Field names on the record value to extract as the record key."),
            )
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.fields = cfg.list("fields").to_vec();
        self.replace_null_with_default = cfg.boolean(REPLACE_NULL_WITH_DEFAULT);
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        match &record.value_schema {
            None => {
                let map = require_map(&record.value, PURPOSE)?;
                let key = self
                    .fields
                    .iter()
                    .map(|f| {
                        (
                            Value::from(f.as_str()),
                            map_get(map, f).cloned().unwrap_or(Value::Null),
                        )
                    })
                    .collect();
                record.key_schema = None;
                record.key = Value::Map(key);
            }
            Some(schema) => {
                let schema = require_schema(Some(schema), PURPOSE)?;
                let value = require_struct(&record.value, PURPOSE)?;
                let key_schema = self.cache.get_or_build(schema, |s| {
                    let mut out = Schema::of(SchemaType::Struct, false);
                    for name in &self.fields {
                        let field = s.field(name).ok_or_else(|| {
                            ConnectError::data(format!("Field does not exist: {name}"))
                        })?;
                        push_field(&mut out, name, field.schema.clone())?;
                    }
                    Ok(Arc::new(out))
                })?;
                let values = self
                    .fields
                    .iter()
                    .map(|f| field_value(value, f, self.replace_null_with_default))
                    .collect();
                let key = build_struct(&key_schema, values)?;
                record.key_schema = Some(key_schema);
                record.key = key.into();
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{configured, map, props, schemaless};
    use ferry_api::{SchemaBuilder, Struct};

    #[test]
    fn schemaless_copies_fields() {
        let mut t = configured(ValueToKey::default(), &[("fields", "a,b")]);
        let value = map(&[
            ("a", Value::Int32(1)),
            ("b", Value::Int32(2)),
            ("c", Value::Int32(3)),
        ]);
        let out = t.apply(schemaless("t", value.clone())).unwrap().unwrap();
        assert_eq!(
            out.key,
            map(&[("a", Value::Int32(1)), ("b", Value::Int32(2))])
        );
        assert_eq!(out.value, value);
    }

    #[test]
    fn with_schema_builds_a_key_struct() {
        let schema = SchemaBuilder::struct_()
            .field("a", Schema::int32())
            .field("b", Schema::int32())
            .field("c", Schema::int32())
            .build();
        let value = Struct::new(schema.clone())
            .with("a", 1i32)
            .unwrap()
            .with("b", 2i32)
            .unwrap()
            .with("c", 3i32)
            .unwrap();
        let mut t = configured(ValueToKey::default(), &[("fields", "a,b")]);
        let out = t
            .apply(ConnectRecord::new(
                "t",
                Some(schema.clone()),
                value.clone().into(),
            ))
            .unwrap()
            .unwrap();
        let ks = out.key_schema.unwrap();
        assert_eq!(
            ks.fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(
            out.key.as_struct().unwrap().values(),
            &[Value::Int32(1), Value::Int32(2)]
        );

        let mut t = configured(ValueToKey::default(), &[("fields", "not_exist")]);
        let err = t
            .apply(ConnectRecord::new("t", Some(schema), value.into()))
            .unwrap_err();
        assert_eq!(err.message(), "Field does not exist: not_exist");
        assert!(ValueToKey::default().configure(&props(&[])).is_err());
    }
}
