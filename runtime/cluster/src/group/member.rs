//! A member of the Connect worker group (COMPAT §4): FindCoordinator, JoinGroup with protocol
//! type `connect` and the Connect sub-protocols, SyncGroup, Heartbeat and LeaveGroup over the
//! classic group protocol (not KIP-848).
//!
//! The herder drives the rounds: [`GroupMember::join`] returns the generation and, to the leader,
//! every member's metadata; [`GroupMember::sync`] sends the leader's assignments and returns this
//! member's own; [`GroupMember::start_heartbeats`] keeps the membership alive in the background
//! and reports when a new round is needed; [`GroupMember::leave`] departs at once (instead of
//! being noticed at the session timeout).

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ApiKey, FindCoordinatorRequest, GroupId, HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest,
    SyncGroupRequest,
};
use kafka_protocol::protocol::StrBytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::DistributedConfig;
use crate::group::connection::{Connection, ConnectionError};
use crate::group::protocol::SubProtocol;

/// The group protocol type of Connect workers.
pub const PROTOCOL_TYPE: &str = "connect";

/// Kafka error codes the member reacts to.
mod code {
    pub(super) const NONE: i16 = 0;
    pub(super) const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
    pub(super) const COORDINATOR_NOT_AVAILABLE: i16 = 15;
    pub(super) const NOT_COORDINATOR: i16 = 16;
    pub(super) const ILLEGAL_GENERATION: i16 = 22;
    pub(super) const UNKNOWN_MEMBER_ID: i16 = 25;
    pub(super) const REBALANCE_IN_PROGRESS: i16 = 27;
    pub(super) const MEMBER_ID_REQUIRED: i16 = 79;
}

/// Timeouts and identity of the membership, from the worker config (COMPAT §2.2).
#[derive(Debug, Clone)]
pub struct MembershipConfig {
    /// `group.id`.
    pub group_id: String,
    /// `session.timeout.ms`: the coordinator drops a member silent for this long.
    pub session_timeout: Duration,
    /// `rebalance.timeout.ms`: how long the coordinator waits for members to rejoin.
    pub rebalance_timeout: Duration,
    /// `heartbeat.interval.ms`.
    pub heartbeat_interval: Duration,
    /// `request.timeout.ms` for every call except JoinGroup (which waits for the whole round).
    pub request_timeout: Duration,
    /// `client.id` sent in request headers.
    pub client_id: String,
}

impl MembershipConfig {
    /// The membership settings of a distributed worker.
    pub fn from_config(config: &DistributedConfig, client_id: &str) -> Self {
        MembershipConfig {
            group_id: config.group_id().to_owned(),
            session_timeout: config.duration("session.timeout.ms"),
            rebalance_timeout: config.duration("rebalance.timeout.ms"),
            heartbeat_interval: config.duration("heartbeat.interval.ms"),
            request_timeout: config.duration("request.timeout.ms"),
            client_id: client_id.to_owned(),
        }
    }
}

/// A membership call that failed.
#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    /// The coordinator (or bootstrap broker) could not be reached or spoke nonsense.
    #[error("group {group}: {source}")]
    Connection {
        /// The group.
        group: String,
        /// What failed.
        source: ConnectionError,
    },
    /// The coordinator answered with an error code this member cannot handle itself.
    #[error("group {group}: {api:?} failed with Kafka error code {code}")]
    Refused {
        /// The group.
        group: String,
        /// The API.
        api: ApiKey,
        /// Kafka error code.
        code: i16,
    },
    /// The group started a new round while this call was in progress: join again.
    #[error("group {group}: a rebalance is needed ({api:?} answered error code {code})")]
    RebalanceNeeded {
        /// The group.
        group: String,
        /// The API.
        api: ApiKey,
        /// Kafka error code (27 rebalance in progress, 22 illegal generation, 25 unknown member).
        code: i16,
    },
    /// The coordinator chose a protocol this worker did not offer.
    #[error("group {group}: the coordinator chose unknown protocol {protocol:?}")]
    UnknownProtocol {
        /// The group.
        group: String,
        /// What it chose.
        protocol: String,
    },
    /// `sync`, `heartbeat` or `leave` before a successful `join`.
    #[error("group {group}: not a member (join first)")]
    NotJoined {
        /// The group.
        group: String,
    },
}

/// What JoinGroup returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinOutcome {
    /// Generation of the group.
    pub generation: i32,
    /// This member's id.
    pub member_id: String,
    /// The leader's member id.
    pub leader_id: String,
    /// Whether this member leads (and must compute assignments).
    pub is_leader: bool,
    /// Every member's id and metadata for the chosen protocol (leader only; empty otherwise).
    pub members: Vec<(String, Bytes)>,
    /// The sub-protocol the coordinator chose.
    pub protocol: SubProtocol,
}

/// A heartbeat's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeartbeatStatus {
    /// The generation is still current.
    Stable,
    /// The group needs a new round (the Kafka error code that said so).
    RebalanceNeeded(i16),
}

/// A Connect group member. Not `Clone`: one member id per instance.
#[derive(Debug)]
pub struct GroupMember {
    bootstrap: Vec<String>,
    config: MembershipConfig,
    coordinator: Option<Connection>,
    member_id: String,
    generation: i32,
    protocol: Option<SubProtocol>,
}

/// How long to wait before retrying after the coordinator moved or is loading.
const RETRY_BACKOFF: Duration = Duration::from_millis(100);
/// Bound on retries of one call for coordinator moves and member-id assignment.
const MAX_ATTEMPTS: usize = 20;

impl GroupMember {
    /// A member of `config.group_id` that finds its coordinator through `bootstrap` (host:port
    /// entries, tried in order). Nothing is sent until [`GroupMember::join`].
    pub fn new(bootstrap: Vec<String>, config: MembershipConfig) -> Self {
        GroupMember {
            bootstrap,
            config,
            coordinator: None,
            member_id: String::new(),
            generation: -1,
            protocol: None,
        }
    }

    /// This member's id (empty before the first join).
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// The current generation (−1 before the first join).
    pub fn generation(&self) -> i32 {
        self.generation
    }

    /// The coordinator's address, once found.
    pub fn coordinator(&self) -> Option<&str> {
        self.coordinator.as_ref().map(Connection::broker)
    }

    fn conn_err(&self, source: ConnectionError) -> MemberError {
        MemberError::Connection {
            group: self.config.group_id.clone(),
            source,
        }
    }

    /// Finds the group coordinator through the bootstrap brokers and connects to it.
    async fn coordinator_connection(&mut self) -> Result<&mut Connection, MemberError> {
        if self.coordinator.is_none() {
            let address = find_coordinator(&self.bootstrap, &self.config).await?;
            let conn = Connection::open(
                &address,
                &self.config.client_id,
                self.config.request_timeout,
            )
            .await
            .map_err(|e| self.conn_err(e))?;
            self.coordinator = Some(conn);
        }
        Ok(self.coordinator.as_mut().expect("set above"))
    }

    /// Runs one call on the coordinator connection; any connection failure drops the connection
    /// (a timed-out exchange leaves the stream mid-frame).
    async fn coordinator_call<R: crate::group::connection::Call>(
        &mut self,
        request: impl FnOnce(i16) -> R,
        api: ApiKey,
        timeout: Duration,
    ) -> Result<R::Response, MemberError> {
        let conn = self.coordinator_connection().await?;
        let version = conn.version(api).unwrap_or(0);
        match conn.call(request(version), timeout).await {
            Ok(r) => Ok(r),
            Err(e) => {
                self.coordinator = None;
                Err(self.conn_err(e))
            }
        }
    }

    /// Whether `code` means the coordinator moved or is not ready; drops the connection if so.
    fn coordinator_moved(&mut self, code: i16) -> bool {
        let moved = matches!(
            code,
            code::NOT_COORDINATOR
                | code::COORDINATOR_NOT_AVAILABLE
                | code::COORDINATOR_LOAD_IN_PROGRESS
        );
        if moved {
            self.coordinator = None;
        }
        moved
    }

    /// Joins (or rejoins) the group offering `protocols` (most preferred first, each with its
    /// encoded [`crate::group::protocol::WorkerMetadata`]) and waits for the round to complete.
    pub async fn join(
        &mut self,
        protocols: &[(SubProtocol, Vec<u8>)],
    ) -> Result<JoinOutcome, MemberError> {
        let offered: Vec<JoinGroupRequestProtocol> = protocols
            .iter()
            .map(|(p, metadata)| {
                JoinGroupRequestProtocol::default()
                    .with_name(StrBytes::from_static_str(p.wire_name()))
                    .with_metadata(Bytes::copy_from_slice(metadata))
            })
            .collect();
        // The coordinator holds JoinGroup until every member rejoined or the rebalance timeout.
        let timeout = self.config.rebalance_timeout + self.config.request_timeout;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let group = self.config.group_id.clone();
            let member_id = self.member_id.clone();
            let session_ms = self.config.session_timeout.as_millis() as i32;
            let rebalance_ms = self.config.rebalance_timeout.as_millis() as i32;
            let offered = offered.clone();
            let answer = self
                .coordinator_call(
                    move |version| {
                        let mut r = JoinGroupRequest::default()
                            .with_group_id(GroupId(StrBytes::from_string(group)))
                            .with_session_timeout_ms(session_ms)
                            .with_member_id(StrBytes::from_string(member_id))
                            .with_protocol_type(StrBytes::from_static_str(PROTOCOL_TYPE))
                            .with_protocols(offered);
                        if version >= 1 {
                            r = r.with_rebalance_timeout_ms(rebalance_ms);
                        }
                        r
                    },
                    ApiKey::JoinGroup,
                    timeout,
                )
                .await?;
            match answer.error_code {
                code::NONE => {}
                code::MEMBER_ID_REQUIRED if attempts < MAX_ATTEMPTS => {
                    // KIP-394: the first join only obtains a member id; join again with it.
                    self.member_id = answer.member_id.to_string();
                    continue;
                }
                code::UNKNOWN_MEMBER_ID | code::ILLEGAL_GENERATION if attempts < MAX_ATTEMPTS => {
                    self.member_id.clear();
                    continue;
                }
                code::REBALANCE_IN_PROGRESS if attempts < MAX_ATTEMPTS => continue,
                c if self.coordinator_moved(c) && attempts < MAX_ATTEMPTS => {
                    tokio::time::sleep(RETRY_BACKOFF).await;
                    continue;
                }
                c => {
                    return Err(MemberError::Refused {
                        group: self.config.group_id.clone(),
                        api: ApiKey::JoinGroup,
                        code: c,
                    })
                }
            }
            let name = answer
                .protocol_name
                .as_ref()
                .map(|n| n.to_string())
                .unwrap_or_default();
            let protocol = SubProtocol::from_wire_name(&name)
                .filter(|p| protocols.iter().any(|(o, _)| o == p))
                .ok_or_else(|| MemberError::UnknownProtocol {
                    group: self.config.group_id.clone(),
                    protocol: name.clone(),
                })?;
            self.member_id = answer.member_id.to_string();
            self.generation = answer.generation_id;
            self.protocol = Some(protocol);
            let leader_id = answer.leader.to_string();
            return Ok(JoinOutcome {
                generation: answer.generation_id,
                is_leader: leader_id == self.member_id,
                member_id: self.member_id.clone(),
                leader_id,
                members: answer
                    .members
                    .into_iter()
                    .map(|m| (m.member_id.to_string(), m.metadata))
                    .collect(),
                protocol,
            });
        }
    }

    fn joined(&self) -> Result<SubProtocol, MemberError> {
        self.protocol.ok_or_else(|| MemberError::NotJoined {
            group: self.config.group_id.clone(),
        })
    }

    /// Completes the round: the leader passes every member's encoded assignment, followers pass
    /// nothing. Returns this member's assignment bytes.
    pub async fn sync(&mut self, assignments: &[(String, Vec<u8>)]) -> Result<Bytes, MemberError> {
        let protocol = self.joined()?;
        let group = self.config.group_id.clone();
        let member_id = self.member_id.clone();
        let generation = self.generation;
        let assignments: Vec<SyncGroupRequestAssignment> = assignments
            .iter()
            .map(|(member, blob)| {
                SyncGroupRequestAssignment::default()
                    .with_member_id(StrBytes::from_string(member.clone()))
                    .with_assignment(Bytes::copy_from_slice(blob))
            })
            .collect();
        let answer = self
            .coordinator_call(
                move |version| {
                    let mut r = SyncGroupRequest::default()
                        .with_group_id(GroupId(StrBytes::from_string(group)))
                        .with_generation_id(generation)
                        .with_member_id(StrBytes::from_string(member_id))
                        .with_assignments(assignments);
                    if version >= 5 {
                        r = r
                            .with_protocol_type(Some(StrBytes::from_static_str(PROTOCOL_TYPE)))
                            .with_protocol_name(Some(StrBytes::from_static_str(
                                protocol.wire_name(),
                            )));
                    }
                    r
                },
                ApiKey::SyncGroup,
                self.config.request_timeout + self.config.rebalance_timeout,
            )
            .await?;
        self.check(ApiKey::SyncGroup, answer.error_code)?;
        Ok(answer.assignment)
    }

    /// Maps an error code of sync/heartbeat/leave to a result.
    fn check(&mut self, api: ApiKey, error_code: i16) -> Result<(), MemberError> {
        let group = self.config.group_id.clone();
        match error_code {
            code::NONE => Ok(()),
            code::REBALANCE_IN_PROGRESS | code::ILLEGAL_GENERATION | code::UNKNOWN_MEMBER_ID => {
                if error_code == code::UNKNOWN_MEMBER_ID {
                    self.member_id.clear();
                }
                Err(MemberError::RebalanceNeeded {
                    group,
                    api,
                    code: error_code,
                })
            }
            c if self.coordinator_moved(c) => Err(MemberError::RebalanceNeeded {
                group,
                api,
                code: c,
            }),
            c => Err(MemberError::Refused {
                group,
                api,
                code: c,
            }),
        }
    }

    /// Sends one heartbeat for the current generation.
    pub async fn heartbeat(&mut self) -> Result<HeartbeatStatus, MemberError> {
        self.joined()?;
        let request = heartbeat_request(&self.config.group_id, &self.member_id, self.generation);
        let answer = self
            .coordinator_call(
                move |_| request,
                ApiKey::Heartbeat,
                self.config.request_timeout,
            )
            .await?;
        match self.check(ApiKey::Heartbeat, answer.error_code) {
            Ok(()) => Ok(HeartbeatStatus::Stable),
            Err(MemberError::RebalanceNeeded { code, .. }) => {
                Ok(HeartbeatStatus::RebalanceNeeded(code))
            }
            Err(e) => Err(e),
        }
    }

    /// Starts heartbeating the current generation every `heartbeat.interval.ms` on a connection
    /// of its own (so a long JoinGroup or the herder's work never delays a heartbeat). The
    /// returned handle reports the first [`HeartbeatEvent`]; dropping it stops the heartbeats.
    pub fn start_heartbeats(&self) -> Result<HeartbeatHandle, MemberError> {
        self.joined()?;
        let Some(coordinator) = self.coordinator().map(str::to_owned) else {
            return Err(MemberError::NotJoined {
                group: self.config.group_id.clone(),
            });
        };
        let request = heartbeat_request(&self.config.group_id, &self.member_id, self.generation);
        let config = self.config.clone();
        let (tx, rx) = mpsc::channel(1);
        let task = tokio::spawn(async move {
            let event = heartbeat_loop(&coordinator, &config, request).await;
            let _ = tx.send(event).await;
        });
        Ok(HeartbeatHandle { events: rx, task })
    }

    /// Leaves the group now so the others rebalance without waiting for the session timeout.
    pub async fn leave(&mut self) -> Result<(), MemberError> {
        self.joined()?;
        let group = self.config.group_id.clone();
        let member_id = self.member_id.clone();
        let answer = self
            .coordinator_call(
                move |version| {
                    let r = LeaveGroupRequest::default()
                        .with_group_id(GroupId(StrBytes::from_string(group)));
                    if version >= 3 {
                        r.with_members(vec![MemberIdentity::default()
                            .with_member_id(StrBytes::from_string(member_id))])
                    } else {
                        r.with_member_id(StrBytes::from_string(member_id))
                    }
                },
                ApiKey::LeaveGroup,
                self.config.request_timeout,
            )
            .await?;
        let member_code = answer.members.first().map_or(code::NONE, |m| m.error_code);
        let result = self
            .check(ApiKey::LeaveGroup, answer.error_code)
            .and_then(|()| self.check(ApiKey::LeaveGroup, member_code));
        self.member_id.clear();
        self.generation = -1;
        self.protocol = None;
        match result {
            // Already gone from the group: the goal of leaving is met.
            Err(MemberError::RebalanceNeeded { .. }) | Ok(()) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn heartbeat_request(group: &str, member_id: &str, generation: i32) -> HeartbeatRequest {
    HeartbeatRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.to_owned())))
        .with_generation_id(generation)
        .with_member_id(StrBytes::from_string(member_id.to_owned()))
}

/// Why background heartbeats stopped.
#[derive(Debug)]
pub enum HeartbeatEvent {
    /// The coordinator asked for a new round (error code 27, 22 or 25) or moved (14/15/16).
    RebalanceNeeded(i16),
    /// The coordinator could not be reached within the session timeout.
    Failed(MemberError),
}

/// Background heartbeats of one generation.
#[derive(Debug)]
pub struct HeartbeatHandle {
    events: mpsc::Receiver<HeartbeatEvent>,
    task: JoinHandle<()>,
}

impl HeartbeatHandle {
    /// Waits until the heartbeats stop, and says why.
    pub async fn stopped(&mut self) -> HeartbeatEvent {
        self.events.recv().await.unwrap_or_else(|| {
            HeartbeatEvent::Failed(MemberError::NotJoined {
                group: "(heartbeat task ended)".into(),
            })
        })
    }

    /// Why the heartbeats stopped, if they did.
    pub fn try_stopped(&mut self) -> Option<HeartbeatEvent> {
        self.events.try_recv().ok()
    }
}

impl Drop for HeartbeatHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn heartbeat_loop(
    coordinator: &str,
    config: &MembershipConfig,
    request: HeartbeatRequest,
) -> HeartbeatEvent {
    let group = config.group_id.clone();
    let conn_err = |source| MemberError::Connection {
        group: group.clone(),
        source,
    };
    let mut conn: Option<Connection> = None;
    let mut last_success = tokio::time::Instant::now();
    let mut ticks = tokio::time::interval(config.heartbeat_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let result = async {
            if conn.is_none() {
                conn = Some(
                    Connection::open(coordinator, &config.client_id, config.request_timeout)
                        .await?,
                );
            }
            let c = conn.as_mut().expect("set above");
            c.call(request.clone(), config.request_timeout).await
        }
        .await;
        match result {
            Ok(answer) if answer.error_code == code::NONE => {
                last_success = tokio::time::Instant::now();
            }
            Ok(answer) => return HeartbeatEvent::RebalanceNeeded(answer.error_code),
            Err(e) => {
                conn = None;
                if last_success.elapsed() >= config.session_timeout {
                    return HeartbeatEvent::Failed(conn_err(e));
                }
                tracing::debug!("group {group}: heartbeat failed, retrying: {e}");
            }
        }
    }
}

/// Asks the bootstrap brokers, in order, for the coordinator of the group.
async fn find_coordinator(
    bootstrap: &[String],
    config: &MembershipConfig,
) -> Result<String, MemberError> {
    let group = &config.group_id;
    let mut last = None;
    for attempt in 0..MAX_ATTEMPTS {
        for broker in bootstrap {
            let result = async {
                let mut conn =
                    Connection::open(broker, &config.client_id, config.request_timeout).await?;
                let version = conn.version(ApiKey::FindCoordinator).unwrap_or(0);
                let key = StrBytes::from_string(group.clone());
                let request = if version >= 4 {
                    FindCoordinatorRequest::default().with_coordinator_keys(vec![key])
                } else {
                    FindCoordinatorRequest::default().with_key(key)
                };
                conn.call(request, config.request_timeout).await
            }
            .await;
            match result {
                Ok(answer) => {
                    let (code, host, port) = match answer.coordinators.first() {
                        Some(c) => (c.error_code, c.host.to_string(), c.port),
                        None => (answer.error_code, answer.host.to_string(), answer.port),
                    };
                    if code == code::NONE {
                        return Ok(format!("{host}:{port}"));
                    }
                    last = Some(MemberError::Refused {
                        group: group.clone(),
                        api: ApiKey::FindCoordinator,
                        code,
                    });
                }
                Err(source) => {
                    last = Some(MemberError::Connection {
                        group: group.clone(),
                        source,
                    })
                }
            }
        }
        if attempt + 1 < MAX_ATTEMPTS {
            tokio::time::sleep(RETRY_BACKOFF).await;
        }
    }
    Err(last.unwrap_or(MemberError::NotJoined {
        group: format!("{group} (no bootstrap servers)"),
    }))
}
