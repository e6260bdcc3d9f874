//! Which columns a record becomes (Confluent's `FieldsMetadata`): the primary-key columns from
//! `pk.mode`/`pk.fields`, the value columns from the value struct (filtered by
//! `fields.whitelist`), and how to pull each cell out of a record.

use ferry_api::{ConnectError, Result, Schema, SchemaRef, SchemaType, SinkRecord, Value};

use crate::config::{PkMode, SinkSettings};
use crate::types::Cell;

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
}

/// The columns of records with one key schema and one value schema, for one table.
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    pub(crate) keys: Vec<FieldColumn>,
    pub(crate) values: Vec<FieldColumn>,
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
                    values.push(FieldColumn {
                        name: f.name.clone(),
                        schema: f.schema.clone(),
                        source: Source::ValueField(f.name.clone()),
                    });
                }
            }
        }
        Ok(Fields { keys, values })
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
        self.keys.iter().map(|c| c.cell(r)).collect()
    }

    /// The key then value cells of a record.
    pub(crate) fn row(&self, r: &SinkRecord) -> Result<Vec<Cell>> {
        self.all().map(|c| c.cell(r)).collect()
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
            })
        })
        .collect()
}

impl FieldColumn {
    fn cell(&self, r: &SinkRecord) -> Result<Cell> {
        /// What a missing field or a null key/value reads as.
        static NULL: Value = Value::Null;
        let rec = &r.record;
        // Borrowed, not cloned: the cell copies what it keeps (once per column of every row).
        fn field_of<'v>(r: &SinkRecord, v: &'v Value, name: &str, what: &str) -> Result<&'v Value> {
            match v {
                Value::Struct(s) => Ok(s.get(name).unwrap_or(&NULL)),
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
            Source::KeyField(n) => field_of(r, &rec.key, n, "key")?,
            Source::ValueField(n) => field_of(r, &rec.value, n, "value")?,
        };
        Cell::from_value(value, &self.schema, &self.name)
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
