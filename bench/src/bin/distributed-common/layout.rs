//! Where every Connector instance and task runs, and in what state: the facts the
//! distributed benchmark times (a failover is over when the lost work is RUNNING elsewhere; a
//! join is over when the placement is balanced and RUNNING).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// One unit of work the group protocol assigns: a Connector instance or one of its tasks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Unit {
    Connector(String),
    Task(String, u64),
}

impl Unit {
    pub(crate) fn is_task(&self) -> bool {
        matches!(self, Unit::Task(..))
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unit::Connector(name) => write!(f, "{name}"),
            Unit::Task(name, id) => write!(f, "{name}-{id}"),
        }
    }
}

/// A unit's runtime state and the worker the status topic names for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placement {
    pub(crate) state: String,
    pub(crate) worker: String,
}

/// Every unit the REST answer lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Layout(pub(crate) BTreeMap<Unit, Placement>);

impl Layout {
    /// Reads the body of `GET /connectors?expand=status` (`{name: {status: {connector, tasks}}}`);
    /// the error names the connector whose entry is malformed.
    pub(crate) fn from_expanded_status(body: &Value) -> Result<Layout, String> {
        let connectors = body
            .as_object()
            .ok_or_else(|| format!("expected an object keyed by connector name, got {body}"))?;
        let mut units = BTreeMap::new();
        for (name, entry) in connectors {
            let status = &entry["status"];
            let bad = |what: &str| format!("connector {name}: {what} in {entry}");
            units.insert(
                Unit::Connector(name.clone()),
                placement(&status["connector"]).ok_or_else(|| bad("no connector state"))?,
            );
            let tasks = status["tasks"]
                .as_array()
                .ok_or_else(|| bad("no tasks array"))?;
            for task in tasks {
                let id = task["id"]
                    .as_u64()
                    .ok_or_else(|| bad("a task without id"))?;
                let at = placement(task).ok_or_else(|| bad("a task without state"))?;
                units.insert(Unit::Task(name.clone(), id), at);
            }
        }
        Ok(Layout(units))
    }

    /// The units `worker` runs.
    pub(crate) fn on_worker(&self, worker: &str) -> BTreeSet<Unit> {
        self.0
            .iter()
            .filter(|(_, at)| at.worker == worker)
            .map(|(unit, _)| unit.clone())
            .collect()
    }

    /// Those of `units` not yet RUNNING on a worker other than `lost` (a failover is over when
    /// none is left).
    pub(crate) fn not_running_elsewhere<'a>(
        &self,
        units: &'a BTreeSet<Unit>,
        lost: &str,
    ) -> Vec<&'a Unit> {
        units
            .iter()
            .filter(|unit| {
                !self
                    .0
                    .get(unit)
                    .is_some_and(|at| at.state == "RUNNING" && at.worker != lost)
            })
            .collect()
    }

    /// How many units are RUNNING.
    pub(crate) fn running(&self) -> usize {
        self.0.values().filter(|at| at.state == "RUNNING").count()
    }

    /// `STATE=count` for every state present, e.g. `RUNNING=86 UNASSIGNED=24`.
    pub(crate) fn describe_states(&self) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for at in self.0.values() {
            *counts.entry(at.state.as_str()).or_default() += 1;
        }
        counts
            .iter()
            .map(|(state, n)| format!("{state}={n}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Units per worker as `(connectors, tasks)`.
    pub(crate) fn counts(&self) -> BTreeMap<&str, (usize, usize)> {
        let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for (unit, at) in &self.0 {
            let entry = counts.entry(at.worker.as_str()).or_default();
            if unit.is_task() {
                entry.1 += 1;
            } else {
                entry.0 += 1;
            }
        }
        counts
    }

    /// Why this layout is not yet the settled one the benchmark waits for, or None when it is:
    /// `connectors` connectors and `tasks` tasks, all RUNNING, spread over exactly `workers`
    /// workers with connector counts and task counts each differing by at most one (the
    /// balance Connect's incremental cooperative assignor reaches).
    pub(crate) fn unsettled(
        &self,
        connectors: usize,
        tasks: usize,
        workers: usize,
    ) -> Option<String> {
        let have_tasks = self.0.keys().filter(|u| u.is_task()).count();
        let have_connectors = self.0.len() - have_tasks;
        if (have_connectors, have_tasks) != (connectors, tasks) {
            return Some(format!(
                "{have_connectors} connectors and {have_tasks} tasks listed, want {connectors} and {tasks}"
            ));
        }
        if let Some((unit, at)) = self.0.iter().find(|(_, at)| at.state != "RUNNING") {
            return Some(format!("{unit} is {} on {}", at.state, at.worker));
        }
        let counts = self.counts();
        if counts.len() != workers {
            return Some(format!("work on {} workers, want {workers}", counts.len()));
        }
        let spread = |pick: fn(&(usize, usize)) -> usize| {
            let min = counts.values().map(pick).min().unwrap_or(0);
            let max = counts.values().map(pick).max().unwrap_or(0);
            max - min
        };
        if spread(|c| c.0) > 1 || spread(|c| c.1) > 1 {
            return Some(format!("not balanced: {}", self.describe_counts()));
        }
        None
    }

    /// `worker: Cc/Tt` for each worker, for log lines.
    pub(crate) fn describe_counts(&self) -> String {
        self.counts()
            .iter()
            .map(|(w, (c, t))| format!("{w}: {c}c/{t}t"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// How many units of `before` now run on another worker, as `(connectors, tasks)`.
    pub(crate) fn moved_since(&self, before: &Layout) -> (usize, usize) {
        let mut moved = (0, 0);
        for (unit, was) in &before.0 {
            if self.0.get(unit).is_some_and(|now| now.worker != was.worker) {
                if unit.is_task() {
                    moved.1 += 1;
                } else {
                    moved.0 += 1;
                }
            }
        }
        moved
    }
}

fn placement(status: &Value) -> Option<Placement> {
    Some(Placement {
        state: status["state"].as_str()?.to_owned(),
        worker: status["worker_id"].as_str().unwrap_or_default().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `(state, worker)` of each task, in id order.
    type Tasks<'a> = &'a [(&'a str, &'a str)];
    /// `(connector, its worker, its tasks)`.
    type Entry<'a> = (&'a str, &'a str, Tasks<'a>);

    /// `GET /connectors?expand=status` for connectors named after their tasks' workers.
    fn body(entries: &[Entry<'_>]) -> Value {
        let mut map = serde_json::Map::new();
        for (name, owner, tasks) in entries {
            let tasks: Vec<Value> = tasks
                .iter()
                .enumerate()
                .map(|(i, (state, w))| json!({"id": i, "state": state, "worker_id": w}))
                .collect();
            map.insert(
                name.to_string(),
                json!({"status": {
                    "name": name,
                    "connector": {"state": "RUNNING", "worker_id": owner},
                    "tasks": tasks,
                    "type": "source"
                }}),
            );
        }
        Value::Object(map)
    }

    fn layout(entries: &[Entry<'_>]) -> Layout {
        Layout::from_expanded_status(&body(entries)).unwrap()
    }

    #[test]
    fn parses_connectors_and_tasks_with_their_workers() {
        let l = layout(&[("a", "w1", &[("RUNNING", "w2"), ("PAUSED", "w1")])]);
        let expect: Vec<(Unit, &str, &str)> = vec![
            (Unit::Connector("a".into()), "RUNNING", "w1"),
            (Unit::Task("a".into(), 0), "RUNNING", "w2"),
            (Unit::Task("a".into(), 1), "PAUSED", "w1"),
        ];
        let got: Vec<(Unit, &str, &str)> =
            l.0.iter()
                .map(|(u, p)| (u.clone(), p.state.as_str(), p.worker.as_str()))
                .collect();
        assert_eq!(got, expect);
        assert_eq!(l.running(), 2);
        assert_eq!(l.describe_states(), "PAUSED=1 RUNNING=2");
        assert_eq!(
            l.on_worker("w1"),
            BTreeSet::from([Unit::Connector("a".into()), Unit::Task("a".into(), 1)])
        );
    }

    #[test]
    fn malformed_entries_name_the_connector() {
        let err =
            Layout::from_expanded_status(&json!({"c9": {"status": {"tasks": []}}})).unwrap_err();
        assert!(err.starts_with("connector c9: no connector state"), "{err}");
        let err = Layout::from_expanded_status(&json!(["c9"])).unwrap_err();
        assert!(err.starts_with("expected an object"), "{err}");
    }

    #[test]
    fn failover_is_over_when_lost_units_run_elsewhere() {
        let lost = BTreeSet::from([Unit::Connector("a".into()), Unit::Task("a".into(), 0)]);
        let cases: [(Tasks<'_>, &str, &[&str]); 4] = [
            // Stale status: still RUNNING on the killed worker.
            (&[("RUNNING", "w3")], "w2", &["a-0"]),
            (&[("UNASSIGNED", "w2")], "w2", &["a-0"]),
            (&[("RUNNING", "w2")], "w3", &["a"]),
            (&[("RUNNING", "w1")], "w2", &[]),
        ];
        for (tasks, owner, want) in cases {
            let l = layout(&[("a", owner, tasks), ("b", "w3", &[("RUNNING", "w3")])]);
            let pending: Vec<String> = l
                .not_running_elsewhere(&lost, "w3")
                .iter()
                .map(|u| u.to_string())
                .collect();
            assert_eq!(pending, want, "{tasks:?} {owner}");
        }
    }

    #[test]
    fn settled_means_counted_running_spread_and_balanced() {
        let r = "RUNNING";
        let cases: [(&[Entry<'_>], Option<&str>); 5] = [
            (
                &[
                    ("a", "w1", &[(r, "w2"), (r, "w1")]),
                    ("b", "w2", &[(r, "w1")]),
                ],
                None,
            ),
            (
                &[("a", "w1", &[(r, "w2"), (r, "w1")])],
                Some("1 connectors and 2 tasks listed, want 2 and 3"),
            ),
            (
                &[
                    ("a", "w1", &[(r, "w2"), ("UNASSIGNED", "w1")]),
                    ("b", "w2", &[(r, "w1")]),
                ],
                Some("a-1 is UNASSIGNED on w1"),
            ),
            (
                &[
                    ("a", "w1", &[(r, "w1"), (r, "w1")]),
                    ("b", "w1", &[(r, "w1")]),
                ],
                Some("work on 1 workers, want 2"),
            ),
            (
                &[
                    ("a", "w1", &[(r, "w1"), (r, "w1")]),
                    ("b", "w1", &[(r, "w2")]),
                ],
                Some("not balanced: w1: 2c/2t, w2: 0c/1t"),
            ),
        ];
        for (entries, want) in cases {
            assert_eq!(
                layout(entries).unsettled(2, 3, 2).as_deref(),
                want,
                "{entries:?}"
            );
        }
    }

    #[test]
    fn moved_counts_units_on_another_worker() {
        let r = "RUNNING";
        let before = layout(&[("a", "w1", &[(r, "w1"), (r, "w2"), (r, "w2")])]);
        let after = layout(&[("a", "w3", &[(r, "w1"), (r, "w3"), (r, "w2")])]);
        assert_eq!(after.moved_since(&before), (1, 1));
        assert_eq!(after.moved_since(&after), (0, 0));
    }
}
