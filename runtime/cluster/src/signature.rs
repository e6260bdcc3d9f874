//! Signed internal requests (COMPAT §1.8): with `connect.protocol=sessioned`, requests between
//! workers (a connector's task configs sent to the leader) carry an HMAC of the raw body made
//! with the session key the leader publishes on the config topic. A worker outside the
//! cluster cannot forge them because it never read the key.
//!
//! The headers, the base64 encoding and the error statuses and messages are Connect's, so a
//! Java worker's request verifies here and the other way round.

use base64::Engine;
use ferry_worker::herder::HerderError;
use hmac::{KeyInit, Mac};

use crate::store::config::SessionKey;

/// The signature: base64 of the HMAC of the request body.
pub const SIGNATURE_HEADER: &str = "X-Connect-Authorization";
/// The JCA name of the HMAC algorithm used for the signature.
pub const SIGNATURE_ALGORITHM_HEADER: &str = "X-Connect-Request-Signature-Algorithm";
/// Connect's default (`inter.worker.signature.algorithm`, `inter.worker.key.generation.algorithm`).
pub const HMAC_SHA256: &str = "HmacSHA256";
/// Size of a generated key: the JVM's default for an `HmacSHA256` KeyGenerator (256 bits).
const KEY_BYTES: usize = 32;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// A fresh session key of `bytes` bytes (None: 256 bits, the JVM's default for HmacSHA256)
/// created at `now_ms` (the leader's duty when none is valid).
pub fn generate_key(now_ms: i64, bytes: Option<usize>) -> Result<SessionKey, HerderError> {
    let mut key = vec![0u8; bytes.unwrap_or(KEY_BYTES)];
    getrandom::fill(&mut key).map_err(|e| {
        HerderError::Internal(format!("cannot generate a session key: no randomness: {e}"))
    })?;
    Ok(SessionKey {
        key,
        algorithm: HMAC_SHA256.to_owned(),
        creation_timestamp: now_ms,
    })
}

/// Whether `key` must be replaced at `now_ms` (it was created more than `ttl_ms` ago).
pub fn key_expired(key: &SessionKey, ttl_ms: i64, now_ms: i64) -> bool {
    key.creation_timestamp.saturating_add(ttl_ms) <= now_ms
}

/// The headers that sign `body` with `key`, to add to an internal request.
pub fn signature_headers(key: &SessionKey, body: &[u8]) -> [(&'static str, String); 2] {
    [
        (SIGNATURE_HEADER, sign(&key.key, body)),
        (SIGNATURE_ALGORITHM_HEADER, HMAC_SHA256.to_owned()),
    ]
}

/// Base64 of HMAC-SHA256(`key`, `body`).
pub fn sign(key: &[u8], body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(mac(key, body).finalize().into_bytes())
}

fn mac(key: &[u8], body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(body);
    mac
}

/// Checks an internal request's signature headers against the current session `key`, with
/// Connect's answers: no signature → 400, an algorithm this worker does not accept → 400, no
/// session key read yet → 503, a wrong signature → 403.
pub fn verify(
    key: Option<&SessionKey>,
    algorithm: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    accepted_algorithms: &[String],
) -> Result<(), HerderError> {
    let (Some(algorithm), Some(signature)) = (algorithm, signature) else {
        return Err(HerderError::BadRequest(
            "Internal request missing required signature".into(),
        ));
    };
    if algorithm != HMAC_SHA256 || !accepted_algorithms.iter().any(|a| a == algorithm) {
        return Err(HerderError::BadRequest(format!(
            "This worker does not support the '{algorithm}' key signing algorithm used by other \
             workers. This worker is currently configured to use: [{}]. Check that all workers' \
             configuration files permit the same set of signature algorithms, and correct any \
             misconfigured worker and restart it.",
            accepted_algorithms.join(", ")
        )));
    }
    let Some(key) = key else {
        return Err(HerderError::Unavailable(
            "This worker has not yet read a session key from the config topic, so it cannot \
             verify internal requests; retry shortly"
                .into(),
        ));
    };
    let valid = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .is_ok_and(|given| mac(&key.key, body).verify_slice(&given).is_ok());
    if valid {
        Ok(())
    } else {
        Err(HerderError::Forbidden(
            "Internal request contained invalid signature.".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(bytes: &[u8]) -> SessionKey {
        SessionKey {
            key: bytes.to_vec(),
            algorithm: HMAC_SHA256.into(),
            creation_timestamp: 1_700_000_000_000,
        }
    }

    fn accepted() -> Vec<String> {
        vec![HMAC_SHA256.to_owned()]
    }

    #[test]
    fn signature_is_base64_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2 (HMAC-SHA256 5bdcc146…3843), base64-encoded.
        let expected = "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=";
        assert_eq!(sign(b"Jefe", b"what do ya want for nothing?"), expected);
        let [(h1, v1), (h2, v2)] =
            signature_headers(&key(b"Jefe"), b"what do ya want for nothing?");
        assert_eq!((h1, v1.as_str()), (SIGNATURE_HEADER, expected));
        assert_eq!((h2, v2.as_str()), (SIGNATURE_ALGORITHM_HEADER, HMAC_SHA256));
    }

    #[test]
    fn a_signed_body_verifies_and_a_changed_one_does_not() {
        let k = key(b"0123456789abcdef0123456789abcdef");
        let body = br#"[{"task.class":"x"}]"#;
        let sig = sign(&k.key, body);
        verify(Some(&k), Some(HMAC_SHA256), Some(&sig), body, &accepted()).unwrap();
        let err = verify(Some(&k), Some(HMAC_SHA256), Some(&sig), b"[]", &accepted()).unwrap_err();
        assert_eq!(err.status(), 403);
        assert_eq!(
            err.to_string(),
            "Internal request contained invalid signature."
        );
        let err = verify(
            Some(&k),
            Some(HMAC_SHA256),
            Some("not base64!"),
            body,
            &accepted(),
        )
        .unwrap_err();
        assert_eq!(err.status(), 403);
    }

    /// Session key, algorithm header, signature header, expected status and message part.
    type Case<'a> = (
        Option<&'a SessionKey>,
        Option<&'a str>,
        Option<&'a str>,
        u16,
        &'a str,
    );

    #[test]
    fn missing_unknown_or_unverifiable_signatures_get_connects_statuses() {
        let k = key(b"k");
        let cases: [Case; 4] = [
            (
                Some(&k),
                None,
                Some("x"),
                400,
                "Internal request missing required signature",
            ),
            (
                Some(&k),
                Some(HMAC_SHA256),
                None,
                400,
                "Internal request missing required signature",
            ),
            (
                Some(&k),
                Some("HmacMD5"),
                Some("x"),
                400,
                "'HmacMD5' key signing algorithm",
            ),
            (
                None,
                Some(HMAC_SHA256),
                Some("x"),
                503,
                "not yet read a session key",
            ),
        ];
        for (key, algorithm, signature, status, message) in cases {
            let err = verify(key, algorithm, signature, b"{}", &accepted()).unwrap_err();
            assert_eq!(err.status(), status, "{algorithm:?} {signature:?}");
            assert!(err.to_string().contains(message), "{err}");
        }
    }

    #[test]
    fn generated_keys_are_random_256_bit_keys_that_expire_after_the_ttl() {
        let a = generate_key(1_000, None).unwrap();
        let b = generate_key(1_000, None).unwrap();
        assert_eq!(generate_key(1_000, Some(64)).unwrap().key.len(), 64);
        assert_eq!(a.key.len(), 32);
        assert_ne!(a.key, b.key);
        assert_eq!(a.algorithm, HMAC_SHA256);
        assert!(!key_expired(&a, 3_600_000, 3_600_999));
        assert!(key_expired(&a, 3_600_000, 3_601_000));
    }
}
