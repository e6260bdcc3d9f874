//! Automatic restart of the FAILED Connector instances and tasks this worker runs (Ferry's
//! `ferry.auto.restart.*` extension; policy, backoff and attempt counting are
//! [`ferry_worker::auto_restart`]'s, shared with standalone mode).
//!
//! Each worker restarts only its own work, in place: nothing goes through the config topic
//! (that is what the REST restart endpoints are for), so an automatic restart never moves work
//! or triggers a rebalance. The pending restart shows in the FAILED status `trace`.

use std::time::Instant;

use ferry_worker::auto_restart::{Decision, RestartPolicy, RestartTracker};
use ferry_worker::herder::{State, TaskId};

use super::work::LocalWork;
use super::DistributedHerder;
use crate::store::config::ClusterConfigState;

/// Restart bookkeeping of this worker's connectors and tasks.
#[derive(Debug, Default)]
pub(super) struct AutoRestarts {
    connectors: RestartTracker<String>,
    tasks: RestartTracker<TaskId>,
}

/// `trace` with the scheduled restart appended (the same words as standalone mode).
fn scheduled_trace(trace: Option<String>, what: &str, attempt: u32, delay_ms: u128) -> String {
    format!(
        "{}\nFerry: automatic restart #{attempt} of the {what} in {delay_ms} ms",
        trace.unwrap_or_default()
    )
}

impl DistributedHerder {
    /// One pass over the work running here: schedules restarts of newly FAILED instances whose
    /// connector (or the worker) enables `ferry.auto.restart.enable`, and restarts those due.
    pub(super) async fn auto_restart_tick(
        &self,
        work: &mut LocalWork,
        config: &ClusterConfigState,
    ) {
        let mut restarts = std::mem::take(&mut work.restarts);
        let now = Instant::now();
        let worker = self.ctx.config.originals();
        let policy = |connector: &str| {
            config
                .connector_config(connector)
                .map(|c| RestartPolicy::resolve(worker, c))
                .filter(|p| p.enabled)
        };
        restarts
            .connectors
            .retain(|n| work.connectors.contains_key(n));
        restarts.tasks.retain(|id| work.tasks.contains_key(id));

        let connectors: Vec<String> = work.connectors.keys().cloned().collect();
        for name in connectors {
            let (Some(policy), Some(s)) = (policy(&name), self.ctx.status.connector(&name)) else {
                continue;
            };
            match restarts.connectors.observe(&name, s.state, &policy, now) {
                Decision::Scheduled(delay, attempt) => {
                    let trace = scheduled_trace(s.trace, "connector", attempt, delay.as_millis());
                    self.ctx
                        .status
                        .put_connector(&name, State::Failed, Some(trace));
                }
                Decision::RestartNow => {
                    tracing::info!(connector = %name, "automatic restart of the failed connector");
                    self.stop_connector(work, &name).await;
                    self.start_connector(work, &name, config).await;
                }
                Decision::Wait => {}
            }
        }

        let tasks: Vec<TaskId> = work.tasks.keys().cloned().collect();
        for id in tasks {
            let (Some(policy), Some(s)) = (policy(&id.connector), self.ctx.status.task(&id)) else {
                continue;
            };
            match restarts.tasks.observe(&id, s.state, &policy, now) {
                Decision::Scheduled(delay, attempt) => {
                    let trace = scheduled_trace(s.trace, "task", attempt, delay.as_millis());
                    self.ctx.status.put_task(&id, State::Failed, Some(trace));
                }
                Decision::RestartNow => {
                    tracing::info!(task = %id, "automatic restart of the failed task");
                    self.ctx
                        .metrics
                        .task(&id)
                        .auto_restarts
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    self.stop_tasks(work, std::slice::from_ref(&id)).await;
                    self.start_task(work, &id, config).await;
                }
                Decision::Wait => {}
            }
        }
        work.restarts = restarts;
    }
}
