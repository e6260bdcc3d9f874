//! Connect's `listeners` setting (`http://:8083`, `http://host:port`, comma-separated) turned
//! into socket addresses. HTTPS is refused at start-up with a clear message rather than
//! silently served as plain HTTP.

use std::net::{SocketAddr, ToSocketAddrs};

/// A `listeners` entry Ferry cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListenerError {
    /// An `https://` listener.
    #[error("listeners: '{0}' uses HTTPS, which Ferry does not support; use an http:// listener")]
    Https(String),
    /// Not `protocol://host:port`.
    #[error(
        "listeners: '{0}' is not a valid listener; expected http://host:port (host may be empty)"
    )]
    Invalid(String),
    /// The host does not resolve.
    #[error("listeners: cannot resolve host of '{0}': {1}")]
    Unresolved(String, String),
}

/// Parses `listeners` into the addresses to bind: an empty host means every interface
/// (`0.0.0.0`), IPv6 hosts are written in brackets. The setting's default is `http://:8083`.
pub fn parse_listeners(value: &str) -> Result<Vec<SocketAddr>, ListenerError> {
    let mut out = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let invalid = || ListenerError::Invalid(entry.to_owned());
        let (scheme, rest) = entry.split_once("://").ok_or_else(invalid)?;
        if scheme.eq_ignore_ascii_case("https") {
            return Err(ListenerError::Https(entry.to_owned()));
        }
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(invalid());
        }
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest.rsplit_once(':').ok_or_else(invalid)?;
        let port: u16 = port.parse().map_err(|_| invalid())?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = if host.is_empty() { "0.0.0.0" } else { host };
        let addrs = (host, port)
            .to_socket_addrs()
            .map_err(|e| ListenerError::Unresolved(entry.to_owned(), e.to_string()))?;
        let first = addrs.into_iter().next().ok_or_else(invalid)?;
        if !out.contains(&first) {
            out.push(first);
        }
    }
    if out.is_empty() {
        return Err(ListenerError::Invalid(value.to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_connect_listener_values() {
        let table: [(&str, &[&str]); 5] = [
            ("http://:8083", &["0.0.0.0:8083"]),
            ("http://127.0.0.1:18083", &["127.0.0.1:18083"]),
            ("HTTP://[::1]:8083/", &["[::1]:8083"]),
            (
                "http://127.0.0.1:1, http://:2",
                &["127.0.0.1:1", "0.0.0.0:2"],
            ),
            ("http://localhost:9", &["127.0.0.1:9"]),
        ];
        for (value, want) in table {
            let got: Vec<String> = parse_listeners(value)
                .unwrap()
                .iter()
                .map(|a| a.to_string())
                .collect();
            // localhost may resolve to ::1 first on some machines.
            if value.contains("localhost") {
                assert!(
                    got == ["127.0.0.1:9"] || got == ["[::1]:9"],
                    "{value}: {got:?}"
                );
            } else {
                assert_eq!(got, want, "{value}");
            }
        }
    }

    #[test]
    fn refuses_https_and_malformed_values() {
        assert_eq!(
            parse_listeners("http://:8083,https://:8443"),
            Err(ListenerError::Https("https://:8443".into()))
        );
        for bad in [
            "",
            ":8083",
            "http://host",
            "http://:port",
            "ftp://:21",
            "http://:70000",
        ] {
            assert!(
                matches!(parse_listeners(bad), Err(ListenerError::Invalid(_))),
                "{bad}"
            );
        }
        assert_eq!(
            ListenerError::Https("https://:8443".into()).to_string(),
            "listeners: 'https://:8443' uses HTTPS, which Ferry does not support; use an http:// listener"
        );
    }
}
