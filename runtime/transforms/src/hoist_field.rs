//! `HoistField$Key` / `HoistField$Value`: wraps the key/value in a struct (or map) under `field`.

use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectRecord, Importance, Props, Result, SchemaBuilder,
    Struct, Transformation, Value,
};

use crate::util::{Part, SchemaCache};

/// Kafka's `org.apache.kafka.connect.transforms.HoistField`.
#[derive(Debug)]
pub(crate) struct HoistField {
    part: Part,
    field: String,
    cache: SchemaCache,
}

impl HoistField {
    pub(crate) fn new(part: Part) -> Self {
        HoistField {
            part,
            field: String::new(),
            cache: SchemaCache::default(),
        }
    }
}

impl Transformation for HoistField {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("field", ConfigType::String)
                .importance(Importance::Medium)
                .doc("Field name for the single field that will be created in the resulting Struct or Map."),
        )
    }

    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.field = cfg.string("field").unwrap_or_default().to_owned();
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let (schema, value) = self.part.take(&mut record);
        match schema {
            None => {
                let map = Value::Map(vec![(Value::from(self.field.as_str()), value)]);
                self.part.set(&mut record, None, map);
            }
            Some(schema) => {
                let field = &self.field;
                let updated = self.cache.get_or_build(&schema, |s| {
                    SchemaBuilder::struct_()
                        .field(field.clone(), s.clone())
                        .try_build()
                })?;
                let mut s = Struct::new(updated.clone());
                s.put(field, value)?;
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
    use ferry_api::Schema;

    #[test]
    fn hoists_with_and_without_schema() {
        let mut t = configured(HoistField::new(Part::Key), &[("field", "magic")]);
        let out = t
            .apply(schemaless("t", Value::Null).with_key(None, Value::Int32(42)))
            .unwrap()
            .unwrap();
        assert_eq!(out.key, map(&[("magic", Value::Int32(42))]));

        let out = t
            .apply(schemaless("t", Value::Null).with_key(Some(Schema::int32()), Value::Int32(42)))
            .unwrap()
            .unwrap();
        let ks = out.key_schema.unwrap();
        assert_eq!(ks.field("magic").unwrap().schema, Schema::int32());
        assert_eq!(
            out.key.as_struct().unwrap().get("magic"),
            Some(&Value::Int32(42))
        );
        let err = t
            .apply(schemaless("t", Value::Null).with_key(Some(Schema::int32()), Value::from("x")))
            .unwrap_err();
        assert!(err.message().contains("\"magic\""), "{}", err.message());
    }
}
