//! PostgreSQL.

use ferry_api::schema::logical;
use ferry_api::{Schema, SchemaType};

use super::{CatalogColumn, Dialect};
use crate::types::SqlType;
use crate::url::DbKind;

/// PostgreSQL (Confluent's `PostgreSqlDatabaseDialect`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PostgresDialect;

/// The type of a PostgreSQL type name (`udt_name` / `pg_type.typname`): arrays are `_elem`.
pub(crate) fn pg_type_by_name(name: &str, precision: u32, scale: i32) -> SqlType {
    if let Some(elem) = name.strip_prefix('_') {
        return match pg_type_by_name(elem, 0, 0) {
            SqlType::Unsupported(_) => SqlType::Unsupported(name.to_owned()),
            SqlType::Array(_) => SqlType::Unsupported(name.to_owned()),
            t => SqlType::Array(Box::new(t)),
        };
    }
    match name {
        "bool" => SqlType::Boolean,
        "int2" => SqlType::SmallInt { unsigned: false },
        "int4" => SqlType::Integer { unsigned: false },
        "int8" => SqlType::BigInt { unsigned: false },
        "float4" => SqlType::Real,
        "float8" => SqlType::Double,
        "numeric" => SqlType::Numeric { precision, scale },
        "text" | "varchar" | "bpchar" | "name" | "json" | "jsonb" | "uuid" | "xml" | "citext" => {
            SqlType::Text
        }
        "bytea" => SqlType::Binary,
        "date" => SqlType::Date,
        "time" | "timetz" => SqlType::Time,
        "timestamp" => SqlType::Timestamp,
        "timestamptz" => SqlType::TimestampTz,
        other => SqlType::Unsupported(other.to_owned()),
    }
}

impl Dialect for PostgresDialect {
    fn kind(&self) -> DbKind {
        DbKind::Postgres
    }

    fn quote_char(&self) -> char {
        '"'
    }

    fn placeholder(&self, n: usize) -> String {
        format!("${n}")
    }

    fn session_setup(&self, offset: &str) -> Vec<String> {
        // POSIX zone names have the sign inverted; an ISO offset via INTERVAL does not. A tz
        // database name (`db.timezone=Europe/Paris`) is set as such.
        if offset.starts_with(['+', '-']) {
            vec![format!("SET TIME ZONE INTERVAL '{offset}' HOUR TO MINUTE")]
        } else {
            vec![format!("SET TIME ZONE '{}'", offset.replace('\'', "''"))]
        }
    }

    fn columns_query(&self) -> &'static str {
        "SELECT column_name::text, data_type::text, udt_name::text, is_nullable::text, \
         numeric_precision::text, numeric_scale::text, \
         CASE WHEN is_identity = 'YES' OR column_default LIKE 'nextval(%' THEN '1' ELSE '0' END \
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 \
         ORDER BY ordinal_position"
    }

    fn tables_query(&self) -> &'static str {
        "SELECT table_schema::text, table_name::text, table_type::text \
         FROM information_schema.tables WHERE table_schema LIKE $1 \
         AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
    }

    fn current_schema_query(&self) -> &'static str {
        "SELECT current_schema()::text"
    }

    fn sql_type(&self, c: &CatalogColumn) -> SqlType {
        pg_type_by_name(&c.full_type, c.precision.unwrap_or(0), c.scale.unwrap_or(0))
    }

    fn ddl_type(&self, schema: &Schema, _is_key: bool) -> Option<String> {
        let t = match schema.name.as_deref() {
            // Confluent writes an unconstrained DECIMAL; keeping the scale lets the source read
            // the column back as the same Decimal (an unconstrained NUMERIC has no fixed scale).
            Some(logical::DECIMAL) => {
                format!("DECIMAL(1000,{})", schema.decimal_scale().unwrap_or(0))
            }
            Some(logical::DATE) => "DATE".into(),
            Some(logical::TIME) => "TIME".into(),
            Some(crate::types::EPOCH_TIMESTAMP_FIELD) => "TIMESTAMP".into(),
            Some(logical::TIMESTAMP) => "TIMESTAMP".into(),
            _ => match schema.schema_type {
                SchemaType::Int8 | SchemaType::Int16 => "SMALLINT".into(),
                SchemaType::Int32 => "INT".into(),
                SchemaType::Int64 => "BIGINT".into(),
                SchemaType::Float32 => "REAL".into(),
                SchemaType::Float64 => "DOUBLE PRECISION".into(),
                SchemaType::Boolean => "BOOLEAN".into(),
                SchemaType::String => "TEXT".into(),
                SchemaType::Bytes => "BYTEA".into(),
                _ => return None,
            },
        };
        Some(t)
    }

    fn upsert_clause(&self, keys: &[String], non_keys: &[String]) -> String {
        if non_keys.is_empty() {
            return format!(" ON CONFLICT ({}) DO NOTHING", keys.join(","));
        }
        let sets: Vec<String> = non_keys
            .iter()
            .map(|c| format!("{c}=EXCLUDED.{c}"))
            .collect();
        format!(
            " ON CONFLICT ({}) DO UPDATE SET {}",
            keys.join(","),
            sets.join(",")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_api::SchemaBuilder;

    #[test]
    fn type_names() {
        let table = [
            ("int4", SqlType::Integer { unsigned: false }),
            ("jsonb", SqlType::Text),
            ("uuid", SqlType::Text),
            ("timestamptz", SqlType::TimestampTz),
            (
                "_int8",
                SqlType::Array(Box::new(SqlType::BigInt { unsigned: false })),
            ),
            ("_text", SqlType::Array(Box::new(SqlType::Text))),
            ("inet", SqlType::Unsupported("inet".into())),
            ("_inet", SqlType::Unsupported("_inet".into())),
        ];
        for (name, want) in table {
            assert_eq!(pg_type_by_name(name, 0, 0), want, "{name}");
        }
        assert_eq!(
            pg_type_by_name("numeric", 12, 4),
            SqlType::Numeric {
                precision: 12,
                scale: 4
            }
        );
    }

    #[test]
    fn ddl_and_upsert() {
        let d = PostgresDialect;
        assert_eq!(
            d.ddl_type(&SchemaBuilder::decimal(2).build(), false)
                .unwrap(),
            "DECIMAL(1000,2)"
        );
        assert_eq!(
            d.ddl_type(&Schema::float64(), false).unwrap(),
            "DOUBLE PRECISION"
        );
        assert_eq!(d.ddl_type(&Schema::int8(), false).unwrap(), "SMALLINT");
        // A timestamp.fields.list column: epoch microseconds kept whole.
        let epoch = SchemaBuilder::int64()
            .name(crate::types::EPOCH_TIMESTAMP_FIELD)
            .build();
        assert_eq!(d.ddl_type(&epoch, false).unwrap(), "TIMESTAMP");
        assert_eq!(
            d.upsert_clause(&["\"id\"".into()], &["\"a\"".into()]),
            " ON CONFLICT (\"id\") DO UPDATE SET \"a\"=EXCLUDED.\"a\""
        );
        assert_eq!(
            d.upsert_clause(&["\"id\"".into()], &[]),
            " ON CONFLICT (\"id\") DO NOTHING"
        );
    }
}
