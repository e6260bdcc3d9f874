//! Automatic restart of FAILED tasks and connectors (a Ferry extension; Kafka Connect leaves them
//! FAILED until someone calls the restart endpoint).
//!
//! Off by default. Worker-wide keys, each overridable in a connector's config:
//! `ferry.auto.restart.enable` (false), `ferry.auto.restart.initial.delay.ms` (1000),
//! `ferry.auto.restart.max.delay.ms` (60000, the cap of the doubling delay) and
//! `ferry.auto.restart.max.attempts` (-1 = no limit). Attempts count consecutive failures; a task
//! that runs for longer than the cap starts again from the initial delay. The pending restart is
//! visible in the FAILED status `trace` and counted in `ferry_task_auto_restarts_total`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ferry_api::Props;

use crate::herder::State;

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
}
