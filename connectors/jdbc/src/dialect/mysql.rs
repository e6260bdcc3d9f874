//! MySQL and MariaDB.

use ferry_api::schema::logical;
use ferry_api::{Schema, SchemaType};

use super::{CatalogColumn, Dialect};
use crate::types::SqlType;
use crate::url::DbKind;

/// MySQL / MariaDB (Confluent's `MySqlDatabaseDialect`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MySqlDialect;

impl Dialect for MySqlDialect {
    fn kind(&self) -> DbKind {
        DbKind::MySql
    }

    fn quote_char(&self) -> char {
        '`'
    }

    fn placeholder(&self, _n: usize) -> String {
        "?".to_owned()
    }

    /// The session zone is `db.timezone`, so DATETIME and TIMESTAMP both read as its wall clock;
    /// ANSI_QUOTES stays off (backticks quote identifiers).
    fn session_setup(&self, offset: &str) -> Vec<String> {
        vec![format!("SET time_zone = '{offset}'")]
    }

    fn columns_query(&self) -> &'static str {
        "SELECT column_name, data_type, column_type, is_nullable, \
         CAST(numeric_precision AS CHAR), CAST(numeric_scale AS CHAR), \
         CASE WHEN extra LIKE '%auto_increment%' THEN '1' ELSE '0' END \
         FROM information_schema.columns WHERE table_schema = ? AND table_name = ? \
         ORDER BY ordinal_position"
    }

    fn tables_query(&self) -> &'static str {
        "SELECT table_schema, table_name, table_type FROM information_schema.tables \
         WHERE table_schema LIKE ? ORDER BY table_schema, table_name"
    }

    fn current_schema_query(&self) -> &'static str {
        "SELECT DATABASE()"
    }

    /// Microseconds: plain CURRENT_TIMESTAMP is whole seconds in MySQL.
    fn current_time_query(&self) -> &'static str {
        "SELECT CURRENT_TIMESTAMP(6)"
    }

    fn sql_type(&self, c: &CatalogColumn) -> SqlType {
        let full = c.full_type.to_ascii_lowercase();
        let unsigned = full.contains("unsigned");
        match c.data_type.to_ascii_lowercase().as_str() {
            "tinyint" => SqlType::TinyInt { unsigned },
            "smallint" => SqlType::SmallInt { unsigned },
            // MEDIUMINT (even unsigned) fits INTEGER; Connector/J reports it so.
            "mediumint" => SqlType::Integer { unsigned: false },
            "int" | "integer" => SqlType::Integer { unsigned },
            "bigint" => SqlType::BigInt { unsigned },
            "float" => SqlType::Real,
            "double" | "real" | "double precision" => SqlType::Double,
            "decimal" | "numeric" => SqlType::Numeric {
                precision: c.precision.unwrap_or(0),
                scale: c.scale.unwrap_or(0),
            },
            "bit" if full == "bit(1)" => SqlType::Bit,
            "bit" => SqlType::Binary,
            "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum"
            | "set" | "json" => SqlType::Text,
            "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
                SqlType::Binary
            }
            "date" => SqlType::Date,
            "year" => SqlType::Year,
            "time" => SqlType::Time,
            "datetime" | "timestamp" => SqlType::Timestamp,
            other => SqlType::Unsupported(other.to_owned()),
        }
    }

    fn ddl_type(&self, schema: &Schema, is_key: bool) -> Option<String> {
        let t = match schema.name.as_deref() {
            Some(logical::DECIMAL) => {
                format!("DECIMAL(65,{})", schema.decimal_scale().unwrap_or(0))
            }
            Some(logical::DATE) => "DATE".into(),
            Some(logical::TIME) => "TIME(3)".into(),
            Some(crate::types::EPOCH_TIMESTAMP_FIELD) => "DATETIME(6)".into(),
            Some(logical::TIMESTAMP) => "DATETIME(3)".into(),
            _ => match schema.schema_type {
                SchemaType::Int8 => "TINYINT".into(),
                SchemaType::Int16 => "SMALLINT".into(),
                SchemaType::Int32 => "INT".into(),
                SchemaType::Int64 => "BIGINT".into(),
                SchemaType::Float32 => "FLOAT".into(),
                SchemaType::Float64 => "DOUBLE".into(),
                SchemaType::Boolean => "TINYINT".into(),
                // Confluent writes TEXT/VARBINARY(1024); the LONG variants hold any value, and
                // a key needs a bounded type to be indexed.
                SchemaType::String if is_key => "VARCHAR(256)".into(),
                SchemaType::String => "LONGTEXT".into(),
                SchemaType::Bytes if is_key => "VARBINARY(1024)".into(),
                SchemaType::Bytes => "LONGBLOB".into(),
                _ => return None,
            },
        };
        Some(t)
    }

    fn upsert_clause(&self, keys: &[String], non_keys: &[String]) -> String {
        let sets: Vec<String> = if non_keys.is_empty() {
            // Nothing to update: assigning a key to itself keeps the row and the statement valid.
            keys.iter().take(1).map(|k| format!("{k}={k}")).collect()
        } else {
            non_keys
                .iter()
                .map(|c| format!("{c}=VALUES({c})"))
                .collect()
        };
        format!(" ON DUPLICATE KEY UPDATE {}", sets.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_api::SchemaBuilder;

    fn col(data_type: &str, full: &str, p: Option<u32>, s: Option<i32>) -> CatalogColumn {
        CatalogColumn {
            name: "c".into(),
            data_type: data_type.into(),
            full_type: full.into(),
            nullable: true,
            precision: p,
            scale: s,
            auto_increment: false,
        }
    }

    #[test]
    fn catalog_types() {
        let table = [
            (
                col("tinyint", "tinyint(1)", None, None),
                SqlType::TinyInt { unsigned: false },
            ),
            (
                col("int", "int(10) unsigned", None, None),
                SqlType::Integer { unsigned: true },
            ),
            (
                col("bigint", "bigint(20) unsigned", None, None),
                SqlType::BigInt { unsigned: true },
            ),
            (
                col("mediumint", "mediumint(8) unsigned", None, None),
                SqlType::Integer { unsigned: false },
            ),
            (
                col("decimal", "decimal(10,2)", Some(10), Some(2)),
                SqlType::Numeric {
                    precision: 10,
                    scale: 2,
                },
            ),
            (col("float", "float", None, None), SqlType::Real),
            (col("longtext", "longtext", None, None), SqlType::Text),
            (col("blob", "blob", None, None), SqlType::Binary),
            (
                col("datetime", "datetime(6)", None, None),
                SqlType::Timestamp,
            ),
            (col("bit", "bit(1)", None, None), SqlType::Bit),
            (col("year", "year(4)", None, None), SqlType::Year),
            (
                col("geometry", "geometry", None, None),
                SqlType::Unsupported("geometry".into()),
            ),
        ];
        for (c, want) in table {
            assert_eq!(MySqlDialect.sql_type(&c), want, "{c:?}");
        }
    }

    #[test]
    fn ddl_and_upsert() {
        let d = MySqlDialect;
        assert_eq!(
            d.ddl_type(&SchemaBuilder::decimal(2).build(), false)
                .unwrap(),
            "DECIMAL(65,2)"
        );
        assert_eq!(d.ddl_type(&Schema::string(), true).unwrap(), "VARCHAR(256)");
        assert_eq!(d.ddl_type(&Schema::string(), false).unwrap(), "LONGTEXT");
        assert_eq!(
            d.ddl_type(&SchemaBuilder::timestamp().build(), false)
                .unwrap(),
            "DATETIME(3)"
        );
        // A timestamp.fields.list column: epoch microseconds kept whole.
        let epoch = SchemaBuilder::int64()
            .name(crate::types::EPOCH_TIMESTAMP_FIELD)
            .build();
        assert_eq!(d.ddl_type(&epoch, false).unwrap(), "DATETIME(6)");
        assert_eq!(
            d.upsert_clause(&["`id`".into()], &["`a`".into(), "`b`".into()]),
            " ON DUPLICATE KEY UPDATE `a`=VALUES(`a`),`b`=VALUES(`b`)"
        );
        assert_eq!(
            d.upsert_clause(&["`id`".into()], &[]),
            " ON DUPLICATE KEY UPDATE `id`=`id`"
        );
    }
}
