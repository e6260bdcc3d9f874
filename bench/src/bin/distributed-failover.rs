//! Times a distributed Ferry cluster's failover: notes what the victim worker runs (connectors
//! and tasks, as one surviving worker's REST API reports them), sends the victim SIGKILL, and
//! polls the surviving worker until every one of those units is RUNNING on another worker.
//! The clock starts just before the signal is sent. Prints the kill time (epoch ms) so the
//! script can place the workers' log lines (rejoin, assignment) on the same timeline.

use std::process::Command;
use std::time::Duration;

use ferry_bench::args::Args;

// Each probe uses part of the shared module.
#[allow(dead_code)]
#[path = "distributed-common/mod.rs"]
mod common;

use common::rest::{epoch_ms, Worker};

const USAGE: &str = "distributed-failover --rest SURVIVOR_URL --victim-pid PID --victim WORKER_ID \
                     [--interval-ms 20] [--timeout-secs 300]";

fn main() {
    let args = Args::parse(USAGE);
    let rest: String = args.required("rest");
    let pid: u32 = args.required("victim-pid");
    let victim: String = args.required("victim");
    let interval = Duration::from_millis(args.get_or("interval-ms", 20));
    let timeout = Duration::from_secs(args.get_or("timeout-secs", 300));

    let worker = Worker::new(&rest);
    let lost = worker
        .layout()
        .unwrap_or_else(|e| {
            eprintln!("distributed-failover: {e}");
            std::process::exit(1)
        })
        .on_worker(&victim);
    let tasks = lost.iter().filter(|u| u.is_task()).count();
    let connectors = lost.len() - tasks;
    if tasks == 0 {
        eprintln!("distributed-failover: {victim} runs no task; nothing to time");
        std::process::exit(1);
    }

    let killed_at = epoch_ms();
    let sent = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("run kill -KILL");
    assert!(sent.success(), "kill -KILL {pid} failed");
    let what = format!("{connectors} connectors and {tasks} tasks of {victim} RUNNING elsewhere");
    let settled = worker.wait_for(interval, timeout, &what, |layout| {
        let pending = layout.not_running_elsewhere(&lost, &victim);
        (!pending.is_empty()).then(|| format!("{} not yet RUNNING elsewhere", pending.len()))
    });
    let ms = epoch_ms().saturating_sub(killed_at);
    let request_ms = settled.request.as_millis();
    println!(
        "failover: {what} {ms} ms after SIGKILL (last status request took {request_ms} ms); {}",
        settled.layout.describe_counts()
    );
    println!(
        "RESULT ms={ms} killed_at_ms={killed_at} connectors={connectors} tasks={tasks} \
         request_ms={request_ms}"
    );
}
