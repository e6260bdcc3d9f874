//! `ferry distributed`: one worker of a Kafka Connect cluster. Workers sharing `group.id` and
//! the internal topics split connectors and tasks between them (see
//! [`ferry_cluster::herder::DistributedHerder`] for what this first cut does not do yet).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_cluster::config::distributed_config_def;
use ferry_cluster::herder::DistributedHerder;
use ferry_worker::herder::Herder;
use ferry_worker::properties::load_properties;
use ferry_worker::rest::RestServer;
use ferry_worker::worker_config::WorkerConfig;

use crate::registry::bundled_plugins;
use crate::standalone::wait_for_signal;

/// Runs a distributed worker until SIGTERM or SIGINT, then stops its tasks (flushing and
/// committing), marks them UNASSIGNED and leaves the group.
pub(crate) async fn run(worker_file: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let worker_props = load_properties(worker_file)?;
    let logs = ferry_worker::logging::init_logging(
        &std::env::var("FERRY_LOG").unwrap_or_else(|_| "info".into()),
    );
    let config = WorkerConfig::parse(&distributed_config_def(), &worker_props)?;
    let rest = RestServer::bind(&config.listeners().join(",")).await?;
    let port = rest
        .local_addrs()?
        .first()
        .map(|a| a.port())
        .unwrap_or(8083);
    let worker_id = config.advertised_worker_id(port);

    let herder = DistributedHerder::open(
        &worker_props,
        Arc::new(bundled_plugins()),
        worker_id.clone(),
    )
    .await?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(rest.serve(herder.clone() as Arc<dyn Herder>, logs, async {
        let _ = stop_rx.await;
    }));
    tracing::info!(
        "REST API listening as {worker_id}; internal topics read in {:?}",
        started.elapsed()
    );
    let for_id = herder.clone();
    crate::standalone::fetch_cluster_id(herder.worker_config().clone(), move |id| {
        for_id.set_kafka_cluster_id(id)
    });
    herder.start();

    wait_for_signal().await;
    tracing::info!("stopping: flushing and committing every task, leaving the group");
    herder.shutdown().await;
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    tracing::info!("stopped");
    Ok(())
}
