//! TLS against real servers: each test runs once per database whose URL *and* CA are in the
//! environment (`FERRY_TEST_POSTGRES_URL` + `FERRY_TEST_POSTGRES_TLS_CA`, `FERRY_TEST_MYSQL_URL` +
//! `FERRY_TEST_MYSQL_TLS_CA`, set by integration/test.sh from the start scripts' state dirs) and
//! is skipped with a message otherwise.
//!
//! The start scripts put `ca.pem` (the CA that signed the server certificate) and `other-ca.pem`
//! (an unrelated CA) in `STATEDIR/tls/`; the server certificate names 127.0.0.1 only, so a URL
//! with `localhost` reaches the same server under a name the certificate does not hold.

use std::path::Path;

use ferry_api::Result;

use crate::db::{ConnectionSettings, Db};
use crate::time::DbTimeZone;
use crate::url::{DbKind, JdbcUrl};

/// One database under test, with TLS on.
struct TlsBackend {
    /// The plain URL the start script printed (host 127.0.0.1, parameters after `?`).
    url: String,
    kind: DbKind,
    /// The CA that signed the server certificate.
    ca: String,
    /// A CA that signed nothing the server holds.
    other_ca: String,
}

fn backends(test: &str) -> Vec<TlsBackend> {
    let mut out = Vec::new();
    for (url_var, ca_var) in [
        ("FERRY_TEST_POSTGRES_URL", "FERRY_TEST_POSTGRES_TLS_CA"),
        ("FERRY_TEST_MYSQL_URL", "FERRY_TEST_MYSQL_TLS_CA"),
    ] {
        let (Ok(url), Ok(ca)) = (std::env::var(url_var), std::env::var(ca_var)) else {
            eprintln!("SKIPPED {test} for {url_var}: set it and {ca_var}");
            continue;
        };
        let kind = JdbcUrl::parse(&url).expect(url_var).kind;
        let other_ca = Path::new(&ca)
            .with_file_name("other-ca.pem")
            .to_string_lossy()
            .into_owned();
        out.push(TlsBackend {
            url,
            kind,
            ca,
            other_ca,
        });
    }
    out
}

impl TlsBackend {
    /// The URL with `extra` parameters (`{ca}` and `{other}` replaced by the CA paths), on
    /// `localhost` instead of 127.0.0.1 when `localhost`.
    fn url_with(&self, extra: &str, localhost: bool) -> String {
        let extra = extra
            .replace("{ca}", &self.ca)
            .replace("{other}", &self.other_ca);
        let url = format!("{}&{extra}", self.url);
        if localhost {
            url.replacen("//127.0.0.1:", "//localhost:", 1)
        } else {
            url
        }
    }

    async fn connect(&self, url: &str) -> Result<Db> {
        Db::connect(&ConnectionSettings::for_test(url, DbTimeZone::UTC)?).await
    }

    /// The session's TLS protocol version, empty for clear text — asked of the server.
    async fn tls_version(&self, db: &mut Db) -> String {
        let sql = match self.kind {
            DbKind::Postgres => {
                "SELECT COALESCE((SELECT version FROM pg_stat_ssl \
                 WHERE pid = pg_backend_pid() AND ssl), '')"
            }
            DbKind::MySql => {
                "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS \
                 WHERE VARIABLE_NAME = 'SSL_VERSION'"
            }
        };
        let rows = db.query(sql, &[]).await.unwrap();
        let cell = rows.into_iter().next().unwrap().into_iter().next().unwrap();
        cell.into_text().unwrap_or_default()
    }

    /// The URL parameters for each mode, as users of this database's driver write them.
    fn params(&self, mode: &str) -> &'static str {
        match (self.kind, mode) {
            (DbKind::Postgres, "disable") => "sslmode=disable",
            (DbKind::Postgres, "prefer") => "sslmode=prefer",
            (DbKind::Postgres, "require") => "sslmode=require",
            (DbKind::Postgres, "verify-ca") => "sslmode=verify-ca&sslrootcert={ca}",
            (DbKind::Postgres, "verify-ca-other") => "sslmode=verify-ca&sslrootcert={other}",
            (DbKind::Postgres, "verify-full") => "sslmode=verify-full&sslrootcert={ca}",
            (DbKind::MySql, "disable") => "sslMode=DISABLED",
            (DbKind::MySql, "prefer") => "sslMode=PREFERRED",
            (DbKind::MySql, "require") => "sslMode=REQUIRED",
            (DbKind::MySql, "verify-ca") => "sslMode=VERIFY_CA&serverSslCert={ca}",
            (DbKind::MySql, "verify-ca-other") => "sslMode=verify-ca&serverSslCert={other}",
            (DbKind::MySql, "verify-full") => "sslMode=VERIFY_IDENTITY&serverSslCert={ca}",
            _ => unreachable!("{mode}"),
        }
    }
}

#[tokio::test]
async fn sessions_are_encrypted_when_the_url_asks() {
    for b in backends("sessions_are_encrypted_when_the_url_asks") {
        let mut table: Vec<(String, bool)> = vec![
            (b.url.clone(), false),
            (b.url_with(b.params("disable"), false), false),
            (b.url_with(b.params("prefer"), false), true),
            (b.url_with(b.params("require"), false), true),
            (b.url_with(b.params("verify-ca"), false), true),
            (b.url_with(b.params("verify-full"), false), true),
        ];
        match b.kind {
            DbKind::Postgres => {
                // verify-ca checks the chain only: a name the certificate lacks is fine.
                table.push((b.url_with(b.params("verify-ca"), true), true));
                table.push((b.url_with("ssl=true&sslrootcert={ca}", false), true));
            }
            DbKind::MySql => {
                table.push((b.url_with("sslMode=trust", false), true));
                table.push((b.url_with("useSSL=true&requireSSL=true", false), true));
                table.push((b.url_with("useSSL=false", false), false));
                table.push((
                    b.url_with("sslMode=verify-full&serverSslCert={ca}", false),
                    true,
                ));
            }
        }
        for (url, encrypted) in table {
            let mut db = b
                .connect(&url)
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            let version = b.tls_version(&mut db).await;
            if encrypted {
                assert!(
                    version.starts_with("TLSv1."),
                    "{url}: TLS version '{version}'"
                );
            } else {
                assert_eq!(version, "", "{url}");
            }
        }
    }
}

#[tokio::test]
async fn certificates_that_do_not_check_out_are_refused() {
    for b in backends("certificates_that_do_not_check_out_are_refused") {
        let (mode_key, ca_key) = match b.kind {
            DbKind::Postgres => ("sslmode", "sslrootcert"),
            DbKind::MySql => ("sslMode", "serverSslCert"),
        };
        let mut table = vec![
            // Signed by another CA.
            (
                b.url_with(b.params("verify-ca-other"), false),
                format!("checked against {ca_key}={}", b.other_ca),
                "UnknownIssuer",
            ),
            // The certificate names 127.0.0.1, not localhost.
            (
                b.url_with(b.params("verify-full"), true),
                format!("checked against {ca_key}={}", b.ca),
                "localhost",
            ),
        ];
        if b.kind == DbKind::MySql {
            // mysql_async's verify-ca still checks the name (see db/mysql.rs `ssl_opts`):
            // stricter than Connector/J, never weaker.
            table.push((
                b.url_with(b.params("verify-ca"), true),
                format!("checked against {ca_key}={}", b.ca),
                "localhost",
            ));
        }
        for (url, names_ca, cause) in table {
            let err = match b.connect(&url).await {
                Ok(_) => panic!("{url}: connected"),
                Err(e) => e.to_string(),
            };
            eprintln!("{url}: {err}");
            assert!(err.contains(&format!("with {mode_key}=")), "{url}: {err}");
            assert!(err.contains(&names_ca), "{url}: {err}");
            assert!(err.contains(cause), "{url}: {err}");
        }
    }
}
