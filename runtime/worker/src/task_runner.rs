//! Starting and stopping task runners. A supervisor watches each runner so that a panic inside a
//! task is reported as FAILED — a dead task must never show RUNNING.

use std::time::Duration;

use ferry_api::{ConnectError, TaskFactory};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::herder::{State, TargetState};
use crate::sink_task::run_sink_task;
use crate::source_task::run_source_task;
use crate::task_context::{report_failure, TaskSpec, WorkerContext};

/// A running task: its control channel and its supervisor.
#[derive(Debug)]
pub struct RunningTask {
    control: watch::Sender<TargetState>,
    join: JoinHandle<()>,
    /// The config it runs with.
    pub config: ferry_api::Props,
}

/// Starts a task in `initial` state (Started or Paused).
pub fn start_task(
    ctx: &WorkerContext,
    spec: TaskSpec,
    factory: TaskFactory,
    initial: TargetState,
) -> RunningTask {
    let (control, rx) = watch::channel(initial);
    let id = spec.id.clone();
    let config = spec.task_props.clone();
    ctx.status.put_task(&id, State::Unassigned, None);
    // Each task runs on a thread of its own, as in Connect. A runner converts and produces (or
    // consumes and converts) whole batches without an await point; on a runtime worker that
    // would also hold back whatever it spawns — a source task's next query sits in that
    // worker's LIFO slot, out of reach of the idle workers, until the batch is sent — so the
    // database read and the send of the page before it would take turns instead of overlapping.
    let handle = tokio::runtime::Handle::current();
    let inner: JoinHandle<()> = match factory {
        TaskFactory::Source(new) => {
            let ctx = ctx.clone();
            tokio::task::spawn_blocking(move || {
                handle.block_on(run_source_task(ctx, spec, new(), rx))
            })
        }
        TaskFactory::Sink(new) => {
            let ctx = ctx.clone();
            tokio::task::spawn_blocking(move || run_sink_task(ctx, spec, new(), rx, handle))
        }
    };
    let supervisor_ctx = ctx.clone();
    let join = tokio::spawn(async move {
        if let Err(e) = inner.await {
            if e.is_panic() {
                let payload = e.into_panic();
                let msg = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                report_failure(
                    &supervisor_ctx,
                    &id,
                    &ConnectError::internal(format!("task panicked: {msg}")),
                );
            }
        }
    });
    RunningTask {
        control,
        join,
        config,
    }
}

impl RunningTask {
    /// Asks the task to pause or resume.
    pub fn set_target(&self, state: TargetState) {
        let _ = self.control.send(state);
    }
    /// Whether the runner has ended (stopped or failed).
    pub fn is_finished(&self) -> bool {
        self.join.is_finished()
    }
    /// Asks the task to stop and waits up to `timeout`; returns false if it did not stop in time
    /// (it is then abandoned, as Connect does).
    pub async fn stop(self, timeout: Duration) -> bool {
        let _ = self.control.send(TargetState::Stopped);
        tokio::time::timeout(timeout, self.join).await.is_ok()
    }
}
