//! The session key and signed internal requests (COMPAT §1.8, leader duty §5): under the
//! `sessioned` protocol the leader keeps a key on the config topic (a new one every
//! `inter.worker.key.ttl.ms`), every worker signs the internal requests it sends with it, and a
//! worker answering one checks the signature first.

use std::sync::atomic::Ordering;

use ferry_worker::herder::{HerderResult, InternalSignature};

use super::work::{now_ms, Leader};
use super::DistributedHerder;
use crate::signature;
use crate::store::config::ClusterConfigState;

impl DistributedHerder {
    /// Whether the generation this worker joined speaks `sessioned`: only then are internal
    /// requests signed and checked (Connect's `internalRequestValidationEnabled`).
    pub(super) fn sessioned(&self) -> bool {
        self.sessioned.load(Ordering::SeqCst)
    }

    /// Leader duty: writes a fresh session key when there is none or it outlived
    /// `inter.worker.key.ttl.ms`. Errors are logged and retried on the next tick.
    pub(super) async fn maintain_session_key(&self, config: &ClusterConfigState) {
        if !self.sessioned() || !matches!(self.leader_now(), Leader::Me) {
            return;
        }
        let ttl = self.dconfig.duration("inter.worker.key.ttl.ms").as_millis() as i64;
        let now = now_ms();
        if config
            .session_key()
            .is_some_and(|k| !signature::key_expired(k, ttl, now))
        {
            return;
        }
        let key = match signature::generate_key(now, self.dconfig.key_bytes()) {
            Ok(k) => k,
            Err(e) => {
                tracing::error!("{e}");
                return;
            }
        };
        tracing::info!("writing a new session key (inter.worker.key.ttl.ms {ttl})");
        if let Err(e) = self
            .with_config_store(move |s| s.put_session_key(&key))
            .await
        {
            tracing::warn!("could not write the session key, retrying: {e}");
        }
    }

    /// The headers that sign `body` for an internal request: none when the group does not
    /// speak `sessioned` or no key was read yet (the receiver then answers 400 or 503 and the
    /// sender retries).
    pub(super) fn signature_headers(&self, body: &[u8]) -> Vec<(&'static str, String)> {
        if !self.sessioned() {
            return Vec::new();
        }
        match self.config_snapshot().session_key() {
            Some(key) => signature::signature_headers(key, body).into(),
            None => Vec::new(),
        }
    }

    /// Checks an internal request's signature against the current session key (a no-op when
    /// the group does not speak `sessioned`).
    pub(super) fn verify_internal(&self, request: &InternalSignature) -> HerderResult<()> {
        if !self.sessioned() {
            return Ok(());
        }
        signature::verify(
            self.config_snapshot().session_key(),
            request.algorithm.as_deref(),
            request.signature.as_deref(),
            &request.body,
            &self.dconfig.verification_algorithms(),
        )
    }
}
