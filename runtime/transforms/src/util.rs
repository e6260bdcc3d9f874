//! Helpers shared by the transforms: which part of a record a `$Key`/`$Value` variant works on,
//! Kafka's `Requirements` checks (with Kafka's messages), schemaless map access, schema copying
//! and the derived-schema cache.

use std::sync::Arc;

use ferry_api::{
    ConfigKey, ConfigType, ConnectError, ConnectRecord, Importance, Result, Schema, SchemaRef,
    SchemaType, Struct, Value,
};

/// The part of the record a transform works on: Kafka's nested `$Key` / `$Value` classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Key,
    Value,
}

impl Part {
    /// The schema of this part.
    pub(crate) fn schema(self, r: &ConnectRecord) -> Option<&SchemaRef> {
        match self {
            Part::Key => r.key_schema.as_ref(),
            Part::Value => r.value_schema.as_ref(),
        }
    }
    /// The value of this part.
    pub(crate) fn value(self, r: &ConnectRecord) -> &Value {
        match self {
            Part::Key => &r.key,
            Part::Value => &r.value,
        }
    }
    /// Moves schema and value out of the record (leaving null), to rebuild them without clones.
    pub(crate) fn take(self, r: &mut ConnectRecord) -> (Option<SchemaRef>, Value) {
        match self {
            Part::Key => (r.key_schema.take(), std::mem::take(&mut r.key)),
            Part::Value => (r.value_schema.take(), std::mem::take(&mut r.value)),
        }
    }
    /// Sets schema and value of this part.
    pub(crate) fn set(self, r: &mut ConnectRecord, schema: Option<SchemaRef>, value: Value) {
        match self {
            Part::Key => {
                r.key_schema = schema;
                r.key = value;
            }
            Part::Value => {
                r.value_schema = schema;
                r.value = value;
            }
        }
    }
}

/// Kafka's `Requirements.requireSchema`.
pub(crate) fn require_schema<'a>(
    schema: Option<&'a SchemaRef>,
    purpose: &str,
) -> Result<&'a SchemaRef> {
    schema.ok_or_else(|| ConnectError::data(format!("Schema required for [{purpose}]")))
}

fn not_a_struct(value: &Value, purpose: &str) -> ConnectError {
    ConnectError::data(format!(
        "Only Struct objects supported for [{purpose}], found: {}",
        value.java_class()
    ))
}

fn not_a_map(value: &Value, purpose: &str) -> ConnectError {
    ConnectError::data(format!(
        "Only Map objects supported in absence of schema for [{purpose}], found: {}",
        value.java_class()
    ))
}

/// Kafka's `Requirements.requireStruct`.
pub(crate) fn require_struct<'a>(value: &'a Value, purpose: &str) -> Result<&'a Struct> {
    match value {
        Value::Struct(s) => Ok(s),
        other => Err(not_a_struct(other, purpose)),
    }
}

/// Kafka's `Requirements.requireMap`: the entries of a schemaless map value.
pub(crate) fn require_map<'a>(value: &'a Value, purpose: &str) -> Result<&'a [(Value, Value)]> {
    match value {
        Value::Map(m) => Ok(m),
        other => Err(not_a_map(other, purpose)),
    }
}

/// Owned variant of [`require_map`].
pub(crate) fn into_map(value: Value, purpose: &str) -> Result<Vec<(Value, Value)>> {
    match value {
        Value::Map(m) => Ok(m),
        other => Err(not_a_map(&other, purpose)),
    }
}

/// Owned variant of [`require_struct`].
pub(crate) fn into_struct(value: Value, purpose: &str) -> Result<Struct> {
    match value {
        Value::Struct(s) => Ok(*s),
        other => Err(not_a_struct(&other, purpose)),
    }
}

/// The value for string key `key` in a schemaless map.
pub(crate) fn map_get<'a>(map: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

/// Sets string key `key` (Java `HashMap.put`: replaces in place or appends).
pub(crate) fn map_put(map: &mut Vec<(Value, Value)>, key: &str, value: Value) {
    match map.iter_mut().find(|(k, _)| k.as_str() == Some(key)) {
        Some(slot) => slot.1 = value,
        None => map.push((Value::String(key.to_owned()), value)),
    }
}

/// A struct field's value: with the field default applied when `with_default` (Kafka's
/// `replace.null.with.default`), raw otherwise. Null when the field does not exist.
pub(crate) fn field_value(s: &Struct, name: &str, with_default: bool) -> Value {
    let v = if with_default {
        s.get(name)
    } else {
        s.get_without_default(name)
    };
    v.cloned().unwrap_or(Value::Null)
}

/// A STRUCT schema with the name, version, doc and parameters of `source` and no fields (Kafka's
/// `SchemaUtil.copySchemaBasics(source, SchemaBuilder.struct())`: optionality is not copied).
pub(crate) fn struct_basics(source: &Schema) -> Schema {
    let mut out = Schema::of(SchemaType::Struct, false);
    out.name = source.name.clone();
    out.version = source.version;
    out.doc = source.doc.clone();
    out.parameters = source.parameters.clone();
    out
}

/// Appends a field to a struct schema under construction, rejecting duplicates as Kafka does.
pub(crate) fn push_field(schema: &mut Schema, name: &str, field_schema: SchemaRef) -> Result<()> {
    if schema.field(name).is_some() {
        return Err(ConnectError::data(format!(
            "Cannot create field because of field name duplication {name}"
        )));
    }
    let index = schema.fields.len();
    schema.fields.push(ferry_api::Field {
        name: name.to_owned(),
        index,
        schema: field_schema,
    });
    Ok(())
}

/// Builds a struct value of `schema` from values in field order, checking each against its field.
pub(crate) fn build_struct(schema: &SchemaRef, values: Vec<Value>) -> Result<Struct> {
    Struct::from_values(schema.clone(), values)
}

/// The field values of `s` by field index, moved out (no copies), with field defaults applied to
/// nulls when `with_default` (Kafka's `replace.null.with.default`).
pub(crate) fn take_field_values(s: Struct, with_default: bool) -> Vec<Value> {
    let schema = s.schema().clone();
    let mut values = s.into_values();
    if with_default {
        for (v, f) in values.iter_mut().zip(&schema.fields) {
            if v.is_null() {
                if let Some(d) = &f.schema.default {
                    *v = d.clone();
                }
            }
        }
    }
    values
}

/// How many derived schemas a transform keeps (Kafka uses an LRU cache of 16).
const CACHE_CAPACITY: usize = 16;

/// Derived schemas keyed by input schema, so a schema is rebuilt once, not per record. Looks up by
/// `Arc` identity first (converters share one `Arc` per schema), then by equality.
#[derive(Debug, Default)]
pub(crate) struct SchemaCache {
    entries: Vec<(SchemaRef, SchemaRef)>,
}

impl SchemaCache {
    /// The schema derived from `input`, building and remembering it on a miss.
    pub(crate) fn get_or_build(
        &mut self,
        input: &SchemaRef,
        build: impl FnOnce(&SchemaRef) -> Result<SchemaRef>,
    ) -> Result<SchemaRef> {
        let hit = self
            .entries
            .iter()
            .position(|(k, _)| Arc::ptr_eq(k, input))
            .or_else(|| self.entries.iter().position(|(k, _)| **k == **input));
        if let Some(i) = hit {
            // Move to the front: most recently used.
            let entry = self.entries.remove(i);
            let out = entry.1.clone();
            self.entries.insert(0, entry);
            return Ok(out);
        }
        let built = build(input)?;
        self.entries.insert(0, (input.clone(), built.clone()));
        self.entries.truncate(CACHE_CAPACITY);
        Ok(built)
    }
}

/// The `replace.null.with.default` key most schema-rewriting SMTs share.
pub(crate) const REPLACE_NULL_WITH_DEFAULT: &str = "replace.null.with.default";

/// The declaration of [`REPLACE_NULL_WITH_DEFAULT`].
pub(crate) fn replace_null_with_default_key() -> ConfigKey {
    ConfigKey::new(REPLACE_NULL_WITH_DEFAULT, ConfigType::Boolean)
        .default("true")
        .importance(Importance::Medium)
        .doc("Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.")
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builders used by the tests of every transform.
    use ferry_api::{ConnectRecord, Props, Transformation, Value};

    /// A test table's configuration pairs.
    pub(crate) type Pairs = &'static [(&'static str, &'static str)];

    /// Props from pairs.
    pub(crate) fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A schemaless map value with string keys.
    pub(crate) fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (Value::from(*k), v.clone()))
                .collect(),
        )
    }

    /// Configures `t` with `pairs`, panicking on a config error.
    pub(crate) fn configured<T: Transformation>(mut t: T, pairs: &[(&str, &str)]) -> T {
        t.configure(&props(pairs)).expect("configure");
        t
    }

    /// A record with a schemaless value.
    pub(crate) fn schemaless(topic: &str, value: Value) -> ConnectRecord {
        ConnectRecord::new(topic, None, value)
    }
}
