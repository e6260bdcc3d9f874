//! The MySQL/MariaDB side of [`super::Db`], over mysql_async (binary protocol: typed values).

use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::prelude::Queryable;
use mysql_async::{Column, Conn, DriverError, OptsBuilder, Params, Row, SslOpts, Value as MyValue};

use ferry_api::{ConnectError, Decimal, Result};

use crate::time::{days_from_civil, Civil, DbTimeZone};
use crate::tls::{TlsMode, TlsSettings};
use crate::types::{Cell, ColumnMeta, SqlType};
use crate::url::JdbcUrl;

/// The binary character set number: BINARY/VARBINARY/BLOB columns carry it.
const BINARY_CHARSET: u16 = 63;

/// An open MySQL/MariaDB connection.
pub(crate) struct MySqlDb {
    conn: Conn,
    tz: DbTimeZone,
    /// Whether the session's `sql_mode` has NO_BACKSLASH_ESCAPES (string literals then escape
    /// only quotes).
    no_backslash_escapes: bool,
    /// Whether the server refused `LOAD DATA LOCAL INFILE` (`local_infile` off): not tried again.
    load_refused: bool,
}

impl std::fmt::Debug for MySqlDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MySqlDb")
            .field("id", &self.conn.id())
            .finish()
    }
}

fn err(e: mysql_async::Error) -> ConnectError {
    let lost = matches!(e, mysql_async::Error::Io(_) | mysql_async::Error::Driver(_));
    super::driver_error(e, lost)
}

/// mysql_async's TLS options for `tls`; `None` for clear text.
///
/// mysql_async builds its rustls configuration with the process-wide crypto provider, so ring is
/// installed as that default first (a no-op when one is already installed). Its own `verify-ca`
/// (skip_domain_validation) does not recognise the name errors of current rustls, so
/// `VERIFY_CA` here also requires the certificate to name the host: stricter, never weaker.
async fn ssl_opts(tls: &TlsSettings) -> std::result::Result<Option<SslOpts>, String> {
    if tls.mode == TlsMode::Disable {
        return Ok(None);
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(match tls.mode {
        TlsMode::Disable => None,
        TlsMode::Prefer | TlsMode::Require => {
            Some(SslOpts::default().with_danger_accept_invalid_certs(true))
        }
        TlsMode::VerifyCa | TlsMode::VerifyFull => Some(
            SslOpts::default()
                .with_root_certs(vec![tls.ca_pem().await?.into()])
                .with_disable_built_in_roots(true)
                .with_danger_skip_domain_validation(tls.mode == TlsMode::VerifyCa),
        ),
    })
}

impl MySqlDb {
    pub(super) async fn connect(
        url: &JdbcUrl,
        user: Option<&str>,
        password: Option<&str>,
        tz: DbTimeZone,
    ) -> Result<MySqlDb> {
        let db = (!url.database.is_empty()).then(|| url.database.clone());
        let tls = TlsSettings::from_url(url).map_err(ConnectError::config)?;
        let opts = OptsBuilder::default()
            .ip_or_hostname(url.host.clone())
            .tcp_port(url.port)
            .user(user)
            .pass(password)
            .db_name(db)
            .prefer_socket(false);
        let failed = |e: mysql_async::Error| {
            let lost = !matches!(e, mysql_async::Error::Server(_));
            super::driver_error(e, lost).context(format!(
                "cannot connect to MySQL at {}:{}{}",
                url.host,
                url.port,
                tls.describe()
            ))
        };
        let conn = match ssl_opts(&tls).await.map_err(ConnectError::config)? {
            None => Conn::new(opts).await.map_err(failed)?,
            Some(ssl) => match Conn::new(opts.clone().ssl_opts(ssl)).await {
                // PREFERRED: a server without TLS gets a clear-text connection.
                Err(mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer))
                    if tls.mode == TlsMode::Prefer =>
                {
                    Conn::new(opts).await.map_err(failed)?
                }
                other => other.map_err(failed)?,
            },
        };
        let mut db = MySqlDb {
            conn,
            tz,
            no_backslash_escapes: false,
            load_refused: false,
        };
        let mode: Option<String> = db
            .conn
            .query_first("SELECT @@SESSION.sql_mode")
            .await
            .map_err(err)?;
        db.no_backslash_escapes = mode.is_some_and(|m| m.contains("NO_BACKSLASH_ESCAPES"));
        Ok(db)
    }

    /// Runs `head` + `(…),(…)` + `tail` with the rows written as SQL literals, over the text
    /// protocol: MariaDB runs a large multi-row INSERT about twice as fast this way as a prepared
    /// one with a parameter per cell (one parse instead of binding tens of thousands of
    /// parameters). Returns the affected row count.
    pub(super) async fn execute_literal(
        &mut self,
        head: &str,
        rows: &[&Vec<Cell>],
        tail: &str,
    ) -> Result<u64> {
        let mut sql = String::with_capacity(head.len() + tail.len() + rows.len() * 64);
        sql.push_str(head);
        for (i, row) in rows.iter().enumerate() {
            sql.push_str(if i == 0 { "(" } else { ",(" });
            for (j, cell) in row.iter().enumerate() {
                if j > 0 {
                    sql.push(',');
                }
                self.literal(&mut sql, cell)?;
            }
            sql.push(')');
        }
        sql.push_str(tail);
        self.conn.query_drop(sql).await.map_err(err)?;
        Ok(self.conn.affected_rows())
    }

    /// Bulk-loads `rows` into `columns` of `table` with `LOAD DATA LOCAL INFILE` from memory, as
    /// MariaDB's fastest path (about 2.5x a multi-row INSERT). LOAD DATA turns what INSERT would
    /// fail on (duplicate keys, bad values) into warnings and skipped rows, so any warning makes
    /// this `Ok(false)`: the caller rolls back to a savepoint and INSERTs instead, which fails
    /// with the real error. `Ok(false)` too, once and for all, when the server refuses local
    /// files.
    pub(super) async fn load_rows(
        &mut self,
        table: &str,
        columns: &str,
        rows: &[&Vec<Cell>],
    ) -> Result<bool> {
        if self.load_refused {
            return Ok(false);
        }
        let mut data = Vec::with_capacity(rows.len() * 64);
        for row in rows {
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    data.push(b'\t');
                }
                self.load_field(&mut data, cell)?;
            }
            data.push(b'\n');
        }
        let payload = bytes::Bytes::from(data);
        self.conn.set_infile_handler(async move {
            let chunk: std::io::Result<bytes::Bytes> = Ok(payload);
            Ok(Box::pin(futures_util::stream::iter([chunk])) as mysql_async::InfileData)
        });
        let sql = format!(
            "LOAD DATA LOCAL INFILE 'ferry' INTO TABLE {table} CHARACTER SET binary ({columns})"
        );
        match self.conn.query_drop(sql).await {
            Ok(()) => {
                Ok(self.conn.get_warnings() == 0 && self.conn.affected_rows() == rows.len() as u64)
            }
            // 1148 ER_NOT_ALLOWED_COMMAND (MySQL, MariaDB < 10.5.3), 3948 ER_CLIENT_LOCAL_FILES_DISABLED
            // (MySQL 8), 4166 ER_LOAD_INFILE_CAPABILITY_DISABLED (MariaDB).
            Err(mysql_async::Error::Server(e)) if matches!(e.code, 1148 | 3948 | 4166) => {
                tracing::info!(
                    "LOAD DATA LOCAL INFILE refused ({}); the sink INSERTs instead",
                    e.message
                );
                self.load_refused = true;
                Ok(false)
            }
            Err(e) => Err(err(e)),
        }
    }

    /// Appends one field of a LOAD DATA row (tab-separated, backslash escapes, `\N` for NULL).
    fn load_field(&self, out: &mut Vec<u8>, cell: &Cell) -> Result<()> {
        use std::io::Write;
        match cell {
            Cell::Null => out.extend_from_slice(b"\\N"),
            Cell::Text(s) => load_escape(out, s.as_bytes()),
            Cell::Bytes(b) => load_escape(out, b),
            other => {
                let mut text = String::new();
                self.literal(&mut text, other)?;
                // Literals of dates and times are quoted; the file takes them bare.
                let bare = text.trim_matches('\'');
                write!(out, "{bare}").expect("write to Vec");
            }
        }
        Ok(())
    }

    /// Appends `cell` as an SQL literal of the session's syntax.
    fn literal(&self, out: &mut String, cell: &Cell) -> Result<()> {
        use std::fmt::Write;
        match cell {
            Cell::Null => out.push_str("NULL"),
            Cell::Bool(b) => out.push(if *b { '1' } else { '0' }),
            Cell::Int(i) => write!(out, "{i}").expect("write to String"),
            Cell::UInt(u) => write!(out, "{u}").expect("write to String"),
            // Shortest round-trip form; an exponent keeps it a DOUBLE literal, not a DECIMAL.
            Cell::Float(f) if f.is_finite() => write!(out, "{f:e}").expect("write to String"),
            Cell::Float(f) => {
                return Err(ConnectError::data(format!(
                    "MySQL/MariaDB cannot store the floating-point value {f}"
                )))
            }
            Cell::Text(s) => quoted(out, s, self.no_backslash_escapes),
            Cell::Bytes(b) => {
                out.push_str("X'");
                for x in b.iter() {
                    write!(out, "{x:02X}").expect("write to String");
                }
                out.push('\'');
            }
            Cell::Decimal(d) => write!(out, "{d}").expect("write to String"),
            other => out.push_str(&self.to_mysql(other).as_sql(self.no_backslash_escapes)),
        }
        Ok(())
    }

    pub(super) async fn simple(&mut self, sql: &str) -> Result<()> {
        self.conn.query_drop(sql).await.map_err(err)
    }

    fn params(&self, params: &[Cell]) -> Params {
        if params.is_empty() {
            return Params::Empty;
        }
        Params::Positional(params.iter().map(|c| self.to_mysql(c)).collect())
    }

    pub(super) async fn execute(&mut self, sql: &str, params: &[Cell]) -> Result<u64> {
        let p = self.params(params);
        self.conn.exec_drop(sql, p).await.map_err(err)?;
        Ok(self.conn.affected_rows())
    }

    pub(super) async fn query(&mut self, sql: &str, params: &[Cell]) -> Result<super::Rows> {
        let p = self.params(params);
        let rows: Vec<Row> = self.conn.exec(sql, p).await.map_err(err)?;
        let tz = self.tz;
        rows.into_iter()
            .map(|row| {
                let columns = row.columns();
                row.unwrap()
                    .into_iter()
                    .zip(columns.iter())
                    .map(|(v, c)| from_mysql(v, c, tz))
                    .collect()
            })
            .collect()
    }

    pub(super) async fn query_each<T: Send>(
        &mut self,
        sql: &str,
        params: &[Cell],
        tx: &tokio::sync::mpsc::Sender<T>,
        wrap: fn(Vec<Cell>) -> T,
    ) -> Result<()> {
        let p = self.params(params);
        let tz = self.tz;
        let mut result = self.conn.exec_iter(sql, p).await.map_err(err)?;
        while let Some(row) = result.next().await.map_err(err)? {
            let columns = row.columns();
            let cells = row
                .unwrap()
                .into_iter()
                .zip(columns.iter())
                .map(|(v, c)| from_mysql(v, c, tz))
                .collect::<Result<Vec<Cell>>>()?;
            if tx.send(wrap(cells)).await.is_err() {
                // Nobody reads any more: skip the rest so the connection stays in step.
                result.drop_result().await.map_err(err)?;
                break;
            }
        }
        Ok(())
    }

    pub(super) async fn describe(&mut self, sql: &str) -> Result<Vec<ColumnMeta>> {
        let stmt = self.conn.prep(sql).await.map_err(err)?;
        let out = stmt.columns().iter().map(column_meta).collect();
        self.conn.close(stmt).await.map_err(err)?;
        Ok(out)
    }

    fn to_mysql(&self, cell: &Cell) -> MyValue {
        let civil = |us: i64| {
            let c = Civil::from_micros(us);
            MyValue::Date(
                c.year as u16,
                c.month as u8,
                c.day as u8,
                c.hour as u8,
                c.minute as u8,
                c.second as u8,
                c.micros,
            )
        };
        match cell {
            Cell::Null => MyValue::NULL,
            Cell::Bool(b) => MyValue::Int(*b as i64),
            Cell::Int(i) => MyValue::Int(*i),
            Cell::UInt(u) => MyValue::UInt(*u),
            Cell::Float(f) => MyValue::Double(*f),
            Cell::Text(s) => MyValue::Bytes(s.clone().into_bytes()),
            Cell::Bytes(b) => MyValue::Bytes(b.to_vec()),
            Cell::Decimal(d) => MyValue::Bytes(d.to_string().into_bytes()),
            Cell::Date(d) => civil(*d as i64 * crate::time::MICROS_PER_DAY),
            Cell::Time(us) => {
                let neg = *us < 0;
                let a = us.unsigned_abs();
                let secs = a / 1_000_000;
                MyValue::Time(
                    neg,
                    (secs / 86_400) as u32,
                    (secs / 3600 % 24) as u8,
                    (secs / 60 % 60) as u8,
                    (secs % 60) as u8,
                    (a % 1_000_000) as u32,
                )
            }
            Cell::Timestamp(us) => civil(self.tz.utc_to_wall(*us)),
            Cell::Array(_) => MyValue::NULL,
        }
    }
}

/// Appends `bytes` with LOAD DATA's backslash escapes (`ESCAPED BY '\\'`).
fn load_escape(out: &mut Vec<u8>, bytes: &[u8]) {
    for &c in bytes {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0 => out.extend_from_slice(b"\\0"),
            _ => out.push(c),
        }
    }
}

/// Appends `s` as a quoted string literal: backslash escapes, or with NO_BACKSLASH_ESCAPES
/// only doubled quotes.
fn quoted(out: &mut String, s: &str, no_backslash_escapes: bool) {
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' if no_backslash_escapes => out.push_str("''"),
            _ if no_backslash_escapes => out.push(c),
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{1a}' => out.push_str("\\Z"),
            _ => out.push(c),
        }
    }
    out.push('\'');
}

/// A result-set column's type, for query mode.
fn column_meta(c: &Column) -> ColumnMeta {
    let flags = c.flags();
    let unsigned = flags.contains(ColumnFlags::UNSIGNED_FLAG);
    let binary = c.character_set() == BINARY_CHARSET;
    use ColumnType::*;
    let sql_type = match c.column_type() {
        MYSQL_TYPE_TINY => SqlType::TinyInt { unsigned },
        MYSQL_TYPE_SHORT => SqlType::SmallInt { unsigned },
        MYSQL_TYPE_INT24 => SqlType::Integer { unsigned: false },
        MYSQL_TYPE_LONG => SqlType::Integer { unsigned },
        MYSQL_TYPE_LONGLONG => SqlType::BigInt { unsigned },
        MYSQL_TYPE_FLOAT => SqlType::Real,
        MYSQL_TYPE_DOUBLE => SqlType::Double,
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => {
            let scale = c.decimals() as u32;
            // column_length counts the sign and the point.
            let precision = c
                .column_length()
                .saturating_sub(u32::from(scale > 0) + u32::from(!unsigned));
            SqlType::Numeric {
                precision,
                scale: scale as i32,
            }
        }
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => SqlType::Date,
        MYSQL_TYPE_YEAR => SqlType::Year,
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => SqlType::Time,
        MYSQL_TYPE_DATETIME
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIMESTAMP
        | MYSQL_TYPE_TIMESTAMP2 => SqlType::Timestamp,
        MYSQL_TYPE_BIT if c.column_length() == 1 => SqlType::Bit,
        MYSQL_TYPE_BIT => SqlType::Binary,
        MYSQL_TYPE_JSON | MYSQL_TYPE_ENUM | MYSQL_TYPE_SET => SqlType::Text,
        MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_STRING
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
        | MYSQL_TYPE_BLOB => {
            if binary {
                SqlType::Binary
            } else {
                SqlType::Text
            }
        }
        other => SqlType::Unsupported(format!("{other:?}")),
    };
    ColumnMeta {
        name: c.name_str().into_owned(),
        sql_type,
        nullable: !flags.contains(ColumnFlags::NOT_NULL_FLAG),
        auto_increment: flags.contains(ColumnFlags::AUTO_INCREMENT_FLAG),
    }
}

/// A binary-protocol value as a cell, typed by its column.
fn from_mysql(v: MyValue, c: &Column, tz: DbTimeZone) -> Result<Cell> {
    use ColumnType::*;
    Ok(match v {
        MyValue::NULL => Cell::Null,
        MyValue::Int(i) if c.column_type() == MYSQL_TYPE_YEAR => {
            Cell::Date(days_from_civil(i, 1, 1) as i32)
        }
        MyValue::Int(i) => Cell::Int(i),
        MyValue::UInt(u) => Cell::UInt(u),
        MyValue::Float(f) => Cell::Float(f as f64),
        MyValue::Double(f) => Cell::Float(f),
        MyValue::Date(y, m, d, h, mi, s, us) => {
            if matches!(c.column_type(), MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE) {
                Cell::Date(days_from_civil(y as i64, m as u32, d as u32) as i32)
            } else if m == 0 || d == 0 {
                // MySQL's zero date has no instant; JDBC's zeroDateTimeBehavior=CONVERT_TO_NULL.
                Cell::Null
            } else {
                let wall = Civil {
                    year: y as i64,
                    month: m as u32,
                    day: d as u32,
                    hour: h as u32,
                    minute: mi as u32,
                    second: s as u32,
                    micros: us,
                }
                .to_micros();
                Cell::Timestamp(tz.wall_to_utc(wall))
            }
        }
        MyValue::Time(neg, days, h, m, s, us) => {
            let a = ((days as i64 * 24 + h as i64) * 3600 + m as i64 * 60 + s as i64) * 1_000_000
                + us as i64;
            Cell::Time(if neg { -a } else { a })
        }
        MyValue::Bytes(b) => match c.column_type() {
            MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => {
                let s = String::from_utf8_lossy(&b);
                Cell::Decimal(Decimal::parse(&s).ok_or_else(|| {
                    ConnectError::data(format!(
                        "column {} returned a DECIMAL that does not parse: {s}",
                        c.name_str()
                    ))
                })?)
            }
            MYSQL_TYPE_BIT if c.column_length() == 1 => {
                Cell::Int(b.first().copied().unwrap_or(0) as i64)
            }
            MYSQL_TYPE_BIT => Cell::Bytes(b.into()),
            MYSQL_TYPE_JSON | MYSQL_TYPE_ENUM | MYSQL_TYPE_SET => {
                Cell::Text(String::from_utf8_lossy(&b).into_owned())
            }
            _ if c.character_set() == BINARY_CHARSET => Cell::Bytes(b.into()),
            _ => Cell::Text(match String::from_utf8(b) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            }),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn string_literals_in_both_escape_modes() {
        let table = [
            ("plain", "'plain'", "'plain'"),
            ("it's", r"'it\'s'", "'it''s'"),
            ("a\\b", r"'a\\b'", r"'a\b'"),
            ("nul\0\n\r\u{1a}", r"'nul\0\n\r\Z'", "'nul\0\n\r\u{1a}'"),
            ("héllo 🚢", "'héllo 🚢'", "'héllo 🚢'"),
        ];
        for (text, backslash, no_backslash) in table {
            let (mut a, mut b) = (String::new(), String::new());
            quoted(&mut a, text, false);
            quoted(&mut b, text, true);
            assert_eq!(
                (a.as_str(), b.as_str()),
                (backslash, no_backslash),
                "{text:?}"
            );
        }
    }
}
