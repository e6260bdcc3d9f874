//! Which columns a record becomes (Confluent's `FieldsMetadata`): the primary-key columns from
//! `pk.mode`/`pk.fields`, the value columns from the value struct (filtered by
//! `fields.whitelist`), and how to pull each cell out of a record.

use ferry_api::{
    ConnectError, Result, Schema, SchemaBuilder, SchemaRef, SchemaType, SinkRecord, Value,
};

use crate::config::{EpochUnit, PkMode, SinkSettings};
use crate::types::{Cell, EPOCH_TIMESTAMP_FIELD};

/// Kafka-coordinate key column names when `pk.fields` is empty.
const KAFKA_PK_DEFAULTS: [&str; 3] = ["__connect_topic", "__connect_partition", "__connect_offset"];

/// Where a column's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Topic,
    Partition,
    Offset,
    /// The whole (primitive) key.
    Key,
    /// A field of the key struct.
    KeyField(String),
    /// A field of the value struct.
    ValueField(String),
}

/// One column.
#[derive(Debug, Clone)]
pub(crate) struct FieldColumn {
    pub(crate) name: String,
    pub(crate) schema: SchemaRef,
    source: Source,
    /// Set for a `timestamp.fields.list` field: its values are epoch timestamps in this unit.
    epoch: Option<EpochUnit>,
    /// For a struct field, its position in the schema the columns were worked out from: records
    /// of that schema find the field there instead of searching by name (the search was a
    /// twentieth of the PostgreSQL sink's CPU).
    position: usize,
}

/// The columns of records with one key schema and one value schema, for one table.
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    pub(crate) keys: Vec<FieldColumn>,
    pub(crate) values: Vec<FieldColumn>,
    /// `replace.null.with.default`: a null struct field reads as its schema default.
    replace_null_with_default: bool,
}

impl Fields {
    /// Works out the columns; errors are Confluent's, naming the table and field at fault.
    pub(crate) fn new(
        settings: &SinkSettings,
        table: &str,
        key_schema: Option<&SchemaRef>,
        value_schema: Option<&SchemaRef>,
    ) -> Result<Fields> {
        let mode = settings.pk_mode;
        let configured = &settings.pk_fields;
        let fail = |what: String| {
            ConnectError::config(format!(
                "PK mode for table '{table}' is {}{what}",
                mode.name()
            ))
        };
        let configured_list = format!("[{}]", configured.join(", "));
        let mut keys = Vec::new();
        match mode {
            PkMode::None => {}
            PkMode::Kafka => {
                let names: Vec<&str> = if configured.is_empty() {
                    KAFKA_PK_DEFAULTS.to_vec()
                } else {
                    configured.iter().map(String::as_str).collect()
                };
                let schemas = [Schema::string(), Schema::int32(), Schema::int64()];
                let sources = [Source::Topic, Source::Partition, Source::Offset];
                for ((n, s), src) in names.into_iter().zip(schemas).zip(sources) {
                    keys.push(FieldColumn {
                        name: n.to_owned(),
                        schema: s,
                        source: src,
                        epoch: None,
                        position: usize::MAX,
                    });
                }
            }
            PkMode::RecordKey => {
                let ks =
                    key_schema.ok_or_else(|| fail(", but record key schema is missing".into()))?;
                if ks.schema_type.is_primitive() {
                    if configured.len() != 1 {
                        return Err(ConnectError::config(format!(
                            "Need exactly one PK column defined since the key schema for records is a primitive type, defined columns are: {configured_list}"
                        )));
                    }
                    keys.push(FieldColumn {
                        name: configured[0].clone(),
                        schema: ks.clone(),
                        source: Source::Key,
                        epoch: None,
                        position: usize::MAX,
                    });
                } else if ks.schema_type == SchemaType::Struct {
                    keys = struct_columns(ks, configured, Source::KeyField, |f| {
                        fail(format!(
                            " with configured PK fields {configured_list}, but record key schema does not contain field: {f}"
                        ))
                    })?;
                } else {
                    return Err(fail(format!(
                        ", but record key schema type {} is neither primitive nor STRUCT",
                        ks.schema_type
                    )));
                }
            }
            PkMode::RecordValue => {
                let vs = value_schema
                    .ok_or_else(|| fail(", but record value schema is missing".into()))?;
                keys = struct_columns(vs, configured, Source::ValueField, |f| {
                    fail(format!(
                        " with configured PK fields {configured_list}, but record value schema does not contain field: {f}"
                    ))
                })?;
            }
        }
        let mut values = Vec::new();
        if let Some(vs) = value_schema {
            if vs.schema_type != SchemaType::Struct {
                return Err(ConnectError::data(format!(
                    "Sink connector '{}' requires records with a Struct value schema, but found {} for table '{table}'",
                    settings.connector_name, vs.schema_type
                )));
            }
            for f in &vs.fields {
                let whitelisted = settings.fields_whitelist.is_empty()
                    || settings.fields_whitelist.contains(&f.name);
                if whitelisted && !keys.iter().any(|k| k.name == f.name) {
                    let mut column = FieldColumn {
                        name: f.name.clone(),
                        schema: f.schema.clone(),
                        source: Source::ValueField(f.name.clone()),
                        epoch: None,
                        position: f.index,
                    };
                    if settings.timestamp_fields.contains(&f.name) {
                        column.read_as_epoch_timestamp(settings.timestamp_precision, table)?;
                    }
                    values.push(column);
                }
            }
        }
        Ok(Fields {
            keys,
            values,
            replace_null_with_default: settings.replace_null_with_default,
        })
    }

    /// Key column names.
    pub(crate) fn key_names(&self) -> Vec<String> {
        self.keys.iter().map(|c| c.name.clone()).collect()
    }

    /// Non-key column names.
    pub(crate) fn value_names(&self) -> Vec<String> {
        self.values.iter().map(|c| c.name.clone()).collect()
    }

    /// All columns, keys first.
    pub(crate) fn all(&self) -> impl Iterator<Item = &FieldColumn> {
        self.keys.iter().chain(self.values.iter())
    }

    /// The key cells of a record.
    pub(crate) fn key_cells(&self, r: &SinkRecord) -> Result<Vec<Cell>> {
        let defaults = self.replace_null_with_default;
        self.keys.iter().map(|c| c.cell(r, defaults)).collect()
    }

    /// The key then value cells of a record.
    pub(crate) fn row(&self, r: &SinkRecord) -> Result<Vec<Cell>> {
        let defaults = self.replace_null_with_default;
        self.all().map(|c| c.cell(r, defaults)).collect()
    }
}

/// The struct's fields named in `configured` (all when empty), keyed by `source`.
fn struct_columns(
    schema: &SchemaRef,
    configured: &[String],
    source: fn(String) -> Source,
    missing: impl Fn(&str) -> ConnectError,
) -> Result<Vec<FieldColumn>> {
    let names: Vec<String> = if configured.is_empty() {
        schema.fields.iter().map(|f| f.name.clone()).collect()
    } else {
        configured.to_vec()
    };
    names
        .into_iter()
        .map(|n| {
            let f = schema.field(&n).ok_or_else(|| missing(&n))?;
            Ok(FieldColumn {
                schema: f.schema.clone(),
                source: source(n.clone()),
                name: n,
                epoch: None,
                position: f.index,
            })
        })
        .collect()
}

impl FieldColumn {
    /// Makes a `timestamp.fields.list` column: its INT64 or STRING values are epoch timestamps
    /// in `unit`, written to a timestamp column (also when auto-created).
    fn read_as_epoch_timestamp(&mut self, unit: EpochUnit, table: &str) -> Result<()> {
        let plain = self.schema.name.is_none();
        if !plain
            || !matches!(
                self.schema.schema_type,
                SchemaType::Int64 | SchemaType::String
            )
        {
            return Err(ConnectError::config(format!(
                "timestamp.fields.list names field {} of table '{table}', whose schema is {}{}: the listed fields must be INT64 or STRING epoch {}",
                self.name,
                self.schema.schema_type,
                self.schema.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default(),
                match unit {
                    EpochUnit::Micros => "microseconds",
                    EpochUnit::Nanos => "nanoseconds",
                }
            )));
        }
        let mut schema = SchemaBuilder::int64().name(EPOCH_TIMESTAMP_FIELD);
        if self.schema.optional {
            schema = schema.optional();
        }
        self.schema = schema.build();
        self.epoch = Some(unit);
        Ok(())
    }

    /// An epoch timestamp field's value as a timestamp cell (epoch microseconds).
    fn epoch_cell(&self, unit: EpochUnit, value: &Value, r: &SinkRecord) -> Result<Cell> {
        let bad = |what: &dyn std::fmt::Display| {
            ConnectError::data(format!(
                "field {} of the record at {}-{} offset {} is in timestamp.fields.list but {what}",
                self.name, r.original_topic, r.original_kafka_partition, r.original_kafka_offset
            ))
        };
        let epoch: i128 = match value {
            Value::Null => return Ok(Cell::Null),
            Value::Int64(n) => (*n).into(),
            Value::String(s) => s
                .trim()
                .parse()
                .map_err(|_| bad(&format_args!("'{s}' is not an integer")))?,
            other => return Err(bad(&format_args!("is a {}", other.java_class()))),
        };
        let micros = match unit {
            EpochUnit::Micros => epoch,
            // The columns hold microseconds: what is finer is dropped.
            EpochUnit::Nanos => epoch.div_euclid(1000),
        };
        i64::try_from(micros)
            .map(Cell::Timestamp)
            .map_err(|_| bad(&format_args!("{epoch} is out of range")))
    }

    /// The column's cell of `r`; a null struct field reads as its schema default when
    /// `defaults` (`replace.null.with.default`).
    fn cell(&self, r: &SinkRecord, defaults: bool) -> Result<Cell> {
        /// What a missing field or a null key/value reads as.
        static NULL: Value = Value::Null;
        let rec = &r.record;
        // Borrowed, not cloned: the cell copies what it keeps (once per column of every row).
        fn field_of<'v>(
            r: &SinkRecord,
            defaults: bool,
            v: &'v Value,
            (name, position): (&str, usize),
            what: &str,
        ) -> Result<&'v Value> {
            match v {
                Value::Struct(s)
                    if s.schema()
                        .fields
                        .get(position)
                        .is_some_and(|f| f.name == name) =>
                {
                    Ok(if defaults {
                        s.get_at(position)
                    } else {
                        &s.values()[position]
                    })
                }
                Value::Struct(s) if defaults => Ok(s.get(name).unwrap_or(&NULL)),
                Value::Struct(s) => Ok(s.get_without_default(name).unwrap_or(&NULL)),
                Value::Null => Ok(&NULL),
                other => Err(ConnectError::data(format!(
                    "record {what} at {}-{} offset {} is {}, not a Struct with field {name}",
                    r.original_topic,
                    r.original_kafka_partition,
                    r.original_kafka_offset,
                    other.java_class()
                ))),
            }
        }
        let computed;
        let value = match &self.source {
            Source::Topic => {
                computed = Value::String(rec.topic.clone());
                &computed
            }
            Source::Partition => {
                computed = Value::Int32(r.kafka_partition());
                &computed
            }
            Source::Offset => {
                computed = Value::Int64(r.kafka_offset());
                &computed
            }
            Source::Key => &rec.key,
            Source::KeyField(n) => field_of(r, defaults, &rec.key, (n, self.position), "key")?,
            Source::ValueField(n) => {
                field_of(r, defaults, &rec.value, (n, self.position), "value")?
            }
        };
        match self.epoch {
            Some(unit) => self.epoch_cell(unit, value, r),
            None => Cell::from_value(value, &self.schema, &self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SinkSettings;
    use ferry_api::{ConnectRecord, Props, SchemaBuilder, Struct};

    fn settings(pairs: &[(&str, &str)]) -> SinkSettings {
        let mut p: Props = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        p.insert("connection.url".into(), "jdbc:postgresql://h/db".into());
        p.insert("name".into(), "sink".into());
        SinkSettings::parse(&p).unwrap()
    }

    fn value_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .field("id", Schema::int64())
            .field("name", Schema::optional_string())
            .field("age", Schema::optional_int32())
            .build()
    }

    fn record(key: Value, key_schema: Option<SchemaRef>) -> SinkRecord {
        let vs = value_schema();
        let v = Struct::new(vs.clone())
            .with("id", 7i64)
            .unwrap()
            .with("name", "ann")
            .unwrap();
        SinkRecord {
            record: ConnectRecord {
                kafka_offset: Some(42),
                kafka_partition: Some(3),
                ..ConnectRecord::new("orders", Some(vs), Value::from(v))
            }
            .with_key(key_schema, key),
            original_topic: "orders".into(),
            original_kafka_partition: 3,
            original_kafka_offset: 42,
        }
    }

    #[test]
    fn record_value_keys() {
        let s = settings(&[("pk.mode", "record_value"), ("pk.fields", "id")]);
        let f = Fields::new(&s, "orders", None, Some(&value_schema())).unwrap();
        assert_eq!(f.key_names(), ["id"]);
        assert_eq!(f.value_names(), ["name", "age"]);
        let row = f.row(&record(Value::Null, None)).unwrap();
        assert_eq!(row, [Cell::Int(7), Cell::Text("ann".into()), Cell::Null]);
    }

    /// `replace.null.with.default`: a null field with a schema default is written as the default
    /// (true, the default) or as NULL (false); a field without a default is NULL either way.
    #[test]
    fn null_fields_with_defaults_follow_replace_null_with_default() {
        let vs = SchemaBuilder::struct_()
            .field("id", Schema::int64())
            .field(
                "status",
                SchemaBuilder::string()
                    .optional()
                    .default_value(Value::from("new"))
                    .build(),
            )
            .field("note", Schema::optional_string())
            .build();
        let value = Struct::new(vs.clone()).with("id", 1i64).unwrap();
        let r = SinkRecord {
            record: ConnectRecord::new("orders", Some(vs.clone()), Value::from(value)),
            original_topic: "orders".into(),
            original_kafka_partition: 0,
            original_kafka_offset: 0,
        };
        for (setting, status) in [
            (None, Cell::Text("new".into())),
            (Some("true"), Cell::Text("new".into())),
            (Some("false"), Cell::Null),
        ] {
            let pairs: Vec<(&str, &str)> = setting
                .map(|v| vec![("replace.null.with.default", v)])
                .unwrap_or_default();
            let f = Fields::new(&settings(&pairs), "orders", None, Some(&vs)).unwrap();
            assert_eq!(
                f.row(&r).unwrap(),
                [Cell::Int(1), status, Cell::Null],
                "{setting:?}"
            );
        }
    }

    /// `timestamp.fields.list`: INT64/STRING epoch values in the configured unit become
    /// timestamp cells (microseconds) in timestamp columns; other types are refused up front and
    /// a value that is not an integer fails naming the field and record.
    #[test]
    fn epoch_timestamp_fields() {
        let vs = SchemaBuilder::struct_()
            .field("id", Schema::int64())
            .field("at", Schema::optional_int64())
            .field("at_text", Schema::string())
            .field("n", Schema::int32())
            .build();
        let record = |at: Value, text: &str| {
            let v = Struct::new(vs.clone())
                .with("id", 1i64)
                .unwrap()
                .with("at", at)
                .unwrap()
                .with("at_text", text)
                .unwrap()
                .with("n", 5i32)
                .unwrap();
            SinkRecord {
                record: ConnectRecord::new("t", Some(vs.clone()), Value::from(v)),
                original_topic: "t".into(),
                original_kafka_partition: 0,
                original_kafka_offset: 9,
            }
        };
        let s = settings(&[("timestamp.fields.list", "at,at_text")]);
        let f = Fields::new(&s, "t", None, Some(&vs)).unwrap();
        let at = &f.values[1];
        assert_eq!(at.schema.name.as_deref(), Some(EPOCH_TIMESTAMP_FIELD));
        assert!(at.schema.optional);
        assert!(!f.values[2].schema.optional);
        assert_eq!(
            f.row(&record(Value::Int64(-1_500_000), "1700000000000001"))
                .unwrap(),
            [
                Cell::Int(1),
                Cell::Timestamp(-1_500_000),
                Cell::Timestamp(1_700_000_000_000_001),
                Cell::Int(5)
            ]
        );
        assert_eq!(
            f.row(&record(Value::Null, "0")).unwrap()[1..3],
            [Cell::Null, Cell::Timestamp(0)]
        );
        let err = f.row(&record(Value::Null, "2024-01-01")).unwrap_err();
        assert_eq!(
            err.message(),
            "field at_text of the record at t-0 offset 9 is in timestamp.fields.list but '2024-01-01' is not an integer"
        );
        let nanos = settings(&[
            ("timestamp.fields.list", "at_text"),
            ("timestamp.precision.mode", "nanoseconds"),
        ]);
        let f = Fields::new(&nanos, "t", None, Some(&vs)).unwrap();
        assert_eq!(
            f.row(&record(Value::Null, "-1500")).unwrap()[2],
            Cell::Timestamp(-2),
            "nanoseconds are floored to the microsecond"
        );
        let wrong = settings(&[("timestamp.fields.list", "n")]);
        let err = Fields::new(&wrong, "t", None, Some(&vs)).unwrap_err();
        assert!(
            err.message().starts_with(
                "timestamp.fields.list names field n of table 't', whose schema is INT32"
            ),
            "{err}"
        );
    }

    #[test]
    fn kafka_and_primitive_key() {
        let s = settings(&[("pk.mode", "kafka"), ("fields.whitelist", "name")]);
        let f = Fields::new(&s, "orders", None, Some(&value_schema())).unwrap();
        assert_eq!(
            f.key_names(),
            ["__connect_topic", "__connect_partition", "__connect_offset"]
        );
        assert_eq!(f.value_names(), ["name"]);
        assert_eq!(
            f.row(&record(Value::Null, None)).unwrap(),
            [
                Cell::Text("orders".into()),
                Cell::Int(3),
                Cell::Int(42),
                Cell::Text("ann".into())
            ]
        );
        let s = settings(&[("pk.mode", "record_key"), ("pk.fields", "order_id")]);
        let f = Fields::new(&s, "orders", Some(&Schema::int64()), Some(&value_schema())).unwrap();
        assert_eq!(f.key_names(), ["order_id"]);
        assert_eq!(
            f.key_cells(&record(Value::Int64(9), Some(Schema::int64())))
                .unwrap(),
            [Cell::Int(9)]
        );
    }

    #[test]
    fn errors_are_confluents() {
        let s = settings(&[("pk.mode", "record_value"), ("pk.fields", "order_id")]);
        let err = Fields::new(&s, "orders", None, Some(&value_schema())).unwrap_err();
        assert_eq!(
            err.message(),
            "PK mode for table 'orders' is RECORD_VALUE with configured PK fields [order_id], but record value schema does not contain field: order_id"
        );
        let s = settings(&[("pk.mode", "record_key")]);
        let err = Fields::new(&s, "orders", None, Some(&value_schema())).unwrap_err();
        assert_eq!(
            err.message(),
            "PK mode for table 'orders' is RECORD_KEY, but record key schema is missing"
        );
        let err = Fields::new(&s, "orders", Some(&Schema::string()), None).unwrap_err();
        assert_eq!(
            err.message(),
            "Need exactly one PK column defined since the key schema for records is a primitive type, defined columns are: []"
        );
    }
}
