//! Reaching the benchmark databases from the JDBC URLs the start scripts print
//! (`jdbc:postgresql://H:P/DB?user=U`, `jdbc:mariadb://H:P/DB?user=U&password=P`), with the raw
//! clients Ferry's JDBC connectors use (tokio-postgres, mysql_async).

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Postgres,
    MySql,
}

/// The parts of a JDBC URL the raw clients need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JdbcUrl {
    pub(crate) kind: Kind,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) database: String,
    pub(crate) user: String,
    pub(crate) password: Option<String>,
}

impl JdbcUrl {
    /// Parses `url`; the error names the URL and what is wrong with it.
    pub(crate) fn parse(url: &str) -> Result<JdbcUrl, String> {
        let bad = |why: &str| format!("JDBC URL {url:?}: {why}");
        let (kind, rest) = if let Some(r) = url.strip_prefix("jdbc:postgresql://") {
            (Kind::Postgres, r)
        } else if let Some(r) = url
            .strip_prefix("jdbc:mariadb://")
            .or_else(|| url.strip_prefix("jdbc:mysql://"))
        {
            (Kind::MySql, r)
        } else {
            return Err(bad(
                "not jdbc:postgresql://, jdbc:mariadb:// or jdbc:mysql://",
            ));
        };
        let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (host_port, database) = main.split_once('/').unwrap_or((main, ""));
        let (host, port) = host_port
            .split_once(':')
            .ok_or_else(|| bad("no :PORT after the host"))?;
        let port = port.parse().map_err(|_| bad("the port is not a number"))?;
        let param = |key: &str| {
            query
                .split('&')
                .find_map(|p| p.strip_prefix(key)?.strip_prefix('='))
                .map(str::to_owned)
        };
        Ok(JdbcUrl {
            kind,
            host: host.to_owned(),
            port,
            database: database.to_owned(),
            user: param("user").ok_or_else(|| bad("no user= parameter"))?,
            password: param("password"),
        })
    }

    /// A tokio-postgres client; its connection runs on the current runtime.
    pub(crate) async fn postgres(&self) -> Result<tokio_postgres::Client, String> {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .dbname(&self.database)
            .user(&self.user);
        if let Some(p) = &self.password {
            config.password(p);
        }
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("connect to {}:{}: {e}", self.host, self.port))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("postgres connection: {e}");
            }
        });
        Ok(client)
    }

    /// A mysql_async connection.
    pub(crate) async fn mysql(&self) -> Result<mysql_async::Conn, String> {
        let opts = mysql_async::OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .db_name(Some(self.database.clone()))
            .user(Some(self.user.clone()))
            .pass(self.password.clone());
        mysql_async::Conn::new(opts)
            .await
            .map_err(|e| format!("connect to {}:{}: {e}", self.host, self.port))
    }
}

/// Loader text (tab-separated lines of [`super::rows::COLUMNS`]) as the bulk paths take it.
pub(crate) type Chunks = futures_util::stream::BoxStream<'static, bytes::Bytes>;

impl JdbcUrl {
    /// Loads `chunks` into `table` with the database's bulk path, in one statement:
    /// `COPY … FROM STDIN` (text format) or `LOAD DATA LOCAL INFILE` streamed from memory (the
    /// server needs `local_infile=ON`). Returns the rows the database reports.
    pub(crate) async fn bulk_load(&self, table: &str, chunks: Chunks) -> Result<u64, String> {
        use futures_util::{SinkExt, StreamExt};
        use mysql_async::prelude::Queryable;
        let columns = super::rows::COLUMNS;
        match self.kind {
            Kind::Postgres => {
                let client = self.postgres().await?;
                let sink = client
                    .copy_in::<_, bytes::Bytes>(&format!("COPY {table} ({columns}) FROM STDIN"))
                    .await
                    .map_err(|e| format!("COPY: {e}"))?;
                let mut sink = std::pin::pin!(sink);
                let mut chunks = chunks;
                while let Some(chunk) = chunks.next().await {
                    sink.feed(chunk)
                        .await
                        .map_err(|e| format!("COPY data: {e}"))?;
                }
                sink.as_mut()
                    .finish()
                    .await
                    .map_err(|e| format!("COPY end: {e}"))
            }
            Kind::MySql => {
                let mut conn = self.mysql().await?;
                // The handler must be Sync, a boxed stream is not: it is handed over once.
                let chunks = std::sync::Mutex::new(Some(chunks));
                conn.set_infile_handler(async move {
                    let stream = chunks.lock().unwrap().take().expect("one LOAD DATA");
                    Ok(stream.map(Ok).boxed())
                });
                conn.query_drop(format!(
                    "LOAD DATA LOCAL INFILE 'bench-rows' INTO TABLE {table} CHARACTER SET utf8mb4 ({columns})"
                ))
                .await
                .map_err(|e| format!("LOAD DATA LOCAL INFILE: {e}"))?;
                Ok(conn.affected_rows())
            }
        }
    }
}

/// Prints a loader's result as a [`ferry_bench::report::Throughput`] line; exits the process
/// when the load failed or the database reports another row count than `records`.
pub(crate) fn report_load(
    tool: &str,
    table: &str,
    loaded: Result<u64, String>,
    records: u64,
    bytes: u64,
    elapsed: std::time::Duration,
) {
    match loaded {
        Err(e) => eprintln!("{tool}: {table}: {e}"),
        Ok(n) if n != records => {
            eprintln!("{tool}: {table}: loaded {n} rows, expected {records}")
        }
        Ok(_) => {
            return ferry_bench::report::Throughput {
                records,
                bytes,
                elapsed,
            }
            .print(&format!("{tool} {table}"))
        }
    }
    std::process::exit(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_start_scripts_urls() {
        let pg = JdbcUrl::parse("jdbc:postgresql://127.0.0.1:5433/postgres?user=postgres").unwrap();
        assert_eq!(
            pg,
            JdbcUrl {
                kind: Kind::Postgres,
                host: "127.0.0.1".into(),
                port: 5433,
                database: "postgres".into(),
                user: "postgres".into(),
                password: None,
            }
        );
        let my =
            JdbcUrl::parse("jdbc:mariadb://127.0.0.1:3307/ferry?user=root&password=ferry").unwrap();
        assert_eq!((my.kind, my.port), (Kind::MySql, 3307));
        assert_eq!(
            (my.user.as_str(), my.password.as_deref()),
            ("root", Some("ferry"))
        );
        assert!(JdbcUrl::parse("jdbc:oracle://h:1/x?user=u").is_err());
        assert!(JdbcUrl::parse("jdbc:postgresql://h/x?user=u").is_err());
    }
}
