//! The standalone herder: every connector and task runs in this worker; configs and target states
//! are kept in memory and — unlike Kafka Connect, which forgets them — in a JSON file next to the
//! offsets file, so connectors created over REST survive a restart.
//!
//! All lifecycle operations are serialised by one async mutex over [`HerderState`].

use super::connector_context::{ConnectorRequest, HerderConnectorContext};
use super::offsets_api::{require_stopped, OffsetsApi};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use async_trait::async_trait;
use ferry_api::{ConnectError, Connector, ConnectorContext, ConnectorPlugin, Props};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::*;
use crate::auto_restart::{AutoRestarts, RestartPolicy, RestartScope, Watched};
use crate::config_providers::ConfigProviders;
use crate::connector_validation::{invalid_config_message, resolve_plugin, validate_config};
use crate::plugins::Plugins;
use crate::sink_offsets::SinkOffsets;
use crate::task_context::{TaskSpec, WorkerContext};
use crate::task_runner::{start_task, RunningTask};

/// A config map printed with PASSWORD-looking values hidden, for error messages.
pub fn redacted_props(props: &Props) -> String {
    let shown: Vec<String> = props
        .iter()
        .map(|(k, v)| {
            let secret = k.contains("password") || k.contains("secret");
            format!("{k}={}", if secret { "[hidden]" } else { v })
        })
        .collect();
    format!("{{{}}}", shown.join(", "))
}

struct ConnectorEntry {
    config: Props,
    target: TargetState,
    plugin: ConnectorPlugin,
    instance: Option<Box<dyn Connector>>,
    tasks: BTreeMap<u32, RunningTask>,
}

impl std::fmt::Debug for ConnectorEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorEntry")
            .field("target", &self.target)
            .field("tasks", &self.tasks.len())
            .finish()
    }
}

#[derive(Debug, Default)]
struct HerderState {
    connectors: BTreeMap<String, ConnectorEntry>,
    /// The configs the command line's connector files gave, by name. Their file is their
    /// source of truth, so they are stored only once changed over REST (config or target
    /// state): a connector renamed in its file must not live on under its old name.
    from_files: BTreeMap<String, Props>,
}

impl HerderState {
    /// The connector `name`, or Connect's 404.
    fn entry(&self, name: &str) -> HerderResult<&ConnectorEntry> {
        self.connectors
            .get(name)
            .ok_or_else(|| HerderError::connector_not_found(name))
    }
    /// The connector `name` for changes, or Connect's 404.
    fn entry_mut(&mut self, name: &str) -> HerderResult<&mut ConnectorEntry> {
        self.connectors
            .get_mut(name)
            .ok_or_else(|| HerderError::connector_not_found(name))
    }
}

/// The persisted form of the connectors (Ferry extension).
#[derive(Debug, Serialize, Deserialize, Default)]
struct StoredConnectors {
    connectors: BTreeMap<String, StoredConnector>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredConnector {
    config: Props,
    target_state: TargetState,
}

/// The standalone herder.
pub struct StandaloneHerder {
    ctx: WorkerContext,
    worker_id: String,
    state: tokio::sync::Mutex<HerderState>,
    ready: AtomicBool,
    cluster_id: Mutex<Option<String>>,
    connectors_file: Option<PathBuf>,
    requests: mpsc::UnboundedSender<ConnectorRequest>,
    sink_offsets: SinkOffsets,
    providers: ConfigProviders,
}

impl std::fmt::Debug for StandaloneHerder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandaloneHerder")
            .field("worker_id", &self.worker_id)
            .finish()
    }
}

impl StandaloneHerder {
    /// A herder for `ctx`. Call [`StandaloneHerder::start`] to restore stored connectors.
    pub fn new(ctx: WorkerContext, worker_id: String) -> Result<Arc<Self>, ConnectError> {
        let providers = ConfigProviders::from_worker(ctx.config.originals())?;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let connectors_file = ctx.config.connectors_file();
        let sink_offsets = SinkOffsets::new(ctx.config.clone());
        let herder = Arc::new(StandaloneHerder {
            ctx,
            worker_id,
            state: tokio::sync::Mutex::new(HerderState::default()),
            ready: AtomicBool::new(false),
            cluster_id: Mutex::new(None),
            connectors_file,
            requests: tx,
            sink_offsets,
            providers,
        });
        let weak: Weak<Self> = Arc::downgrade(&herder);
        tokio::spawn(async move {
            while let Some(req) = rx.recv().await {
                let Some(h) = weak.upgrade() else { break };
                match req {
                    ConnectorRequest::Reconfigure(name) => h.reconfigure_tasks(&name).await,
                    ConnectorRequest::Fail(name, e) => {
                        tracing::error!(connector = %name, "connector failed: {}", e.trace());
                        h.ctx
                            .status
                            .put_connector(&name, State::Failed, Some(e.trace()));
                    }
                }
            }
        });
        let weak: Weak<Self> = Arc::downgrade(&herder);
        tokio::spawn(async move {
            let mut restarts = AutoRestarts::default();
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
            loop {
                tick.tick().await;
                let Some(h) = weak.upgrade() else { break };
                h.auto_restart_tick(&mut restarts).await;
            }
        });
        Ok(herder)
    }

    /// Restarts FAILED connectors and tasks whose connector (or the worker) enables
    /// `ferry.auto.restart.enable`, with exponential backoff (see [`crate::auto_restart`]).
    /// Every connector is watched with all the tasks the status store knows of.
    async fn auto_restart_tick(&self, restarts: &mut AutoRestarts) {
        let watched: Vec<Watched> = {
            let state = self.state.lock().await;
            state
                .connectors
                .iter()
                .map(|(n, e)| Watched {
                    connector: n.clone(),
                    policy: Some(RestartPolicy::resolve(
                        self.ctx.config.originals(),
                        &e.config,
                    )),
                    instance: true,
                })
                .collect()
        };
        let mut scope = StandaloneRestarts {
            herder: self,
            watched: &watched,
        };
        restarts
            .tick(&watched, &self.ctx.status, &self.ctx.metrics, &mut scope)
            .await;
    }

    /// Restores connectors stored by an earlier run, then applies `cli_connectors` (which replace
    /// stored ones of the same name, and are not stored themselves until changed over REST),
    /// and marks the herder ready.
    pub async fn start(&self, cli_connectors: Vec<Props>) -> Result<(), ConnectError> {
        if let Some(path) = &self.connectors_file {
            if path.exists() {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConnectError::external(format!("cannot read {}: {e}", path.display()))
                })?;
                let stored: StoredConnectors = serde_json::from_str(&text).map_err(|e| {
                    ConnectError::config(format!("cannot parse {}: {e}", path.display()))
                })?;
                for (name, c) in stored.connectors {
                    if let Err(e) = self
                        .put_connector_config(&name, c.config, true, Some(c.target_state))
                        .await
                    {
                        tracing::error!(connector = %name, "could not restore stored connector: {e}");
                    }
                }
            }
        }
        for config in cli_connectors {
            let name = config.get("name").cloned().unwrap_or_default();
            self.state
                .lock()
                .await
                .from_files
                .insert(name.clone(), config.clone());
            self.put_connector_config(&name, config, true, None)
                .await
                .map_err(|e| ConnectError::config(format!("connector {name}: {e}")))?;
        }
        self.ready.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Sets the Kafka cluster id shown on `GET /`.
    pub fn set_kafka_cluster_id(&self, id: String) {
        *self.cluster_id.lock().unwrap() = Some(id);
    }

    /// Stops every connector and task (SIGTERM path): tasks flush and commit first.
    pub async fn shutdown(&self) {
        let mut state = self.state.lock().await;
        let names: Vec<String> = state.connectors.keys().cloned().collect();
        let deadline = self.ctx.config.task_shutdown_timeout();
        let mut all_tasks = Vec::new();
        for name in &names {
            if let Some(entry) = state.connectors.get_mut(name) {
                all_tasks.extend(std::mem::take(&mut entry.tasks).into_values());
            }
        }
        let stops = all_tasks.into_iter().map(|t| t.stop(deadline));
        let results = futures_join_all(stops).await;
        if results.iter().any(|ok| !ok) {
            tracing::warn!("some tasks did not stop within task.shutdown.graceful.timeout.ms");
        }
        for name in &names {
            if let Some(entry) = state.connectors.get_mut(name) {
                if let Some(mut inst) = entry.instance.take() {
                    let _ = inst.stop().await;
                }
            }
        }
    }

    fn persist(&self, state: &HerderState) {
        let Some(path) = &self.connectors_file else {
            return;
        };
        let stored = StoredConnectors {
            connectors: state
                .connectors
                .iter()
                .filter(|(n, e)| {
                    let as_in_its_file = state.from_files.get(*n) == Some(&e.config)
                        && e.target == TargetState::Started;
                    !as_in_its_file
                })
                .map(|(n, e)| {
                    (
                        n.clone(),
                        StoredConnector {
                            config: e.config.clone(),
                            target_state: e.target,
                        },
                    )
                })
                .collect(),
        };
        let text = serde_json::to_string_pretty(&stored).expect("connectors serialise");
        let tmp = path.with_extension("json.tmp");
        let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = result {
            tracing::error!("could not store connectors in {}: {e}", path.display());
        }
    }

    fn info(name: &str, entry: &ConnectorEntry) -> ConnectorInfo {
        ConnectorInfo {
            name: name.to_owned(),
            config: entry.config.clone(),
            tasks: entry
                .tasks
                .keys()
                .map(|t| TaskId {
                    connector: name.to_owned(),
                    task: *t,
                })
                .collect(),
            connector_type: entry.plugin.connector_type().into(),
        }
    }

    /// Starts the connector instance and (unless STOPPED) its tasks.
    async fn start_connector(&self, name: &str, entry: &mut ConnectorEntry) {
        let mut instance = (entry.plugin.new_connector)();
        let ctx: Arc<dyn ConnectorContext> = Arc::new(HerderConnectorContext {
            name: name.to_owned(),
            tx: self.requests.clone(),
        });
        if entry.target == TargetState::Stopped {
            self.ctx.status.put_connector(name, State::Stopped, None);
            return;
        }
        let resolved = match self.providers.resolve(&entry.config) {
            Ok(r) => r,
            Err(e) => {
                self.ctx
                    .status
                    .put_connector(name, State::Failed, Some(e.trace()));
                return;
            }
        };
        if let Err(e) = instance.start(&resolved, ctx).await {
            tracing::error!(connector = %name, "connector failed to start: {}", e.trace());
            self.ctx
                .status
                .put_connector(name, State::Failed, Some(e.trace()));
            return;
        }
        self.ctx.status.put_connector(
            name,
            super::lifecycle::connector_state_for(entry.target),
            None,
        );
        entry.instance = Some(instance);
        self.start_tasks(name, entry).await;
    }

    /// Starts task `task` of connector `name` with `config`, in the connector's target state.
    fn launch_task(&self, name: &str, entry: &mut ConnectorEntry, task: u32, config: Props) {
        let spec = TaskSpec {
            id: TaskId {
                connector: name.to_owned(),
                task,
            },
            // A placeholder that cannot be resolved fails the connector at start; tasks then keep
            // the raw value and report their own error.
            connector_props: self
                .providers
                .resolve(&entry.config)
                .unwrap_or_else(|_| entry.config.clone()),
            task_props: config,
        };
        entry.tasks.insert(
            task,
            start_task(&self.ctx, spec, entry.plugin.new_task, entry.target),
        );
    }

    /// Generates task configs from the running connector and starts the tasks.
    async fn start_tasks(&self, name: &str, entry: &mut ConnectorEntry) {
        let configs = match self.generate_task_configs(entry).await {
            Ok(c) => c,
            Err(e) => {
                self.ctx
                    .status
                    .put_connector(name, State::Failed, Some(e.trace()));
                return;
            }
        };
        for (i, config) in configs.into_iter().enumerate() {
            self.launch_task(name, entry, i as u32, config);
        }
    }

    async fn generate_task_configs(
        &self,
        entry: &mut ConnectorEntry,
    ) -> Result<Vec<Props>, ConnectError> {
        let Some(instance) = entry.instance.as_mut() else {
            return Ok(Vec::new());
        };
        super::lifecycle::generate_task_configs(instance.as_mut(), &entry.plugin, &entry.config)
            .await
    }

    async fn stop_tasks(&self, name: &str, entry: &mut ConnectorEntry) {
        let timeout = self.ctx.config.task_shutdown_timeout();
        let tasks = std::mem::take(&mut entry.tasks);
        let stops = tasks.into_values().map(|t| t.stop(timeout));
        if futures_join_all(stops).await.iter().any(|ok| !ok) {
            tracing::warn!(connector = %name, "some tasks did not stop within task.shutdown.graceful.timeout.ms");
        }
        self.ctx.status.remove_tasks_of(name);
    }

    async fn stop_connector(&self, name: &str, entry: &mut ConnectorEntry) {
        self.stop_tasks(name, entry).await;
        if let Some(mut inst) = entry.instance.take() {
            if let Err(e) = inst.stop().await {
                tracing::warn!(connector = %name, "error stopping connector: {e}");
            }
        }
    }

    /// Regenerates task configs on the connector's request; restarts tasks if they changed.
    async fn reconfigure_tasks(&self, name: &str) {
        let mut state = self.state.lock().await;
        let Some(entry) = state.connectors.get_mut(name) else {
            return;
        };
        if entry.target == TargetState::Stopped || entry.instance.is_none() {
            return;
        }
        let new = match self.generate_task_configs(entry).await {
            Ok(c) => c,
            Err(e) => {
                self.ctx
                    .status
                    .put_connector(name, State::Failed, Some(e.trace()));
                return;
            }
        };
        let current: Vec<Props> = entry.tasks.values().map(|t| t.config.clone()).collect();
        if new != current {
            tracing::info!(connector = %name, "task configs changed; restarting {} task(s)", new.len());
            self.stop_tasks(name, entry).await;
            for (i, config) in new.into_iter().enumerate() {
                self.launch_task(name, entry, i as u32, config);
            }
        }
    }

    fn validate(&self, config: &Props) -> HerderResult<ConnectorPlugin> {
        let infos = validate_config(&self.ctx.plugins, config)?;
        if infos.error_count > 0 {
            return Err(HerderError::BadRequest(invalid_config_message(&infos)));
        }
        Ok(resolve_plugin(&self.ctx.plugins, config)?.clone())
    }

    fn status_of(&self, name: &str, entry: &ConnectorEntry) -> ConnectorStateInfo {
        let connector = self.ctx.status.connector(name).map_or_else(
            || ConnectorStateEntry {
                state: State::Unassigned,
                worker_id: self.worker_id.clone(),
                trace: None,
            },
            |s| ConnectorStateEntry {
                state: s.state,
                worker_id: s.worker_id,
                trace: s.trace,
            },
        );
        let tasks = self
            .ctx
            .status
            .tasks_of(name)
            .into_iter()
            .map(|(id, s)| TaskStateInfo {
                id,
                state: s.state,
                worker_id: s.worker_id,
                trace: s.trace,
            })
            .collect();
        ConnectorStateInfo {
            name: name.to_owned(),
            connector,
            tasks,
            connector_type: entry.plugin.connector_type().into(),
        }
    }

    /// The offsets REST API over this worker's offset store and sink consumer groups.
    fn offsets_api(&self) -> OffsetsApi<'_> {
        OffsetsApi {
            store: self.ctx.offsets.clone(),
            sinks: &self.sink_offsets,
        }
    }
}

/// Standalone mode's side of an auto-restart pass: every task in the status store is watched,
/// and restarts go through the herder's own restart operations.
struct StandaloneRestarts<'a> {
    herder: &'a StandaloneHerder,
    watched: &'a [Watched],
}

#[async_trait]
impl RestartScope for StandaloneRestarts<'_> {
    fn tasks_of(&self, connector: &str) -> Vec<TaskId> {
        self.herder
            .ctx
            .status
            .tasks_of(connector)
            .into_iter()
            .map(|(task, _)| TaskId {
                connector: connector.to_owned(),
                task,
            })
            .collect()
    }

    fn keeps_task(&self, id: &TaskId) -> bool {
        self.watched.iter().any(|w| w.connector == id.connector)
    }

    async fn restart_connector(&mut self, name: &str) {
        let _ = self.herder.restart_connector(name, false, false).await;
    }

    async fn restart_task(&mut self, id: &TaskId) {
        let _ = self.herder.restart_task(&id.connector, id.task).await;
    }
}

/// Awaits every future (tasks stop concurrently, sharing one graceful timeout).
async fn futures_join_all<F: std::future::Future<Output = bool> + Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<bool> {
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap_or(false));
    }
    out
}

#[async_trait]
impl Herder for StandaloneHerder {
    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
    /// Alive when its state can be taken: every request needs it, so a herder stuck holding
    /// it (a connector start that never returns) cannot serve anything (Connect's standalone
    /// herder is likewise one lock).
    async fn health_check(&self) -> Result<(), String> {
        drop(self.state.lock().await);
        Ok(())
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
        self.state.lock().await.connectors.keys().cloned().collect()
    }

    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        let state = self.state.lock().await;
        let entry = state.entry(name)?;
        Ok(Self::info(name, entry))
    }

    async fn connector_config(&self, name: &str) -> HerderResult<Props> {
        let state = self.state.lock().await;
        let entry = state.entry(name)?;
        Ok(entry.config.clone())
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: Props,
        allow_replace: bool,
        initial_state: Option<TargetState>,
    ) -> HerderResult<Created<ConnectorInfo>> {
        let plugin = self.validate(&config)?;
        let mut state = self.state.lock().await;
        if !allow_replace && state.connectors.contains_key(name) {
            return Err(HerderError::AlreadyExists(format!(
                "Connector {name} already exists"
            )));
        }
        let existing = state.connectors.remove(name);
        let created = existing.is_none();
        let target = match existing {
            Some(mut old) => {
                self.stop_connector(name, &mut old).await;
                old.target
            }
            None => initial_state.unwrap_or(TargetState::Started),
        };
        let mut entry = ConnectorEntry {
            config,
            target,
            plugin,
            instance: None,
            tasks: BTreeMap::new(),
        };
        self.start_connector(name, &mut entry).await;
        let info = Self::info(name, &entry);
        state.connectors.insert(name.to_owned(), entry);
        self.persist(&state);
        Ok(Created {
            created,
            result: info,
        })
    }

    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> HerderResult<ConnectorInfo> {
        let config = apply_config_patch(self.connector_config(name).await?, patch);
        Ok(self
            .put_connector_config(name, config, true, None)
            .await?
            .result)
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        let mut state = self.state.lock().await;
        let mut entry = state
            .connectors
            .remove(name)
            .ok_or_else(|| HerderError::connector_not_found(name))?;
        self.stop_connector(name, &mut entry).await;
        self.ctx.status.remove_connector(name);
        self.ctx.metrics.remove_connector(name);
        self.persist(&state);
        Ok(())
    }

    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        let state = self.state.lock().await;
        let entry = state.connectors.get(name).ok_or_else(|| {
            HerderError::NotFound(format!("No status found for connector {name}"))
        })?;
        Ok(self.status_of(name, entry))
    }

    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        let state = self.state.lock().await;
        let entry = state.entry(name)?;
        Ok(entry
            .tasks
            .iter()
            .map(|(t, task)| TaskInfo {
                id: TaskId {
                    connector: name.to_owned(),
                    task: *t,
                },
                config: task.config.clone(),
            })
            .collect())
    }

    async fn task_status(&self, name: &str, task: u32) -> HerderResult<TaskStateInfo> {
        let id = TaskId {
            connector: name.to_owned(),
            task,
        };
        let s = self
            .ctx
            .status
            .task(&id)
            .ok_or_else(|| HerderError::NotFound(format!("No status found for task {id}")))?;
        Ok(TaskStateInfo {
            id: task,
            state: s.state,
            worker_id: s.worker_id,
            trace: s.trace,
        })
    }

    async fn restart_connector(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> HerderResult<Option<ConnectorStateInfo>> {
        let mut state = self.state.lock().await;
        let entry = state.entry_mut(name)?;
        let legacy = !include_tasks && !only_failed;
        let before = self.status_of(name, entry);
        let restart_connector = !only_failed || before.connector.state == State::Failed;
        let restart_tasks: Vec<u32> = if include_tasks {
            before
                .tasks
                .iter()
                .filter(|t| !only_failed || t.state == State::Failed)
                .map(|t| t.id)
                .collect()
        } else {
            Vec::new()
        };
        let mut answer = before.clone();
        if restart_connector {
            answer.connector.state = State::Restarting;
            answer.connector.trace = None;
        }
        for t in &mut answer.tasks {
            if restart_tasks.contains(&t.id) {
                t.state = State::Restarting;
                t.trace = None;
            }
        }
        if restart_connector {
            if let Some(mut inst) = entry.instance.take() {
                let _ = inst.stop().await;
            }
            let mut instance = (entry.plugin.new_connector)();
            let ctx: Arc<dyn ConnectorContext> = Arc::new(HerderConnectorContext {
                name: name.to_owned(),
                tx: self.requests.clone(),
            });
            if entry.target == TargetState::Stopped {
                self.ctx.status.put_connector(name, State::Stopped, None);
            } else {
                let resolved = self.providers.resolve(&entry.config);
                let started = match resolved {
                    Ok(resolved) => instance.start(&resolved, ctx).await,
                    Err(e) => Err(e),
                };
                match started {
                    Ok(()) => {
                        self.ctx.status.put_connector(
                            name,
                            super::lifecycle::connector_state_for(entry.target),
                            None,
                        );
                        let had_no_tasks = entry.tasks.is_empty();
                        entry.instance = Some(instance);
                        if had_no_tasks {
                            // A connector that failed before generating tasks gets them now.
                            self.start_tasks(name, entry).await;
                        }
                    }
                    Err(e) => self
                        .ctx
                        .status
                        .put_connector(name, State::Failed, Some(e.trace())),
                }
            }
        }
        let timeout = self.ctx.config.task_shutdown_timeout();
        for t in restart_tasks {
            if let Some(task) = entry.tasks.remove(&t) {
                let config = task.config.clone();
                task.stop(timeout).await;
                self.launch_task(name, entry, t, config);
            }
        }
        Ok(if legacy { None } else { Some(answer) })
    }

    async fn restart_task(&self, name: &str, task: u32) -> HerderResult<()> {
        let mut state = self.state.lock().await;
        let entry = state.entry_mut(name)?;
        let id = TaskId {
            connector: name.to_owned(),
            task,
        };
        let running = entry
            .tasks
            .remove(&task)
            .ok_or_else(|| HerderError::NotFound(format!("Task {id} not found")))?;
        let config = running.config.clone();
        running.stop(self.ctx.config.task_shutdown_timeout()).await;
        self.launch_task(name, entry, task, config);
        Ok(())
    }

    async fn set_target_state(&self, name: &str, target: TargetState) -> HerderResult<()> {
        let mut state = self.state.lock().await;
        let entry = state.entry_mut(name)?;
        let previous = entry.target;
        entry.target = target;
        match (previous, target) {
            (a, b) if a == b => {}
            (_, TargetState::Stopped) => {
                self.stop_connector(name, entry).await;
                self.ctx.status.put_connector(name, State::Stopped, None);
            }
            (TargetState::Stopped, _) => self.start_connector(name, entry).await,
            (_, t) => {
                for task in entry.tasks.values() {
                    task.set_target(t);
                }
                let failed = self
                    .ctx
                    .status
                    .connector(name)
                    .is_some_and(|s| s.state == State::Failed);
                if !failed {
                    self.ctx.status.put_connector(
                        name,
                        super::lifecycle::connector_state_for(t),
                        None,
                    );
                }
            }
        }
        self.persist(&state);
        Ok(())
    }

    async fn active_topics(&self, name: &str) -> HerderResult<Vec<String>> {
        if !self.ctx.config.topic_tracking_enabled() {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        let state = self.state.lock().await;
        state.entry(name)?;
        Ok(self.ctx.status.active_topics(name))
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
        let state = self.state.lock().await;
        state.entry(name)?;
        self.ctx.status.reset_active_topics(name);
        Ok(())
    }

    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets> {
        let state = self.state.lock().await;
        let entry = state.entry(name)?;
        self.offsets_api()
            .get(name, entry.plugin.connector_type(), &entry.config)
            .await
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> HerderResult<String> {
        let state = self.state.lock().await;
        let entry = state.entry(name)?;
        require_stopped(Some(entry.target))?;
        self.offsets_api()
            .alter(name, entry.plugin.connector_type(), &offsets)
            .await
    }

    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<String> {
        let state = self.state.lock().await;
        let entry = state.entry(name)?;
        require_stopped(Some(entry.target))?;
        self.offsets_api()
            .reset(name, entry.plugin.connector_type())
            .await
    }

    async fn validate_connector_config(&self, config: &Props) -> HerderResult<ConfigInfos> {
        validate_config(&self.ctx.plugins, config)
    }

    async fn metrics(&self) -> String {
        let connectors: Vec<(String, &'static str)> = {
            let state = self.state.lock().await;
            state
                .connectors
                .iter()
                .map(|(n, e)| (n.clone(), e.plugin.connector_type().as_str()))
                .collect()
        };
        self.ctx.metrics.render(&self.ctx.status, &connectors)
    }
}
