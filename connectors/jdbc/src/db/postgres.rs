//! The PostgreSQL side of [`super::Db`], over tokio-postgres. Results are read in binary and
//! decoded by `pg_binary`; parameters are sent in *text* format, so that one rendering of a cell
//! (`text_of`) serves every column type, the server parsing it as the column's own type, and the
//! same rendering feeds `COPY … FROM STDIN`.

use std::error::Error as StdError;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::SinkExt;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::{to_sql_checked, Format, FromSql, IsNull, ToSql, Type};
use tokio_postgres::{Client, NoTls, Row};
use tokio_postgres_rustls::MakeRustlsConnect;

use ferry_api::{ConnectError, Result};

use super::pg_binary;
use crate::dialect::postgres::pg_type_by_name;
use crate::time::{Civil, DbTimeZone, MICROS_PER_DAY};
use crate::tls::{TlsMode, TlsSettings};
use crate::types::{Cell, ColumnMeta};
use crate::url::JdbcUrl;

/// An open PostgreSQL connection; its connection future runs on a spawned task.
#[derive(Debug)]
pub(crate) struct PgDb {
    client: Client,
    tz: DbTimeZone,
    driver: tokio::task::JoinHandle<()>,
}

impl Drop for PgDb {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// A failed connect, with the whole cause chain in the message: tokio-postgres's own message
/// for a TLS failure is only "error performing TLS handshake", the reason is in its source.
fn connect_err(e: tokio_postgres::Error) -> ConnectError {
    if e.as_db_error().is_some() {
        return err(e);
    }
    let mut msg = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        msg.push_str(&format!(": {c}"));
        cause = c.source();
    }
    ConnectError::retriable(msg)
}

fn err(e: tokio_postgres::Error) -> ConnectError {
    let lost = e.is_closed() || e.as_db_error().is_none();
    let msg = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    };
    let base = if lost {
        ConnectError::retriable(msg)
    } else {
        ConnectError::external(msg)
    };
    base.with_source(e)
}

/// Any column read raw; decoded by `pg_binary`.
struct Raw<'a>(&'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(
        _: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(raw))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A parameter in text format (NULL when `None`): the server parses it as the parameter's type.
#[derive(Debug)]
struct TextParam(Option<Bytes>);

impl ToSql for TextParam {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match &self.0 {
            None => Ok(IsNull::Yes),
            Some(b) => {
                out.put_slice(b);
                Ok(IsNull::No)
            }
        }
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }
    to_sql_checked!();
}

/// A cell in PostgreSQL's text input syntax; `None` for NULL. Timestamps are written as wall
/// time in the session zone (`db.timezone`), which both `timestamp` and `timestamptz` accept.
pub(crate) fn text_of(cell: &Cell, tz: DbTimeZone) -> Option<Bytes> {
    let mut out = Vec::new();
    match cell {
        Cell::Null => return None,
        Cell::Text(s) => return Some(Bytes::from(s.clone().into_bytes())),
        Cell::Bytes(b) => {
            out.reserve(2 + b.len() * 2);
            out.extend_from_slice(b"\\x");
            for x in b.iter() {
                out.extend_from_slice(&HEX[usize::from(*x)]);
            }
        }
        Cell::Array(items) => {
            out.push(b'{');
            for (i, c) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match text_of(c, tz) {
                    None => out.extend_from_slice(b"NULL"),
                    Some(b) => {
                        out.push(b'"');
                        for &x in b.iter() {
                            if x == b'\\' || x == b'"' {
                                out.push(b'\\');
                            }
                            out.push(x);
                        }
                        out.push(b'"');
                    }
                }
            }
            out.push(b'}');
        }
        scalar => write_scalar(&mut out, scalar, tz),
    }
    Some(Bytes::from(out))
}

/// Two lower-case hex digits per byte value (`bytea`'s hex format).
static HEX: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [DIGITS[i >> 4], DIGITS[i & 15]];
        i += 1;
    }
    t
};

/// Appends a cell whose text never needs escaping (numbers, booleans, dates and times) straight
/// into `out`, with no string per cell: COPY renders one per column of every row.
fn write_scalar(out: &mut Vec<u8>, cell: &Cell, tz: DbTimeZone) {
    use std::io::Write;
    // Writing into a Vec cannot fail.
    match cell {
        Cell::Bool(b) => out.push(if *b { b't' } else { b'f' }),
        Cell::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Cell::UInt(u) => out.extend_from_slice(itoa::Buffer::new().format(*u).as_bytes()),
        Cell::Float(f) if f.is_nan() => out.extend_from_slice(b"NaN"),
        Cell::Float(f) if f.is_infinite() => {
            out.extend_from_slice(if *f > 0.0 { b"Infinity" } else { b"-Infinity" })
        }
        // Shortest round-trip digits, as `{f:?}` prints them (ryu may pick the exponent form
        // at other magnitudes; PostgreSQL reads both).
        Cell::Float(f) => out.extend_from_slice(ryu::Buffer::new().format_finite(*f).as_bytes()),
        Cell::Decimal(d) => write!(out, "{d}").expect("write to Vec"),
        Cell::Date(d) => Civil::from_micros(*d as i64 * MICROS_PER_DAY).write_date(out),
        Cell::Time(us) => Civil::from_micros(*us).write_time(out),
        // With the offset in force (a DST zone's wall time can repeat): exact for timestamptz,
        // and PostgreSQL ignores the offset for timestamp (without time zone).
        Cell::Timestamp(us) => {
            let c = Civil::from_micros(tz.utc_to_wall(*us));
            c.write_date(out);
            out.push(b' ');
            c.write_time(out);
            tz.write_offset_at(*us, out);
        }
        Cell::Null | Cell::Text(_) | Cell::Bytes(_) | Cell::Array(_) => {
            unreachable!("write_scalar is only called for scalars")
        }
    }
}

/// Appends one field of a text-format COPY row (`\\N` for NULL, backslash escapes). Scalars are
/// written straight into `out`; only text, bytes and arrays can hold bytes COPY escapes.
pub(crate) fn copy_field(out: &mut Vec<u8>, cell: &Cell, tz: DbTimeZone) {
    match cell {
        Cell::Null => out.extend_from_slice(b"\\N"),
        Cell::Text(s) => copy_escape(out, s.as_bytes()),
        Cell::Bytes(_) | Cell::Array(_) => match text_of(cell, tz) {
            None => out.extend_from_slice(b"\\N"),
            Some(b) => copy_escape(out, &b),
        },
        scalar => write_scalar(out, scalar, tz),
    }
}

/// Appends `text` with COPY's backslash escapes; runs without special bytes are copied whole.
fn copy_escape(out: &mut Vec<u8>, text: &[u8]) {
    let mut start = 0;
    for (i, &c) in text.iter().enumerate() {
        let escaped: &[u8] = match c {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => continue,
        };
        out.extend_from_slice(&text[start..i]);
        out.extend_from_slice(escaped);
        start = i + 1;
    }
    out.extend_from_slice(&text[start..]);
}

impl PgDb {
    pub(super) async fn connect(
        url: &JdbcUrl,
        user: Option<&str>,
        password: Option<&str>,
        tz: DbTimeZone,
    ) -> Result<PgDb> {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&url.host)
            .port(url.port)
            .application_name("ferry-jdbc");
        if !url.database.is_empty() {
            config.dbname(&url.database);
        }
        config.user(user.unwrap_or("postgres"));
        if let Some(p) = password {
            config.password(p);
        }
        if let Some(schema) = url.param("currentSchema") {
            config.options(format!("-c search_path={schema}"));
        }
        let tls = TlsSettings::from_url(url).map_err(ConnectError::config)?;
        let failed = |e: tokio_postgres::Error| {
            connect_err(e).context(format!(
                "cannot connect to PostgreSQL at {}:{}{}",
                url.host,
                url.port,
                tls.describe()
            ))
        };
        let (client, driver) = match tls.mode {
            TlsMode::Disable => {
                let (client, connection) = config.connect(NoTls).await.map_err(failed)?;
                (client, spawn_driver(connection))
            }
            mode => {
                config.ssl_mode(if mode == TlsMode::Prefer {
                    SslMode::Prefer
                } else {
                    SslMode::Require
                });
                let tls_config = tls.client_config().await.map_err(ConnectError::config)?;
                let (client, connection) = config
                    .connect(MakeRustlsConnect::new(tls_config))
                    .await
                    .map_err(failed)?;
                (client, spawn_driver(connection))
            }
        };
        Ok(PgDb { client, tz, driver })
    }

    pub(super) async fn simple(&mut self, sql: &str) -> Result<()> {
        self.client.batch_execute(sql).await.map_err(err)
    }

    fn params(&self, params: &[Cell]) -> Vec<TextParam> {
        params
            .iter()
            .map(|c| TextParam(text_of(c, self.tz)))
            .collect()
    }

    pub(super) async fn execute(&mut self, sql: &str, params: &[Cell]) -> Result<u64> {
        let p = self.params(params);
        let refs: Vec<&(dyn ToSql + Sync)> = p.iter().map(|x| x as &(dyn ToSql + Sync)).collect();
        self.client.execute(sql, &refs).await.map_err(err)
    }

    pub(super) async fn execute_many(&mut self, sql: &str, rows: &[Vec<Cell>]) -> Result<u64> {
        let stmt = self.client.prepare(sql).await.map_err(err)?;
        let params: Vec<Vec<TextParam>> = rows.iter().map(|r| self.params(r)).collect();
        let client = &self.client;
        let runs = params.iter().map(|p| {
            let refs: Vec<&(dyn ToSql + Sync)> =
                p.iter().map(|x| x as &(dyn ToSql + Sync)).collect();
            let stmt = &stmt;
            async move { client.execute(stmt, &refs).await }
        });
        let counts = futures_util::future::try_join_all(runs)
            .await
            .map_err(err)?;
        Ok(counts.into_iter().sum())
    }

    pub(super) async fn query(&mut self, sql: &str, params: &[Cell]) -> Result<super::Rows> {
        let p = self.params(params);
        let refs: Vec<&(dyn ToSql + Sync)> = p.iter().map(|x| x as &(dyn ToSql + Sync)).collect();
        let rows: Vec<Row> = self.client.query(sql, &refs).await.map_err(err)?;
        let tz = self.tz;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        let raw: Option<Raw<'_>> = row.try_get(i).map_err(err)?;
                        match raw {
                            None => Ok(Cell::Null),
                            Some(Raw(b)) => pg_binary::decode(row.columns()[i].type_(), b, tz),
                        }
                    })
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
        use futures_util::TryStreamExt;
        let p = self.params(params);
        let refs = p.iter().map(|x| x as &(dyn ToSql + Sync));
        let stream = self.client.query_raw(sql, refs).await.map_err(err)?;
        futures_util::pin_mut!(stream);
        let tz = self.tz;
        while let Some(row) = stream.try_next().await.map_err(err)? {
            let cells = (0..row.len())
                .map(|i| {
                    let raw: Option<Raw<'_>> = row.try_get(i).map_err(err)?;
                    match raw {
                        None => Ok(Cell::Null),
                        Some(Raw(b)) => pg_binary::decode(row.columns()[i].type_(), b, tz),
                    }
                })
                .collect::<Result<Vec<Cell>>>()?;
            if tx.send(wrap(cells)).await.is_err() {
                break;
            }
        }
        Ok(())
    }

    pub(super) async fn describe(&mut self, sql: &str) -> Result<Vec<ColumnMeta>> {
        let stmt = self.client.prepare(sql).await.map_err(err)?;
        Ok(stmt
            .columns()
            .iter()
            .map(|c| {
                // NUMERIC(p,s) typmod = ((p << 16) | s) + 4; -1 when unconstrained.
                let m = c.type_modifier();
                let (p, s) = if m >= 4 {
                    ((((m - 4) >> 16) & 0xffff) as u32, (m - 4) & 0xffff)
                } else {
                    (0, 0)
                };
                let name = match c.type_().kind() {
                    tokio_postgres::types::Kind::Array(e) => format!("_{}", e.name()),
                    tokio_postgres::types::Kind::Enum(_) => "text".to_owned(),
                    _ => c.type_().name().to_owned(),
                };
                ColumnMeta {
                    name: c.name().to_owned(),
                    sql_type: pg_type_by_name(&name, p, s),
                    // The wire protocol does not say; unknown is nullable (as pgjdbc reports
                    // for computed columns).
                    nullable: true,
                    auto_increment: false,
                }
            })
            .collect())
    }

    pub(super) async fn copy_in(&mut self, sql: &str, payload: Vec<u8>) -> Result<u64> {
        let sink = self.client.copy_in::<_, Bytes>(sql).await.map_err(err)?;
        futures_util::pin_mut!(sink);
        sink.send(Bytes::from(payload)).await.map_err(err)?;
        sink.as_mut().finish().await.map_err(err)
    }
}

/// Runs a connection's I/O on its own task until the client is dropped.
fn spawn_driver<F>(connection: F) -> tokio::task::JoinHandle<()>
where
    F: std::future::Future<Output = std::result::Result<(), tokio_postgres::Error>>
        + Send
        + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!("PostgreSQL connection closed: {e}");
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_api::Decimal;

    #[test]
    fn text_rendering_and_copy_escapes() {
        let tz = DbTimeZone::UTC;
        let table: Vec<(Cell, Option<&str>)> = vec![
            (Cell::Null, None),
            (Cell::Bool(true), Some("t")),
            (Cell::Float(1.5), Some("1.5")),
            (Cell::Float(1e20), Some("1e20")),
            (
                Cell::Bytes(Bytes::from_static(b"\x00\xff")),
                Some("\\x00ff"),
            ),
            (Cell::Decimal(Decimal::new(-1205, 2)), Some("-12.05")),
            (Cell::Date(0), Some("1970-01-01")),
            (Cell::Time(3_723_000_001), Some("01:02:03.000001")),
            (
                Cell::Timestamp(1_000),
                Some("1970-01-01 00:00:00.001000+00:00"),
            ),
            (
                Cell::Array(vec![Cell::Text("a\"b".into()), Cell::Null]),
                Some("{\"a\\\"b\",NULL}"),
            ),
        ];
        for (cell, want) in table {
            let got = text_of(&cell, tz);
            assert_eq!(got.as_deref(), want.map(str::as_bytes), "{cell:?}");
        }
        let mut out = Vec::new();
        copy_field(&mut out, &Cell::Text("a\tb\\c\n".into()), tz);
        out.push(b'\t');
        copy_field(&mut out, &Cell::Null, tz);
        out.push(b'\t');
        copy_field(&mut out, &Cell::Int(-42), tz);
        out.push(b'\t');
        copy_field(&mut out, &Cell::UInt(u64::MAX), tz);
        out.push(b'\t');
        copy_field(&mut out, &Cell::Bytes(Bytes::from_static(b"\x01")), tz);
        out.push(b'\t');
        copy_field(&mut out, &Cell::Text("\r\rx".into()), tz);
        assert_eq!(
            out,
            b"a\\tb\\\\c\\n\t\\N\t-42\t18446744073709551615\t\\\\x01\t\\r\\rx"
        );
    }
}
