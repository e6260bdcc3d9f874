//! The herder owns connector and task lifecycle. The REST layer talks only to the [`Herder`] trait,
//! so standalone and distributed modes share one REST implementation.

pub mod connector_context;
pub mod entities;
pub mod lifecycle;
pub mod offsets_api;
pub mod standalone;

use std::collections::BTreeMap;

use async_trait::async_trait;
use ferry_api::Props;

pub use entities::*;

/// `config` with a `PATCH /connectors/{c}/config` body applied: a value sets the key, `null`
/// removes it.
pub fn apply_config_patch(mut config: Props, patch: BTreeMap<String, Option<String>>) -> Props {
    for (k, v) in patch {
        match v {
            Some(v) => config.insert(k, v),
            None => config.remove(&k),
        };
    }
    config
}

/// An internal request's signature headers (COMPAT §1.8) and the raw body they sign: the body
/// must be checked byte for byte, not as re-serialised JSON.
#[derive(Debug, Clone, Default)]
pub struct InternalSignature {
    /// `X-Connect-Request-Signature-Algorithm`.
    pub algorithm: Option<String>,
    /// `X-Connect-Authorization` (base64).
    pub signature: Option<String>,
    /// The request body as received.
    pub body: bytes::Bytes,
}

/// Errors a herder operation can end with; each maps onto Connect's HTTP status and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HerderError {
    /// 404 (`NotFoundException`).
    #[error("{0}")]
    NotFound(String),
    /// 409 (`AlreadyExistsException`).
    #[error("{0}")]
    AlreadyExists(String),
    /// 400: a bad request body or an invalid config (message lists the errors).
    #[error("{0}")]
    BadRequest(String),
    /// 409: a conflicting operation (rebalance, stale config).
    #[error("{0}")]
    Conflict(String),
    /// 403: the operation is disabled by configuration.
    #[error("{0}")]
    Forbidden(String),
    /// 503: the worker is not ready yet.
    #[error("{0}")]
    Unavailable(String),
    /// 500: anything else.
    #[error("{0}")]
    Internal(String),
}

impl HerderError {
    /// The HTTP status Connect answers with.
    pub fn status(&self) -> u16 {
        match self {
            HerderError::NotFound(_) => 404,
            HerderError::AlreadyExists(_) | HerderError::Conflict(_) => 409,
            HerderError::BadRequest(_) => 400,
            HerderError::Forbidden(_) => 403,
            HerderError::Unavailable(_) => 503,
            HerderError::Internal(_) => 500,
        }
    }
    /// Connect's "Connector x not found".
    pub fn connector_not_found(name: &str) -> Self {
        HerderError::NotFound(format!("Connector {name} not found"))
    }
}

/// Result of herder operations.
pub type HerderResult<T> = Result<T, HerderError>;

/// A config write's outcome: whether the connector was created (201) or updated (200).
#[derive(Debug, Clone)]
pub struct Created<T> {
    /// True when the connector did not exist before.
    pub created: bool,
    /// The result.
    pub result: T,
}

/// Connector and task lifecycle, as the REST API needs it. Every method answers for the whole
/// cluster (in standalone mode the cluster is this worker).
#[async_trait]
pub trait Herder: Send + Sync {
    /// Whether start-up finished (for `/health`).
    fn is_ready(&self) -> bool;
    /// `/health`'s liveness probe (KIP-1017): returns once the herder shows it can still serve
    /// requests; `Err(details)` when it knows it cannot. The REST layer answers 500 "unhealthy"
    /// for an error or when this takes longer than Connect's 10 s.
    async fn health_check(&self) -> Result<(), String> {
        Ok(())
    }
    /// The Kafka cluster id (for `GET /`), if known.
    fn kafka_cluster_id(&self) -> Option<String>;
    /// This worker's id (`host:port`).
    fn worker_id(&self) -> String;
    /// The bundled plugins.
    fn plugins(&self) -> &crate::plugins::Plugins;

    /// Names of all connectors, sorted.
    async fn connectors(&self) -> Vec<String>;
    /// Config, tasks and type of a connector.
    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo>;
    /// The raw config (placeholders kept).
    async fn connector_config(&self, name: &str) -> HerderResult<Props>;
    /// Creates or replaces a connector's config (validating it first). `allow_replace` false makes
    /// an existing connector a 409. `initial_state` applies only on creation.
    async fn put_connector_config(
        &self,
        name: &str,
        config: Props,
        allow_replace: bool,
        initial_state: Option<TargetState>,
    ) -> HerderResult<Created<ConnectorInfo>>;
    /// Applies a patch (None deletes a key) to an existing connector's config.
    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> HerderResult<ConnectorInfo>;
    /// Deletes a connector.
    async fn delete_connector(&self, name: &str) -> HerderResult<()>;
    /// Status of a connector and its tasks.
    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo>;
    /// Task configs.
    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>>;
    /// Status of one task.
    async fn task_status(&self, name: &str, task: u32) -> HerderResult<TaskStateInfo>;
    /// Restarts a connector (and tasks per the flags). Returns the status to answer 202 with when
    /// `include_tasks || only_failed`, None for the plain (204) restart.
    async fn restart_connector(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> HerderResult<Option<ConnectorStateInfo>>;
    /// Restarts one task.
    async fn restart_task(&self, name: &str, task: u32) -> HerderResult<()>;
    /// Sets the target state (pause, resume, stop).
    async fn set_target_state(&self, name: &str, state: TargetState) -> HerderResult<()>;
    /// Topics the connector has used (KIP-558).
    async fn active_topics(&self, name: &str) -> HerderResult<Vec<String>>;
    /// Forgets the connector's active topics.
    async fn reset_active_topics(&self, name: &str) -> HerderResult<()>;
    /// Committed offsets (KIP-875).
    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets>;
    /// Alters offsets (connector must be STOPPED). Returns the success message.
    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> HerderResult<String>;
    /// Resets offsets (connector must be STOPPED). Returns the success message.
    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<String>;
    /// Validates a connector config (`PUT /connector-plugins/{p}/config/validate`).
    async fn validate_connector_config(&self, config: &Props) -> HerderResult<ConfigInfos>;
    /// The internal `POST /connectors/{c}/tasks` (COMPAT §1.8): the worker running connector
    /// `name` sends the task configs it generated to the leader, which writes them to the
    /// config topic. `forward` is the request's `?forward=` (COMPAT §1.5): None from the
    /// owner, Some(true) once forwarded, Some(false) when it must not be forwarded again.
    /// Standalone mode has no leader: Connect's standalone herder refuses it (500).
    /// `signature` is what the request carried to prove it comes from the cluster (checked
    /// against the session key under `connect.protocol=sessioned`).
    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<Props>,
        forward: Option<bool>,
        signature: InternalSignature,
    ) -> HerderResult<()> {
        let _ = (name, configs, forward, signature);
        Err(HerderError::Internal(
            "Kafka Connect in standalone mode does not support externally setting task configurations."
                .into(),
        ))
    }
    /// Prometheus text for `GET /metrics` (Ferry extension).
    async fn metrics(&self) -> String {
        String::new()
    }
}
