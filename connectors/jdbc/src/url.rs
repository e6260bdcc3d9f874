//! JDBC URL parsing: `jdbc:mysql://`, `jdbc:mariadb://` and `jdbc:postgresql://`, as users paste
//! them into `connection.url`.
//!
//! Only what the drivers here can honour is accepted: one host (the first of a failover list is
//! taken), a port, a database, and `key=value` parameters. `user`/`password` parameters are read
//! as credentials when `connection.user`/`connection.password` are not set (the JDBC drivers do the
//! same). The TLS parameters are read by [`crate::tls`]; a URL whose TLS settings cannot be
//! honoured is refused here, naming the parameter.

use std::fmt;

use ferry_api::{ConnectError, Result};

/// Which database a URL points at; decides the dialect and the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// MySQL or MariaDB (`jdbc:mysql:`, `jdbc:mariadb:`), through mysql_async.
    MySql,
    /// PostgreSQL (`jdbc:postgresql:`), through tokio-postgres.
    Postgres,
}

impl DbKind {
    /// The default TCP port.
    pub fn default_port(self) -> u16 {
        match self {
            DbKind::MySql => 3306,
            DbKind::Postgres => 5432,
        }
    }
}

impl fmt::Display for DbKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DbKind::MySql => "MySQL",
            DbKind::Postgres => "PostgreSQL",
        })
    }
}

/// A parsed JDBC URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JdbcUrl {
    /// The database family.
    pub kind: DbKind,
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Database name; empty when the URL names none.
    pub database: String,
    /// Query parameters in URL order (percent-decoded).
    pub params: Vec<(String, String)>,
}

impl JdbcUrl {
    /// Parses `url`; errors name `connection.url` and say what is wrong.
    pub fn parse(url: &str) -> Result<JdbcUrl> {
        let url = url.trim();
        let bad = |why: &str| {
            ConnectError::config(format!(
                "Invalid value {url} for configuration connection.url: {why}"
            ))
        };
        let (kind, rest) = if let Some(r) = url.strip_prefix("jdbc:mysql://") {
            (DbKind::MySql, r)
        } else if let Some(r) = url.strip_prefix("jdbc:mariadb://") {
            (DbKind::MySql, r)
        } else if let Some(r) = url.strip_prefix("jdbc:postgresql://") {
            (DbKind::Postgres, r)
        } else {
            return Err(bad(
                "unsupported JDBC URL; expected jdbc:mysql://, jdbc:mariadb:// or jdbc:postgresql://",
            ));
        };
        let (before_query, query) = match rest.split_once('?') {
            Some((a, q)) => (a, q),
            None => (rest, ""),
        };
        let (authority, database) = match before_query.split_once('/') {
            Some((a, d)) => (a, d),
            None => (before_query, ""),
        };
        // A failover list `h1:p1,h2:p2` connects to the first host.
        let first = authority.split(',').next().unwrap_or("");
        let (host, port) = split_host_port(first).map_err(|e| bad(&e))?;
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = port.unwrap_or(kind.default_port());
        let mut params = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params.push((percent_decode(k), percent_decode(v)));
        }
        let parsed = JdbcUrl {
            kind,
            host,
            port,
            database: percent_decode(database),
            params,
        };
        crate::tls::TlsSettings::from_url(&parsed).map_err(|e| bad(&e))?;
        Ok(parsed)
    }

    /// The last value of parameter `key` (case-insensitive, as the drivers read them).
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// Splits `host[:port]`, with IPv6 literals in brackets.
fn split_host_port(s: &str) -> std::result::Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| "unclosed [ in IPv6 host".to_owned())?;
        (h, after.strip_prefix(':'))
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        Some(p) if !p.is_empty() => Some(p.parse().map_err(|_| format!("bad port '{p}'"))?),
        _ => None,
    };
    Ok((host.to_owned(), port))
}

/// Decodes `%XX` escapes (and leaves anything malformed as it is).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_schemes() {
        type Case<'a> = (
            &'a str,
            DbKind,
            &'a str,
            u16,
            &'a str,
            &'a [(&'a str, &'a str)],
        );
        let table: &[Case<'_>] = &[
            (
                "jdbc:mysql://db.example:3307/inventory?user=bob&password=p%40ss",
                DbKind::MySql,
                "db.example",
                3307,
                "inventory",
                &[("user", "bob"), ("password", "p@ss")],
            ),
            (
                "jdbc:mariadb://localhost/shop",
                DbKind::MySql,
                "localhost",
                3306,
                "shop",
                &[],
            ),
            (
                "jdbc:postgresql://127.0.0.1:5433/postgres?sslmode=disable&currentSchema=app",
                DbKind::Postgres,
                "127.0.0.1",
                5433,
                "postgres",
                &[("sslmode", "disable"), ("currentSchema", "app")],
            ),
            (
                "jdbc:postgresql://[::1]:6000/x",
                DbKind::Postgres,
                "::1",
                6000,
                "x",
                &[],
            ),
            (
                "jdbc:mysql://h1:1000,h2:2000/db",
                DbKind::MySql,
                "h1",
                1000,
                "db",
                &[],
            ),
            (
                "jdbc:postgresql://pg",
                DbKind::Postgres,
                "pg",
                5432,
                "",
                &[],
            ),
        ];
        for (url, kind, host, port, db, params) in table {
            let u = JdbcUrl::parse(url).unwrap();
            let want = JdbcUrl {
                kind: *kind,
                host: host.to_string(),
                port: *port,
                database: db.to_string(),
                params: params
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            };
            assert_eq!(u, want, "{url}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        let table = [
            ("jdbc:oracle:thin:@h:1521:x", "unsupported JDBC URL"),
            ("jdbc:mysql://h:port/db", "bad port 'port'"),
            ("jdbc:mysql:///db", "no host"),
            (
                "jdbc:postgresql://h/db?sslmode=verify-ca",
                "sslmode=verify-ca checks the server certificate against a CA",
            ),
        ];
        for (url, msg) in table {
            let err = JdbcUrl::parse(url).unwrap_err();
            assert!(
                err.message().starts_with(&format!(
                    "Invalid value {url} for configuration connection.url: "
                )),
                "{err}"
            );
            assert!(err.message().contains(msg), "{url}: {err}");
        }
        assert!(JdbcUrl::parse("jdbc:mysql://h/db?sslMode=DISABLED").is_ok());
    }
}
