//! The database-neutral middle of the connectors: column types ([`SqlType`], after `java.sql.Types`),
//! column metadata ([`ColumnMeta`]), cell values ([`Cell`]) and their mapping to and from Connect
//! schemas and values, as Confluent's `GenericDatabaseDialect` maps them.
//!
//! Each driver only turns its own values into [`Cell`]s and back (`db.rs`); the mapping rules live
//! here once, so MySQL and PostgreSQL cannot drift apart.

use std::sync::Arc;

use bytes::Bytes;
use ferry_api::{ConnectError, Decimal, Result, Schema, SchemaBuilder, SchemaRef, Value};

use crate::time::{DbTimeZone, GranularValue, TimestampGranularity, MICROS_PER_DAY};

/// The schema name the sink gives a `timestamp.fields.list` column (an INT64 or STRING field
/// holding an epoch timestamp), so auto.create and auto.evolve make it a timestamp column with
/// microseconds (Confluent: PostgreSQL `TIMESTAMP`, MySQL `DATETIME(6)`).
pub(crate) const EPOCH_TIMESTAMP_FIELD: &str = "ferry.jdbc.sink.EpochTimestampField";

/// A column type, database-neutral (the `java.sql.Types` a JDBC driver would report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SqlType {
    /// BOOLEAN (PostgreSQL `boolean`).
    Boolean,
    /// BIT (MySQL `bit(1)`); Confluent reads it as INT8.
    Bit,
    /// TINYINT (MySQL `tinyint`, `bool`).
    TinyInt { unsigned: bool },
    /// SMALLINT.
    SmallInt { unsigned: bool },
    /// INTEGER (MySQL `mediumint`, `int`).
    Integer { unsigned: bool },
    /// BIGINT.
    BigInt { unsigned: bool },
    /// REAL (MySQL `float`, PostgreSQL `real`).
    Real,
    /// DOUBLE.
    Double,
    /// NUMERIC/DECIMAL with precision and scale (0/0 when unconstrained).
    Numeric { precision: u32, scale: i32 },
    /// Character data: CHAR, VARCHAR, TEXT, ENUM, SET, JSON, JSONB, UUID, XML.
    Text,
    /// Binary data: BINARY, VARBINARY, BLOB, BYTEA.
    Binary,
    /// DATE (and MySQL YEAR, read as January 1st as Connector/J does).
    Date,
    /// MySQL YEAR.
    Year,
    /// TIME.
    Time,
    /// TIMESTAMP / DATETIME (zone-less wall clock, read in `db.timezone`).
    Timestamp,
    /// TIMESTAMP WITH TIME ZONE (an instant).
    TimestampTz,
    /// A one-dimensional PostgreSQL array of the element type.
    Array(Box<SqlType>),
    /// Anything else: Confluent skips such columns with a warning.
    Unsupported(String),
}

/// One column of a table or result set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnMeta {
    /// Column name.
    pub name: String,
    /// Type.
    pub sql_type: SqlType,
    /// Whether NULL is allowed (unknown counts as nullable).
    pub nullable: bool,
    /// Whether the database fills it from a sequence (AUTO_INCREMENT, SERIAL, IDENTITY).
    pub auto_increment: bool,
}

/// `numeric.mapping`: how NUMERIC/DECIMAL columns become Connect types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum NumericMapping {
    /// Always Decimal.
    #[default]
    None,
    /// Integers by precision when the scale is 0 and the precision at most 18.
    PrecisionOnly,
    /// Like `precision_only`, and FLOAT64 for a positive scale with precision below 19.
    BestFit,
    /// Like `best_fit`, and FLOAT64 whenever the scale is positive.
    BestFitEagerDouble,
}

impl NumericMapping {
    /// Parses a `numeric.mapping` value (case-insensitive; already validated).
    pub(crate) fn parse(s: Option<&str>) -> NumericMapping {
        match s.map(str::to_ascii_lowercase).as_deref() {
            Some("precision_only") => NumericMapping::PrecisionOnly,
            Some("best_fit") => NumericMapping::BestFit,
            Some("best_fit_eager_double") => NumericMapping::BestFitEagerDouble,
            _ => NumericMapping::None,
        }
    }
}

/// What a column becomes in Connect: the type a cell is converted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Boolean,
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Decimal(i32),
    String,
    Bytes,
    Date,
    Time,
    Timestamp,
    /// A timestamp in a `timestamp.granularity` other than the logical type (ISO strings are
    /// written in the zone).
    GranularTimestamp(TimestampGranularity, DbTimeZone),
    Array(Box<Target>),
}

impl Target {
    /// The Connect target of `sql_type` (None: unsupported, the column is skipped).
    pub(crate) fn of(sql_type: &SqlType, mapping: NumericMapping) -> Option<Target> {
        Some(match sql_type {
            SqlType::Boolean => Target::Boolean,
            SqlType::Bit => Target::Int8,
            SqlType::TinyInt { unsigned: false } => Target::Int8,
            SqlType::TinyInt { unsigned: true } | SqlType::SmallInt { unsigned: false } => {
                Target::Int16
            }
            SqlType::SmallInt { unsigned: true } | SqlType::Integer { unsigned: false } => {
                Target::Int32
            }
            SqlType::Integer { unsigned: true } | SqlType::BigInt { unsigned: false } => {
                Target::Int64
            }
            // Connector/J reads BIGINT UNSIGNED as BigInteger → Decimal(0), so no value is lost.
            SqlType::BigInt { unsigned: true } => Target::Decimal(0),
            SqlType::Real => Target::Float32,
            SqlType::Double => Target::Float64,
            SqlType::Numeric { precision, scale } => numeric_target(*precision, *scale, mapping),
            SqlType::Text => Target::String,
            SqlType::Binary => Target::Bytes,
            SqlType::Date | SqlType::Year => Target::Date,
            SqlType::Time => Target::Time,
            SqlType::Timestamp | SqlType::TimestampTz => Target::Timestamp,
            SqlType::Array(elem) => Target::Array(Box::new(Target::of(elem, mapping)?)),
            SqlType::Unsupported(_) => return None,
        })
    }

    /// The Connect schema of this target.
    pub(crate) fn schema(&self, optional: bool) -> SchemaRef {
        let b = match self {
            Target::Boolean => SchemaBuilder::boolean(),
            Target::Int8 => SchemaBuilder::int8(),
            Target::Int16 => SchemaBuilder::int16(),
            Target::Int32 => SchemaBuilder::int32(),
            Target::Int64 => SchemaBuilder::int64(),
            Target::Float32 => SchemaBuilder::float32(),
            Target::Float64 => SchemaBuilder::float64(),
            Target::Decimal(scale) => SchemaBuilder::decimal(*scale),
            Target::String => SchemaBuilder::string(),
            Target::Bytes => SchemaBuilder::bytes(),
            Target::Date => SchemaBuilder::date(),
            Target::Time => SchemaBuilder::time(),
            Target::Timestamp => SchemaBuilder::timestamp(),
            Target::GranularTimestamp(g, _) if g.is_long() => SchemaBuilder::int64(),
            Target::GranularTimestamp(..) => SchemaBuilder::string(),
            // Array elements may be NULL in PostgreSQL.
            Target::Array(elem) => SchemaBuilder::array(elem.schema(true)),
        };
        if optional {
            b.optional().build()
        } else {
            b.build()
        }
    }

    /// This target with timestamps in `granularity` (the logical type stays for
    /// `connect_logical`); array elements too.
    pub(crate) fn with_granularity(
        self,
        granularity: TimestampGranularity,
        zone: DbTimeZone,
    ) -> Target {
        match self {
            Target::Timestamp if granularity != TimestampGranularity::ConnectLogical => {
                Target::GranularTimestamp(granularity, zone)
            }
            Target::Array(elem) => {
                Target::Array(Box::new(elem.with_granularity(granularity, zone)))
            }
            other => other,
        }
    }
}

/// Confluent's `numeric.mapping` rules (`GenericDatabaseDialect.addFieldToSchema`, NUMERIC case).
fn numeric_target(precision: u32, scale: i32, mapping: NumericMapping) -> Target {
    let int_by_precision = |p: u32| match p {
        0..=2 => Target::Int8,
        3..=4 => Target::Int16,
        5..=9 => Target::Int32,
        _ => Target::Int64,
    };
    match mapping {
        NumericMapping::None => {}
        NumericMapping::PrecisionOnly => {
            if scale == 0 && (1..=18).contains(&precision) {
                return int_by_precision(precision);
            }
        }
        NumericMapping::BestFit | NumericMapping::BestFitEagerDouble => {
            if (1..19).contains(&precision) && (-84..1).contains(&scale) {
                return int_by_precision(precision);
            }
            if scale > 0 && (precision < 19 || mapping == NumericMapping::BestFitEagerDouble) {
                return Target::Float64;
            }
        }
    }
    Target::Decimal(scale)
}

/// A cell value, database-neutral. Dates are days since the epoch, times microseconds since
/// midnight, timestamps epoch microseconds (UTC): microseconds are kept so that timestamp offsets
/// can be exact even though Connect's Timestamp carries milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(String),
    Bytes(Bytes),
    Decimal(Decimal),
    Date(i32),
    Time(i64),
    Timestamp(i64),
    Array(Vec<Cell>),
}

impl Cell {
    /// The text, for metadata queries that read strings.
    pub(crate) fn into_text(self) -> Option<String> {
        match self {
            Cell::Text(s) => Some(s),
            Cell::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            Cell::Int(i) => Some(i.to_string()),
            Cell::UInt(i) => Some(i.to_string()),
            _ => None,
        }
    }

    /// [`Cell::to_value`] taking the cell: text, decimals of the column's scale and arrays move
    /// into the value instead of being copied (the source's per-row path).
    pub(crate) fn into_value(self, target: &Target, column: &str) -> Result<Value> {
        match (self, target) {
            (Cell::Text(s), Target::String) => Ok(Value::String(s)),
            (Cell::Decimal(d), Target::Decimal(scale)) if d.scale == *scale => {
                Ok(Value::Decimal(d))
            }
            (Cell::Array(items), Target::Array(elem)) => items
                .into_iter()
                .map(|c| c.into_value(elem, column))
                .collect::<Result<_>>()
                .map(Value::Array),
            (cell, target) => cell.to_value(target, column),
        }
    }

    /// The Connect value of this cell for `target`; `column` names the column in errors.
    pub(crate) fn to_value(&self, target: &Target, column: &str) -> Result<Value> {
        let mismatch = || {
            ConnectError::data(format!(
                "Cannot convert value {self:?} of column {column} to Connect type {target:?}"
            ))
        };
        let int = |v: i128, min: i128, max: i128| -> Result<i128> {
            if v < min || v > max {
                Err(ConnectError::data(format!(
                    "Value {v} of column {column} is out of range for {target:?}"
                )))
            } else {
                Ok(v)
            }
        };
        let as_int = || -> Result<i128> {
            match self {
                Cell::Int(i) => Ok(*i as i128),
                Cell::UInt(u) => Ok(*u as i128),
                Cell::Bool(b) => Ok(*b as i128),
                Cell::Decimal(d) => d
                    .rescale(0)
                    .and_then(|d| i128::try_from(&d.unscaled).ok())
                    .ok_or_else(mismatch),
                Cell::Text(s) => s.trim().parse().map_err(|_| mismatch()),
                _ => Err(mismatch()),
            }
        };
        if matches!(self, Cell::Null) {
            return Ok(Value::Null);
        }
        Ok(match target {
            Target::Boolean => match self {
                Cell::Bool(b) => Value::Boolean(*b),
                _ => Value::Boolean(as_int()? != 0),
            },
            Target::Int8 => Value::Int8(int(as_int()?, i8::MIN as i128, i8::MAX as i128)? as i8),
            Target::Int16 => {
                Value::Int16(int(as_int()?, i16::MIN as i128, i16::MAX as i128)? as i16)
            }
            Target::Int32 => {
                Value::Int32(int(as_int()?, i32::MIN as i128, i32::MAX as i128)? as i32)
            }
            Target::Int64 => {
                Value::Int64(int(as_int()?, i64::MIN as i128, i64::MAX as i128)? as i64)
            }
            Target::Float32 | Target::Float64 => {
                let f = match self {
                    Cell::Float(f) => *f,
                    Cell::Int(i) => *i as f64,
                    Cell::UInt(u) => *u as f64,
                    Cell::Decimal(d) => d.to_string().parse().map_err(|_| mismatch())?,
                    Cell::Text(s) => s.trim().parse().map_err(|_| mismatch())?,
                    _ => return Err(mismatch()),
                };
                if *target == Target::Float32 {
                    Value::Float32(f as f32)
                } else {
                    Value::Float64(f)
                }
            }
            Target::Decimal(scale) => {
                let d = match self {
                    Cell::Decimal(d) => d.clone(),
                    Cell::Int(i) => Decimal::new(*i, 0),
                    Cell::UInt(u) => Decimal::new(*u, 0),
                    Cell::Text(s) => Decimal::parse(s).ok_or_else(mismatch)?,
                    _ => return Err(mismatch()),
                };
                Value::Decimal(d.rescale(*scale).ok_or_else(|| {
                    ConnectError::data(format!(
                        "Value {d} of column {column} does not fit Decimal scale {scale} \
                         without rounding (a NUMERIC column without a declared scale maps to \
                         scale 0: declare NUMERIC(p,s))"
                    ))
                })?)
            }
            Target::String => match self {
                Cell::Text(s) => Value::String(s.clone()),
                Cell::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
                Cell::Decimal(d) => Value::String(d.to_string()),
                Cell::Int(i) => Value::String(i.to_string()),
                Cell::UInt(u) => Value::String(u.to_string()),
                Cell::Float(f) => Value::String(f.to_string()),
                Cell::Bool(b) => Value::String(b.to_string()),
                _ => return Err(mismatch()),
            },
            Target::Bytes => match self {
                Cell::Bytes(b) => Value::Bytes(b.clone()),
                Cell::Text(s) => Value::Bytes(Bytes::from(s.clone().into_bytes())),
                _ => return Err(mismatch()),
            },
            Target::Date => match self {
                Cell::Date(d) => Value::Date(*d),
                Cell::Timestamp(us) => Value::Date(us.div_euclid(MICROS_PER_DAY) as i32),
                _ => return Err(mismatch()),
            },
            Target::Time => match self {
                Cell::Time(us) => {
                    Value::Time(us.rem_euclid(MICROS_PER_DAY).div_euclid(1000) as i32)
                }
                _ => return Err(mismatch()),
            },
            Target::Timestamp => match self {
                Cell::Timestamp(us) => Value::Timestamp(us.div_euclid(1000)),
                Cell::Date(d) => Value::Timestamp(*d as i64 * 86_400_000),
                _ => return Err(mismatch()),
            },
            Target::GranularTimestamp(g, zone) => {
                let us = match self {
                    Cell::Timestamp(us) => *us,
                    Cell::Date(d) => *d as i64 * MICROS_PER_DAY,
                    _ => return Err(mismatch()),
                };
                match g.value(us, *zone) {
                    Some(GranularValue::Long(v)) => Value::Int64(v),
                    Some(GranularValue::Text(t)) => Value::String(t),
                    None => {
                        return Err(ConnectError::data(format!(
                            "Timestamp {us} µs of column {column} does not fit epoch nanoseconds \
                             in INT64 (timestamp.granularity {g:?})"
                        )))
                    }
                }
            }
            Target::Array(elem) => match self {
                Cell::Array(items) => Value::Array(
                    items
                        .iter()
                        .map(|c| c.to_value(elem, column))
                        .collect::<Result<_>>()?,
                ),
                _ => return Err(mismatch()),
            },
        })
    }

    /// The cell to write for a Connect value of `schema` (the sink side); `field` names it in
    /// errors. Structs, maps and arrays have no column type and are refused, as Confluent does.
    pub(crate) fn from_value(value: &Value, schema: &Schema, field: &str) -> Result<Cell> {
        Ok(match value {
            Value::Null => Cell::Null,
            Value::Boolean(b) => Cell::Bool(*b),
            Value::Int8(v) => Cell::Int(*v as i64),
            Value::Int16(v) => Cell::Int(*v as i64),
            Value::Int32(v) => Cell::Int(*v as i64),
            Value::Int64(v) => Cell::Int(*v),
            Value::Float32(v) => Cell::Float(*v as f64),
            Value::Float64(v) => Cell::Float(*v),
            Value::String(s) => Cell::Text(s.clone()),
            Value::Bytes(b) => Cell::Bytes(b.clone()),
            Value::Decimal(d) => Cell::Decimal(d.clone()),
            Value::Date(d) => Cell::Date(*d),
            Value::Time(ms) => Cell::Time(*ms as i64 * 1000),
            Value::Timestamp(ms) => Cell::Timestamp(*ms * 1000),
            Value::Array(_) | Value::Map(_) | Value::Struct(_) => {
                return Err(ConnectError::data(format!(
                    "Unsupported source data type: {} (field {field})",
                    schema.schema_type
                )))
            }
        })
    }
}

/// How the source maps columns to Connect: `numeric.mapping`, `timestamp.granularity`, and the
/// `db.timezone` ISO timestamp strings are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct MappingRules {
    pub numeric: NumericMapping,
    pub timestamps: TimestampGranularity,
    pub zone: DbTimeZone,
}

/// A table's (or query's) columns mapped to Connect: the struct schema and, per column kept, its
/// position in the result and its target. Built once per table and shared.
#[derive(Debug, Clone)]
pub(crate) struct RowMapping {
    /// The value schema of the records.
    pub schema: SchemaRef,
    /// Per field: result column index, column metadata, target.
    pub columns: Vec<(usize, ColumnMeta, Target)>,
}

impl RowMapping {
    /// Maps `columns`; unsupported types are skipped with a warning, as Confluent does. The schema
    /// is named after the table (`name`), none in query mode.
    pub(crate) fn new(
        name: Option<&str>,
        columns: &[ColumnMeta],
        rules: MappingRules,
    ) -> RowMapping {
        let mut b = SchemaBuilder::struct_();
        if let Some(n) = name {
            b = b.name(n);
        }
        let mut kept = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            match Target::of(&c.sql_type, rules.numeric)
                .map(|t| t.with_granularity(rules.timestamps, rules.zone))
            {
                Some(t) => {
                    b = b.field(c.name.clone(), t.schema(c.nullable));
                    kept.push((i, c.clone(), t));
                }
                None => tracing::warn!(
                    "JDBC type {:?} of column {} is not currently supported; the column is skipped",
                    c.sql_type,
                    c.name
                ),
            }
        }
        RowMapping {
            schema: b.build(),
            columns: kept,
        }
    }

    /// The record value of one row of cells, taking the cells (none is copied).
    pub(crate) fn struct_of(&self, mut row: Vec<Cell>) -> Result<Value> {
        let mut s = ferry_api::Struct::new(Arc::clone(&self.schema));
        for (field_index, (i, meta, target)) in self.columns.iter().enumerate() {
            let cell = std::mem::replace(&mut row[*i], Cell::Null);
            s.put_unchecked(field_index, cell.into_value(target, &meta.name)?);
        }
        Ok(Value::Struct(Box::new(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_api::schema::logical;
    use ferry_api::SchemaType;

    #[test]
    fn confluent_type_mapping() {
        let m = NumericMapping::None;
        let table: Vec<(SqlType, Target)> = vec![
            (SqlType::Boolean, Target::Boolean),
            (SqlType::Bit, Target::Int8),
            (SqlType::TinyInt { unsigned: false }, Target::Int8),
            (SqlType::TinyInt { unsigned: true }, Target::Int16),
            (SqlType::SmallInt { unsigned: true }, Target::Int32),
            (SqlType::Integer { unsigned: true }, Target::Int64),
            (SqlType::BigInt { unsigned: false }, Target::Int64),
            (SqlType::BigInt { unsigned: true }, Target::Decimal(0)),
            (SqlType::Real, Target::Float32),
            (SqlType::Double, Target::Float64),
            (
                SqlType::Numeric {
                    precision: 10,
                    scale: 2,
                },
                Target::Decimal(2),
            ),
            (SqlType::Text, Target::String),
            (SqlType::Binary, Target::Bytes),
            (SqlType::Year, Target::Date),
            (SqlType::TimestampTz, Target::Timestamp),
            (
                SqlType::Array(Box::new(SqlType::Integer { unsigned: false })),
                Target::Array(Box::new(Target::Int32)),
            ),
        ];
        for (sql, want) in table {
            assert_eq!(Target::of(&sql, m), Some(want), "{sql:?}");
        }
        assert_eq!(Target::of(&SqlType::Unsupported("inet".into()), m), None);
    }

    #[test]
    fn numeric_mapping_rules() {
        use NumericMapping::*;
        let table = [
            (None, 5, 0, Target::Decimal(0)),
            (PrecisionOnly, 2, 0, Target::Int8),
            (PrecisionOnly, 4, 0, Target::Int16),
            (PrecisionOnly, 9, 0, Target::Int32),
            (PrecisionOnly, 18, 0, Target::Int64),
            (PrecisionOnly, 19, 0, Target::Decimal(0)),
            (PrecisionOnly, 10, 2, Target::Decimal(2)),
            (BestFit, 10, 2, Target::Float64),
            (BestFit, 12, 0, Target::Int64),
            (BestFit, 20, 2, Target::Decimal(2)),
            (BestFitEagerDouble, 20, 2, Target::Float64),
            (BestFit, 0, 0, Target::Decimal(0)),
        ];
        for (mapping, p, s, want) in table {
            assert_eq!(numeric_target(p, s, mapping), want, "{mapping:?} {p} {s}");
        }
    }

    #[test]
    fn schemas_carry_logical_types() {
        let s = Target::Decimal(3).schema(true);
        assert_eq!(s.name.as_deref(), Some(logical::DECIMAL));
        assert_eq!(s.parameter("scale"), Some("3"));
        assert!(s.optional);
        assert_eq!(
            Target::Timestamp.schema(false).name.as_deref(),
            Some(logical::TIMESTAMP)
        );
        let arr = Target::Array(Box::new(Target::String)).schema(false);
        assert_eq!(
            arr.value_schema.as_ref().unwrap().schema_type,
            SchemaType::String
        );
    }

    #[test]
    fn timestamp_granularity_changes_timestamp_targets_only() {
        use crate::time::TimestampGranularity as G;
        let utc = DbTimeZone::UTC;
        let nanos = Target::GranularTimestamp(G::NanosLong, utc);
        let table = [
            (Target::Timestamp, G::ConnectLogical, Target::Timestamp),
            (Target::Timestamp, G::NanosLong, nanos.clone()),
            (Target::Date, G::NanosLong, Target::Date),
            (
                Target::Array(Box::new(Target::Timestamp)),
                G::NanosLong,
                Target::Array(Box::new(nanos.clone())),
            ),
        ];
        for (t, g, want) in table {
            assert_eq!(t.with_granularity(g, utc), want, "{g:?}");
        }
        let s = nanos.schema(true);
        assert_eq!(
            (s.schema_type, s.name.is_none(), s.optional),
            (SchemaType::Int64, true, true)
        );
        let s = Target::GranularTimestamp(G::MicrosIsoDatetimeString, utc).schema(false);
        assert_eq!(s.schema_type, SchemaType::String);
        assert_eq!(
            Cell::Timestamp(1_500).to_value(&nanos, "ts").unwrap(),
            Value::Int64(1_500_000)
        );
        assert_eq!(
            Cell::Date(1).to_value(&nanos, "ts").unwrap(),
            Value::Int64(86_400_000_000_000)
        );
        let err = Cell::Timestamp(i64::MAX)
            .to_value(&nanos, "ts")
            .unwrap_err();
        assert!(err.message().contains("column ts"), "{err}");
    }

    #[test]
    fn cells_become_values() {
        let table: Vec<(Cell, Target, Value)> = vec![
            (Cell::Int(-5), Target::Int8, Value::Int8(-5)),
            (Cell::UInt(200), Target::Int16, Value::Int16(200)),
            (Cell::Int(1), Target::Boolean, Value::Boolean(true)),
            (
                Cell::Decimal(Decimal::new(12345, 2)),
                Target::Decimal(3),
                Value::Decimal(Decimal::new(123450, 3)),
            ),
            (
                Cell::UInt(u64::MAX),
                Target::Decimal(0),
                Value::Decimal(Decimal::new(u64::MAX, 0)),
            ),
            (
                Cell::Decimal(Decimal::new(1250, 2)),
                Target::Float64,
                Value::Float64(12.5),
            ),
            (
                Cell::Decimal(Decimal::new(4200, 2)),
                Target::Int32,
                Value::Int32(42),
            ),
            (
                Cell::Timestamp(1_500_999),
                Target::Timestamp,
                Value::Timestamp(1500),
            ),
            (Cell::Timestamp(-1), Target::Timestamp, Value::Timestamp(-1)),
            (
                Cell::Time(3_723_456_789),
                Target::Time,
                Value::Time(3_723_456),
            ),
            (Cell::Date(19_000), Target::Date, Value::Date(19_000)),
            (
                Cell::Array(vec![Cell::Int(1), Cell::Null]),
                Target::Array(Box::new(Target::Int32)),
                Value::Array(vec![Value::Int32(1), Value::Null]),
            ),
            (Cell::Null, Target::String, Value::Null),
        ];
        for (cell, target, want) in table {
            assert_eq!(cell.to_value(&target, "c").unwrap(), want, "{cell:?}");
            assert_eq!(cell.into_value(&target, "c").unwrap(), want);
        }
        assert_eq!(
            Cell::Text("héllo".into())
                .into_value(&Target::String, "c")
                .unwrap(),
            Value::String("héllo".into())
        );
        let err = Cell::Int(300).to_value(&Target::Int8, "age").unwrap_err();
        assert!(err.message().contains("column age"), "{err}");
        let err = Cell::Decimal(Decimal::new(1234, 3))
            .to_value(&Target::Decimal(2), "price")
            .unwrap_err();
        assert!(err.message().contains("column price"), "{err}");
    }

    #[test]
    fn values_become_cells() {
        let s = Schema::int32();
        assert_eq!(
            Cell::from_value(&Value::Timestamp(5), &s, "f").unwrap(),
            Cell::Timestamp(5000)
        );
        assert_eq!(
            Cell::from_value(&Value::Time(5), &s, "f").unwrap(),
            Cell::Time(5000)
        );
        let err = Cell::from_value(
            &Value::Map(vec![]),
            &SchemaBuilder::map(Schema::string(), Schema::string()).build(),
            "tags",
        )
        .unwrap_err();
        assert_eq!(
            err.message(),
            "Unsupported source data type: MAP (field tags)"
        );
    }
}
