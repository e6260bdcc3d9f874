//! `HeaderFrom$Key` / `HeaderFrom$Value`: copies or moves fields into headers (`fields[i]` becomes
//! header `headers[i]`, with the field's schema).

use std::sync::Arc;

use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, Importance, Props, Result,
    Transformation, Validator, Value,
};

use crate::headers::non_empty_list;
use crate::util::{
    build_struct, field_value, into_map, into_struct, map_get, push_field,
    replace_null_with_default_key, struct_basics, Part, SchemaCache, REPLACE_NULL_WITH_DEFAULT,
};

/// Kafka's `org.apache.kafka.connect.transforms.HeaderFrom`.
#[derive(Debug)]
pub(crate) struct HeaderFrom {
    part: Part,
    fields: Vec<String>,
    headers: Vec<String>,
    moving: bool,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl HeaderFrom {
    pub(crate) fn new(part: Part) -> Self {
        HeaderFrom {
            part,
            fields: Vec::new(),
            headers: Vec::new(),
            moving: false,
            replace_null_with_default: true,
            cache: SchemaCache::default(),
        }
    }
    fn purpose(&self) -> &'static str {
        if self.moving {
            "header move"
        } else {
            "header copy"
        }
    }
}

impl Transformation for HeaderFrom {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("fields", ConfigType::List)
                    .importance(Importance::High)
                    .validator(non_empty_list())
                    .doc("Field names in the record whose values are to be copied or moved to headers."),
            )
            .define(
                ConfigKey::new("headers", ConfigType::List)
                    .importance(Importance::High)
                    .validator(non_empty_list())
                    .doc("Header names, in the same order as the field names listed in the fields configuration property."),
            )
            .define(
                ConfigKey::new("operation", ConfigType::String)
                    .importance(Importance::High)
                    .validator(Validator::OneOf(vec!["move", "copy"]))
                    .doc("Either <code>move</code> if the fields are to be moved to the headers (removed from the key/value), or <code>copy</code> if the fields are to be copied to the headers (retained in the key/value)."),
            )
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.fields = cfg.list("fields").to_vec();
        self.headers = cfg.list("headers").to_vec();
        if self.fields.len() != self.headers.len() {
            return Err(ConnectError::config(format!(
                "Invalid value {} for configuration headers: 'fields' config must have the same number of elements as 'headers' config.",
                self.headers.join(",")
            )));
        }
        self.moving = cfg
            .string("operation")
            .is_some_and(|o| o.eq_ignore_ascii_case("move"));
        self.replace_null_with_default = cfg.boolean(REPLACE_NULL_WITH_DEFAULT);
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let purpose = self.purpose();
        let (schema, value) = self.part.take(&mut record);
        match schema {
            None => {
                let mut map = into_map(value, purpose)?;
                for (f, h) in self.fields.iter().zip(&self.headers) {
                    let v = map_get(&map, f).cloned().unwrap_or(Value::Null);
                    record.headers.add(h.clone(), None, v);
                }
                if self.moving {
                    map.retain(|(k, _)| {
                        !k.as_str()
                            .is_some_and(|k| self.fields.iter().any(|f| f == k))
                    });
                }
                self.part.set(&mut record, None, Value::Map(map));
            }
            Some(schema) => {
                let value = into_struct(value, purpose)?;
                for (f, h) in self.fields.iter().zip(&self.headers) {
                    let field = schema.field(f).ok_or_else(|| {
                        ConnectError::data(format!(
                            "Field {f} not found in schema {}",
                            schema.name_or_empty()
                        ))
                    })?;
                    let v = field_value(&value, f, self.replace_null_with_default);
                    record.headers.add(h.clone(), Some(field.schema.clone()), v);
                }
                if !self.moving {
                    self.part.set(&mut record, Some(schema), value.into());
                } else {
                    let fields = &self.fields;
                    let updated = self.cache.get_or_build(&schema, |s| {
                        let mut out = struct_basics(s);
                        for f in s.fields.iter().filter(|f| !fields.contains(&f.name)) {
                            push_field(&mut out, &f.name, f.schema.clone())?;
                        }
                        Ok(Arc::new(out))
                    })?;
                    let values = updated
                        .fields
                        .iter()
                        .map(|f| field_value(&value, &f.name, self.replace_null_with_default))
                        .collect();
                    let s = build_struct(&updated, values)?;
                    self.part.set(&mut record, Some(updated), s.into());
                }
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{configured, map, props, schemaless};
    use ferry_api::{Schema, SchemaBuilder, Struct};

    #[test]
    fn copy_and_move_schemaless() {
        let input = map(&[("a", Value::Int32(1)), ("b", "x".into())]);
        for (op, expected) in [("copy", input.clone()), ("move", map(&[("b", "x".into())]))] {
            let mut t = configured(
                HeaderFrom::new(Part::Value),
                &[("fields", "a"), ("headers", "h"), ("operation", op)],
            );
            let out = t.apply(schemaless("t", input.clone())).unwrap().unwrap();
            assert_eq!(out.value, expected, "{op}");
            assert_eq!(
                out.headers.last_with_name("h").unwrap().value,
                Value::Int32(1)
            );
        }
    }

    #[test]
    fn move_with_schema_and_config_errors() {
        let schema = SchemaBuilder::struct_()
            .name("s")
            .field("a", Schema::int32())
            .field("b", Schema::string())
            .build();
        let value = Struct::new(schema.clone())
            .with("a", 1i32)
            .unwrap()
            .with("b", "x")
            .unwrap();
        let mut t = configured(
            HeaderFrom::new(Part::Value),
            &[("fields", "a"), ("headers", "h"), ("operation", "move")],
        );
        let out = t
            .apply(ConnectRecord::new("t", Some(schema), value.into()))
            .unwrap()
            .unwrap();
        let s = out.value_schema.unwrap();
        assert_eq!(
            s.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
        let h = out.headers.last_with_name("h").unwrap();
        assert_eq!(
            (h.value.clone(), h.schema.clone()),
            (Value::Int32(1), Some(Schema::int32()))
        );

        let err = HeaderFrom::new(Part::Value)
            .configure(&props(&[
                ("fields", "a,b"),
                ("headers", "h"),
                ("operation", "copy"),
            ]))
            .unwrap_err();
        assert!(
            err.message().contains("same number of elements"),
            "{}",
            err.message()
        );
        let err = HeaderFrom::new(Part::Value)
            .configure(&props(&[
                ("fields", "a"),
                ("headers", "h"),
                ("operation", "steal"),
            ]))
            .unwrap_err();
        assert!(err
            .message()
            .starts_with("Invalid value steal for configuration operation"));
    }
}
