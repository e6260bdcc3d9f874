//! Times a distributed Ferry cluster settling: polls one worker's REST API until every
//! connector and task is RUNNING and spread evenly over the expected number of workers (what
//! the incremental cooperative assignor converges to), e.g. after a worker joined.
//! The clock starts at `--since-ms` (epoch ms, e.g. when the script started the new worker) or
//! when this probe starts. With `--before FILE` (a `--save`d answer) it also counts the
//! connectors and tasks that now run on another worker than before.

use std::fs;
use std::time::Duration;

use ferry_bench::args::Args;

// Each probe uses part of the shared module.
#[allow(dead_code)]
#[path = "distributed-common/mod.rs"]
mod common;

use common::layout::Layout;
use common::rest::{epoch_ms, Worker};

const USAGE: &str = "distributed-settle --rest URL --connectors N --tasks T --workers W \
                     [--since-ms EPOCH_MS] [--before FILE] [--save FILE] [--interval-ms 20] \
                     [--timeout-secs 300]";

fn main() {
    let args = Args::parse(USAGE);
    let since: u64 = args.get("since-ms").unwrap_or_else(epoch_ms);
    let rest: String = args.required("rest");
    let connectors: usize = args.required("connectors");
    let tasks: usize = args.required("tasks");
    let workers: usize = args.required("workers");
    let interval = Duration::from_millis(args.get_or("interval-ms", 20));
    let timeout = Duration::from_secs(args.get_or("timeout-secs", 300));
    let before = args.get::<String>("before").map(|path| {
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        Layout::from_expanded_status(&body).unwrap_or_else(|e| panic!("{path}: {e}"))
    });

    let worker = Worker::new(&rest);
    let what = format!("{connectors} connectors and {tasks} tasks RUNNING over {workers} workers");
    // Each change of the state counts and placement goes to stderr with its time: how the
    // work came back (all at once, or one task after another) is what explains a slow settle.
    let mut seen = String::new();
    let settled = worker.wait_for(interval, timeout, &what, |layout| {
        let now = format!("{}; {}", layout.describe_states(), layout.describe_counts());
        if now != seen {
            eprintln!("  +{} ms: {now}", epoch_ms().saturating_sub(since));
            seen = now;
        }
        layout.unsettled(connectors, tasks, workers)
    });
    let ms = epoch_ms().saturating_sub(since);
    if let Some(path) = args.get::<String>("save") {
        fs::write(&path, settled.body.to_string()).unwrap_or_else(|e| panic!("write {path}: {e}"));
    }
    let (moved_c, moved_t) = before.map_or((0, 0), |b| settled.layout.moved_since(&b));
    let request_ms = settled.request.as_millis();
    println!(
        "settle: {what} after {ms} ms (last status request took {request_ms} ms); \
         moved {moved_c} connectors, {moved_t} tasks; {}",
        settled.layout.describe_counts()
    );
    println!(
        "RESULT ms={ms} moved_connectors={moved_c} moved_tasks={moved_t} request_ms={request_ms}"
    );
}
