//! The herder's background loop: group rounds (join, the leader's assignment, sync, applying
//! what was revoked and added), heartbeats, and reacting to config-topic records between rounds.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use ferry_worker::herder::{State, TargetState, TaskId};
use tokio::time::Instant;

use super::work::{now_ms, LocalWork};
use super::DistributedHerder;
use crate::group::assignor::{assign, assign_eager, AssignorInput, AssignorState};
use crate::group::member::{GroupMember, HeartbeatHandle, JoinOutcome, MembershipConfig};
use crate::group::protocol::{
    Assignment, AssignmentError, ConnectorsAndTasks, SubProtocol, WorkerMetadata,
};
use crate::store::config::{ClusterConfigState, ConfigUpdates};
use crate::store::status::StatusKey;

/// How often config and status topics are re-read between rounds.
const TICK: Duration = Duration::from_millis(250);
/// Wait before retrying a failed round.
const RETRY: Duration = Duration::from_secs(1);

/// What one completed round asks of the loop.
struct RoundOutcome {
    heartbeats: Option<HeartbeatHandle>,
    /// When to rejoin on our own (revocations to confirm, or held work's delay).
    rejoin_at: Option<Instant>,
    is_leader: bool,
}

impl DistributedHerder {
    /// Runs the membership loop until [`DistributedHerder::shutdown`].
    pub(super) async fn run_group(self: Arc<Self>) {
        let client_id = format!("connect-{}", self.worker_id);
        let mut member = GroupMember::new(
            self.dconfig.bootstrap_servers(),
            MembershipConfig::from_config(&self.dconfig, &client_id),
        );
        let mut assignor_state = AssignorState::default();
        let mut heartbeats: Option<HeartbeatHandle> = None;
        let mut rejoin_at: Option<Instant> = Some(Instant::now());
        let mut is_leader = false;
        let mut requests = self.requests_rx.lock().await;
        loop {
            if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            self.stage("waiting for requests");
            if rejoin_at.is_some_and(|t| t <= Instant::now()) {
                heartbeats = None;
                self.stage("");
                match self.round(&mut member, &mut assignor_state).await {
                    Ok(o) => {
                        heartbeats = o.heartbeats;
                        rejoin_at = o.rejoin_at;
                        is_leader = o.is_leader;
                        self.ready.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    Err(e) => {
                        tracing::warn!("group round failed, retrying: {e}");
                        rejoin_at = Some(Instant::now() + RETRY);
                    }
                }
                continue;
            }
            let wake_at = rejoin_at.map_or(Instant::now() + TICK, |t| t.min(Instant::now() + TICK));
            let hb = async {
                match heartbeats.as_mut() {
                    Some(h) => h.stopped().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                event = hb => {
                    self.settled.send_replace(false);
                    tracing::info!("rejoining the group: {event:?}");
                    rejoin_at = Some(Instant::now());
                }
                request = requests.recv() => {
                    if let Some(request) = request {
                        self.stage("handling a connector's request");
                        let config = self.config_snapshot();
                        let mut work = self.work.lock().await;
                        self.handle_request(&mut work, request, &config).await;
                    }
                }
                _ = tokio::time::sleep_until(wake_at) => {}
                _ = self.wake.notified() => {}
            }
            self.stage("reading the internal topics and applying their changes");
            match self.tick().await {
                Ok(changed_work) if changed_work && is_leader => {
                    // New connectors or task counts: the leader starts a round to hand them out.
                    rejoin_at = Some(Instant::now());
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("could not read the internal topics: {e}"),
            }
        }
        drop(heartbeats);
        self.stop_all().await;
        if let Err(e) = member.leave().await {
            tracing::warn!("could not leave the group: {e}");
        }
        self.stopped.notify_one();
    }

    /// One group round; returns heartbeats of the new generation.
    async fn round(
        &self,
        member: &mut GroupMember,
        assignor_state: &mut AssignorState,
    ) -> Result<RoundOutcome, String> {
        self.settled.send_replace(false);
        let offered = self.dconfig.offered_protocols();
        if self.eager.load(std::sync::atomic::Ordering::SeqCst) || offered == [SubProtocol::Eager] {
            // Eager rebalancing (v0): every member gives up all its work before joining, so no
            // connector or task ever runs on two workers (Connect's onJoinPrepare under EAGER).
            self.stop_all().await;
        }
        let config = self.refresh_config().await.map_err(|e| e.to_string())?.0;
        let running = self.work.lock().await.running();
        let (leader, leader_url) = self.leader.lock().unwrap().clone();
        let protocols: Vec<(SubProtocol, Vec<u8>)> = offered
            .into_iter()
            .map(|p| {
                let metadata = WorkerMetadata {
                    protocol: p,
                    url: self.url.clone(),
                    config_offset: config.offset(),
                    allocation: Some(Assignment {
                        protocol: p,
                        error: AssignmentError::None,
                        leader: leader.clone(),
                        leader_url: leader_url.clone(),
                        config_offset: config.offset(),
                        assigned: running.clone(),
                        revoked: ConnectorsAndTasks::default(),
                        delay_ms: 0,
                    }),
                };
                (p, metadata.encode())
            })
            .collect();
        let joined = member.join(&protocols).await.map_err(|e| e.to_string())?;
        let mut assignments = Vec::new();
        if joined.is_leader {
            let mut config = config.clone();
            let mut members = BTreeMap::new();
            let mut max_offset = config.offset();
            for (id, blob) in &joined.members {
                let md = WorkerMetadata::decode(blob).map_err(|e| e.to_string())?;
                max_offset = max_offset.max(md.config_offset);
                members.insert(
                    id.clone(),
                    md.allocation.map(|a| a.assigned).unwrap_or_default(),
                );
            }
            if max_offset > config.offset() {
                config = self.refresh_config().await.map_err(|e| e.to_string())?.0;
            }
            let error = if max_offset > config.offset() {
                AssignmentError::ConfigMismatch
            } else {
                AssignmentError::None
            };
            let counts = config.task_counts();
            if joined.protocol == SubProtocol::Eager {
                // Everyone stopped everything: a fresh round-robin share for each member.
                let ids: Vec<String> = members.keys().cloned().collect();
                for (id, assigned) in assign_eager(&ids, &counts) {
                    let a = Assignment {
                        protocol: SubProtocol::Eager,
                        error,
                        leader: joined.member_id.clone(),
                        leader_url: self.url.clone(),
                        config_offset: config.offset(),
                        assigned,
                        revoked: ConnectorsAndTasks::default(),
                        delay_ms: 0,
                    };
                    assignments.push((id, a.encode()));
                }
                let mine = member.sync(&assignments).await.map_err(|e| e.to_string())?;
                return self.settle(member, joined, &mine).await;
            }
            let out = assign(
                AssignorInput {
                    members: &members,
                    connectors: &counts,
                    now_ms: now_ms(),
                    max_delay_ms: self
                        .dconfig
                        .duration("scheduled.rebalance.max.delay.ms")
                        .as_millis() as i64,
                },
                assignor_state,
            );
            for (id, plan) in out.members {
                let a = Assignment {
                    protocol: joined.protocol,
                    error,
                    leader: joined.member_id.clone(),
                    leader_url: self.url.clone(),
                    config_offset: config.offset(),
                    assigned: plan.added,
                    revoked: plan.revoked,
                    delay_ms: out.delay_ms,
                };
                assignments.push((id, a.encode()));
            }
        }
        let mine = member.sync(&assignments).await.map_err(|e| e.to_string())?;
        self.settle(member, joined, &mine).await
    }

    /// Takes this member's assignment from a finished SyncGroup: catches up with the config
    /// topic, stops what was revoked and starts what was added.
    async fn settle(
        &self,
        member: &mut GroupMember,
        joined: JoinOutcome,
        mine: &[u8],
    ) -> Result<RoundOutcome, String> {
        let assignment = Assignment::decode(mine).map_err(|e| e.to_string())?;
        let eager = joined.protocol == SubProtocol::Eager;
        self.eager.store(eager, std::sync::atomic::Ordering::SeqCst);
        if assignment.error != AssignmentError::None {
            return Ok(RoundOutcome {
                heartbeats: None,
                rejoin_at: Some(Instant::now() + TICK),
                is_leader: joined.is_leader,
            });
        }
        if !self.catch_up(assignment.config_offset).await {
            // Connect leaves the group for worker.unsync.backoff.ms here; this first cut only
            // rejoins, which makes the leader re-read the topic too.
            tracing::warn!(
                "could not read the config topic up to offset {} within worker.sync.timeout.ms; rejoining",
                assignment.config_offset
            );
            return Ok(RoundOutcome {
                heartbeats: None,
                rejoin_at: Some(Instant::now() + RETRY),
                is_leader: joined.is_leader,
            });
        }
        self.generation
            .store(joined.generation, std::sync::atomic::Ordering::SeqCst);
        self.sessioned.store(
            joined.protocol == SubProtocol::Sessioned,
            std::sync::atomic::Ordering::SeqCst,
        );
        *self.leader.lock().unwrap() = (assignment.leader.clone(), assignment.leader_url.clone());
        tracing::info!(
            generation = joined.generation,
            leader = joined.is_leader,
            "assigned {:?} revoked {:?} delay {} ms",
            assignment.assigned,
            assignment.revoked,
            assignment.delay_ms
        );
        *self.member_id.lock().unwrap() = joined.member_id.clone();
        let heartbeats = member.start_heartbeats().ok();
        self.stage("starting and stopping assigned connectors and tasks");
        if eager {
            // An eager assignment is the whole of this member's work: whatever else still runs
            // (work from before the group went eager) stops now.
            let mut whole = assignment.clone();
            whole.revoked = self.running_except(&assignment.assigned).await;
            self.apply_assignment(&whole).await;
        } else {
            self.apply_assignment(&assignment).await;
        }
        self.settled.send_replace(true);
        let rejoin_at = if !assignment.revoked.is_empty() {
            Some(Instant::now())
        } else if assignment.delay_ms > 0 {
            Some(Instant::now() + Duration::from_millis(assignment.delay_ms as u64))
        } else {
            None
        };
        Ok(RoundOutcome {
            heartbeats,
            rejoin_at,
            is_leader: joined.is_leader,
        })
    }

    /// Reads the config topic until it reaches `offset` (the one the leader assigned against),
    /// for up to `worker.sync.timeout.ms`: work must start with the configs the leader saw.
    async fn catch_up(&self, offset: i64) -> bool {
        let deadline = Instant::now() + self.dconfig.duration("worker.sync.timeout.ms");
        loop {
            match self.refresh_config().await {
                Ok((state, _)) if state.offset() >= offset => return true,
                Ok(_) => {}
                Err(e) => tracing::warn!("could not read the config topic: {e}"),
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops revoked work first, then starts what was added.
    async fn apply_assignment(&self, a: &Assignment) {
        let config = self.config_snapshot();
        let mut work = self.work.lock().await;
        self.stop_tasks(&mut work, &a.revoked.tasks).await;
        for c in &a.revoked.connectors {
            self.stop_connector(&mut work, c).await;
        }
        let mut keys: Vec<StatusKey> = a
            .revoked
            .tasks
            .iter()
            .cloned()
            .map(StatusKey::Task)
            .collect();
        keys.extend(
            a.revoked
                .connectors
                .iter()
                .cloned()
                .map(StatusKey::Connector),
        );
        if !keys.is_empty() {
            self.unassign_statuses(&mut work, keys).await;
        }
        if !a.assigned.tasks.is_empty() {
            // Offsets other workers committed for these tasks.
            let offsets = self.offsets.clone();
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || offsets.refresh()).await {
                tracing::warn!("could not re-read the offsets topic: {e}");
            }
        }
        for c in &a.assigned.connectors {
            if !work.connectors.contains_key(c) {
                self.start_connector(&mut work, c, &config).await;
            }
        }
        for id in &a.assigned.tasks {
            if !work.tasks.contains_key(id) {
                self.start_task(&mut work, id, &config).await;
            }
        }
        self.publish_statuses(&mut work).await;
    }

    /// Re-reads the config topic and applies its changes to the work running here; publishes
    /// statuses. Returns whether the set of connectors or their task counts changed.
    async fn tick(&self) -> Result<bool, ferry_api::ConnectError> {
        let (config, _) = self.refresh_config().await?;
        let (before, updates) = self.take_pending(&config);
        let mut work = self.work.lock().await;
        self.apply_updates(&mut work, &before, &config, &updates)
            .await;
        self.auto_restart_tick(&mut work, &config).await;
        self.publish_statuses(&mut work).await;
        drop(work);
        self.maintain_session_key(&config).await;
        Ok(before.task_counts() != config.task_counts())
    }

    async fn apply_updates(
        &self,
        work: &mut LocalWork,
        before: &ClusterConfigState,
        config: &ClusterConfigState,
        updates: &ConfigUpdates,
    ) {
        let mut affected: BTreeSet<&String> = updates.connectors.iter().collect();
        affected.extend(&updates.target_states);
        affected.extend(&updates.tasks);
        for name in affected {
            let local_tasks: Vec<TaskId> = work
                .tasks
                .keys()
                .filter(|id| &id.connector == name)
                .cloned()
                .collect();
            let Some(raw) = config.connector_config(name) else {
                // Deleted: stop everything of it here; its statuses are removed by the deleter.
                self.stop_tasks(work, &local_tasks).await;
                for id in &local_tasks {
                    self.ctx.status.remove_task(id);
                }
                self.forget_task_starts(name);
                if work.connectors.contains_key(name) {
                    self.stop_connector(work, name).await;
                    self.ctx.status.remove_connector(name);
                }
                continue;
            };
            let target = config.target_state(name).unwrap_or(TargetState::Started);
            let old_target = before.target_state(name);
            let owned = work.connectors.get(name).map(|o| o.config.clone());
            if let Some(old_config) = owned {
                let restart = &old_config != raw
                    || (old_target != Some(target)
                        && (target == TargetState::Stopped
                            || old_target == Some(TargetState::Stopped)));
                if restart {
                    self.stop_connector(work, name).await;
                    self.start_connector(work, name, config).await;
                } else if old_target != Some(target) {
                    let failed = self
                        .ctx
                        .status
                        .connector(name)
                        .is_some_and(|s| s.state == State::Failed);
                    if !failed {
                        let state = match target {
                            TargetState::Paused => State::Paused,
                            _ => State::Running,
                        };
                        self.ctx.status.put_connector(name, state, None);
                    }
                }
            }
            // Tasks: a changed task config or a STOPPED connector stops them; a new config
            // restarts them; pause/resume is passed on.
            let mut restart = Vec::new();
            for id in &local_tasks {
                let running = work.tasks.get(id).map(|t| t.config.clone());
                match config.task_config(id) {
                    _ if target == TargetState::Stopped => restart.push((id.clone(), false)),
                    Some(c) if Some(c) != running.as_ref() => restart.push((id.clone(), true)),
                    None => restart.push((id.clone(), false)),
                    Some(_) => {
                        if let Some(t) = work.tasks.get(id) {
                            t.set_target(target);
                        }
                    }
                }
            }
            let ids: Vec<TaskId> = restart.iter().map(|(id, _)| id.clone()).collect();
            self.stop_tasks(work, &ids).await;
            for (id, again) in restart {
                if again {
                    self.start_task(work, &id, config).await;
                } else {
                    self.ctx.status.remove_task(&id);
                }
            }
        }
        for request in &updates.restarts {
            let name = &request.connector;
            let connector_failed = self
                .ctx
                .status
                .connector(name)
                .is_some_and(|s| s.state == State::Failed);
            if work.connectors.contains_key(name) && (!request.only_failed || connector_failed) {
                self.stop_connector(work, name).await;
                self.start_connector(work, name, config).await;
            }
            if request.include_tasks {
                let ids: Vec<TaskId> = work
                    .tasks
                    .keys()
                    .filter(|id| &id.connector == name)
                    .filter(|id| {
                        !request.only_failed
                            || self
                                .ctx
                                .status
                                .task(id)
                                .is_some_and(|s| s.state == State::Failed)
                    })
                    .cloned()
                    .collect();
                self.stop_tasks(work, &ids).await;
                for id in ids {
                    self.start_task(work, &id, config).await;
                }
            }
        }
    }

    /// Stops everything running here (shutdown) and marks it UNASSIGNED.
    /// The connectors and tasks running here that `keep` does not list.
    async fn running_except(&self, keep: &ConnectorsAndTasks) -> ConnectorsAndTasks {
        let running = self.work.lock().await.running();
        ConnectorsAndTasks {
            connectors: running
                .connectors
                .into_iter()
                .filter(|c| !keep.connectors.contains(c))
                .collect(),
            tasks: running
                .tasks
                .into_iter()
                .filter(|t| !keep.tasks.contains(t))
                .collect(),
        }
    }

    async fn stop_all(&self) {
        let mut work = self.work.lock().await;
        let tasks: Vec<TaskId> = work.tasks.keys().cloned().collect();
        self.stop_tasks(&mut work, &tasks).await;
        let connectors: Vec<String> = work.connectors.keys().cloned().collect();
        for c in &connectors {
            self.stop_connector(&mut work, c).await;
        }
        let mut keys: Vec<StatusKey> = tasks.into_iter().map(StatusKey::Task).collect();
        keys.extend(connectors.into_iter().map(StatusKey::Connector));
        self.unassign_statuses(&mut work, keys).await;
    }
}
