//! What differs between databases, behind one small trait: identifier quoting, placeholders,
//! catalog queries, catalog type names → [`SqlType`], Connect schema → column DDL type, and the
//! upsert clause. Everything built from these pieces (SELECTs with criteria, multi-row INSERTs,
//! DELETEs, ALTERs) is shared code in `sql.rs`, so the databases cannot drift apart.

mod mysql;
pub(crate) mod postgres;

use std::fmt;

pub(crate) use mysql::MySqlDialect;
pub(crate) use postgres::PostgresDialect;

use ferry_api::Schema;

use crate::types::SqlType;
use crate::url::DbKind;

/// `quote.sql.identifiers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum QuoteMode {
    /// Quote every identifier (Confluent's default).
    #[default]
    Always,
    /// Write identifiers as given.
    Never,
}

impl QuoteMode {
    /// Parses a validated `quote.sql.identifiers` value.
    pub(crate) fn parse(s: &str) -> QuoteMode {
        if s.eq_ignore_ascii_case("never") {
            QuoteMode::Never
        } else {
            QuoteMode::Always
        }
    }
}

/// A column as the catalog (`information_schema.columns`) describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CatalogColumn {
    /// Column name.
    pub name: String,
    /// `data_type`.
    pub data_type: String,
    /// MySQL `column_type` (`int(10) unsigned`), PostgreSQL `udt_name` (`int4`, `_text`).
    pub full_type: String,
    /// `is_nullable = 'YES'`.
    pub nullable: bool,
    /// `numeric_precision`.
    pub precision: Option<u32>,
    /// `numeric_scale`.
    pub scale: Option<i32>,
    /// Filled by AUTO_INCREMENT, a sequence default or IDENTITY.
    pub auto_increment: bool,
}

/// A table: catalog (MySQL database / PostgreSQL database), schema (PostgreSQL) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TableId {
    /// Catalog, if known.
    pub catalog: Option<String>,
    /// Schema, if the database has schemas.
    pub schema: Option<String>,
    /// Table name.
    pub table: String,
}

impl TableId {
    /// A bare table name.
    pub(crate) fn bare(table: impl Into<String>) -> TableId {
        TableId {
            catalog: None,
            schema: None,
            table: table.into(),
        }
    }
}

impl fmt::Display for TableId {
    /// Unquoted, dot-joined: the `table` value of Confluent's v1 source partition.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in [&self.catalog, &self.schema].into_iter().flatten() {
            write!(f, "{part}.")?;
        }
        f.write_str(&self.table)
    }
}

/// The database-specific pieces of SQL.
pub(crate) trait Dialect: Send + Sync + fmt::Debug {
    /// Which database.
    fn kind(&self) -> DbKind;
    /// The identifier quote character.
    fn quote_char(&self) -> char;
    /// The `n`-th (1-based) bind placeholder.
    fn placeholder(&self, n: usize) -> String;
    /// Statements run on each new connection (time zone, SQL mode); `offset` is `db.timezone` as
    /// `+HH:MM`.
    fn session_setup(&self, offset: &str) -> Vec<String>;
    /// The catalog query for one table's columns; binds (schema or database, table) and returns
    /// name, data_type, full type, is_nullable, precision, scale, auto_increment ('1'/'0'), all
    /// as text, in column order.
    fn columns_query(&self) -> &'static str;
    /// The catalog query for the tables of the schemas (or databases) matching a LIKE pattern;
    /// returns (schema, table_name, table_type) as text.
    fn tables_query(&self) -> &'static str;
    /// The SQL expression for the default schema (or database) of the session.
    fn current_schema_query(&self) -> &'static str;
    /// The query for the database's current time (for `timestamp.delay.interval.ms`), returning
    /// a timestamp in the session's zone.
    fn current_time_query(&self) -> &'static str {
        "SELECT CURRENT_TIMESTAMP"
    }
    /// Maps a catalog column to its type.
    fn sql_type(&self, column: &CatalogColumn) -> SqlType;
    /// The column type for a Connect schema in CREATE/ALTER TABLE; `is_key` for primary-key
    /// columns (MySQL cannot index unbounded TEXT/BLOB).
    fn ddl_type(&self, schema: &Schema, is_key: bool) -> Option<String>;
    /// The clause after `INSERT … VALUES (…)` that makes it an upsert on `keys` (quoted).
    fn upsert_clause(&self, keys: &[String], non_keys: &[String]) -> String;
    /// Maps `table.types` (JDBC names: TABLE, VIEW) to `information_schema.tables.table_type`.
    fn table_types_filter(&self, types: &[String]) -> Vec<String> {
        types
            .iter()
            .map(|t| match t.to_ascii_uppercase().as_str() {
                "TABLE" => "BASE TABLE".to_owned(),
                other => other.to_owned(),
            })
            .collect()
    }

    /// Quotes an identifier per `mode`, doubling embedded quote characters.
    fn quote(&self, ident: &str, mode: QuoteMode) -> String {
        match mode {
            QuoteMode::Never => ident.to_owned(),
            QuoteMode::Always => {
                let q = self.quote_char();
                let doubled: String = ident
                    .chars()
                    .flat_map(|c| if c == q { vec![c, c] } else { vec![c] })
                    .collect();
                format!("{q}{doubled}{q}")
            }
        }
    }

    /// A table name as SQL: schema (or MySQL database) and table, quoted per `mode`. PostgreSQL
    /// cannot address another database, so its catalog is left out.
    fn table_sql(&self, id: &TableId, mode: QuoteMode) -> String {
        let qualifier = match self.kind() {
            DbKind::MySql => id.catalog.as_ref().or(id.schema.as_ref()),
            DbKind::Postgres => id.schema.as_ref(),
        };
        match qualifier {
            Some(q) => format!("{}.{}", self.quote(q, mode), self.quote(&id.table, mode)),
            None => self.quote(&id.table, mode),
        }
    }
}

/// The dialect for a database kind.
pub(crate) fn for_kind(kind: DbKind) -> &'static dyn Dialect {
    match kind {
        DbKind::MySql => &MySqlDialect,
        DbKind::Postgres => &PostgresDialect,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_table_names() {
        let id = TableId {
            catalog: Some("db".into()),
            schema: Some("public".into()),
            table: "we\"ird`t".into(),
        };
        assert_eq!(id.to_string(), "db.public.we\"ird`t");
        assert_eq!(
            PostgresDialect.table_sql(&id, QuoteMode::Always),
            "\"public\".\"we\"\"ird`t\""
        );
        let my = TableId {
            catalog: Some("shop".into()),
            schema: None,
            table: "orders".into(),
        };
        assert_eq!(
            MySqlDialect.table_sql(&my, QuoteMode::Always),
            "`shop`.`orders`"
        );
        assert_eq!(MySqlDialect.table_sql(&my, QuoteMode::Never), "shop.orders");
        assert_eq!(my.to_string(), "shop.orders");
        assert_eq!(MySqlDialect.placeholder(3), "?");
        assert_eq!(PostgresDialect.placeholder(3), "$3");
    }
}
