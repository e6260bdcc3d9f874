//! The distributed herder (COMPAT §4, §5): workers sharing a `group.id` split connectors and
//! tasks through the Connect group protocol; configs live on the config topic, statuses on the
//! status topic, source offsets on the offsets topic.
//!
//! First cut — known differences from Kafka Connect:
//! - Leader-only REST writes (create/update/patch/delete, stop, restart, offsets) are forwarded
//!   by the herder itself (not a REST-layer `NotLeaderException`) to the leader's URL once the
//!   current round has settled, with Connect's `?forward=` hops (COMPAT §1.5: `true`, then
//!   `false`, then 409). Pause/resume are written by any worker, as in Connect. Task configs
//!   are written by the leader: the worker running a Connector instance sends them over the
//!   internal `POST /connectors/{c}/tasks`, unsigned for now (see `crate::signature`).
//! - A plain task restart (`POST …/tasks/{n}/restart`) on a worker not running the task is
//!   sent straight to the worker the status topic names as its owner (over `http://`), not
//!   through the leader.
//! - Only the incremental cooperative protocols (`compatible`, `sessioned`) are spoken; internal
//!   request signing (session keys) and exactly-once source support are not implemented.
//!   Per-connector offsets topics (`offsets.storage.topic`, KIP-618) are: read first, written
//!   first, the worker's topic written after (see `work::use_offsets_topic_of`).
//! - Statuses reach the status topic from a publisher that copies changes of this worker's
//!   local status view every 250 ms, not synchronously with the state change.
//! - A worker that cannot catch up with the assignment's config offset within
//!   `worker.sync.timeout.ms` rejoins at once (Connect leaves for `worker.unsync.backoff.ms`).
//! - Forwarded and owner-bound requests use `http://` (the advertised `host:port`).
//! - Ferry's automatic restart extension (`ferry.auto.restart.*`) restarts failed work in place
//!   on the worker running it (see `auto_restart`).

mod auto_restart;
mod forward;
mod metrics;
mod rebalance;
mod session;
mod work;

use ferry_worker::herder::connector_context::{ConnectorRequest, HerderConnectorContext};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ferry_api::{ConnectError, ConnectorType, Props};
use ferry_worker::config_providers::ConfigProviders;
use ferry_worker::connector_validation::{invalid_config_message, resolve_plugin, validate_config};
use ferry_worker::herder::offsets_api::{self, OffsetsApi};
use ferry_worker::herder::standalone::redacted_props;
use ferry_worker::herder::*;
use ferry_worker::plugins::Plugins;
use ferry_worker::sink_offsets::SinkOffsets;
use ferry_worker::status::StatusStore;
use ferry_worker::task_context::WorkerContext;
use ferry_worker::worker_config::{ClientRole, WorkerConfig};
use tokio::sync::{mpsc, Notify};

use crate::config::{distributed_config_def, DistributedConfig};
use crate::store::config::{ClusterConfigState, ConfigStore, ConfigUpdates, RestartRequest};
use crate::store::offsets::KafkaOffsetStore;
use crate::store::status::{KafkaStatusStore, StatusKey};
use work::LocalWork;

/// Connect's 409 message when a request cannot be served during a rebalance.
const REBALANCE_CONFLICT: &str =
    "Cannot complete request because of a conflicting operation (e.g. worker rebalance)";

/// How long a write waits for a rebalance in progress to finish before answering 409.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long opening an internal topic may take.
const STORE_TIMEOUT: Duration = Duration::from_secs(30);

/// A worker of a Connect cluster.
pub struct DistributedHerder {
    ctx: WorkerContext,
    dconfig: DistributedConfig,
    worker_id: String,
    /// This worker's advertised REST URL (sent to the group).
    url: String,
    providers: ConfigProviders,
    sink_offsets: SinkOffsets,
    /// The config topic as the background loop reads it (its updates drive the work).
    reader: Arc<Mutex<ConfigStore>>,
    /// The config topic for REST reads and all writes (a second client, so the loop's reader
    /// never misses updates that a write's own re-read consumed).
    writer: Arc<Mutex<ConfigStore>>,
    /// Updates the reader saw that the loop has not acted on yet.
    pending: Mutex<ConfigUpdates>,
    /// The config state the loop last acted on.
    acted: Mutex<ClusterConfigState>,
    /// The reader's latest state.
    latest: Mutex<ClusterConfigState>,
    status: Arc<KafkaStatusStore>,
    offsets: Arc<KafkaOffsetStore>,
    work: tokio::sync::Mutex<LocalWork>,
    generation: AtomicI32,
    /// Whether the current generation speaks `sessioned` (internal requests signed).
    sessioned: AtomicBool,
    /// Whether the current generation rebalances eagerly (v0 `default`): then all work stops
    /// before the next join.
    eager: AtomicBool,
    /// What the group loop is doing and since when (ms), for `/health`; an empty stage is a
    /// group round, which may legitimately wait for the coordinator.
    loop_stage: Mutex<(i64, &'static str)>,
    /// The leader's member id and URL, from the last assignment.
    leader: Mutex<(String, String)>,
    /// This worker's member id in the current generation.
    member_id: Mutex<String>,
    /// True while a generation is current and its assignment applied (false during rounds).
    settled: tokio::sync::watch::Sender<bool>,
    ready: AtomicBool,
    stopping: AtomicBool,
    wake: Notify,
    stopped: Notify,
    requests: mpsc::UnboundedSender<ConnectorRequest>,
    requests_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<ConnectorRequest>>,
    cluster_id: Mutex<Option<String>>,
    /// How many times this worker started each task (`ferry_task_starts_total` on /metrics):
    /// lets a user (and the tests) see that a rebalance left a task that did not move alone.
    task_starts: Mutex<BTreeMap<TaskId, u64>>,
}

impl std::fmt::Debug for DistributedHerder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistributedHerder")
            .field("worker_id", &self.worker_id)
            .finish()
    }
}

impl DistributedHerder {
    /// Parses the worker properties, opens (creating if missing) the config, offsets and status
    /// topics and reads them to the end. `worker_id` is the advertised `host:port`.
    pub async fn open(
        worker_props: &Props,
        plugins: Arc<Plugins>,
        worker_id: String,
    ) -> Result<Arc<Self>, ConnectError> {
        let dconfig = DistributedConfig::parse(worker_props)?;
        let config = Arc::new(WorkerConfig::parse(
            &distributed_config_def(),
            worker_props,
        )?);
        let client = config.client_settings(ClientRole::Admin, &Props::new())?;
        let d = dconfig.clone();
        let (reader, writer, status, offsets) = tokio::task::spawn_blocking(move || {
            let topic_configs = Props::new();
            let config_store = || {
                ConfigStore::open(
                    &client,
                    d.topic("config.storage.topic"),
                    d.replication_factor("config.storage.replication.factor"),
                    &topic_configs,
                    STORE_TIMEOUT,
                )
            };
            let reader = config_store()?;
            let writer = config_store()?;
            let status = KafkaStatusStore::open(
                &client,
                d.topic("status.storage.topic"),
                d.partitions("status.storage.partitions"),
                d.replication_factor("status.storage.replication.factor"),
                &topic_configs,
                STORE_TIMEOUT,
            )?;
            let offsets = KafkaOffsetStore::open(
                &client,
                d.topic("offset.storage.topic"),
                d.partitions("offset.storage.partitions"),
                d.replication_factor("offset.storage.replication.factor"),
                &topic_configs,
                STORE_TIMEOUT,
            )?;
            Ok::<_, ConnectError>((reader, writer, status, offsets))
        })
        .await
        .map_err(|e| ConnectError::internal(e.to_string()))??;
        let offsets = Arc::new(offsets);
        let providers = ConfigProviders::from_worker(config.originals())?;
        let ctx = WorkerContext {
            config: config.clone(),
            plugins,
            offsets: offsets.clone(),
            status: Arc::new(StatusStore::new(worker_id.clone())),
            metrics: Arc::default(),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let state = reader.state().clone();
        Ok(Arc::new(DistributedHerder {
            sink_offsets: SinkOffsets::new(config),
            ctx,
            dconfig,
            url: format!("http://{worker_id}/"),
            worker_id,
            providers,
            reader: Arc::new(Mutex::new(reader)),
            writer: Arc::new(Mutex::new(writer)),
            pending: Mutex::default(),
            acted: Mutex::new(state.clone()),
            latest: Mutex::new(state),
            status: {
                let status = Arc::new(status);
                status.follow();
                status
            },
            offsets,
            work: tokio::sync::Mutex::default(),
            generation: AtomicI32::new(-1),
            sessioned: AtomicBool::new(false),
            eager: AtomicBool::new(false),
            loop_stage: Mutex::new((work::now_ms(), "starting")),
            leader: Mutex::default(),
            member_id: Mutex::default(),
            settled: tokio::sync::watch::Sender::new(false),
            ready: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            wake: Notify::new(),
            stopped: Notify::new(),
            requests: tx,
            requests_rx: tokio::sync::Mutex::new(rx),
            cluster_id: Mutex::new(None),
            task_starts: Mutex::default(),
        }))
    }

    /// Joins the group and runs assigned work in the background until [`Self::shutdown`].
    /// The herder reports ready once the first round completed.
    pub fn start(self: &Arc<Self>) {
        tokio::spawn(self.clone().run_group());
    }

    /// Stops every task (flushing and committing), marks them UNASSIGNED and leaves the group.
    pub async fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        let timeout = self.ctx.config.task_shutdown_timeout() + Duration::from_secs(10);
        if tokio::time::timeout(timeout, self.stopped.notified())
            .await
            .is_err()
        {
            tracing::warn!("the worker did not stop its work and leave the group in time");
        }
    }

    /// Sets the Kafka cluster id shown on `GET /`.
    pub fn set_kafka_cluster_id(&self, id: String) {
        *self.cluster_id.lock().unwrap() = Some(id);
    }

    /// The worker config (for the binary: client settings, listeners).
    pub fn worker_config(&self) -> &Arc<WorkerConfig> {
        &self.ctx.config
    }

    /// Where a leader-only write must go: None when this worker leads, else the leader's URL.
    /// Waits for a rebalance in progress to finish first (as Connect's queued requests do).
    async fn leader_url(&self) -> HerderResult<Option<String>> {
        let mut settled = self.settled.subscribe();
        let ok = matches!(
            tokio::time::timeout(SETTLE_TIMEOUT, settled.wait_for(|s| *s)).await,
            Ok(Ok(_))
        );
        if !ok {
            return Err(HerderError::Conflict(REBALANCE_CONFLICT.into()));
        }
        let (leader, url) = self.leader.lock().unwrap().clone();
        if leader == *self.member_id.lock().unwrap() {
            return Ok(None);
        }
        if url.is_empty() {
            return Err(HerderError::Conflict(
                "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.".into(),
            ));
        }
        Ok(Some(url))
    }

    fn generation(&self) -> i32 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The reader's latest state.
    fn config_snapshot(&self) -> ClusterConfigState {
        self.latest.lock().unwrap().clone()
    }

    /// Re-reads the config topic with the loop's reader; returns the state and updates all not
    /// acted on (the updates of earlier reads included).
    async fn refresh_config(&self) -> Result<(ClusterConfigState, ConfigUpdates), ConnectError> {
        let reader = self.reader.clone();
        let (state, updates) = tokio::task::spawn_blocking(move || {
            let mut r = reader.lock().unwrap();
            let updates = r.refresh()?;
            Ok::<_, ConnectError>((r.state().clone(), updates))
        })
        .await
        .map_err(|e| ConnectError::internal(e.to_string()))??;
        {
            let mut p = self.pending.lock().unwrap();
            p.connectors.extend(updates.connectors);
            p.tasks.extend(updates.tasks);
            p.target_states.extend(updates.target_states);
            p.restarts.extend(updates.restarts);
            p.session_key |= updates.session_key;
        }
        *self.latest.lock().unwrap() = state.clone();
        Ok((state, ConfigUpdates::default()))
    }

    /// Takes the updates not acted on yet and the state last acted on; records `now` as acted.
    fn take_pending(&self, now: &ClusterConfigState) -> (ClusterConfigState, ConfigUpdates) {
        let updates = std::mem::take(&mut *self.pending.lock().unwrap());
        let before = std::mem::replace(&mut *self.acted.lock().unwrap(), now.clone());
        (before, updates)
    }

    /// Runs `f` on the writer (off the reactor).
    async fn with_config_store<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut ConfigStore) -> Result<R, ConnectError> + Send + 'static,
    ) -> Result<R, ConnectError> {
        let writer = self.writer.clone();
        let result = tokio::task::spawn_blocking(move || f(&mut writer.lock().unwrap()))
            .await
            .map_err(|e| ConnectError::internal(e.to_string()))?;
        self.wake.notify_one();
        result
    }

    /// The config topic read to its end now (REST reads see every acknowledged write).
    async fn current(&self) -> HerderResult<ClusterConfigState> {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut w = writer.lock().unwrap();
            w.refresh()?;
            Ok::<_, ConnectError>(w.state().clone())
        })
        .await
        .map_err(|e| HerderError::Internal(e.to_string()))?
        .map_err(internal)
    }

    /// Records what the group loop is doing now (see [`Herder::health_check`]).
    fn stage(&self, stage: &'static str) {
        *self.loop_stage.lock().unwrap() = (work::now_ms(), stage);
    }

    /// The newest config state this worker already holds, without reading the topic: what the
    /// loop last read, or what this worker's own last write left in the writer if that is newer.
    /// Status reads use it (Connect serves them from memory too); a read to the end per
    /// connector made `GET /connectors?expand=status` cost a round trip per connector.
    fn known_config(&self) -> ClusterConfigState {
        let latest = self.config_snapshot();
        match self.writer.try_lock() {
            Ok(w) if w.state().offset() > latest.offset() => w.state().clone(),
            _ => latest,
        }
    }

    /// The cluster's statuses as this worker has read them (the store follows the status topic
    /// on its own thread, so a read costs no round trip — Connect serves status from its local
    /// view too, COMPAT §1.5).
    async fn statuses(&self) -> HerderResult<crate::store::status::StatusCache> {
        Ok(self.status.cache())
    }

    fn validate(&self, config: &Props) -> HerderResult<ConnectorType> {
        let infos = validate_config(&self.ctx.plugins, config)?;
        if infos.error_count > 0 {
            return Err(HerderError::BadRequest(invalid_config_message(&infos)));
        }
        Ok(resolve_plugin(&self.ctx.plugins, config)?.connector_type())
    }

    fn connector_type(&self, config: &Props) -> ConnectorTypeName {
        resolve_plugin(&self.ctx.plugins, config)
            .map(|p| p.connector_type().into())
            .unwrap_or(ConnectorTypeName::Unknown)
    }

    fn info(&self, name: &str, state: &ClusterConfigState) -> HerderResult<ConnectorInfo> {
        let config = state
            .connector_config(name)
            .ok_or_else(|| HerderError::connector_not_found(name))?;
        Ok(ConnectorInfo {
            name: name.to_owned(),
            config: config.clone(),
            tasks: (0..state.task_count(name))
                .map(|task| TaskId {
                    connector: name.to_owned(),
                    task,
                })
                .collect(),
            connector_type: self.connector_type(config),
        })
    }

    async fn status_of(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        let state = self.known_config();
        let config = state.connector_config(name).ok_or_else(|| {
            HerderError::NotFound(format!("No status found for connector {name}"))
        })?;
        let cache = self.statuses().await?;
        let connector = cache.connector(name).ok_or_else(|| {
            HerderError::NotFound(format!("No status found for connector {name}"))
        })?;
        let count = state.task_count(name);
        Ok(ConnectorStateInfo {
            name: name.to_owned(),
            connector: ConnectorStateEntry {
                state: connector.state,
                worker_id: connector.worker_id.clone(),
                trace: connector.trace.clone(),
            },
            tasks: cache
                .connector_tasks(name)
                .into_iter()
                .filter(|(t, _)| *t < count)
                .map(|(id, s)| TaskStateInfo {
                    id,
                    state: s.state,
                    worker_id: s.worker_id.clone(),
                    trace: s.trace.clone(),
                })
                .collect(),
            connector_type: self.connector_type(config),
        })
    }

    async fn require_stopped(&self, name: &str) -> HerderResult<(ClusterConfigState, Props)> {
        let state = self.current().await?;
        let config = state
            .connector_config(name)
            .cloned()
            .ok_or_else(|| HerderError::connector_not_found(name))?;
        offsets_api::require_stopped(state.target_state(name))?;
        Ok((state, config))
    }

    /// The offsets REST API for connector `name` with `config`: its own offsets topic opened
    /// if it names one, every offsets topic read to its end first.
    async fn offsets_api(&self, name: &str, config: &Props) -> HerderResult<OffsetsApi<'_>> {
        self.use_offsets_topic_of(name, config)
            .await
            .map_err(internal)?;
        let store = self.offsets.clone();
        tokio::task::spawn_blocking(move || store.refresh())
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))?
            .map_err(internal)?;
        Ok(OffsetsApi {
            store: self.offsets.clone(),
            sinks: &self.sink_offsets,
        })
    }
}

fn internal(e: ConnectError) -> HerderError {
    HerderError::Internal(e.to_string())
}

#[async_trait]
impl Herder for DistributedHerder {
    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
    /// Alive while the group loop advances (it passes its top at least every tick) or waits
    /// in a group round; unhealthy when it has been stuck elsewhere — reading internal topics
    /// from an unreachable broker, starting work that does not return — for 10 s.
    async fn health_check(&self) -> Result<(), String> {
        let (since, stage) = *self.loop_stage.lock().unwrap();
        let stuck_ms = work::now_ms() - since;
        if stage.is_empty() || stuck_ms < 10_000 {
            Ok(())
        } else {
            Err(format!(
                "Current stage: {stage} (for {} s).",
                stuck_ms / 1000
            ))
        }
    }
    fn kafka_cluster_id(&self) -> Option<String> {
        self.cluster_id.lock().unwrap().clone()
    }
    fn worker_id(&self) -> String {
        self.worker_id.clone()
    }
    fn plugins(&self) -> &Plugins {
        &self.ctx.plugins
    }

    async fn connectors(&self) -> Vec<String> {
        match self.current().await {
            Ok(s) => s.connector_names().map(str::to_owned).collect(),
            Err(e) => {
                tracing::warn!("cannot read the config topic: {e}");
                self.config_snapshot()
                    .connector_names()
                    .map(str::to_owned)
                    .collect()
            }
        }
    }

    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        let state = self.current().await?;
        self.info(name, &state)
    }

    async fn connector_config(&self, name: &str) -> HerderResult<Props> {
        let state = self.current().await?;
        state
            .connector_config(name)
            .cloned()
            .ok_or_else(|| HerderError::connector_not_found(name))
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: Props,
        allow_replace: bool,
        initial_state: Option<TargetState>,
    ) -> HerderResult<Created<ConnectorInfo>> {
        if let Some(leader) = self.leader_url().await? {
            let (status, body) = if allow_replace {
                let path = format!("/connectors/{}/config", forward::path_segment(name));
                forward::to_leader(&leader, "PUT", &path, Some(serde_json::json!(config)), None)
                    .await?
            } else {
                let mut body = serde_json::json!({"name": name, "config": config});
                if let Some(state) = initial_state {
                    body["initial_state"] = serde_json::json!(state);
                }
                forward::to_leader(&leader, "POST", "/connectors", Some(body), None).await?
            };
            return Ok(Created {
                created: status == 201,
                result: forward::parse(body)?,
            });
        }
        self.validate(&config)?;
        let state = self.current().await?;
        let exists = state.connector_config(name).is_some();
        if exists && !allow_replace {
            return Err(HerderError::AlreadyExists(format!(
                "Connector {name} already exists"
            )));
        }
        let initial = if exists { None } else { initial_state };
        let connector = name.to_owned();
        let written = config.clone();
        tracing::info!(connector = %name, "writing connector config {}", redacted_props(&config));
        self.with_config_store(move |s| s.put_connector_config(&connector, &written, initial))
            .await
            .map_err(internal)?;
        let state = self.current().await?;
        let mut info = self.info(name, &state)?;
        if !exists {
            info.tasks.clear();
        }
        Ok(Created {
            created: !exists,
            result: info,
        })
    }

    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> HerderResult<ConnectorInfo> {
        if let Some(leader) = self.leader_url().await? {
            let path = format!("/connectors/{}/config", forward::path_segment(name));
            let (_, body) = forward::to_leader(
                &leader,
                "PATCH",
                &path,
                Some(serde_json::json!(patch)),
                None,
            )
            .await?;
            return forward::parse(body);
        }
        let config = apply_config_patch(self.connector_config(name).await?, patch);
        Ok(self
            .put_connector_config(name, config, true, None)
            .await?
            .result)
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        if let Some(leader) = self.leader_url().await? {
            let path = format!("/connectors/{}", forward::path_segment(name));
            return forward::to_leader(&leader, "DELETE", &path, None, None)
                .await
                .map(drop);
        }
        let state = self.current().await?;
        if state.connector_config(name).is_none() {
            return Err(HerderError::connector_not_found(name));
        }
        let connector = name.to_owned();
        self.with_config_store(move |s| s.remove_connector(&connector))
            .await
            .map_err(internal)?;
        let mut keys = vec![StatusKey::Connector(name.to_owned())];
        keys.extend((0..state.task_count(name)).map(|task| {
            StatusKey::Task(TaskId {
                connector: name.to_owned(),
                task,
            })
        }));
        let status = self.status.clone();
        tokio::task::spawn_blocking(move || keys.iter().try_for_each(|k| status.delete(k)))
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))?
            .map_err(internal)?;
        self.ctx.metrics.remove_connector(name);
        self.forget_task_starts(name);
        Ok(())
    }

    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        self.status_of(name).await
    }

    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        let state = self.current().await?;
        if state.connector_config(name).is_none() {
            return Err(HerderError::connector_not_found(name));
        }
        Ok(state
            .task_configs(name)
            .into_iter()
            .enumerate()
            .map(|(t, config)| TaskInfo {
                id: TaskId {
                    connector: name.to_owned(),
                    task: t as u32,
                },
                config,
            })
            .collect())
    }

    async fn task_status(&self, name: &str, task: u32) -> HerderResult<TaskStateInfo> {
        let id = TaskId {
            connector: name.to_owned(),
            task,
        };
        let state = self.known_config();
        let cache = self.statuses().await?;
        let s = cache
            .task(&id)
            .filter(|_| task < state.task_count(name))
            .ok_or_else(|| HerderError::NotFound(format!("No status found for task {id}")))?;
        Ok(TaskStateInfo {
            id: task,
            state: s.state,
            worker_id: s.worker_id.clone(),
            trace: s.trace.clone(),
        })
    }

    async fn restart_connector(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> HerderResult<Option<ConnectorStateInfo>> {
        if let Some(leader) = self.leader_url().await? {
            let path = format!(
                "/connectors/{}/restart?includeTasks={include_tasks}&onlyFailed={only_failed}",
                forward::path_segment(name)
            );
            let (status, body) = forward::to_leader(&leader, "POST", &path, None, None).await?;
            return if status == 202 {
                forward::parse(body).map(Some)
            } else {
                Ok(None)
            };
        }
        let state = self.current().await?;
        if state.connector_config(name).is_none() {
            return Err(HerderError::connector_not_found(name));
        }
        let legacy = !include_tasks && !only_failed;
        let answer = match self.status_of(name).await {
            Ok(before) => {
                let mut answer = before.clone();
                if !only_failed || before.connector.state == State::Failed {
                    answer.connector.state = State::Restarting;
                    answer.connector.trace = None;
                }
                for t in &mut answer.tasks {
                    if include_tasks && (!only_failed || t.state == State::Failed) {
                        t.state = State::Restarting;
                        t.trace = None;
                    }
                }
                Some(answer)
            }
            Err(_) if legacy => None,
            Err(e) => return Err(e),
        };
        let request = RestartRequest {
            connector: name.to_owned(),
            include_tasks,
            only_failed,
        };
        self.with_config_store(move |s| s.put_restart_request(&request))
            .await
            .map_err(internal)?;
        Ok(if legacy { None } else { answer })
    }

    async fn restart_task(&self, name: &str, task: u32) -> HerderResult<()> {
        let id = TaskId {
            connector: name.to_owned(),
            task,
        };
        let state = self.current().await?;
        if state.connector_config(name).is_none() {
            return Err(HerderError::connector_not_found(name));
        }
        if task >= state.task_count(name) {
            return Err(HerderError::NotFound(format!("Task {id} not found")));
        }
        let mut work = self.work.lock().await;
        if !work.tasks.contains_key(&id) {
            drop(work);
            // Connect forwards to the leader, which forwards to the owner; Ferry asks the owner
            // named by the status topic directly.
            let owner = self
                .statuses()
                .await?
                .task(&id)
                .map(|s| s.worker_id.clone())
                .filter(|w| !w.is_empty() && *w != self.worker_id)
                .ok_or_else(|| HerderError::Conflict(REBALANCE_CONFLICT.into()))?;
            let path = format!(
                "/connectors/{}/tasks/{task}/restart",
                forward::path_segment(name)
            );
            return forward::to_leader(&format!("http://{owner}/"), "POST", &path, None, None)
                .await
                .map(drop);
        }
        self.stop_tasks(&mut work, std::slice::from_ref(&id)).await;
        self.start_task(&mut work, &id, &state).await;
        Ok(())
    }

    async fn set_target_state(&self, name: &str, target: TargetState) -> HerderResult<()> {
        // Pause and resume are written by any worker (as Connect does); stop goes to the leader,
        // which commits the empty task set before the STOPPED record.
        if target == TargetState::Stopped {
            if let Some(leader) = self.leader_url().await? {
                let path = format!("/connectors/{}/stop", forward::path_segment(name));
                return forward::to_leader(&leader, "PUT", &path, None, None)
                    .await
                    .map(drop);
            }
        }
        let state = self.current().await?;
        if state.connector_config(name).is_none() {
            return Err(HerderError::connector_not_found(name));
        }
        let connector = name.to_owned();
        self.with_config_store(move |s| s.put_target_state(&connector, target))
            .await
            .map_err(internal)
    }

    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<Props>,
        forward: Option<bool>,
        signature: InternalSignature,
    ) -> HerderResult<()> {
        // Checked where it arrives, before forwarding, as Connect does.
        self.verify_internal(&signature)?;
        if let Some(leader) = self.leader_url().await? {
            let path = format!("/connectors/{}/tasks", forward::path_segment(name));
            // The signed bytes travel unchanged, with their signature headers.
            let headers: Vec<(&'static str, String)> = [
                (crate::signature::SIGNATURE_HEADER, signature.signature),
                (
                    crate::signature::SIGNATURE_ALGORITHM_HEADER,
                    signature.algorithm,
                ),
            ]
            .into_iter()
            .filter_map(|(h, v)| v.map(|v| (h, v)))
            .collect();
            return forward::raw_to_leader(
                &leader,
                "POST",
                &path,
                signature.body.to_vec(),
                headers,
                forward,
            )
            .await
            .map(drop);
        }
        let state = self.current().await?;
        if state.connector_config(name).is_none() {
            return Err(HerderError::connector_not_found(name));
        }
        tracing::info!(connector = %name, "writing {} task config(s) sent by the connector's worker", configs.len());
        let connector = name.to_owned();
        self.with_config_store(move |s| s.put_task_configs(&connector, &configs))
            .await
            .map_err(internal)
    }

    async fn active_topics(&self, name: &str) -> HerderResult<Vec<String>> {
        if !self.ctx.config.topic_tracking_enabled() {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        let state = self.current().await?;
        if state.connector_config(name).is_none() {
            return Err(HerderError::connector_not_found(name));
        }
        let cache = self.statuses().await?;
        let mut topics: Vec<String> = cache
            .active_topics(name)
            .into_iter()
            .map(|t| t.topic.clone())
            .collect();
        topics.sort();
        Ok(topics)
    }

    async fn reset_active_topics(&self, name: &str) -> HerderResult<()> {
        if !self.ctx.config.topic_tracking_enabled() {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        if !self.ctx.config.topic_tracking_reset_allowed() {
            return Err(HerderError::Forbidden(
                "Topic tracking reset is disabled.".into(),
            ));
        }
        let state = self.current().await?;
        if state.connector_config(name).is_none() {
            return Err(HerderError::connector_not_found(name));
        }
        let cache = self.statuses().await?;
        let keys: Vec<StatusKey> = cache
            .active_topics(name)
            .into_iter()
            .map(|t| StatusKey::Topic {
                topic: t.topic.clone(),
                connector: name.to_owned(),
            })
            .collect();
        let status = self.status.clone();
        tokio::task::spawn_blocking(move || keys.iter().try_for_each(|k| status.delete(k)))
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))?
            .map_err(internal)?;
        self.ctx.status.reset_active_topics(name);
        Ok(())
    }

    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets> {
        let config = self.connector_config(name).await?;
        let kind = resolve_plugin(&self.ctx.plugins, &config)?.connector_type();
        self.offsets_api(name, &config)
            .await?
            .get(name, kind, &config)
            .await
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> HerderResult<String> {
        if let Some(leader) = self.leader_url().await? {
            let path = format!("/connectors/{}/offsets", forward::path_segment(name));
            let body =
                serde_json::to_value(&offsets).map_err(|e| HerderError::Internal(e.to_string()))?;
            let (_, answer) = forward::to_leader(&leader, "PATCH", &path, Some(body), None).await?;
            return Ok(answer["message"].as_str().unwrap_or_default().to_owned());
        }
        let (_, config) = self.require_stopped(name).await?;
        let kind = resolve_plugin(&self.ctx.plugins, &config)?.connector_type();
        self.offsets_api(name, &config)
            .await?
            .alter(name, kind, &offsets)
            .await
    }

    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<String> {
        if let Some(leader) = self.leader_url().await? {
            let path = format!("/connectors/{}/offsets", forward::path_segment(name));
            let (_, answer) = forward::to_leader(&leader, "DELETE", &path, None, None).await?;
            return Ok(answer["message"].as_str().unwrap_or_default().to_owned());
        }
        let (_, config) = self.require_stopped(name).await?;
        let kind = resolve_plugin(&self.ctx.plugins, &config)?.connector_type();
        self.offsets_api(name, &config)
            .await?
            .reset(name, kind)
            .await
    }

    async fn validate_connector_config(&self, config: &Props) -> HerderResult<ConfigInfos> {
        validate_config(&self.ctx.plugins, config)
    }

    async fn metrics(&self) -> String {
        let state = self.config_snapshot();
        let work = self.work.lock().await;
        let connectors: Vec<(String, &'static str)> = work
            .connectors
            .keys()
            .filter_map(|n| {
                let config = state.connector_config(n)?;
                let plugin = resolve_plugin(&self.ctx.plugins, config).ok()?;
                Some((n.clone(), plugin.connector_type().as_str()))
            })
            .collect();
        drop(work);
        let mut out = self.ctx.metrics.render(&self.ctx.status, &connectors);
        self.render_cluster_metrics(&mut out);
        out
    }
}
