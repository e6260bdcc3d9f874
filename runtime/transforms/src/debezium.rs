//! Debezium's `io.debezium.transforms.ExtractNewRecordState` ("unwrap"): replaces a change-event
//! envelope (`before`, `after`, `source`, `op`, `ts_ms`, … — COMPAT §10.3) by the row state, with
//! Debezium's handling of deletes and tombstones and its `add.fields` / `add.headers` /
//! `route.by.field` options. Records that are not envelopes (heartbeats, schema changes,
//! schemaless data) pass through unchanged.
//!
//! Delete/tombstone handling is `delete.tombstone.handling.mode` (Debezium ≥ 2.5, default
//! `tombstone`). When it is unset and a legacy key (`drop.tombstones`, `delete.handling.mode`,
//! removed in Debezium 3.2) is present, the legacy keys decide, with their old defaults, so old
//! configs keep their meaning.

use std::sync::Arc;

use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, Importance, Props, Result,
    Schema, SchemaRef, Struct, Transformation, Validator, Value,
};

use crate::util::{
    build_struct, field_value, push_field, replace_null_with_default_key, struct_basics,
    SchemaCache, REPLACE_NULL_WITH_DEFAULT,
};

/// What happens to a delete event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Deletes {
    /// Dropped.
    #[default]
    Drop,
    /// Replaced by a tombstone (null value, no schema).
    Tombstone,
    /// Passed on with the (null) `after` state and its schema — legacy `delete.handling.mode=none`.
    NullAfter,
    /// The `before` state with `__deleted` = "true".
    Rewrite,
}

/// The behaviour of a mode: what becomes of deletes, and whether tombstones are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Handling {
    deletes: Deletes,
    keep_tombstones: bool,
}

impl Handling {
    fn from_mode(mode: &str) -> Handling {
        let (deletes, keep_tombstones) = match mode.to_ascii_lowercase().as_str() {
            "drop" => (Deletes::Drop, false),
            "rewrite" => (Deletes::Rewrite, false),
            "rewrite-with-tombstone" => (Deletes::Rewrite, true),
            "delete-to-tombstone" => (Deletes::Tombstone, false),
            _ => (Deletes::Drop, true), // "tombstone": keep only the tombstone after a delete.
        };
        Handling {
            deletes,
            keep_tombstones,
        }
    }
    fn from_legacy(drop_tombstones: bool, delete_handling: &str) -> Handling {
        let deletes = match delete_handling.to_ascii_lowercase().as_str() {
            "rewrite" => Deletes::Rewrite,
            "none" => Deletes::NullAfter,
            _ => Deletes::Drop,
        };
        Handling {
            deletes,
            keep_tombstones: !drop_tombstones,
        }
    }
}

/// One `add.fields` / `add.headers` entry: where to read it and what to call it.
#[derive(Debug, Clone, PartialEq)]
struct FieldRef {
    /// The struct the field lives in: `None` = decide by name (envelope first, then `source`).
    in_source: Option<bool>,
    field: String,
    /// Output name, prefix included.
    output: String,
}

impl FieldRef {
    fn parse(spec: &str, prefix: &str) -> FieldRef {
        let (path, rename) = match spec.split_once(':') {
            Some((p, r)) => (p.trim(), Some(r.trim())),
            None => (spec.trim(), None),
        };
        let (in_source, field) = match path.split_once('.') {
            Some(("source", f)) => (Some(true), f),
            _ => (None, path),
        };
        let output = format!(
            "{prefix}{}",
            rename.map_or_else(|| path.replace('.', "_"), str::to_owned)
        );
        FieldRef {
            in_source,
            field: field.to_owned(),
            output,
        }
    }

    /// The field's schema (made optional) and value in `envelope`.
    fn resolve(
        &self,
        envelope: &Struct,
        replace_null_with_default: bool,
    ) -> Result<(SchemaRef, Value)> {
        let schema = envelope.schema();
        let source = envelope.get("source").and_then(Value::as_struct);
        let from_source = self
            .in_source
            .unwrap_or_else(|| schema.field(&self.field).is_none());
        let holder = if from_source { source } else { Some(envelope) };
        let field = holder.and_then(|h| h.schema().field(&self.field).map(|f| (h, f)));
        let (holder, field) = field.ok_or_else(|| {
            ConnectError::data(format!(
                "Field '{}' requested by add.fields/add.headers does not exist in the {} of {}",
                self.field,
                if from_source {
                    "source block"
                } else {
                    "envelope"
                },
                schema.name_or_empty()
            ))
        })?;
        let value = field_value(holder, &field.name, replace_null_with_default);
        Ok((Arc::new(field.schema.to_optional()), value))
    }
}

/// Debezium's `io.debezium.transforms.ExtractNewRecordState`.
#[derive(Debug, Default)]
pub(crate) struct ExtractNewRecordState {
    handling: Handling,
    add_fields: Vec<FieldRef>,
    add_headers: Vec<FieldRef>,
    deleted_field: String,
    route_by_field: Option<String>,
    replace_null_with_default: bool,
    /// Envelope schema → flattened value schema (with `__deleted` and added fields).
    cache: SchemaCache,
}

const MODES: [&str; 5] = [
    "drop",
    "tombstone",
    "rewrite",
    "rewrite-with-tombstone",
    "delete-to-tombstone",
];

impl Transformation for ExtractNewRecordState {
    fn config_def(&self) -> ConfigDef {
        let s = |name: &str, default: &str, doc: &str| {
            ConfigKey::new(name, ConfigType::String)
                .default(default)
                .importance(Importance::Low)
                .doc(doc)
        };
        ConfigDef::new()
            .define(
                ConfigKey::new("delete.tombstone.handling.mode", ConfigType::String)
                    .default_null()
                    .importance(Importance::Medium)
                    .validator(Validator::OneOf(MODES.to_vec()))
                    .doc("How to handle delete events and tombstones: drop, tombstone (default), rewrite, rewrite-with-tombstone, delete-to-tombstone."),
            )
            .define(
                ConfigKey::new("drop.tombstones", ConfigType::Boolean)
                    .default("true")
                    .importance(Importance::Low)
                    .doc("Deprecated (removed in Debezium 3.2): drop tombstones. Use delete.tombstone.handling.mode."),
            )
            .define(
                s("delete.handling.mode", "drop", "Deprecated (removed in Debezium 3.2): drop, rewrite or none for delete events. Use delete.tombstone.handling.mode.")
                    .validator(Validator::OneOf(vec!["drop", "rewrite", "none"])),
            )
            .define(
                ConfigKey::new("add.fields", ConfigType::List)
                    .default("")
                    .importance(Importance::Low)
                    .doc("Fields of the envelope or source block to add to the value, e.g. op,table,source.ts_ms; name:NEWNAME renames."),
            )
            .define(s("add.fields.prefix", "__", "Prefix of the added fields."))
            .define(
                ConfigKey::new("add.headers", ConfigType::List)
                    .default("")
                    .importance(Importance::Low)
                    .doc("Fields of the envelope or source block to add as headers."),
            )
            .define(s("add.headers.prefix", "__", "Prefix of the added headers."))
            .define(s("route.by.field", "", "A field of the row whose value becomes the topic."))
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.handling = match cfg.string("delete.tombstone.handling.mode") {
            Some(mode) => Handling::from_mode(mode),
            None if props.contains_key("drop.tombstones")
                || props.contains_key("delete.handling.mode") =>
            {
                Handling::from_legacy(
                    cfg.boolean("drop.tombstones"),
                    cfg.string("delete.handling.mode").unwrap_or("drop"),
                )
            }
            None => Handling::from_mode("tombstone"),
        };
        let fields_prefix = cfg.string("add.fields.prefix").unwrap_or_default();
        self.deleted_field = format!("{fields_prefix}deleted");
        self.add_fields = cfg
            .list("add.fields")
            .iter()
            .map(|f| FieldRef::parse(f, fields_prefix))
            .collect();
        let headers_prefix = cfg.string("add.headers.prefix").unwrap_or_default();
        self.add_headers = cfg
            .list("add.headers")
            .iter()
            .map(|f| FieldRef::parse(f, headers_prefix))
            .collect();
        self.route_by_field = cfg
            .string("route.by.field")
            .filter(|f| !f.is_empty())
            .map(str::to_owned);
        self.replace_null_with_default = cfg.boolean(REPLACE_NULL_WITH_DEFAULT);
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        if record.value.is_null() {
            return Ok(self.handling.keep_tombstones.then_some(record));
        }
        let is_envelope = record
            .value_schema
            .as_ref()
            .is_some_and(|s| s.name_or_empty().ends_with("Envelope"))
            && record.value.as_struct().is_some();
        if !is_envelope {
            return Ok(Some(record));
        }
        let Value::Struct(envelope) = std::mem::take(&mut record.value) else {
            unreachable!("checked above")
        };
        let op = envelope
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let envelope_schema = record.value_schema.take().expect("checked above");

        for h in &self.add_headers {
            let (schema, value) = h.resolve(&envelope, self.replace_null_with_default)?;
            record.headers.add(h.output.clone(), Some(schema), value);
        }

        let rewrite = self.handling.deletes == Deletes::Rewrite;
        let (state, deleted) = match op.as_str() {
            "t" => return Ok(None),
            "d" => match self.handling.deletes {
                Deletes::Drop => return Ok(None),
                Deletes::Tombstone => {
                    record.value_schema = None;
                    record.value = Value::Null;
                    return Ok(Some(record));
                }
                Deletes::NullAfter => ("after", false),
                Deletes::Rewrite => ("before", true),
            },
            _ => ("after", false),
        };
        let row_schema = envelope_schema
            .field(state)
            .map(|f| f.schema.clone())
            .ok_or_else(|| {
                ConnectError::data(format!(
                    "Envelope {} has no field '{state}'",
                    envelope_schema.name_or_empty()
                ))
            })?;
        let row = envelope.get(state).cloned().unwrap_or(Value::Null);

        if !rewrite && self.add_fields.is_empty() {
            record.value_schema = Some(row_schema);
            record.value = row;
        } else if let Value::Struct(row) = row {
            let mut added = Vec::with_capacity(self.add_fields.len());
            for f in &self.add_fields {
                added.push(f.resolve(&envelope, self.replace_null_with_default)?);
            }
            let deleted_field = &self.deleted_field;
            let add_fields = &self.add_fields;
            let schema = self.cache.get_or_build(&envelope_schema, |_| {
                let mut out = struct_basics(&row_schema);
                for f in &row_schema.fields {
                    push_field(&mut out, &f.name, f.schema.clone())?;
                }
                if rewrite {
                    push_field(&mut out, deleted_field, Schema::optional_string())?;
                }
                for (f, (schema, _)) in add_fields.iter().zip(&added) {
                    push_field(&mut out, &f.output, schema.clone())?;
                }
                Ok(Arc::new(out))
            })?;
            let mut values = row.values().to_vec();
            if rewrite {
                values.push(Value::from(if deleted { "true" } else { "false" }));
            }
            values.extend(added.into_iter().map(|(_, v)| v));
            record.value = build_struct(&schema, values)?.into();
            record.value_schema = Some(schema);
        } else {
            record.value_schema = Some(row_schema);
            record.value = row;
        }

        if let Some(field) = &self.route_by_field {
            let topic = record
                .value
                .as_struct()
                .and_then(|s| s.get(field))
                .and_then(Value::as_str);
            if let Some(topic) = topic {
                record.topic = topic.to_owned();
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{configured, props, Pairs};
    use ferry_api::SchemaBuilder;

    fn row_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("dbserver1.inventory.customers.Value")
            .optional()
            .field("id", Schema::int32())
            .field("email", Schema::string())
            .build()
    }

    fn source_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("io.debezium.connector.mysql.Source")
            .field("db", Schema::string())
            .field("table", Schema::optional_string())
            .field("ts_ms", Schema::int64())
            .build()
    }

    fn envelope_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .name("dbserver1.inventory.customers.Envelope")
            .version(2)
            .field("before", row_schema())
            .field("after", row_schema())
            .field("source", source_schema())
            .field("op", Schema::string())
            .field("ts_ms", Schema::optional_int64())
            .build()
    }

    fn row(id: i32, email: &str) -> Value {
        Struct::new(row_schema())
            .with("id", id)
            .unwrap()
            .with("email", email)
            .unwrap()
            .into()
    }

    fn event(op: &str) -> ConnectRecord {
        let source = Struct::new(source_schema())
            .with("db", "inventory")
            .unwrap()
            .with("table", "customers")
            .unwrap()
            .with("ts_ms", 1_700_000_000_000i64)
            .unwrap();
        let (before, after) = match op {
            "c" | "r" => (Value::Null, row(1, "a@x")),
            "u" => (row(1, "a@x"), row(1, "b@x")),
            _ => (row(1, "b@x"), Value::Null),
        };
        let env = Struct::new(envelope_schema())
            .with("before", before)
            .unwrap()
            .with("after", after)
            .unwrap()
            .with("source", source)
            .unwrap()
            .with("op", op)
            .unwrap()
            .with("ts_ms", 1_700_000_000_123i64)
            .unwrap();
        ConnectRecord::new(
            "dbserver1.inventory.customers",
            Some(envelope_schema()),
            env.into(),
        )
    }

    fn tombstone() -> ConnectRecord {
        ConnectRecord::new("dbserver1.inventory.customers", None, Value::Null)
    }

    /// What each mode makes of (update, delete, tombstone): the value or "dropped".
    #[test]
    fn delete_and_tombstone_modes() {
        #[derive(Debug, PartialEq)]
        enum Out {
            Row(Value),
            Tombstone,
            Dropped,
        }
        use Out::*;
        let outcome = |r: Option<ConnectRecord>| match r {
            None => Dropped,
            Some(r) if r.value.is_null() => Tombstone,
            Some(r) => Row(r.value),
        };
        let deleted = |id: i32, email: &str, flag: &str| {
            Value::Struct(Box::new(
                Struct::new(
                    SchemaBuilder::struct_()
                        .name("dbserver1.inventory.customers.Value")
                        .field("id", Schema::int32())
                        .field("email", Schema::string())
                        .field("__deleted", Schema::optional_string())
                        .build(),
                )
                .with("id", id)
                .unwrap()
                .with("email", email)
                .unwrap()
                .with("__deleted", flag)
                .unwrap(),
            ))
        };
        let cases: Vec<(Pairs, [Out; 3])> = vec![
            (&[], [Row(row(1, "b@x")), Dropped, Tombstone]),
            (
                &[("delete.tombstone.handling.mode", "drop")],
                [Row(row(1, "b@x")), Dropped, Dropped],
            ),
            (
                &[("delete.tombstone.handling.mode", "tombstone")],
                [Row(row(1, "b@x")), Dropped, Tombstone],
            ),
            (
                &[("delete.tombstone.handling.mode", "rewrite")],
                [
                    Row(deleted(1, "b@x", "false")),
                    Row(deleted(1, "b@x", "true")),
                    Dropped,
                ],
            ),
            (
                &[("delete.tombstone.handling.mode", "rewrite-with-tombstone")],
                [
                    Row(deleted(1, "b@x", "false")),
                    Row(deleted(1, "b@x", "true")),
                    Tombstone,
                ],
            ),
            (
                &[("delete.tombstone.handling.mode", "delete-to-tombstone")],
                [Row(row(1, "b@x")), Tombstone, Dropped],
            ),
            // Legacy keys, with their old defaults.
            (
                &[("drop.tombstones", "true")],
                [Row(row(1, "b@x")), Dropped, Dropped],
            ),
            (
                &[("drop.tombstones", "false")],
                [Row(row(1, "b@x")), Dropped, Tombstone],
            ),
            (
                &[
                    ("drop.tombstones", "false"),
                    ("delete.handling.mode", "rewrite"),
                ],
                [
                    Row(deleted(1, "b@x", "false")),
                    Row(deleted(1, "b@x", "true")),
                    Tombstone,
                ],
            ),
            (
                &[("delete.handling.mode", "none")],
                [Row(row(1, "b@x")), Tombstone, Dropped],
            ),
        ];
        for (cfg, expected) in cases {
            let mut t = configured(ExtractNewRecordState::default(), cfg);
            let got = [
                outcome(t.apply(event("u")).unwrap()),
                outcome(t.apply(event("d")).unwrap()),
                outcome(t.apply(tombstone()).unwrap()),
            ];
            assert_eq!(got, expected, "{cfg:?}");
        }
    }

    #[test]
    fn add_fields_headers_and_routing() {
        let mut t = configured(
            ExtractNewRecordState::default(),
            &[
                ("add.fields", "op,table,source.ts_ms,db:database"),
                ("add.headers", "op"),
                ("add.headers.prefix", "dbz."),
                ("route.by.field", "email"),
            ],
        );
        let out = t.apply(event("c")).unwrap().unwrap();
        assert_eq!(out.topic, "a@x");
        let s = out.value_schema.clone().unwrap();
        let names: Vec<_> = s.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "id",
                "email",
                "__op",
                "__table",
                "__source_ts_ms",
                "__database"
            ]
        );
        assert!(s.fields[2..].iter().all(|f| f.schema.optional));
        let v = out.value.as_struct().unwrap();
        assert_eq!(
            v.values(),
            &[
                Value::Int32(1),
                Value::from("a@x"),
                Value::from("c"),
                Value::from("customers"),
                Value::Int64(1_700_000_000_000),
                Value::from("inventory"),
            ]
        );
        let h = out.headers.last_with_name("dbz.op").unwrap();
        assert_eq!(h.value, Value::from("c"));
        // Same envelope schema: the flattened schema is built once.
        let again = t.apply(event("r")).unwrap().unwrap();
        assert!(Arc::ptr_eq(&s, again.value_schema.as_ref().unwrap()));

        let mut t = configured(ExtractNewRecordState::default(), &[("add.fields", "nope")]);
        let err = t.apply(event("c")).unwrap_err();
        assert!(err.message().contains("'nope'"), "{}", err.message());
    }

    #[test]
    fn non_envelopes_pass_and_bad_mode_is_rejected() {
        let mut t = configured(ExtractNewRecordState::default(), &[]);
        let plain = ConnectRecord::new("t", Some(Schema::string()), Value::from("x"));
        assert_eq!(t.apply(plain.clone()).unwrap(), Some(plain));
        let err = ExtractNewRecordState::default()
            .configure(&props(&[("delete.tombstone.handling.mode", "nope")]))
            .unwrap_err();
        assert!(err
            .message()
            .starts_with("Invalid value nope for configuration delete.tombstone.handling.mode"));
    }
}
