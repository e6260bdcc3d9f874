//! Prometheus metrics (`GET /metrics`, text exposition format 0.0.4): per connector and task —
//! records polled/written/filtered/errored, DLQ records, batch sizes, offset commits and their
//! latency, sink consumer lag, auto-restarts, task state — and worker-level figures.
//!
//! Counters are plain atomics updated on the data path (one relaxed add per batch, not per
//! record, where the runners can), rendered on request. No metrics crate: the format is simple
//! and this keeps the binary small.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::herder::{State, TaskId};
use crate::status::StatusStore;

/// The figures of one task.
#[derive(Debug, Default)]
pub struct TaskMetrics {
    /// Records read from the source system (source) or from Kafka (sink).
    pub records_read: AtomicU64,
    /// Records sent to Kafka (source) or handed to `put` (sink).
    pub records_written: AtomicU64,
    /// Records dropped by a transform or predicate.
    pub records_filtered: AtomicU64,
    /// Records that failed conversion or transformation (tolerated or not).
    pub records_errored: AtomicU64,
    /// Records written to the dead letter queue.
    pub records_dlq: AtomicU64,
    /// Batches processed.
    pub batches: AtomicU64,
    /// Sum of batch sizes (mean = sum / batches).
    pub batch_records: AtomicU64,
    /// Largest batch seen.
    pub batch_max: AtomicU64,
    /// Successful offset commits.
    pub commits_ok: AtomicU64,
    /// Failed offset commits.
    pub commits_failed: AtomicU64,
    /// Total offset commit time, microseconds.
    pub commit_micros: AtomicU64,
    /// Sink: records behind the end of the assigned partitions, at the last commit.
    pub consumer_lag: AtomicI64,
    /// Automatic restarts after failure (Ferry extension).
    pub auto_restarts: AtomicU64,
}

impl TaskMetrics {
    /// Notes a batch of `n` records.
    pub fn batch(&self, n: usize) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.batch_records.fetch_add(n as u64, Ordering::Relaxed);
        self.batch_max.fetch_max(n as u64, Ordering::Relaxed);
    }
    /// Notes an offset commit that took `took`.
    pub fn commit(&self, ok: bool, took: Duration) {
        if ok {
            self.commits_ok.fetch_add(1, Ordering::Relaxed);
        } else {
            self.commits_failed.fetch_add(1, Ordering::Relaxed);
        }
        self.commit_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }
}

/// Every task's metrics.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    tasks: Mutex<BTreeMap<TaskId, Arc<TaskMetrics>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            tasks: Mutex::default(),
        }
    }
}

/// A per-task metric: name, Prometheus type, help text and how to read it.
type PerTask = (
    &'static str,
    &'static str,
    &'static str,
    fn(&TaskMetrics) -> f64,
);

fn count(v: &AtomicU64) -> f64 {
    v.load(Ordering::Relaxed) as f64
}

/// Every per-task metric, in exposition order.
const PER_TASK: [PerTask; 13] = [
    (
        "ferry_task_records_read_total",
        "counter",
        "Records read from the source system (source tasks) or from Kafka (sink tasks).",
        |m| count(&m.records_read),
    ),
    (
        "ferry_task_records_written_total",
        "counter",
        "Records sent to Kafka (source tasks) or handed to put (sink tasks).",
        |m| count(&m.records_written),
    ),
    (
        "ferry_task_records_filtered_total",
        "counter",
        "Records dropped by transforms or predicates.",
        |m| count(&m.records_filtered),
    ),
    (
        "ferry_task_records_errored_total",
        "counter",
        "Records that failed conversion or transformation.",
        |m| count(&m.records_errored),
    ),
    (
        "ferry_task_dlq_records_total",
        "counter",
        "Records written to the dead letter queue.",
        |m| count(&m.records_dlq),
    ),
    (
        "ferry_task_batches_total",
        "counter",
        "Batches processed.",
        |m| count(&m.batches),
    ),
    (
        "ferry_task_batch_records_total",
        "counter",
        "Sum of batch sizes; divide by ferry_task_batches_total for the mean.",
        |m| count(&m.batch_records),
    ),
    (
        "ferry_task_offset_commits_total",
        "counter",
        "Successful offset commits.",
        |m| count(&m.commits_ok),
    ),
    (
        "ferry_task_offset_commit_failures_total",
        "counter",
        "Failed offset commits.",
        |m| count(&m.commits_failed),
    ),
    (
        "ferry_task_offset_commit_seconds_total",
        "counter",
        "Time spent committing offsets.",
        |m| count(&m.commit_micros) / 1e6,
    ),
    (
        "ferry_task_auto_restarts_total",
        "counter",
        "Automatic restarts of the failed task (Ferry extension).",
        |m| count(&m.auto_restarts),
    ),
    (
        "ferry_task_batch_max_records",
        "gauge",
        "Largest batch seen.",
        |m| count(&m.batch_max),
    ),
    (
        "ferry_sink_consumer_lag_records",
        "gauge",
        "Records between the committed position and the end of the assigned partitions.",
        |m| m.consumer_lag.load(Ordering::Relaxed) as f64,
    ),
];

const STATES: [State; 6] = [
    State::Unassigned,
    State::Running,
    State::Paused,
    State::Stopped,
    State::Failed,
    State::Restarting,
];

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// The metrics of task `id` (created on first use; kept across restarts of the task).
    pub fn task(&self, id: &TaskId) -> Arc<TaskMetrics> {
        self.tasks
            .lock()
            .unwrap()
            .entry(id.clone())
            .or_default()
            .clone()
    }
    /// Forgets the tasks of a deleted connector.
    pub fn remove_connector(&self, connector: &str) {
        self.tasks
            .lock()
            .unwrap()
            .retain(|id, _| id.connector != connector);
    }

    /// Renders the Prometheus text format. `connectors` lists (name, type) of every connector.
    pub fn render(&self, status: &StatusStore, connectors: &[(String, &'static str)]) -> String {
        let mut out = String::with_capacity(4096);
        let tasks = self.tasks.lock().unwrap().clone();
        for (name, kind, help, get) in PER_TASK {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (id, m) in &tasks {
                let _ = writeln!(
                    out,
                    "{name}{{connector=\"{}\",task=\"{}\"}} {}",
                    escape(&id.connector),
                    id.task,
                    get(m)
                );
            }
        }
        let gauge = |out: &mut String, name: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        };
        gauge(
            &mut out,
            "ferry_task_state",
            "1 for the task's current state.",
        );
        gauge(
            &mut out,
            "ferry_connector_state",
            "1 for the connector's current state.",
        );
        let mut task_count = 0;
        for (name, kind) in connectors {
            let c = status.connector(name).map(|s| s.state);
            for st in STATES {
                let v = u8::from(c == Some(st));
                let _ = writeln!(
                    out,
                    "ferry_connector_state{{connector=\"{}\",type=\"{kind}\",state=\"{}\"}} {v}",
                    escape(name),
                    st.as_str()
                );
            }
            for (task, s) in status.tasks_of(name) {
                task_count += 1;
                for st in STATES {
                    let v = u8::from(s.state == st);
                    let _ = writeln!(
                        out,
                        "ferry_task_state{{connector=\"{}\",task=\"{task}\",state=\"{}\"}} {v}",
                        escape(name),
                        st.as_str()
                    );
                }
            }
        }
        gauge(
            &mut out,
            "ferry_worker_connectors",
            "Connectors on this worker.",
        );
        let _ = writeln!(out, "ferry_worker_connectors {}", connectors.len());
        gauge(&mut out, "ferry_worker_tasks", "Tasks on this worker.");
        let _ = writeln!(out, "ferry_worker_tasks {task_count}");
        gauge(
            &mut out,
            "ferry_worker_uptime_seconds",
            "Seconds since the worker started.",
        );
        let _ = writeln!(
            out,
            "ferry_worker_uptime_seconds {}",
            self.started.elapsed().as_secs_f64()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_states() {
        let m = Metrics::default();
        let id = TaskId {
            connector: "c\"1".into(),
            task: 0,
        };
        let t = m.task(&id);
        t.records_written.fetch_add(5, Ordering::Relaxed);
        t.batch(3);
        t.batch(7);
        let status = StatusStore::new("w:1".into());
        status.put_connector("c\"1", State::Running, None);
        status.put_task(&id, State::Failed, Some("boom".into()));
        let text = m.render(&status, &[("c\"1".into(), "source")]);
        assert!(
            text.contains("ferry_task_records_written_total{connector=\"c\\\"1\",task=\"0\"} 5\n"),
            "{text}"
        );
        assert!(
            text.contains("ferry_task_batch_records_total{connector=\"c\\\"1\",task=\"0\"} 10\n")
        );
        assert!(text.contains("ferry_task_batch_max_records{connector=\"c\\\"1\",task=\"0\"} 7\n"));
        assert!(
            text.contains("ferry_task_state{connector=\"c\\\"1\",task=\"0\",state=\"FAILED\"} 1\n")
        );
        assert!(text
            .contains("ferry_task_state{connector=\"c\\\"1\",task=\"0\",state=\"RUNNING\"} 0\n"));
        assert!(text.contains(
            "ferry_connector_state{connector=\"c\\\"1\",type=\"source\",state=\"RUNNING\"} 1\n"
        ));
        assert!(text.contains("ferry_worker_tasks 1\n"));
    }
}
