//! The distributed worker's own lines on `GET /metrics`, after the per-task figures every
//! worker renders: how often each task was started here and this worker's place in the group
//! (Connect's `connect-worker-rebalance-metrics` `leader-name` and `epoch`, as Prometheus
//! gauges).
//!
//! Start counts make incremental cooperative rebalancing observable: a task that a rebalance
//! leaves where it was keeps its count; a task that moved starts at 1 on its new worker.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ferry_worker::herder::TaskId;

use super::work::Leader;
use super::DistributedHerder;

impl DistributedHerder {
    /// Notes that task `id` was started on this worker.
    pub(super) fn count_task_start(&self, id: &TaskId) {
        *self
            .task_starts
            .lock()
            .unwrap()
            .entry(id.clone())
            .or_default() += 1;
    }

    /// Forgets the start counts of a deleted connector's tasks.
    pub(super) fn forget_task_starts(&self, connector: &str) {
        self.task_starts
            .lock()
            .unwrap()
            .retain(|id, _| id.connector != connector);
    }

    /// Appends the start counts and the group figures to `out`.
    pub(super) fn render_cluster_metrics(&self, out: &mut String) {
        let starts = self.task_starts.lock().unwrap().clone();
        let is_leader = matches!(self.leader_now(), Leader::Me);
        render(out, &starts, is_leader, self.generation());
    }
}

fn render(out: &mut String, starts: &BTreeMap<TaskId, u64>, is_leader: bool, generation: i32) {
    let _ = writeln!(
        out,
        "# HELP ferry_task_starts_total Times this worker started the task (Ferry extension).\n\
         # TYPE ferry_task_starts_total counter"
    );
    for (id, n) in starts {
        let _ = writeln!(
            out,
            "ferry_task_starts_total{{connector=\"{}\",task=\"{}\"}} {n}",
            id.connector.replace('\\', "\\\\").replace('"', "\\\""),
            id.task
        );
    }
    let _ = writeln!(
        out,
        "# HELP ferry_worker_rebalance_leader 1 when this worker leads the group's current generation.\n\
         # TYPE ferry_worker_rebalance_leader gauge\n\
         ferry_worker_rebalance_leader {}\n\
         # HELP ferry_worker_rebalance_epoch The group generation this worker last joined (-1 before the first).\n\
         # TYPE ferry_worker_rebalance_epoch gauge\n\
         ferry_worker_rebalance_epoch {generation}",
        u8::from(is_leader)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_start_counts_and_leadership() {
        let starts = BTreeMap::from([
            (
                TaskId {
                    connector: "a\"b".into(),
                    task: 0,
                },
                2,
            ),
            (
                TaskId {
                    connector: "c".into(),
                    task: 3,
                },
                1,
            ),
        ]);
        let mut out = String::new();
        render(&mut out, &starts, true, 7);
        assert_eq!(
            out,
            "# HELP ferry_task_starts_total Times this worker started the task (Ferry extension).\n\
             # TYPE ferry_task_starts_total counter\n\
             ferry_task_starts_total{connector=\"a\\\"b\",task=\"0\"} 2\n\
             ferry_task_starts_total{connector=\"c\",task=\"3\"} 1\n\
             # HELP ferry_worker_rebalance_leader 1 when this worker leads the group's current generation.\n\
             # TYPE ferry_worker_rebalance_leader gauge\n\
             ferry_worker_rebalance_leader 1\n\
             # HELP ferry_worker_rebalance_epoch The group generation this worker last joined (-1 before the first).\n\
             # TYPE ferry_worker_rebalance_epoch gauge\n\
             ferry_worker_rebalance_epoch 7\n"
        );
    }
}
