//! TLS for database connections, as the JDBC drivers' URL parameters ask for it.
//!
//! The URL keys and their meaning follow the drivers users copy URLs from:
//!
//! * PostgreSQL (pgjdbc): `sslmode=disable|allow|prefer|require|verify-ca|verify-full`, the
//!   legacy `ssl=true` (= `verify-full`), and `sslrootcert=<path to a PEM CA file>`.
//! * MySQL Connector/J: `sslMode=DISABLED|PREFERRED|REQUIRED|VERIFY_CA|VERIFY_IDENTITY` and the
//!   legacy `useSSL`/`requireSSL`/`verifyServerCertificate`; MariaDB Connector/J:
//!   `sslMode=disable|trust|verify-ca|verify-full`. The CA comes from MariaDB's `serverSslCert`
//!   (a PEM file path, or the PEM text itself) for both: Connector/J's
//!   `trustCertificateKeyStoreUrl` is a Java keystore, which Ferry cannot read, and is refused.
//!
//! `require`/`REQUIRED`/`trust` encrypt without checking the server's certificate, as the drivers
//! do; `verify-ca` checks the chain against the given CA; `verify-full` also checks that the
//! certificate names the host of the URL. `allow`/`prefer`/`PREFERRED` try TLS and fall back to
//! clear text when the server offers no TLS. With no TLS parameter at all Ferry connects in clear
//! text (pgjdbc and Connector/J 8 would try TLS first): a URL that worked before keeps doing
//! exactly what it did. The `verify-*` modes need an explicit CA: system roots are not consulted.
//!
//! Crypto is rustls with the ring provider.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};

use crate::url::{DbKind, JdbcUrl};

/// How much TLS a connection gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsMode {
    /// Clear text.
    Disable,
    /// TLS when the server offers it, without checking its certificate; else clear text.
    Prefer,
    /// TLS, without checking the server's certificate.
    Require,
    /// TLS; the server's certificate chain must lead to the CA.
    VerifyCa,
    /// TLS; the chain must lead to the CA and the certificate must name the URL's host.
    VerifyFull,
}

/// The CA the `verify-*` modes check against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CaSource {
    /// The URL key it came from (`sslrootcert`, `serverSslCert`), for error messages.
    pub key: &'static str,
    /// A file path, or PEM text given inline.
    pub value: String,
}

/// The TLS a URL asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsSettings {
    /// The mode.
    pub mode: TlsMode,
    /// The URL setting that chose the mode (`sslmode=verify-ca`), for error messages.
    pub chosen_by: String,
    /// The CA; set for the `verify-*` modes.
    pub ca: Option<CaSource>,
}

impl TlsSettings {
    /// Reads the TLS parameters of `url`; the error says which key is wrong and why.
    pub(crate) fn from_url(url: &JdbcUrl) -> Result<TlsSettings, String> {
        let (mode, chosen_by) = match url.kind {
            DbKind::Postgres => postgres_mode(url)?,
            DbKind::MySql => mysql_mode(url)?,
        };
        let ca_key = match url.kind {
            DbKind::Postgres => {
                for key in ["sslcert", "sslkey"] {
                    if url.param(key).is_some() {
                        return Err(format!(
                            "{key}: client certificates are not supported by Ferry"
                        ));
                    }
                }
                "sslrootcert"
            }
            DbKind::MySql => {
                for key in [
                    "trustCertificateKeyStoreUrl",
                    "clientCertificateKeyStoreUrl",
                ] {
                    if let Some(v) = url.param(key) {
                        return Err(format!(
                            "{key}={v} names a Java keystore, which Ferry cannot read; give the \
                             CA certificate as PEM with serverSslCert=<path or PEM text>"
                        ));
                    }
                }
                "serverSslCert"
            }
        };
        let ca = url.param(ca_key).map(|v| CaSource {
            key: ca_key,
            value: v.to_owned(),
        });
        if matches!(mode, TlsMode::VerifyCa | TlsMode::VerifyFull) && ca.is_none() {
            return Err(format!(
                "{chosen_by} checks the server certificate against a CA: set {ca_key}=<path to \
                 a PEM CA file> (Ferry does not use system roots)"
            ));
        }
        Ok(TlsSettings {
            mode,
            chosen_by,
            ca,
        })
    }

    /// What to add to a connection error so that it names the URL keys in play; empty for clear
    /// text.
    pub(crate) fn describe(&self) -> String {
        match (&self.mode, &self.ca) {
            (TlsMode::Disable, _) => String::new(),
            (TlsMode::VerifyCa | TlsMode::VerifyFull, Some(ca)) => format!(
                " with {} (server certificate checked against {}={})",
                self.chosen_by,
                ca.key,
                ca.display()
            ),
            _ => format!(" with {}", self.chosen_by),
        }
    }

    /// The CA's PEM bytes; errors name the URL key.
    pub(crate) async fn ca_pem(&self) -> Result<Vec<u8>, String> {
        let ca = self
            .ca
            .as_ref()
            .ok_or_else(|| format!("{} needs a CA", self.chosen_by))?;
        if ca.value.trim_start().starts_with("-----BEGIN") {
            return Ok(ca.value.as_bytes().to_vec());
        }
        tokio::fs::read(&ca.value)
            .await
            .map_err(|e| format!("cannot read {}={}: {e}", ca.key, ca.value))
    }

    /// The CA as a rustls root store; errors name the URL key.
    async fn roots(&self) -> Result<RootCertStore, String> {
        let pem = self.ca_pem().await?;
        let ca = self.ca.as_ref().expect("ca_pem checked it");
        let bad = |why: String| format!("{}={}: {why}", ca.key, ca.display());
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| bad(format!("not PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| bad(format!("not a usable CA certificate: {e}")))?;
        }
        if roots.is_empty() {
            return Err(bad("holds no PEM certificate".to_owned()));
        }
        Ok(roots)
    }

    /// A rustls client configuration carrying out the mode (not for [`TlsMode::Disable`]).
    pub(crate) async fn client_config(&self) -> Result<ClientConfig, String> {
        let provider = Arc::new(ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?;
        let config = match self.mode {
            TlsMode::VerifyFull => builder.with_root_certificates(self.roots().await?),
            TlsMode::VerifyCa => {
                let webpki = WebPkiServerVerifier::builder_with_provider(
                    Arc::new(self.roots().await?),
                    provider,
                )
                .build()
                .map_err(|e| format!("TLS setup: {e}"))?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(ChainOnly(webpki)))
            }
            TlsMode::Disable | TlsMode::Prefer | TlsMode::Require => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoCheck(provider))),
        };
        Ok(config.with_no_client_auth())
    }
}

impl CaSource {
    /// The value for messages: a path as it is, inline PEM abbreviated.
    fn display(&self) -> &str {
        if self.value.trim_start().starts_with("-----BEGIN") {
            "<inline PEM>"
        } else {
            &self.value
        }
    }
}

/// pgjdbc's `sslmode` (and the legacy `ssl=true`, which pgjdbc reads as `verify-full`).
fn postgres_mode(url: &JdbcUrl) -> Result<(TlsMode, String), String> {
    if let Some(v) = url.param("sslmode") {
        let mode = match v.to_ascii_lowercase().as_str() {
            "disable" => TlsMode::Disable,
            "allow" | "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            _ => {
                return Err(format!(
                    "sslmode={v} is not one of disable, allow, prefer, require, verify-ca, \
                     verify-full"
                ))
            }
        };
        return Ok((mode, format!("sslmode={v}")));
    }
    Ok(match url.param("ssl") {
        Some(v) if v.eq_ignore_ascii_case("true") => (TlsMode::VerifyFull, format!("ssl={v}")),
        _ => (TlsMode::Disable, String::new()),
    })
}

/// Connector/J's and MariaDB Connector/J's `sslMode`, else Connector/J's legacy keys.
fn mysql_mode(url: &JdbcUrl) -> Result<(TlsMode, String), String> {
    if let Some(v) = url.param("sslMode") {
        let mode = match v.to_ascii_lowercase().as_str() {
            "disabled" | "disable" => TlsMode::Disable,
            "preferred" => TlsMode::Prefer,
            "required" | "trust" => TlsMode::Require,
            "verify_ca" | "verify-ca" => TlsMode::VerifyCa,
            "verify_identity" | "verify-full" => TlsMode::VerifyFull,
            _ => {
                return Err(format!(
                    "sslMode={v} is not one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, \
                     VERIFY_IDENTITY (MariaDB: disable, trust, verify-ca, verify-full)"
                ))
            }
        };
        return Ok((mode, format!("sslMode={v}")));
    }
    let is_true = |key: &str| {
        url.param(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    };
    let use_ssl = url.param("useSSL");
    if use_ssl.is_some_and(|v| !v.eq_ignore_ascii_case("true")) {
        return Ok((TlsMode::Disable, String::new()));
    }
    Ok(if is_true("verifyServerCertificate") && use_ssl.is_some() {
        (
            TlsMode::VerifyCa,
            "useSSL=true&verifyServerCertificate=true".to_owned(),
        )
    } else if is_true("requireSSL") {
        (TlsMode::Require, "requireSSL=true".to_owned())
    } else if let Some(v) = use_ssl {
        (TlsMode::Prefer, format!("useSSL={v}"))
    } else {
        (TlsMode::Disable, String::new())
    })
}

/// `verify-ca`: the chain must lead to the CA; the names in the certificate do not matter.
/// (rustls checks the chain before the name, so a name error means the chain was good.)
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `require`/`prefer`: any certificate is accepted (the drivers do the same); the handshake
/// signatures are still checked, so the session key belongs to whoever holds the certificate.
#[derive(Debug)]
struct NoCheck(Arc<CryptoProvider>);

impl ServerCertVerifier for NoCheck {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_as_the_drivers_read_them() {
        let table: &[(&str, TlsMode, &str)] = &[
            ("jdbc:postgresql://h/d", TlsMode::Disable, ""),
            (
                "jdbc:postgresql://h/d?sslmode=disable",
                TlsMode::Disable,
                "sslmode=disable",
            ),
            (
                "jdbc:postgresql://h/d?sslmode=allow",
                TlsMode::Prefer,
                "sslmode=allow",
            ),
            (
                "jdbc:postgresql://h/d?sslmode=prefer",
                TlsMode::Prefer,
                "sslmode=prefer",
            ),
            (
                "jdbc:postgresql://h/d?sslmode=require",
                TlsMode::Require,
                "sslmode=require",
            ),
            (
                "jdbc:postgresql://h/d?sslmode=verify-ca&sslrootcert=/ca.pem",
                TlsMode::VerifyCa,
                "sslmode=verify-ca",
            ),
            (
                "jdbc:postgresql://h/d?ssl=true&sslrootcert=/ca.pem",
                TlsMode::VerifyFull,
                "ssl=true",
            ),
            ("jdbc:mysql://h/d", TlsMode::Disable, ""),
            ("jdbc:mysql://h/d?useSSL=false", TlsMode::Disable, ""),
            (
                "jdbc:mysql://h/d?useSSL=true",
                TlsMode::Prefer,
                "useSSL=true",
            ),
            (
                "jdbc:mysql://h/d?useSSL=true&requireSSL=true",
                TlsMode::Require,
                "requireSSL=true",
            ),
            (
                "jdbc:mysql://h/d?useSSL=true&verifyServerCertificate=true&serverSslCert=/c",
                TlsMode::VerifyCa,
                "useSSL=true&verifyServerCertificate=true",
            ),
            (
                "jdbc:mysql://h/d?sslMode=PREFERRED",
                TlsMode::Prefer,
                "sslMode=PREFERRED",
            ),
            (
                "jdbc:mysql://h/d?sslMode=REQUIRED",
                TlsMode::Require,
                "sslMode=REQUIRED",
            ),
            (
                "jdbc:mysql://h/d?sslMode=VERIFY_IDENTITY&serverSslCert=/c",
                TlsMode::VerifyFull,
                "sslMode=VERIFY_IDENTITY",
            ),
            (
                "jdbc:mariadb://h/d?sslMode=trust",
                TlsMode::Require,
                "sslMode=trust",
            ),
            (
                "jdbc:mariadb://h/d?sslMode=verify-ca&serverSslCert=/c",
                TlsMode::VerifyCa,
                "sslMode=verify-ca",
            ),
            (
                "jdbc:mariadb://h/d?sslMode=disable",
                TlsMode::Disable,
                "sslMode=disable",
            ),
        ];
        for (url, mode, chosen_by) in table {
            let tls = TlsSettings::from_url(&JdbcUrl::parse(url).unwrap()).unwrap();
            assert_eq!(
                (tls.mode, tls.chosen_by.as_str()),
                (*mode, *chosen_by),
                "{url}"
            );
        }
    }

    #[test]
    fn refusals_name_the_key() {
        let table = [
            (
                "jdbc:postgresql://h/d?sslmode=verify-full",
                "sslmode=verify-full checks the server certificate against a CA: set sslrootcert=",
            ),
            (
                "jdbc:postgresql://h/d?sslmode=on",
                "sslmode=on is not one of",
            ),
            (
                "jdbc:postgresql://h/d?sslmode=require&sslcert=/c.pem",
                "sslcert: client certificates are not supported",
            ),
            (
                "jdbc:mysql://h/d?sslMode=VERIFY_CA&trustCertificateKeyStoreUrl=file:/t.jks",
                "trustCertificateKeyStoreUrl=file:/t.jks names a Java keystore",
            ),
            (
                "jdbc:mysql://h/d?sslMode=VERIFY_CA",
                "sslMode=VERIFY_CA checks the server certificate against a CA: set serverSslCert=",
            ),
            ("jdbc:mysql://h/d?sslMode=yes", "sslMode=yes is not one of"),
        ];
        for (url, msg) in table {
            let err = JdbcUrl::parse(url).unwrap_err();
            assert!(
                err.message().starts_with(&format!(
                    "Invalid value {url} for configuration connection.url: {msg}"
                )),
                "{url}: {err}"
            );
        }
    }

    #[tokio::test]
    async fn unreadable_ca_names_the_key() {
        let url = "jdbc:postgresql://h/d?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem";
        let tls = TlsSettings::from_url(&JdbcUrl::parse(url).unwrap()).unwrap();
        let err = tls.client_config().await.unwrap_err();
        assert!(
            err.starts_with("cannot read sslrootcert=/nonexistent/ca.pem: "),
            "{err}"
        );
        let url =
            "jdbc:mariadb://h/d?sslMode=verify-ca&serverSslCert=-----BEGIN%20CERTIFICATE-----";
        let tls = TlsSettings::from_url(&JdbcUrl::parse(url).unwrap()).unwrap();
        let err = tls.client_config().await.unwrap_err();
        assert!(
            err.starts_with("serverSslCert=<inline PEM>: not PEM: "),
            "{err}"
        );
    }
}
