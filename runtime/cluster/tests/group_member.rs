//! Group membership against a real broker (FERRY_TEST_BOOTSTRAP): members of one `connect`
//! group settle in one generation, the leader's assignments reach every member, and joins and
//! departures are noticed through heartbeats.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ferry_cluster::group::member::{GroupMember, HeartbeatEvent, MemberError, MembershipConfig};
use ferry_cluster::group::protocol::{
    Assignment, AssignmentError, ConnectorsAndTasks, SubProtocol, WorkerMetadata,
};
use tokio::sync::{mpsc, oneshot};

/// What a test worker reports after each completed round.
#[derive(Debug, Clone)]
struct Round {
    generation: i32,
    member_id: String,
    leader_id: String,
    protocol: SubProtocol,
    /// Decoded from this member's SyncGroup answer.
    assignment: Assignment,
    /// URLs of all members, as the leader decoded them from JoinGroup (leader only).
    urls_seen: Vec<String>,
    /// Heartbeat error codes that started rounds so far.
    rebalances_seen: Vec<i16>,
}

fn membership(group: &str) -> MembershipConfig {
    MembershipConfig {
        group_id: group.to_owned(),
        session_timeout: Duration::from_secs(10),
        rebalance_timeout: Duration::from_secs(20),
        heartbeat_interval: Duration::from_millis(100),
        request_timeout: Duration::from_secs(10),
        client_id: "ferry-cluster-test".into(),
    }
}

fn offered(url: &str) -> Vec<(SubProtocol, Vec<u8>)> {
    SubProtocol::offered("sessioned")
        .unwrap()
        .into_iter()
        .map(|p| {
            let meta = WorkerMetadata {
                protocol: p,
                url: url.to_owned(),
                config_offset: 0,
                allocation: None,
            };
            (p, meta.encode())
        })
        .collect()
}

/// The leader's (test) assignment: member k of the sorted member ids runs connector `conn-k`.
fn assign(
    leader: &str,
    leader_url: &str,
    protocol: SubProtocol,
    members: &[String],
) -> Vec<(String, Vec<u8>)> {
    let mut sorted = members.to_vec();
    sorted.sort();
    sorted
        .iter()
        .enumerate()
        .map(|(k, member)| {
            let a = Assignment {
                protocol,
                error: AssignmentError::None,
                leader: leader.to_owned(),
                leader_url: leader_url.to_owned(),
                config_offset: 0,
                assigned: ConnectorsAndTasks {
                    connectors: vec![format!("conn-{k}")],
                    tasks: vec![],
                },
                revoked: ConnectorsAndTasks::default(),
                delay_ms: 0,
            };
            (member.clone(), a.encode())
        })
        .collect()
}

/// A worker's membership loop: join, (lead,) sync, report, heartbeat until a rebalance is
/// needed; on shutdown, leave the group.
async fn worker(
    index: usize,
    bootstrap: String,
    group: String,
    reports: mpsc::UnboundedSender<(usize, Round)>,
    mut shutdown: oneshot::Receiver<()>,
) -> Result<(), MemberError> {
    let url = format!("http://worker-{index}:8083/");
    let mut member = GroupMember::new(vec![bootstrap], membership(&group));
    let mut rebalances_seen = Vec::new();
    loop {
        let outcome = member.join(&offered(&url)).await?;
        let mut urls_seen = Vec::new();
        let assignments = if outcome.is_leader {
            let ids: Vec<String> = outcome.members.iter().map(|(id, _)| id.clone()).collect();
            for (_, metadata) in &outcome.members {
                let meta = WorkerMetadata::decode(metadata).expect("member metadata decodes");
                assert_eq!(meta.protocol, outcome.protocol);
                urls_seen.push(meta.url);
            }
            urls_seen.sort();
            assign(&outcome.member_id, &url, outcome.protocol, &ids)
        } else {
            Vec::new()
        };
        let mine = match member.sync(&assignments).await {
            Ok(bytes) => bytes,
            Err(MemberError::RebalanceNeeded { .. }) => continue,
            Err(e) => return Err(e),
        };
        let assignment = Assignment::decode(&mine).expect("assignment decodes");
        let _ = reports.send((
            index,
            Round {
                generation: outcome.generation,
                member_id: outcome.member_id.clone(),
                leader_id: outcome.leader_id.clone(),
                protocol: outcome.protocol,
                assignment,
                urls_seen,
                rebalances_seen: rebalances_seen.clone(),
            },
        ));
        let mut heartbeats = member.start_heartbeats()?;
        tokio::select! {
            event = heartbeats.stopped() => match event {
                HeartbeatEvent::RebalanceNeeded(code) => rebalances_seen.push(code),
                HeartbeatEvent::Failed(e) => return Err(e),
            },
            _ = &mut shutdown => {
                drop(heartbeats);
                return member.leave().await;
            }
        }
    }
}

/// A running test worker: its stop signal and task.
type Running = (
    oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), MemberError>>,
);

struct Cluster {
    bootstrap: String,
    group: String,
    reports: mpsc::UnboundedReceiver<(usize, Round)>,
    sender: mpsc::UnboundedSender<(usize, Round)>,
    latest: BTreeMap<usize, Round>,
    stops: BTreeMap<usize, Running>,
}

impl Cluster {
    fn new(bootstrap: String) -> Self {
        let (sender, reports) = mpsc::unbounded_channel();
        Cluster {
            bootstrap,
            group: common::unique("ferry-connect-group"),
            reports,
            sender,
            latest: BTreeMap::new(),
            stops: BTreeMap::new(),
        }
    }

    fn start(&mut self, index: usize) {
        let (stop, shutdown) = oneshot::channel();
        let task = tokio::spawn(worker(
            index,
            self.bootstrap.clone(),
            self.group.clone(),
            self.sender.clone(),
            shutdown,
        ));
        self.stops.insert(index, (stop, task));
    }

    async fn stop(&mut self, index: usize) {
        let (stop, task) = self.stops.remove(&index).unwrap();
        stop.send(()).unwrap();
        task.await.unwrap().expect("worker left cleanly");
        self.latest.remove(&index);
    }

    /// Waits until the running workers all report one generation newer than `after`, and
    /// returns it.
    async fn settled(&mut self, after: i32) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let running: Vec<&Round> = self
                .stops
                .keys()
                .filter_map(|i| self.latest.get(i))
                .collect();
            if running.len() == self.stops.len() {
                let generation = running[0].generation;
                if generation > after && running.iter().all(|r| r.generation == generation) {
                    return generation;
                }
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(remaining, self.reports.recv()).await {
                Ok(Some((i, round))) => {
                    self.latest.insert(i, round);
                }
                _ => panic!(
                    "group did not settle past generation {after}: {:#?}",
                    self.latest
                ),
            }
        }
    }

    /// Checks one settled round: one leader, every member got exactly its `conn-k`, and the
    /// leader saw every member's URL.
    fn check_round(&self) {
        let rounds: Vec<(usize, &Round)> =
            self.stops.keys().map(|i| (*i, &self.latest[i])).collect();
        let leader = &rounds[0].1.leader_id;
        let mut members: Vec<&str> = rounds.iter().map(|(_, r)| r.member_id.as_str()).collect();
        members.sort();
        for (i, r) in &rounds {
            assert_eq!(&r.leader_id, leader, "worker {i}");
            assert_eq!(r.protocol, SubProtocol::Sessioned, "worker {i}");
            assert_eq!(&r.assignment.leader, leader, "worker {i}");
            let k = members.iter().position(|m| *m == r.member_id).unwrap();
            assert_eq!(
                r.assignment.assigned.connectors,
                vec![format!("conn-{k}")],
                "worker {i}"
            );
            if &r.member_id == leader {
                let expected: Vec<String> = self
                    .stops
                    .keys()
                    .map(|j| format!("http://worker-{j}:8083/"))
                    .collect();
                assert_eq!(r.urls_seen, expected);
                assert_eq!(r.assignment.leader_url, format!("http://worker-{i}:8083/"));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_settle_rebalance_on_join_and_leave() {
    let Some(bootstrap) = common::bootstrap("members_settle_rebalance_on_join_and_leave") else {
        return;
    };
    let mut cluster = Cluster::new(bootstrap);

    let started = Instant::now();
    cluster.start(1);
    cluster.start(2);
    let g2 = cluster.settled(0).await;
    eprintln!(
        "2 members settled in generation {g2} after {:?}",
        started.elapsed()
    );
    cluster.check_round();

    let joined = Instant::now();
    cluster.start(3);
    let g3 = cluster.settled(g2).await;
    eprintln!(
        "3rd member: settled in generation {g3} after {:?}",
        joined.elapsed()
    );
    cluster.check_round();
    for i in [1, 2] {
        assert!(
            cluster.latest[&i].rebalances_seen.contains(&27),
            "worker {i} noticed the join through a REBALANCE_IN_PROGRESS heartbeat: {:?}",
            cluster.latest[&i].rebalances_seen
        );
    }

    let left = Instant::now();
    cluster.stop(3).await;
    let g4 = cluster.settled(g3).await;
    eprintln!(
        "after a leave: settled in generation {g4} after {:?}",
        left.elapsed()
    );
    cluster.check_round();

    cluster.stop(1).await;
    cluster.stop(2).await;
}
