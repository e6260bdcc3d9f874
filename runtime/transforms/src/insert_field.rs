//! `InsertField$Key` / `InsertField$Value`: adds the record's topic, partition, offset, timestamp
//! and/or a static string as fields. A field name suffixed `!` is required, `?` (or nothing)
//! optional. Tombstones (null key/value) pass through unchanged.

use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, Importance, Props, Result,
    Schema, SchemaBuilder, SchemaRef, Transformation, Value,
};

use crate::util::{
    build_struct, into_map, into_struct, map_put, push_field, replace_null_with_default_key,
    struct_basics, take_field_values, Part, SchemaCache, REPLACE_NULL_WITH_DEFAULT,
};

const PURPOSE: &str = "field insertion";

/// A configured field name with its optionality.
#[derive(Debug, Clone, PartialEq)]
struct InsertionSpec {
    name: String,
    optional: bool,
}

impl InsertionSpec {
    fn parse(spec: Option<&str>) -> Option<Self> {
        let spec = spec?.trim();
        if spec.is_empty() {
            return None;
        }
        Some(if let Some(name) = spec.strip_suffix('!') {
            InsertionSpec {
                name: name.into(),
                optional: false,
            }
        } else if let Some(name) = spec.strip_suffix('?') {
            InsertionSpec {
                name: name.into(),
                optional: true,
            }
        } else {
            InsertionSpec {
                name: spec.into(),
                optional: true,
            }
        })
    }
}

/// Kafka's `org.apache.kafka.connect.transforms.InsertField`.
#[derive(Debug)]
pub(crate) struct InsertField {
    part: Part,
    topic: Option<InsertionSpec>,
    partition: Option<InsertionSpec>,
    offset: Option<InsertionSpec>,
    timestamp: Option<InsertionSpec>,
    static_field: Option<InsertionSpec>,
    static_value: Option<String>,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl InsertField {
    pub(crate) fn new(part: Part) -> Self {
        InsertField {
            part,
            topic: None,
            partition: None,
            offset: None,
            timestamp: None,
            static_field: None,
            static_value: None,
            replace_null_with_default: true,
            cache: SchemaCache::default(),
        }
    }

    /// The inserted fields in Kafka's order, with their schema and this record's value.
    fn insertions(
        &self,
        record: &ConnectRecord,
        with_schema: bool,
    ) -> Result<Vec<(&InsertionSpec, SchemaRef, Value)>> {
        let mut out = Vec::new();
        let pick = |spec: &InsertionSpec, req: fn() -> SchemaRef, opt: fn() -> SchemaRef| {
            if spec.optional {
                opt()
            } else {
                req()
            }
        };
        if let Some(spec) = &self.topic {
            out.push((
                spec,
                pick(spec, Schema::string, Schema::optional_string),
                Value::String(record.topic.clone()),
            ));
        }
        if let Some(spec) = &self.partition {
            let v = record.kafka_partition.map_or(Value::Null, Value::Int32);
            out.push((spec, pick(spec, Schema::int32, Schema::optional_int32), v));
        }
        if let Some(spec) = &self.offset {
            let offset = record.kafka_offset.ok_or_else(|| {
                ConnectError::data(format!(
                    "Only SinkRecord supported for [{PURPOSE}], found: org.apache.kafka.connect.source.SourceRecord"
                ))
            })?;
            out.push((
                spec,
                pick(spec, Schema::int64, Schema::optional_int64),
                Value::Int64(offset),
            ));
        }
        if let Some(spec) = &self.timestamp {
            let v = match record.timestamp {
                Some(ts) if with_schema => Value::Timestamp(ts),
                Some(ts) => Value::Int64(ts),
                None => Value::Null,
            };
            let schema = if spec.optional {
                SchemaBuilder::timestamp().optional().build()
            } else {
                SchemaBuilder::timestamp().build()
            };
            out.push((spec, schema, v));
        }
        if let Some(spec) = &self.static_field {
            let v = self.static_value.clone().map_or(Value::Null, Value::String);
            out.push((spec, pick(spec, Schema::string, Schema::optional_string), v));
        }
        Ok(out)
    }
}

impl Transformation for InsertField {
    fn config_def(&self) -> ConfigDef {
        let field = |name: &str, doc: &str| {
            ConfigKey::new(name, ConfigType::String)
                .default_null()
                .importance(Importance::Medium)
                .doc(format!("{doc} Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default)."))
        };
        ConfigDef::new()
            .define(field("topic.field", "Field name for Kafka topic."))
            .define(field("partition.field", "Field name for Kafka partition."))
            .define(field(
                "offset.field",
                "Field name for Kafka offset - only applicable to sink connectors.",
            ))
            .define(field("timestamp.field", "Field name for record timestamp."))
            .define(field("static.field", "Field name for static data field."))
            .define(
                ConfigKey::new("static.value", ConfigType::String)
                    .default_null()
                    .importance(Importance::Medium)
                    .doc("Static field value, if field name configured."),
            )
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.topic = InsertionSpec::parse(cfg.string("topic.field"));
        self.partition = InsertionSpec::parse(cfg.string("partition.field"));
        self.offset = InsertionSpec::parse(cfg.string("offset.field"));
        self.timestamp = InsertionSpec::parse(cfg.string("timestamp.field"));
        self.static_field = InsertionSpec::parse(cfg.string("static.field"));
        self.static_value = cfg.string("static.value").map(str::to_owned);
        self.replace_null_with_default = cfg.boolean(REPLACE_NULL_WITH_DEFAULT);
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        if self.part.value(&record).is_null() {
            return Ok(Some(record));
        }
        let with_schema = self.part.schema(&record).is_some();
        let inserted: Vec<(String, SchemaRef, Value)> = self
            .insertions(&record, with_schema)?
            .into_iter()
            .map(|(spec, schema, value)| (spec.name.clone(), schema, value))
            .collect();
        let (schema, value) = self.part.take(&mut record);
        match schema {
            None => {
                let mut map = into_map(value, PURPOSE)?;
                for (name, _, v) in inserted {
                    map_put(&mut map, &name, v);
                }
                self.part.set(&mut record, None, Value::Map(map));
            }
            Some(schema) => {
                let value = into_struct(value, PURPOSE)?;
                let updated = self.cache.get_or_build(&schema, |s| {
                    let mut out = struct_basics(s);
                    for f in &s.fields {
                        push_field(&mut out, &f.name, f.schema.clone())?;
                    }
                    for (name, field_schema, _) in &inserted {
                        push_field(&mut out, name, field_schema.clone())?;
                    }
                    Ok(std::sync::Arc::new(out))
                })?;
                // The derived schema starts with the input's fields in order: move their values.
                let mut values = take_field_values(value, self.replace_null_with_default);
                values.extend(inserted.into_iter().map(|(_, _, v)| v));
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
    use ferry_api::{SchemaBuilder, Struct};

    fn all_fields() -> [(&'static str, &'static str); 6] {
        [
            ("topic.field", "topic_field!"),
            ("partition.field", "partition_field"),
            ("offset.field", "offset_field?"),
            ("timestamp.field", "timestamp_field?"),
            ("static.field", "instance_id"),
            ("static.value", "my-instance-id"),
        ]
    }

    fn sink_record(value_schema: Option<SchemaRef>, value: Value) -> ConnectRecord {
        let mut r = ConnectRecord::new("test", value_schema, value);
        r.kafka_partition = Some(0);
        r.kafka_offset = Some(42);
        r.timestamp = Some(1_483_425_001_864);
        r
    }

    #[test]
    fn schemaless_insert_on_value() {
        let mut t = configured(InsertField::new(Part::Value), &all_fields());
        let out = t
            .apply(sink_record(None, map(&[("magic", Value::Int64(42))])))
            .unwrap()
            .unwrap();
        assert_eq!(
            out.value,
            map(&[
                ("magic", Value::Int64(42)),
                ("topic_field", "test".into()),
                ("partition_field", Value::Int32(0)),
                ("offset_field", Value::Int64(42)),
                ("timestamp_field", Value::Int64(1_483_425_001_864)),
                ("instance_id", "my-instance-id".into()),
            ])
        );
    }

    #[test]
    fn insert_with_schema_builds_schema_once() {
        let mut t = configured(InsertField::new(Part::Value), &all_fields());
        let schema = SchemaBuilder::struct_()
            .name("name")
            .version(1)
            .doc("doc")
            .field("magic", Schema::optional_int64())
            .build();
        let value: Value = Struct::new(schema.clone())
            .with("magic", 42i64)
            .unwrap()
            .into();
        let out = t
            .apply(sink_record(Some(schema.clone()), value.clone()))
            .unwrap()
            .unwrap();
        let s = out.value_schema.clone().unwrap();
        assert_eq!(s.name.as_deref(), Some("name"));
        assert_eq!(s.version, Some(1));
        assert_eq!(s.doc.as_deref(), Some("doc"));
        let names: Vec<_> = s.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "magic",
                "topic_field",
                "partition_field",
                "offset_field",
                "timestamp_field",
                "instance_id"
            ]
        );
        assert!(!s.field("topic_field").unwrap().schema.optional);
        assert!(s.field("partition_field").unwrap().schema.optional);
        let v = out.value.as_struct().unwrap();
        assert_eq!(v.get("magic"), Some(&Value::Int64(42)));
        assert_eq!(v.get("topic_field"), Some(&Value::from("test")));
        assert_eq!(v.get("partition_field"), Some(&Value::Int32(0)));
        assert_eq!(v.get("offset_field"), Some(&Value::Int64(42)));
        assert_eq!(
            v.get("timestamp_field"),
            Some(&Value::Timestamp(1_483_425_001_864))
        );
        assert_eq!(v.get("instance_id"), Some(&Value::from("my-instance-id")));
        // The derived schema is reused, not rebuilt.
        let again = t.apply(sink_record(Some(schema), value)).unwrap().unwrap();
        assert!(std::sync::Arc::ptr_eq(
            &s,
            again.value_schema.as_ref().unwrap()
        ));
    }

    #[test]
    fn tombstones_pass_and_wrong_types_fail() {
        let mut t = configured(InsertField::new(Part::Value), &all_fields());
        let tomb = sink_record(None, Value::Null);
        assert_eq!(t.apply(tomb.clone()).unwrap(), Some(tomb));
        let err = t.apply(sink_record(None, Value::Int32(3))).unwrap_err();
        assert_eq!(
            err.message(),
            "Only Map objects supported in absence of schema for [field insertion], found: java.lang.Integer"
        );
        let err = t
            .apply(sink_record(
                Some(SchemaBuilder::struct_().build()),
                Value::Int32(3),
            ))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Only Struct objects supported for [field insertion], found: java.lang.Integer"
        );
    }

    #[test]
    fn offset_needs_a_sink_record_and_key_variant_works() {
        let mut t = configured(
            InsertField::new(Part::Key),
            &[("offset.field", "off"), ("topic.field", "t")],
        );
        let source = schemaless("test", Value::Null).with_key(None, map(&[]));
        assert!(t
            .apply(source)
            .unwrap_err()
            .message()
            .contains("Only SinkRecord supported"));
        let mut t = configured(InsertField::new(Part::Key), &[("topic.field", "t")]);
        let out = t
            .apply(schemaless("orders", Value::Null).with_key(None, map(&[])))
            .unwrap()
            .unwrap();
        assert_eq!(out.key, map(&[("t", "orders".into())]));
    }
}
