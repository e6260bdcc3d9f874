//! `ferry distributed`: one worker of a Kafka Connect cluster. Workers sharing `group.id` and
//! the internal topics split connectors and tasks between them (see
//! [`ferry_cluster::herder::DistributedHerder`] for what this first cut does not do yet).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_api::Props;
use ferry_cluster::config::distributed_config_def;
use ferry_cluster::herder::DistributedHerder;
use ferry_worker::herder::Herder;
use ferry_worker::properties::load_properties;
use ferry_worker::rest::RestServer;
use ferry_worker::worker_config::{ClientRole, WorkerConfig};
use rdkafka::consumer::{BaseConsumer, Consumer};

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
    fetch_cluster_id(herder.clone());
    herder.start();

    wait_for_signal().await;
    tracing::info!("stopping: flushing and committing every task, leaving the group");
    herder.shutdown().await;
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    tracing::info!("stopped");
    Ok(())
}

/// Learns the Kafka cluster id in the background (for `GET /`), retrying until the broker answers.
fn fetch_cluster_id(herder: Arc<DistributedHerder>) {
    tokio::task::spawn_blocking(move || {
        let Ok(settings) = herder
            .worker_config()
            .client_settings(ClientRole::Admin, &Props::new())
        else {
            return;
        };
        let consumer: BaseConsumer =
            match ferry_worker::kafka::create_client("cluster id", &settings, |c| c.create()) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("cannot create a client to read the cluster id: {e}");
                    return;
                }
            };
        for _ in 0..60 {
            if let Some(id) = consumer.client().fetch_cluster_id(Duration::from_secs(5)) {
                herder.set_kafka_cluster_id(id);
                return;
            }
        }
        tracing::warn!("could not read the Kafka cluster id");
    });
}
