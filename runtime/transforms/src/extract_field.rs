//! `ExtractField$Key` / `ExtractField$Value`: replaces the key/value by one of its fields.
//! `field.syntax.version=V2` (KIP-821) lets `field` be a dotted path into nested structs/maps.

use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, Importance, Props, Result,
    SchemaRef, Transformation, Validator, Value,
};

use crate::util::{
    field_value, map_get, replace_null_with_default_key, require_map, require_struct, Part,
    REPLACE_NULL_WITH_DEFAULT,
};

const PURPOSE: &str = "field extraction";

/// Kafka's `org.apache.kafka.connect.transforms.ExtractField`.
#[derive(Debug)]
pub(crate) struct ExtractField {
    part: Part,
    /// The configured `field`, as written (for messages).
    field: String,
    /// The path: one element with V1, dot-separated steps with V2.
    path: Vec<String>,
    replace_null_with_default: bool,
}

impl ExtractField {
    pub(crate) fn new(part: Part) -> Self {
        ExtractField {
            part,
            field: String::new(),
            path: Vec::new(),
            replace_null_with_default: true,
        }
    }

    /// The schema at the end of the path.
    fn schema_at(&self, schema: &SchemaRef) -> Result<SchemaRef> {
        let mut current = schema.clone();
        for step in &self.path {
            let next = current.field(step).map(|f| f.schema.clone());
            current =
                next.ok_or_else(|| ConnectError::data(format!("Unknown field: {}", self.field)))?;
        }
        Ok(current)
    }
}

impl Transformation for ExtractField {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("field", ConfigType::String)
                    .importance(Importance::Medium)
                    .doc("Field name to extract."),
            )
            .define(
                ConfigKey::new("field.syntax.version", ConfigType::String)
                    .default("V1")
                    .importance(Importance::High)
                    .validator(Validator::OneOf(vec!["V1", "V2"]))
                    .doc("Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. If set to `V2`, the syntax will support accessing nested elements."),
            )
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.field = cfg.string("field").unwrap_or_default().to_owned();
        let v2 = cfg
            .string("field.syntax.version")
            .is_some_and(|v| v.eq_ignore_ascii_case("V2"));
        self.path = if v2 {
            self.field.split('.').map(str::to_owned).collect()
        } else {
            vec![self.field.clone()]
        };
        self.replace_null_with_default = cfg.boolean(REPLACE_NULL_WITH_DEFAULT);
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let (schema, value) = self.part.take(&mut record);
        match schema {
            None => {
                let mut current = value;
                for step in &self.path {
                    if current.is_null() {
                        break;
                    }
                    let map = require_map(&current, PURPOSE)?;
                    current = map_get(map, step).cloned().unwrap_or(Value::Null);
                }
                self.part.set(&mut record, None, current);
            }
            Some(schema) => {
                let field_schema = self.schema_at(&schema)?;
                let mut current = value;
                for step in &self.path {
                    if current.is_null() {
                        break;
                    }
                    let s = require_struct(&current, PURPOSE)?;
                    current = field_value(s, step, self.replace_null_with_default);
                }
                self.part.set(&mut record, Some(field_schema), current);
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{configured, map, schemaless, Pairs};
    use ferry_api::{Schema, SchemaBuilder, Struct};

    #[test]
    fn schemaless_table() {
        let nested = map(&[
            ("magic", Value::Int32(42)),
            ("inner", map(&[("x", Value::Int8(1))])),
        ]);
        let cases: [(Pairs, Value, Value); 5] = [
            (&[("field", "magic")], nested.clone(), Value::Int32(42)),
            (&[("field", "nope")], nested.clone(), Value::Null),
            (&[("field", "magic")], Value::Null, Value::Null),
            (
                &[("field", "inner.x"), ("field.syntax.version", "V2")],
                nested.clone(),
                Value::Int8(1),
            ),
            (&[("field", "inner.x")], nested.clone(), Value::Null),
        ];
        for (cfg, key, expected) in cases {
            let mut t = configured(ExtractField::new(Part::Key), cfg);
            let out = t
                .apply(schemaless("t", Value::Null).with_key(None, key))
                .unwrap()
                .unwrap();
            assert_eq!(out.key, expected, "{cfg:?}");
        }
    }

    #[test]
    fn with_schema_and_errors() {
        let inner = SchemaBuilder::struct_().field("x", Schema::int8()).build();
        let schema = SchemaBuilder::struct_()
            .field("magic", Schema::int32())
            .field("inner", inner.clone())
            .build();
        let value: Value = Struct::new(schema.clone())
            .with("magic", 42i32)
            .unwrap()
            .with("inner", Struct::new(inner).with("x", 1i8).unwrap())
            .unwrap()
            .into();
        let rec = ConnectRecord::new("t", Some(schema.clone()), value);
        let mut t = configured(ExtractField::new(Part::Value), &[("field", "magic")]);
        let out = t.apply(rec.clone()).unwrap().unwrap();
        assert_eq!(out.value, Value::Int32(42));
        assert_eq!(out.value_schema, Some(Schema::int32()));
        let mut t = configured(
            ExtractField::new(Part::Value),
            &[("field", "inner.x"), ("field.syntax.version", "v2")],
        );
        assert_eq!(t.apply(rec.clone()).unwrap().unwrap().value, Value::Int8(1));
        let mut t = configured(ExtractField::new(Part::Value), &[("field", "nope")]);
        assert_eq!(t.apply(rec).unwrap_err().message(), "Unknown field: nope");
        let mut t = configured(ExtractField::new(Part::Value), &[("field", "magic")]);
        let err = t
            .apply(ConnectRecord::new("t", Some(schema), Value::Int8(1)))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Only Struct objects supported for [field extraction], found: java.lang.Byte"
        );
    }
}
