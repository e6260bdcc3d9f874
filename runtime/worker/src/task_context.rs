//! What every task runner needs from its worker, and how tasks are told to pause, resume and stop.

use std::sync::Arc;
use std::time::Duration;

use ferry_api::{ConnectError, Props};
use tokio::sync::watch;

use crate::herder::{State, TargetState, TaskId};
use crate::offset_store::OffsetBackingStore;
use crate::plugins::Plugins;
use crate::status::StatusStore;
use crate::worker_config::WorkerConfig;

/// The worker-wide parts a task runs with.
#[derive(Debug, Clone)]
pub struct WorkerContext {
    /// Worker config.
    pub config: Arc<WorkerConfig>,
    /// Bundled plugins.
    pub plugins: Arc<Plugins>,
    /// Source offsets.
    pub offsets: Arc<dyn OffsetBackingStore>,
    /// Statuses.
    pub status: Arc<StatusStore>,
    /// Metrics.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// One task to run.
#[derive(Debug, Clone)]
pub struct TaskSpec {
    /// Id.
    pub id: TaskId,
    /// The connector's config (converters, transforms and error handling come from it).
    pub connector_props: Props,
    /// The task's own config, as the connector generated it.
    pub task_props: Props,
}

/// The state a running task is asked to be in. `Stopped` ends the task.
pub type TaskControl = watch::Receiver<TargetState>;

/// Reports a task's runtime state.
pub(crate) fn report(ctx: &WorkerContext, id: &TaskId, state: State, trace: Option<String>) {
    ctx.status.put_task(id, state, trace);
}

/// Marks the task FAILED with the error's trace and logs it.
pub(crate) fn report_failure(ctx: &WorkerContext, id: &TaskId, error: &ConnectError) {
    tracing::error!(task = %id, "task failed: {}", error.trace());
    report(ctx, id, State::Failed, Some(error.trace()));
}

/// Retries of retriable errors back off exponentially from 300 ms up to this cap.
pub(crate) const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(10);

/// The next backoff after `current`.
pub(crate) fn next_backoff(current: Duration) -> Duration {
    (current * 2).clamp(Duration::from_millis(300), MAX_RETRY_BACKOFF)
}
