//! The `ferry` binary: command line, plugin registry and process lifecycle.
//!
//! `ferry standalone worker.properties [connector.properties | connector.json ...]` runs a
//! standalone worker exactly as Kafka Connect's `connect-standalone.sh` does.

mod cli;
mod distributed;
mod mirror;
mod registry;
mod standalone;

use std::process::ExitCode;

/// mimalloc instead of glibc malloc: records are allocated on the pipeline thread and freed on
/// librdkafka's delivery thread, and glibc's arena locks made that the hottest spot of the source
/// path: 1M-record file source ~400k records/s with glibc vs ~470k with mimalloc on the bench
/// machine. `no_thp` keeps idle RSS at ~11 MB (transparent huge pages made it ~20 MB).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse(&args) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    match command {
        cli::Command::Help => {
            println!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        cli::Command::Version => {
            println!(
                "ferry {} (Kafka Connect REST API {})",
                env!("CARGO_PKG_VERSION"),
                ferry_worker::rest::CONNECT_VERSION
            );
            ExitCode::SUCCESS
        }
        cli::Command::Plugins => {
            for p in registry::bundled_plugins().plugin_infos(false) {
                println!("{:<18} {}", p.plugin_type, p.class_name);
            }
            ExitCode::SUCCESS
        }
        cli::Command::Standalone { worker, connectors } => {
            run(standalone::run(&worker, &connectors))
        }
        cli::Command::Distributed { worker } => run(distributed::run(&worker)),
        cli::Command::Mirror { config, clusters } => run(mirror::run(&config, clusters.as_deref())),
    }
}

/// Runs a worker future on a multi-threaded runtime; errors print and exit non-zero.
fn run(worker: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(worker);
    // The worker has stopped every task it could within task.shutdown.graceful.timeout.ms; a
    // task that outlived it (e.g. in a database connect retry) is abandoned, as Connect
    // abandons it. Dropping the runtime would instead wait for it — forever if it is stuck in
    // a blocking call — and make its timers panic, so the process exits with it still live.
    std::mem::forget(runtime);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("ferry: {e:#}");
            ExitCode::FAILURE
        }
    }
}
