//! Automatic restart of FAILED tasks and connectors (a Ferry extension; Kafka Connect leaves them
//! FAILED until someone calls the restart endpoint).
//!
//! Off by default. Worker-wide keys, each overridable in a connector's config:
//! `ferry.auto.restart.enable` (false), `ferry.auto.restart.initial.delay.ms` (1000),
//! `ferry.auto.restart.max.delay.ms` (60000, the cap of the doubling delay) and
//! `ferry.auto.restart.max.attempts` (-1 = no limit). Attempts count consecutive failures; a task
//! that runs for longer than the cap starts again from the initial delay. The pending restart is
//! visible in the FAILED status `trace` and counted in `ferry_task_auto_restarts_total`.
//!
//! Both herders drive the same pass, [`AutoRestarts::tick`]; what differs between them — which
//! work is watched and how an instance is restarted — is what they hand it ([`Watched`],
//! [`RestartScope`]).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ferry_api::Props;

use crate::herder::{State, TaskId};
use crate::metrics::Metrics;
use crate::status::StatusStore;

/// Effective auto-restart settings of one connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Whether failures are restarted.
    pub enabled: bool,
    /// First delay.
    pub initial: Duration,
    /// Cap of the doubling delay.
    pub max: Duration,
    /// Maximum consecutive attempts, None = unlimited.
    pub max_attempts: Option<u32>,
}

impl RestartPolicy {
    /// The connector's settings over the worker's.
    pub fn resolve(worker: &Props, connector: &Props) -> Self {
        let get = |k: &str| {
            connector
                .get(k)
                .or_else(|| worker.get(k))
                .map(|v| v.trim().to_owned())
        };
        let ms = |k: &str, d: u64| {
            Duration::from_millis(get(k).and_then(|v| v.parse().ok()).unwrap_or(d))
        };
        RestartPolicy {
            enabled: get("ferry.auto.restart.enable")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            initial: ms("ferry.auto.restart.initial.delay.ms", 1000),
            max: ms("ferry.auto.restart.max.delay.ms", 60_000),
            max_attempts: get("ferry.auto.restart.max.attempts")
                .and_then(|v| v.parse::<i64>().ok())
                .filter(|v| *v >= 0)
                .map(|v| v as u32),
        }
    }

    /// The delay before attempt `attempt` (0-based): initial × 2^attempt, capped.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.initial
            .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
            .min(self.max)
    }
}

/// Per-instance (connector or task) bookkeeping of restarts.
#[derive(Debug)]
pub struct RestartTracker<K> {
    entries: HashMap<K, Entry>,
}

impl<K> Default for RestartTracker<K> {
    fn default() -> Self {
        RestartTracker {
            entries: HashMap::new(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    attempts: u32,
    due: Option<Instant>,
    running_since: Option<Instant>,
}

/// What to do about one instance now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing.
    Wait,
    /// A restart was just scheduled after this delay (attempt number, 1-based).
    Scheduled(Duration, u32),
    /// Restart it now.
    RestartNow,
}

impl<K: std::hash::Hash + Eq + Clone> RestartTracker<K> {
    /// Looks at the instance's state and decides.
    pub fn observe(
        &mut self,
        key: &K,
        state: State,
        policy: &RestartPolicy,
        now: Instant,
    ) -> Decision {
        let e = self.entries.entry(key.clone()).or_insert(Entry {
            attempts: 0,
            due: None,
            running_since: None,
        });
        match state {
            State::Running => {
                let since = *e.running_since.get_or_insert(now);
                if now.duration_since(since) >= policy.max {
                    e.attempts = 0;
                }
                e.due = None;
                Decision::Wait
            }
            State::Failed if policy.enabled => {
                e.running_since = None;
                match e.due {
                    None => {
                        if policy.max_attempts.is_some_and(|m| e.attempts >= m) {
                            return Decision::Wait;
                        }
                        let delay = policy.delay(e.attempts);
                        e.due = Some(now + delay);
                        Decision::Scheduled(delay, e.attempts + 1)
                    }
                    Some(due) if now >= due => {
                        e.due = None;
                        e.attempts += 1;
                        Decision::RestartNow
                    }
                    Some(_) => Decision::Wait,
                }
            }
            _ => {
                e.running_since = None;
                Decision::Wait
            }
        }
    }

    /// Forgets instances no longer present.
    pub fn retain(&mut self, keep: impl Fn(&K) -> bool) {
        self.entries.retain(|k, _| keep(k));
    }
}

/// One connector an auto-restart pass looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    /// The connector's name.
    pub connector: String,
    /// Its effective policy; None (no config known) or disabled means its work is tracked but
    /// never restarted.
    pub policy: Option<RestartPolicy>,
    /// Whether the Connector instance itself is watched. Always in standalone mode; in
    /// distributed mode only when it runs on this worker (its tasks may run here while it runs
    /// elsewhere).
    pub instance: bool,
}

/// What a herder lends the shared pass: the tasks it watches and how to restart its work.
#[async_trait]
pub trait RestartScope: Send {
    /// The tasks of `connector` to look at. Asked after the connector instance was handled, so
    /// tasks its restart just created are seen.
    fn tasks_of(&self, connector: &str) -> Vec<TaskId>;
    /// Whether a task's restart bookkeeping is kept: standalone mode keeps it while the
    /// connector exists (task statuses disappear briefly while tasks are reconfigured);
    /// distributed mode while the task runs on this worker.
    fn keeps_task(&self, id: &TaskId) -> bool;
    /// Restarts the Connector instance (not its tasks).
    async fn restart_connector(&mut self, name: &str);
    /// Restarts one task.
    async fn restart_task(&mut self, id: &TaskId);
}

/// Restart bookkeeping of a herder's connectors and tasks, kept between passes.
#[derive(Debug, Default)]
pub struct AutoRestarts {
    connectors: RestartTracker<String>,
    tasks: RestartTracker<TaskId>,
}

/// `trace` with the scheduled restart appended.
fn scheduled_trace(trace: Option<String>, what: &str, attempt: u32, delay: Duration) -> String {
    format!(
        "{}\nFerry: automatic restart #{attempt} of the {what} in {} ms",
        trace.unwrap_or_default(),
        delay.as_millis()
    )
}

impl AutoRestarts {
    /// One pass over `watched`: forgets work no longer watched, schedules restarts of newly
    /// FAILED instances whose policy is enabled (appending the pending restart to the FAILED
    /// status trace), and restarts those due through `scope`. Each connector instance is handled
    /// before its tasks.
    pub async fn tick<S: RestartScope>(
        &mut self,
        watched: &[Watched],
        status: &StatusStore,
        metrics: &Metrics,
        scope: &mut S,
    ) {
        let now = Instant::now();
        self.connectors
            .retain(|n| watched.iter().any(|w| w.instance && w.connector == *n));
        self.tasks.retain(|id| scope.keeps_task(id));
        for w in watched {
            let Some(policy) = w.policy.filter(|p| p.enabled) else {
                continue;
            };
            let name = &w.connector;
            if let Some(s) = status.connector(name).filter(|_| w.instance) {
                match self.connectors.observe(name, s.state, &policy, now) {
                    Decision::Scheduled(delay, attempt) => {
                        let trace = scheduled_trace(s.trace, "connector", attempt, delay);
                        status.put_connector(name, State::Failed, Some(trace));
                    }
                    Decision::RestartNow => {
                        tracing::info!(connector = %name, "automatic restart of the failed connector");
                        scope.restart_connector(name).await;
                    }
                    Decision::Wait => {}
                }
            }
            for id in scope.tasks_of(name) {
                let Some(s) = status.task(&id) else { continue };
                match self.tasks.observe(&id, s.state, &policy, now) {
                    Decision::Scheduled(delay, attempt) => {
                        let trace = scheduled_trace(s.trace, "task", attempt, delay);
                        status.put_task(&id, State::Failed, Some(trace));
                    }
                    Decision::RestartNow => {
                        tracing::info!(task = %id, "automatic restart of the failed task");
                        metrics
                            .task(&id)
                            .auto_restarts
                            .fetch_add(1, Ordering::Relaxed);
                        scope.restart_task(&id).await;
                    }
                    Decision::Wait => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn connector_settings_override_the_worker() {
        let worker = props(&[
            ("ferry.auto.restart.enable", "true"),
            ("ferry.auto.restart.initial.delay.ms", "100"),
        ]);
        let p = RestartPolicy::resolve(
            &worker,
            &props(&[("ferry.auto.restart.max.delay.ms", "250")]),
        );
        assert!(p.enabled);
        assert_eq!(
            [p.delay(0), p.delay(1), p.delay(2), p.delay(40)],
            [100, 200, 250, 250].map(Duration::from_millis)
        );
        assert!(
            !RestartPolicy::resolve(&worker, &props(&[("ferry.auto.restart.enable", "false")]))
                .enabled
        );
    }

    #[test]
    fn schedules_then_restarts_with_backoff_and_a_cap_on_attempts() {
        let policy = RestartPolicy {
            enabled: true,
            initial: Duration::from_secs(1),
            max: Duration::from_secs(4),
            max_attempts: Some(2),
        };
        let mut t = RestartTracker::default();
        let t0 = Instant::now();
        assert_eq!(
            t.observe(&"a", State::Failed, &policy, t0),
            Decision::Scheduled(Duration::from_secs(1), 1)
        );
        assert_eq!(
            t.observe(
                &"a",
                State::Failed,
                &policy,
                t0 + Duration::from_millis(500)
            ),
            Decision::Wait
        );
        assert_eq!(
            t.observe(&"a", State::Failed, &policy, t0 + Duration::from_secs(1)),
            Decision::RestartNow
        );
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(
            t.observe(&"a", State::Failed, &policy, t1),
            Decision::Scheduled(Duration::from_secs(2), 2)
        );
        assert_eq!(
            t.observe(&"a", State::Failed, &policy, t1 + Duration::from_secs(2)),
            Decision::RestartNow
        );
        assert_eq!(
            t.observe(&"a", State::Failed, &policy, t1 + Duration::from_secs(3)),
            Decision::Wait,
            "max attempts reached"
        );
        // Running long enough resets the count.
        let t2 = t1 + Duration::from_secs(10);
        t.observe(&"a", State::Running, &policy, t2);
        t.observe(&"a", State::Running, &policy, t2 + Duration::from_secs(4));
        assert_eq!(
            t.observe(&"a", State::Failed, &policy, t2 + Duration::from_secs(5)),
            Decision::Scheduled(Duration::from_secs(1), 1)
        );
    }

    /// Records what the pass asks for; watches a fixed set of tasks.
    struct FakeScope {
        tasks: Vec<TaskId>,
        restarted: Vec<String>,
    }

    #[async_trait]
    impl RestartScope for FakeScope {
        fn tasks_of(&self, connector: &str) -> Vec<TaskId> {
            self.tasks
                .iter()
                .filter(|id| id.connector == connector)
                .cloned()
                .collect()
        }

        fn keeps_task(&self, id: &TaskId) -> bool {
            self.tasks.contains(id)
        }

        async fn restart_connector(&mut self, name: &str) {
            self.restarted.push(format!("connector {name}"));
        }

        async fn restart_task(&mut self, id: &TaskId) {
            self.restarted
                .push(format!("task {}/{}", id.connector, id.task));
        }
    }

    fn task(connector: &str, task: u32) -> TaskId {
        TaskId {
            connector: connector.to_owned(),
            task,
        }
    }

    #[tokio::test]
    async fn a_pass_traces_the_scheduled_restart_then_restarts_only_watched_enabled_work() {
        let enabled = RestartPolicy {
            enabled: true,
            initial: Duration::ZERO,
            max: Duration::from_secs(60),
            max_attempts: None,
        };
        let watched = [
            Watched {
                connector: "a".into(),
                policy: Some(enabled),
                instance: true,
            },
            // Its tasks run here, the Connector instance elsewhere.
            Watched {
                connector: "b".into(),
                policy: Some(enabled),
                instance: false,
            },
            Watched {
                connector: "c".into(),
                policy: Some(RestartPolicy {
                    enabled: false,
                    ..enabled
                }),
                instance: true,
            },
            Watched {
                connector: "d".into(),
                policy: None,
                instance: true,
            },
        ];
        let status = StatusStore::new("w1".into());
        let metrics = Metrics::default();
        let mut scope = FakeScope {
            tasks: vec![task("a", 0), task("b", 0), task("c", 0), task("d", 0)],
            restarted: Vec::new(),
        };
        for name in ["a", "b", "c", "d"] {
            status.put_connector(name, State::Failed, Some(format!("{name} broke")));
            status.put_task(
                &task(name, 0),
                State::Failed,
                Some(format!("{name}/0 broke")),
            );
        }
        let mut restarts = AutoRestarts::default();

        restarts.tick(&watched, &status, &metrics, &mut scope).await;
        let connector_traces: Vec<_> = ["a", "b", "c", "d"]
            .map(|n| status.connector(n).unwrap().trace.unwrap())
            .into();
        assert_eq!(
            connector_traces,
            [
                "a broke\nFerry: automatic restart #1 of the connector in 0 ms",
                "b broke",
                "c broke",
                "d broke",
            ]
        );
        let task_traces: Vec<_> = ["a", "b", "c", "d"]
            .map(|n| status.task(&task(n, 0)).unwrap().trace.unwrap())
            .into();
        assert_eq!(
            task_traces,
            [
                "a/0 broke\nFerry: automatic restart #1 of the task in 0 ms",
                "b/0 broke\nFerry: automatic restart #1 of the task in 0 ms",
                "c/0 broke",
                "d/0 broke",
            ]
        );
        assert!(scope.restarted.is_empty());

        restarts.tick(&watched, &status, &metrics, &mut scope).await;
        assert_eq!(scope.restarted, ["connector a", "task a/0", "task b/0"]);
        assert_eq!(
            [task("a", 0), task("b", 0), task("c", 0)]
                .map(|id| metrics.task(&id).auto_restarts.load(Ordering::Relaxed)),
            [1, 1, 0]
        );
    }
}
