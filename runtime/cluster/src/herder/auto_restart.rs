//! Automatic restart of the FAILED Connector instances and tasks this worker runs (Ferry's
//! `ferry.auto.restart.*` extension; policy, backoff, attempt counting and the pass itself are
//! [`ferry_worker::auto_restart`]'s, shared with standalone mode).
//!
//! Each worker restarts only its own work, in place: nothing goes through the config topic
//! (that is what the REST restart endpoints are for), so an automatic restart never moves work
//! or triggers a rebalance. The pending restart shows in the FAILED status `trace`.

use async_trait::async_trait;
use ferry_worker::auto_restart::{RestartPolicy, RestartScope, Watched};
use ferry_worker::herder::TaskId;

use super::work::LocalWork;
use super::DistributedHerder;
use crate::store::config::ClusterConfigState;

pub(super) use ferry_worker::auto_restart::AutoRestarts;

/// Distributed mode's side of an auto-restart pass: only the work running on this worker is
/// watched, and it is restarted in place (stopped and started again here).
struct LocalRestarts<'a> {
    herder: &'a DistributedHerder,
    work: &'a mut LocalWork,
    config: &'a ClusterConfigState,
}

#[async_trait]
impl RestartScope for LocalRestarts<'_> {
    fn tasks_of(&self, connector: &str) -> Vec<TaskId> {
        self.work
            .tasks
            .keys()
            .filter(|id| id.connector == connector)
            .cloned()
            .collect()
    }

    fn keeps_task(&self, id: &TaskId) -> bool {
        self.work.tasks.contains_key(id)
    }

    async fn restart_connector(&mut self, name: &str) {
        self.herder.stop_connector(self.work, name).await;
        self.herder
            .start_connector(self.work, name, self.config)
            .await;
    }

    async fn restart_task(&mut self, id: &TaskId) {
        self.herder
            .stop_tasks(self.work, std::slice::from_ref(id))
            .await;
        self.herder.start_task(self.work, id, self.config).await;
    }
}

impl DistributedHerder {
    /// One pass over the work running here: schedules restarts of newly FAILED instances whose
    /// connector (or the worker) enables `ferry.auto.restart.enable`, and restarts those due.
    /// Watched are the connectors running here and those whose tasks run here.
    pub(super) async fn auto_restart_tick(
        &self,
        work: &mut LocalWork,
        config: &ClusterConfigState,
    ) {
        let worker = self.ctx.config.originals();
        let names: std::collections::BTreeSet<&String> = work
            .connectors
            .keys()
            .chain(work.tasks.keys().map(|id| &id.connector))
            .collect();
        let watched: Vec<Watched> = names
            .into_iter()
            .map(|name| Watched {
                connector: name.clone(),
                policy: config
                    .connector_config(name)
                    .map(|c| RestartPolicy::resolve(worker, c)),
                instance: work.connectors.contains_key(name),
            })
            .collect();
        let mut restarts = std::mem::take(&mut work.restarts);
        let mut scope = LocalRestarts {
            herder: self,
            work,
            config,
        };
        restarts
            .tick(&watched, &self.ctx.status, &self.ctx.metrics, &mut scope)
            .await;
        work.restarts = restarts;
    }
}
