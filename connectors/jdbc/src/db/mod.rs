//! One open database connection, MySQL/MariaDB or PostgreSQL, with the few operations the
//! connectors need: run a statement with bound [`Cell`] parameters, read rows as cells, describe a
//! query's columns, run plain SQL (transactions, DDL) and, for PostgreSQL, `COPY … FROM STDIN`.
//!
//! Every timestamp crosses this boundary as UTC epoch microseconds: the session time zone is set
//! to `db.timezone`, zone-less values are shifted from its wall clock on the way in and back on
//! the way out.

mod mysql;
mod pg_binary;
mod postgres;

pub(crate) use postgres::copy_field;

use ferry_api::{ConnectError, Result};

use crate::dialect::{self, CatalogColumn, Dialect, TableId};
use crate::time::DbTimeZone;
use crate::types::{Cell, ColumnMeta};
use crate::url::{DbKind, JdbcUrl};

/// How to connect: the parsed URL, credentials and zone.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionSettings {
    /// `connection.url`.
    pub url: JdbcUrl,
    /// `connection.user` (falls back to the URL's `user` parameter).
    pub user: Option<String>,
    /// `connection.password` (falls back to the URL's `password` parameter).
    pub password: Option<String>,
    /// `db.timezone`.
    pub timezone: DbTimeZone,
    /// `connection.attempts`.
    pub attempts: u32,
    /// `connection.backoff.ms`.
    pub backoff_ms: u64,
}

impl ConnectionSettings {
    /// What the live tests connect with: `url`'s own credentials, `timezone`, one attempt.
    #[cfg(test)]
    pub(crate) fn for_test(url: &str, timezone: DbTimeZone) -> Result<Self> {
        Ok(ConnectionSettings {
            url: JdbcUrl::parse(url)?,
            user: None,
            password: None,
            timezone,
            attempts: 1,
            backoff_ms: 0,
        })
    }

    /// The `+HH:MM` form of the zone for session setup.
    fn offset_text(&self) -> String {
        self.timezone.offset_text()
    }
    fn user(&self) -> Option<&str> {
        self.user.as_deref().or(self.url.param("user"))
    }
    fn password(&self) -> Option<&str> {
        self.password.as_deref().or(self.url.param("password"))
    }
}

/// An open connection.
#[derive(Debug)]
pub(crate) enum Db {
    /// MySQL or MariaDB.
    MySql(mysql::MySqlDb),
    /// PostgreSQL.
    Postgres(postgres::PgDb),
}

/// A query result: one row of cells per row, in column order.
pub(crate) type Rows = Vec<Vec<Cell>>;

impl Db {
    /// Connects, retrying `connection.attempts` times `connection.backoff.ms` apart, and sets the
    /// session up (time zone).
    pub(crate) async fn connect(settings: &ConnectionSettings) -> Result<Db> {
        let attempts = settings.attempts.max(1);
        let mut last = None;
        for attempt in 1..=attempts {
            match Self::connect_once(settings).await {
                Ok(db) => return Ok(db),
                Err(e) => {
                    tracing::warn!(
                        "connection attempt {attempt}/{attempts} to {} {}:{} failed: {e}",
                        settings.url.kind,
                        settings.url.host,
                        settings.url.port
                    );
                    last = Some(e);
                    if attempt < attempts {
                        tokio::time::sleep(std::time::Duration::from_millis(settings.backoff_ms))
                            .await;
                    }
                }
            }
        }
        Err(last.expect("at least one attempt"))
    }

    async fn connect_once(settings: &ConnectionSettings) -> Result<Db> {
        let tz = settings.timezone;
        let mut db = match settings.url.kind {
            DbKind::MySql => Db::MySql(
                mysql::MySqlDb::connect(&settings.url, settings.user(), settings.password(), tz)
                    .await?,
            ),
            DbKind::Postgres => Db::Postgres(
                postgres::PgDb::connect(&settings.url, settings.user(), settings.password(), tz)
                    .await?,
            ),
        };
        for stmt in db.dialect().session_setup(&settings.offset_text()) {
            db.simple(&stmt)
                .await
                .map_err(|e| match settings.timezone {
                    DbTimeZone::Named(_) if settings.url.kind == DbKind::MySql => {
                        e.context(format!(
                    "db.timezone {}: MySQL/MariaDB knows zone names only from its time zone \
                     tables (load them with mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb \
                     mysql) — or use an offset such as +01:00",
                    settings.timezone.offset_text()
                ))
                    }
                    _ => e,
                })?;
        }
        Ok(db)
    }

    /// The dialect of this connection.
    pub(crate) fn dialect(&self) -> &'static dyn Dialect {
        match self {
            Db::MySql(_) => dialect::for_kind(DbKind::MySql),
            Db::Postgres(_) => dialect::for_kind(DbKind::Postgres),
        }
    }

    /// Runs SQL without parameters or results (transactions, DDL).
    pub(crate) async fn simple(&mut self, sql: &str) -> Result<()> {
        tracing::debug!(sql, "simple");
        match self {
            Db::MySql(db) => db.simple(sql).await,
            Db::Postgres(db) => db.simple(sql).await,
        }
        .map_err(|e| e.context(format!("while running {sql}")))
    }

    /// Runs a statement with bound parameters; returns the affected row count.
    pub(crate) async fn execute(&mut self, sql: &str, params: &[Cell]) -> Result<u64> {
        match self {
            Db::MySql(db) => db.execute(sql, params).await,
            Db::Postgres(db) => db.execute(sql, params).await,
        }
        .map_err(|e| e.context(format!("while running {}", abbreviate(sql))))
    }

    /// Runs one statement once per parameter row (UPDATE per record). PostgreSQL pipelines the
    /// executions (one round trip for all); MySQL runs them one after another.
    pub(crate) async fn execute_many(&mut self, sql: &str, rows: &[Vec<Cell>]) -> Result<u64> {
        match self {
            Db::MySql(db) => {
                let mut n = 0;
                for params in rows {
                    n += db.execute(sql, params).await?;
                }
                Ok(n)
            }
            Db::Postgres(db) => db.execute_many(sql, rows).await,
        }
        .map_err(|e| e.context(format!("while running {}", abbreviate(sql))))
    }

    /// MySQL/MariaDB only: runs `head` + the rows as literal tuples + `tail` (a multi-row
    /// INSERT over the text protocol); returns the affected row count.
    pub(crate) async fn execute_literal(
        &mut self,
        head: &str,
        rows: &[&Vec<Cell>],
        tail: &str,
    ) -> Result<u64> {
        match self {
            Db::MySql(db) => db.execute_literal(head, rows, tail).await,
            Db::Postgres(_) => Err(ConnectError::internal(
                "literal multi-row statements are MySQL-only",
            )),
        }
        .map_err(|e| e.context(format!("while running {head}… ({} rows){tail}", rows.len())))
    }

    /// MySQL/MariaDB only: `LOAD DATA LOCAL INFILE` of `rows` into `columns` (comma-separated,
    /// quoted) of `table`. `Ok(false)` when the rows did not all load cleanly (warnings, or the
    /// server refuses local files): the caller must undo it (savepoint) and INSERT instead.
    pub(crate) async fn load_rows(
        &mut self,
        table: &str,
        columns: &str,
        rows: &[&Vec<Cell>],
    ) -> Result<bool> {
        match self {
            Db::MySql(db) => db.load_rows(table, columns, rows).await,
            Db::Postgres(_) => Err(ConnectError::internal("LOAD DATA is MySQL-only")),
        }
        .map_err(|e| e.context(format!("while loading {} rows into {table}", rows.len())))
    }

    /// Runs a query with bound parameters; returns its rows as cells.
    pub(crate) async fn query(&mut self, sql: &str, params: &[Cell]) -> Result<Rows> {
        match self {
            Db::MySql(db) => db.query(sql, params).await,
            Db::Postgres(db) => db.query(sql, params).await,
        }
        .map_err(|e| e.context(format!("while running {}", abbreviate(sql))))
    }

    /// Runs a query and sends each row, wrapped by `wrap`, into `tx` as it arrives (bounded:
    /// the database is read no faster than rows are taken). Stops early, leaving the connection
    /// usable, when the receiver is gone.
    pub(crate) async fn query_each<T: Send>(
        &mut self,
        sql: &str,
        params: &[Cell],
        tx: &tokio::sync::mpsc::Sender<T>,
        wrap: fn(Vec<Cell>) -> T,
    ) -> Result<()> {
        match self {
            Db::MySql(db) => db.query_each(sql, params, tx, wrap).await,
            Db::Postgres(db) => db.query_each(sql, params, tx, wrap).await,
        }
        .map_err(|e| e.context(format!("while running {}", abbreviate(sql))))
    }

    /// The result columns of a query, from the database's own description of it (query mode).
    pub(crate) async fn describe(&mut self, sql: &str) -> Result<Vec<ColumnMeta>> {
        match self {
            Db::MySql(db) => db.describe(sql).await,
            Db::Postgres(db) => db.describe(sql).await,
        }
        .map_err(|e| e.context(format!("while describing {sql}")))
    }

    /// `COPY … FROM STDIN` with a text-format payload (PostgreSQL only).
    pub(crate) async fn copy_in(&mut self, sql: &str, payload: Vec<u8>) -> Result<u64> {
        match self {
            Db::MySql(_) => Err(ConnectError::internal("COPY is PostgreSQL-only")),
            Db::Postgres(db) => db.copy_in(sql, payload).await,
        }
        .map_err(|e| e.context(format!("while running {sql}")))
    }

    /// The session's default schema (PostgreSQL) or database (MySQL).
    pub(crate) async fn current_schema(&mut self) -> Result<String> {
        let sql = self.dialect().current_schema_query();
        let rows = self.query(sql, &[]).await?;
        rows.into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .and_then(Cell::into_text)
            .ok_or_else(|| {
                ConnectError::config(
                    "the connection has no current database/schema; name one in connection.url",
                )
            })
    }

    /// The columns of `table` from the catalog, in order; empty when the table does not exist.
    /// `namespace` is the schema (PostgreSQL) or database (MySQL) to look in.
    pub(crate) async fn catalog_columns(
        &mut self,
        namespace: &str,
        table: &str,
    ) -> Result<Vec<CatalogColumn>> {
        let sql = self.dialect().columns_query();
        let rows = self
            .query(
                sql,
                &[Cell::Text(namespace.into()), Cell::Text(table.into())],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut it = r.into_iter().map(Cell::into_text);
                let mut next = || it.next().flatten();
                CatalogColumn {
                    name: next().unwrap_or_default(),
                    data_type: next().unwrap_or_default(),
                    full_type: next().unwrap_or_default(),
                    nullable: next().is_some_and(|s| s.eq_ignore_ascii_case("YES")),
                    precision: next().and_then(|s| s.parse().ok()),
                    scale: next().and_then(|s| s.parse().ok()),
                    auto_increment: next().as_deref() == Some("1"),
                }
            })
            .collect())
    }

    /// The columns of `table` as [`ColumnMeta`].
    pub(crate) async fn table_columns(&mut self, id: &TableId) -> Result<Vec<ColumnMeta>> {
        let namespace = self.namespace_of(id).await?;
        let dialect = self.dialect();
        Ok(self
            .catalog_columns(&namespace, &id.table)
            .await?
            .into_iter()
            .map(|c| ColumnMeta {
                sql_type: dialect.sql_type(&c),
                name: c.name,
                nullable: c.nullable,
                auto_increment: c.auto_increment,
            })
            .collect())
    }

    /// The schema (PostgreSQL) or database (MySQL) that holds `id`.
    pub(crate) async fn namespace_of(&mut self, id: &TableId) -> Result<String> {
        let given = match self {
            Db::MySql(_) => id.catalog.clone().or_else(|| id.schema.clone()),
            Db::Postgres(_) => id.schema.clone(),
        };
        match given {
            Some(n) => Ok(n),
            None => self.current_schema().await,
        }
    }

    /// Tables of the schemas (or databases) matching the LIKE `pattern`, as
    /// (schema, name, table_type).
    pub(crate) async fn list_tables(
        &mut self,
        pattern: &str,
    ) -> Result<Vec<(String, String, String)>> {
        let sql = self.dialect().tables_query();
        let rows = self.query(sql, &[Cell::Text(pattern.into())]).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let mut it = r.into_iter().map(Cell::into_text);
                Some((it.next()??, it.next()??, it.next()??))
            })
            .collect())
    }

    /// The database's current time, UTC epoch microseconds.
    pub(crate) async fn current_time(&mut self) -> Result<i64> {
        let sql = self.dialect().current_time_query();
        let rows = self.query(sql, &[]).await?;
        match rows.first().and_then(|r| r.first()) {
            Some(Cell::Timestamp(us)) => Ok(*us),
            other => Err(ConnectError::internal(format!(
                "{sql} returned {other:?}, not a timestamp"
            ))),
        }
    }

    /// Whether the connection still answers (after an error, to decide whether to reconnect).
    pub(crate) async fn is_alive(&mut self) -> bool {
        self.simple("SELECT 1").await.is_ok()
    }
}

/// The head of a long statement, for error messages (multi-row INSERTs run to megabytes).
fn abbreviate(sql: &str) -> &str {
    match sql.char_indices().nth(300) {
        Some((i, _)) => &sql[..i],
        None => sql,
    }
}

/// Classifies a driver error: connection-level failures may pass (retriable), statement errors
/// (syntax, constraint) will not.
pub(crate) fn driver_error(
    error: impl std::error::Error + Send + Sync + 'static,
    connection_lost: bool,
) -> ConnectError {
    let e = if connection_lost {
        ConnectError::retriable(error.to_string())
    } else {
        ConnectError::external(error.to_string())
    };
    e.with_source(error)
}
