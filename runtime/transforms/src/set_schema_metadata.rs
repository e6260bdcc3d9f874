//! `SetSchemaMetadata$Key` / `SetSchemaMetadata$Value`: sets the schema name and/or version,
//! keeping everything else; a struct value is re-attached to the renamed schema.

use std::sync::Arc;

use ferry_api::config::ParsedValue;
use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, Importance, Props, Result,
    Struct, Transformation, Value,
};

use crate::util::{require_schema, Part, SchemaCache};

const PURPOSE: &str = "updating schema metadata";

/// Kafka's `org.apache.kafka.connect.transforms.SetSchemaMetadata`.
#[derive(Debug)]
pub(crate) struct SetSchemaMetadata {
    part: Part,
    name: Option<String>,
    version: Option<i32>,
    cache: SchemaCache,
}

impl SetSchemaMetadata {
    pub(crate) fn new(part: Part) -> Self {
        SetSchemaMetadata {
            part,
            name: None,
            version: None,
            cache: SchemaCache::default(),
        }
    }
}

impl Transformation for SetSchemaMetadata {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("schema.name", ConfigType::String)
                    .default_null()
                    .importance(Importance::High)
                    .doc("Schema name to set."),
            )
            .define(
                ConfigKey::new("schema.version", ConfigType::Int)
                    .default_null()
                    .importance(Importance::High)
                    .doc("Schema version to set."),
            )
    }

    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.name = cfg.string("schema.name").map(str::to_owned);
        self.version = match cfg.value("schema.version") {
            Some(ParsedValue::Int(v)) => Some(*v),
            _ => None,
        };
        if self.name.is_none() && self.version.is_none() {
            return Err(ConnectError::config(
                "Neither schema name nor version configured",
            ));
        }
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let schema = require_schema(self.part.schema(&record), PURPOSE)?.clone();
        let (name, version) = (&self.name, self.version);
        let updated = self.cache.get_or_build(&schema, |s| {
            let mut out = (**s).clone();
            if let Some(n) = name {
                out.name = Some(n.clone());
            }
            if let Some(v) = version {
                out.version = Some(v);
            }
            Ok(Arc::new(out))
        })?;
        let (_, value) = self.part.take(&mut record);
        let value = match value {
            Value::Struct(s) => {
                let mut out = Struct::new(updated.clone());
                for (i, v) in s.values().iter().enumerate() {
                    out.put_unchecked(i, v.clone());
                }
                out.into()
            }
            other => other,
        };
        self.part.set(&mut record, Some(updated), value);
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{configured, props, schemaless};
    use ferry_api::{Schema, SchemaBuilder};

    #[test]
    fn sets_name_and_version() {
        let schema = SchemaBuilder::struct_()
            .name("old")
            .field("a", Schema::int32())
            .build();
        let value: Value = Struct::new(schema.clone()).with("a", 1i32).unwrap().into();
        let mut t = configured(
            SetSchemaMetadata::new(Part::Value),
            &[("schema.name", "foo"), ("schema.version", "42")],
        );
        let out = t
            .apply(ConnectRecord::new("t", Some(schema), value))
            .unwrap()
            .unwrap();
        let s = out.value_schema.unwrap();
        assert_eq!((s.name.as_deref(), s.version), (Some("foo"), Some(42)));
        let v = out.value.as_struct().unwrap();
        assert!(Arc::ptr_eq(v.schema(), &s));
        assert_eq!(v.get("a"), Some(&Value::Int32(1)));

        let err = t.apply(schemaless("t", Value::Int8(1))).unwrap_err();
        assert_eq!(
            err.message(),
            "Schema required for [updating schema metadata]"
        );
        let err = SetSchemaMetadata::new(Part::Key)
            .configure(&props(&[]))
            .unwrap_err();
        assert_eq!(err.message(), "Neither schema name nor version configured");
    }
}
