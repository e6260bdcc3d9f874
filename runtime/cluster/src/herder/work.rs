//! The work this worker runs: the Connector instances and tasks assigned to it, started and
//! stopped as assignments and config records arrive, and their states mirrored onto the status
//! topic (task runners report into the worker-local [`ferry_worker::status::StatusStore`]; the
//! publisher copies every change of owned work to the topic, stamped with the generation).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ferry_api::{ConnectError, Connector, ConnectorContext, Props};
use ferry_worker::connector_validation::resolve_plugin;
use ferry_worker::herder::{HerderError, State, TargetState, TaskId};
use ferry_worker::task_context::TaskSpec;
use ferry_worker::task_runner::{start_task, RunningTask};

use super::{forward, ConnectorRequest, DistributedHerder, HerderConnectorContext};
use crate::store::config::ClusterConfigState;
use crate::store::log::TopicSpec;
use crate::store::status::{Status, StatusKey};

/// Wait before a connector's task configs are generated and sent again after the leader did
/// not take them (Connect backs off from 250 ms).
const RECONFIGURE_RETRY: Duration = Duration::from_millis(500);

/// The leader of the current generation, as this worker knows it.
pub(super) enum Leader {
    /// This worker.
    Me,
    /// Another worker, at this REST URL.
    Elsewhere(String),
    /// No generation joined yet (or no URL known).
    Unknown,
}

/// An owned Connector instance (None while STOPPED or failed to start).
pub(super) struct OwnedConnector {
    pub(super) instance: Option<Box<dyn Connector>>,
    /// The raw config it was started with (a changed config restarts it).
    pub(super) config: Props,
}

/// Everything running here, plus what was last published to the status topic.
#[derive(Default)]
pub(super) struct LocalWork {
    pub(super) connectors: BTreeMap<String, OwnedConnector>,
    pub(super) tasks: BTreeMap<TaskId, RunningTask>,
    published: BTreeMap<String, (State, Option<String>)>,
    published_topics: BTreeMap<String, Vec<String>>,
    /// Automatic restarts of failed work (`ferry.auto.restart.*`).
    pub(super) restarts: super::auto_restart::AutoRestarts,
}

impl LocalWork {
    /// What this worker runs, as sent in its JoinGroup metadata.
    pub(super) fn running(&self) -> crate::group::protocol::ConnectorsAndTasks {
        crate::group::protocol::ConnectorsAndTasks {
            connectors: self.connectors.keys().cloned().collect(),
            tasks: self.tasks.keys().cloned().collect(),
        }
    }
}

use ferry_worker::herder::lifecycle::{connector_state_for, generate_task_configs};

impl DistributedHerder {
    /// Starts the Connector instance `name` here (its owner) and, unless STOPPED, generates its
    /// task configs and writes them if they differ from the committed ones. Only the owner
    /// writes a connector's task configs, so there is one writer per connector.
    pub(super) async fn start_connector(
        &self,
        work: &mut LocalWork,
        name: &str,
        config: &ClusterConfigState,
    ) {
        let Some(raw) = config.connector_config(name).cloned() else {
            return;
        };
        let target = config.target_state(name).unwrap_or(TargetState::Started);
        let mut owned = OwnedConnector {
            instance: None,
            config: raw.clone(),
        };
        if target == TargetState::Stopped {
            // No tasks: the leader committed the empty task set before writing STOPPED.
            self.ctx.status.put_connector(name, State::Stopped, None);
            work.connectors.insert(name.to_owned(), owned);
            return;
        }
        let started = async {
            let plugin = resolve_plugin(&self.ctx.plugins, &raw)
                .map_err(|e| ConnectError::config(e.to_string()))?
                .clone();
            let resolved = self.providers.resolve(&raw)?;
            let mut instance = (plugin.new_connector)();
            let ctx: Arc<dyn ConnectorContext> = Arc::new(HerderConnectorContext {
                name: name.to_owned(),
                tx: self.requests.clone(),
            });
            instance.start(&resolved, ctx).await?;
            Ok::<_, ConnectError>((plugin, instance))
        }
        .await;
        match started {
            Ok((_, instance)) => {
                self.ctx
                    .status
                    .put_connector(name, connector_state_for(target), None);
                owned.instance = Some(instance);
                work.connectors.insert(name.to_owned(), owned);
                self.write_task_configs(work, name, config).await;
            }
            Err(e) => {
                tracing::error!(connector = %name, "connector failed to start: {}", e.trace());
                self.ctx
                    .status
                    .put_connector(name, State::Failed, Some(e.trace()));
                work.connectors.insert(name.to_owned(), owned);
            }
        }
    }

    /// Asks the owned connector for task configs and, when they differ from the committed ones,
    /// has the leader write them: directly when this worker leads, else through the leader's
    /// internal `POST /connectors/{c}/tasks` (COMPAT §1.8), so the config topic has one writer.
    pub(super) async fn write_task_configs(
        &self,
        work: &mut LocalWork,
        name: &str,
        config: &ClusterConfigState,
    ) {
        let Some(owned) = work.connectors.get_mut(name) else {
            return;
        };
        let Some(instance) = owned.instance.as_mut() else {
            return;
        };
        let generated = async {
            let plugin = resolve_plugin(&self.ctx.plugins, &owned.config)
                .map_err(|e| ConnectError::config(e.to_string()))?;
            generate_task_configs(instance.as_mut(), plugin, &owned.config).await
        }
        .await;
        let configs = match generated {
            Ok(c) => c,
            Err(e) => {
                self.ctx
                    .status
                    .put_connector(name, State::Failed, Some(e.trace()));
                return;
            }
        };
        let committed = config.task_configs(name);
        if committed == configs && config.task_count(name) as usize == configs.len() {
            return;
        }
        match self.leader_now() {
            Leader::Me => {}
            Leader::Elsewhere(url) => {
                self.send_task_configs(url, name, configs);
                return;
            }
            Leader::Unknown => {
                self.retry_reconfigure(name);
                return;
            }
        }
        tracing::info!(connector = %name, "writing {} task config(s)", configs.len());
        let connector = name.to_owned();
        if let Err(e) = self
            .with_config_store(move |s| s.put_task_configs(&connector, &configs))
            .await
        {
            tracing::error!(connector = %name, "could not write task configs: {e}");
            self.ctx
                .status
                .put_connector(name, State::Failed, Some(e.trace()));
        }
    }

    /// Sends task configs to the leader at `url` in the background (the loop must not wait on
    /// another worker); on failure the connector is reconfigured again after
    /// [`RECONFIGURE_RETRY`], against whatever leader is current then.
    fn send_task_configs(&self, url: String, name: &str, configs: Vec<Props>) {
        tracing::info!(connector = %name, "sending {} task config(s) to the leader {url}", configs.len());
        let requests = self.requests.clone();
        let name = name.to_owned();
        let body = serde_json::json!(configs).to_string().into_bytes();
        let headers = self.signature_headers(&body);
        tokio::spawn(async move {
            let path = format!("/connectors/{}/tasks", forward::path_segment(&name));
            match forward::raw_request(&url, "POST", &path, Some(body), headers).await {
                Ok(_) => {}
                Err(HerderError::NotFound(e)) => {
                    tracing::info!(connector = %name, "the leader no longer knows the connector: {e}");
                }
                Err(e) => {
                    tracing::warn!(connector = %name, "the leader did not take the task configs, retrying: {e}");
                    reconfigure_later(requests, name).await;
                }
            }
        });
    }

    /// Asks the loop to generate `name`'s task configs again after [`RECONFIGURE_RETRY`].
    fn retry_reconfigure(&self, name: &str) {
        tokio::spawn(reconfigure_later(self.requests.clone(), name.to_owned()));
    }

    /// Who leads the generation this worker last joined, without waiting for a round to end.
    pub(super) fn leader_now(&self) -> Leader {
        let (leader, url) = self.leader.lock().unwrap().clone();
        if leader.is_empty() {
            Leader::Unknown
        } else if leader == *self.member_id.lock().unwrap() {
            Leader::Me
        } else if url.is_empty() {
            Leader::Unknown
        } else {
            Leader::Elsewhere(url)
        }
    }

    /// Stops an owned Connector instance.
    pub(super) async fn stop_connector(&self, work: &mut LocalWork, name: &str) {
        if let Some(mut owned) = work.connectors.remove(name) {
            if let Some(mut inst) = owned.instance.take() {
                if let Err(e) = inst.stop().await {
                    tracing::warn!(connector = %name, "error stopping connector: {e}");
                }
            }
        }
    }

    /// Starts task `id` here with its committed config, in its connector's target state.
    pub(super) async fn start_task(
        &self,
        work: &mut LocalWork,
        id: &TaskId,
        config: &ClusterConfigState,
    ) {
        let (Some(raw), Some(task_props)) = (
            config.connector_config(&id.connector),
            config.task_config(id),
        ) else {
            tracing::warn!(task = %id, "assigned a task without a committed config; not started");
            return;
        };
        let target = config
            .target_state(&id.connector)
            .unwrap_or(TargetState::Started);
        if target == TargetState::Stopped {
            return;
        }
        let plugin = match resolve_plugin(&self.ctx.plugins, raw) {
            Ok(p) => p.clone(),
            Err(e) => {
                self.ctx
                    .status
                    .put_task(id, State::Failed, Some(e.to_string()));
                return;
            }
        };
        if let Err(e) = self.use_offsets_topic_of(&id.connector, raw).await {
            tracing::error!(task = %id, "task failed to start: {}", e.trace());
            self.ctx.status.put_task(id, State::Failed, Some(e.trace()));
            return;
        }
        let spec = TaskSpec {
            id: id.clone(),
            connector_props: self.providers.resolve(raw).unwrap_or_else(|_| raw.clone()),
            task_props: task_props.clone(),
        };
        work.tasks.insert(
            id.clone(),
            start_task(&self.ctx, spec, plugin.new_task, target),
        );
        self.count_task_start(id);
    }

    /// KIP-618: a source connector whose config names `offsets.storage.topic` keeps its offsets
    /// in that topic (created like the worker's offsets topic when missing), read before the
    /// worker's topic and written before it; without the key it uses the worker's topic only.
    pub(super) async fn use_offsets_topic_of(
        &self,
        connector: &str,
        config: &Props,
    ) -> Result<(), ConnectError> {
        let is_source = resolve_plugin(&self.ctx.plugins, config)
            .is_ok_and(|p| p.connector_type() == ferry_api::ConnectorType::Source);
        if !is_source {
            return Ok(());
        }
        let spec = config
            .get("offsets.storage.topic")
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .map(|t| TopicSpec {
                name: t.to_owned(),
                partitions: self.dconfig.partitions("offset.storage.partitions"),
                replication_factor: self
                    .dconfig
                    .replication_factor("offset.storage.replication.factor"),
                configs: Props::new(),
            });
        let offsets = self.offsets.clone();
        let name = connector.to_owned();
        tokio::task::spawn_blocking(move || offsets.ensure_connector_topic(&name, spec.as_ref()))
            .await
            .map_err(|e| ConnectError::internal(e.to_string()))?
    }

    /// Stops the given tasks concurrently (one shared graceful timeout).
    pub(super) async fn stop_tasks(&self, work: &mut LocalWork, ids: &[TaskId]) {
        let timeout = self.ctx.config.task_shutdown_timeout();
        let stops: Vec<_> = ids
            .iter()
            .filter_map(|id| work.tasks.remove(id))
            .map(|t| tokio::spawn(t.stop(timeout)))
            .collect();
        for s in stops {
            if !s.await.unwrap_or(false) {
                tracing::warn!("a task did not stop within task.shutdown.graceful.timeout.ms");
            }
        }
    }

    /// Forgets stopped work locally and tells the status topic it is UNASSIGNED (a safe write:
    /// skipped if a newer generation of another worker already owns the entry).
    pub(super) async fn unassign_statuses(&self, work: &mut LocalWork, keys: Vec<StatusKey>) {
        let generation = self.generation();
        for key in &keys {
            work.published.remove(&key.encode());
            if let StatusKey::Task(id) = key {
                self.ctx.status.remove_task(id);
            }
        }
        let status = self.status.clone();
        let worker_id = self.worker_id.clone();
        let result = tokio::task::spawn_blocking(move || {
            for key in keys {
                let s = Status {
                    state: State::Unassigned,
                    trace: None,
                    worker_id: worker_id.clone(),
                    generation,
                };
                status.put_safe(&key, &s)?;
            }
            Ok::<_, ConnectError>(())
        })
        .await;
        if let Ok(Err(e)) = result {
            tracing::warn!("could not write UNASSIGNED statuses: {e}");
        }
    }

    /// Copies changed states of owned work (and newly used topics) to the status topic.
    pub(super) async fn publish_statuses(&self, work: &mut LocalWork) {
        let generation = self.generation();
        let mut writes: Vec<(StatusKey, Status)> = Vec::new();
        let mut candidates: Vec<(StatusKey, Option<ferry_worker::status::Status>)> = work
            .connectors
            .keys()
            .map(|c| {
                (
                    StatusKey::Connector(c.clone()),
                    self.ctx.status.connector(c),
                )
            })
            .collect();
        candidates.extend(
            work.tasks
                .keys()
                .map(|id| (StatusKey::Task(id.clone()), self.ctx.status.task(id))),
        );
        for (key, local) in candidates {
            let Some(local) = local else { continue };
            let k = key.encode();
            let now = (local.state, local.trace.clone());
            if work.published.get(&k) != Some(&now) {
                writes.push((
                    key,
                    Status {
                        state: local.state,
                        trace: local.trace,
                        worker_id: self.worker_id.clone(),
                        generation,
                    },
                ));
                work.published.insert(k, now);
            }
        }
        let mut topics = Vec::new();
        for c in work.connectors.keys().cloned().collect::<Vec<_>>() {
            let used = self.ctx.status.active_topics(&c);
            let known = work.published_topics.entry(c.clone()).or_default();
            for t in used {
                if !known.contains(&t) {
                    known.push(t.clone());
                    topics.push(crate::store::status::TopicStatus {
                        topic: t,
                        connector: c.clone(),
                        task: 0,
                        discover_timestamp: now_ms(),
                    });
                }
            }
        }
        if writes.is_empty() && topics.is_empty() {
            return;
        }
        let status = self.status.clone();
        let result = tokio::task::spawn_blocking(move || status.put_all(&writes, &topics)).await;
        if let Ok(Err(e)) = result {
            tracing::warn!("could not publish statuses: {e}");
            // Republish everything next time.
            work.published.clear();
        }
    }

    /// Handles what a connector asked for from its own threads.
    pub(super) async fn handle_request(
        &self,
        work: &mut LocalWork,
        request: ConnectorRequest,
        config: &ClusterConfigState,
    ) {
        match request {
            ConnectorRequest::Reconfigure(name) => {
                if config.connector_config(&name).is_some() {
                    self.write_task_configs(work, &name, config).await;
                }
            }
            ConnectorRequest::Fail(name, e) => {
                tracing::error!(connector = %name, "connector failed: {}", e.trace());
                self.ctx
                    .status
                    .put_connector(&name, State::Failed, Some(e.trace()));
            }
        }
    }
}

/// Asks the loop, after [`RECONFIGURE_RETRY`], to generate `name`'s task configs again.
async fn reconfigure_later(
    requests: tokio::sync::mpsc::UnboundedSender<ConnectorRequest>,
    name: String,
) {
    tokio::time::sleep(RECONFIGURE_RETRY).await;
    let _ = requests.send(ConnectorRequest::Reconfigure(name));
}

/// Milliseconds since the epoch.
pub(super) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
