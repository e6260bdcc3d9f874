//! `ferry mirror mm2.properties [--clusters A B]`: MirrorMaker 2's dedicated mode
//! (`connect-mirror-maker.sh`). Every flow `source->target` that involves one of the selected
//! clusters as target runs in this process: a herder per flow, on the target cluster, running the
//! MirrorSource, MirrorCheckpoint and MirrorHeartbeat connectors that `mm2.properties` describes.
//!
//! Offsets of each flow are kept in `mm2-offsets.<source>.internal` on the target cluster (created
//! compacted with `offset.storage.partitions` / `offset.storage.replication.factor`, defaults 25 and
//! 3 as in MirrorMaker 2), so a flow resumes from offsets MirrorMaker 2 wrote. There is no REST
//! listener, as in MirrorMaker.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use ferry_worker::herder::standalone::StandaloneHerder;
use ferry_worker::offset_store::OffsetBackingStore;
use ferry_worker::properties::load_properties;
use ferry_worker::status::StatusStore;
use ferry_worker::task_context::WorkerContext;
use ferry_worker::worker_config::ClientRole;
use ferry_worker::worker_config::WorkerConfig;

use crate::registry::bundled_plugins;
use crate::standalone::wait_for_signal;

/// Runs every enabled flow of `mm2.properties` until SIGTERM/SIGINT.
pub(crate) async fn run(mm2_file: &Path, clusters: Option<&[String]>) -> anyhow::Result<()> {
    let props = load_properties(mm2_file)?;
    let logs = std::env::var("FERRY_LOG").unwrap_or_else(|_| "info".into());
    let _logs = ferry_worker::logging::init_logging(&logs);
    let flows = ferry_connector_mirror::dedicated::flows(&props, clusters)?;
    let dir = mm2_file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let plugins = Arc::new(bundled_plugins());
    let mut herders = Vec::new();
    for flow in flows {
        let mut worker = flow.worker.clone();
        // The standalone herder's keys need files; the offsets themselves live in the flow's
        // `mm2-offsets.<source>.internal` topic on the target cluster, as in MirrorMaker 2.
        let base = dir.join(format!(".mm2-{}-{}", flow.source, flow.target));
        worker.insert(
            "offset.storage.file.filename".into(),
            format!("{}.unused-offsets", base.display()),
        );
        worker.insert(
            "ferry.connectors.storage.file".into(),
            format!("{}.connectors.json", base.display()),
        );
        worker
            .entry("offset.flush.interval.ms".into())
            .or_insert_with(|| "10000".into());
        let config = Arc::new(
            WorkerConfig::standalone(&worker)
                .with_context(|| format!("flow {}->{}", flow.source, flow.target))?,
        );
        let worker_id = format!("{}->{}", flow.source, flow.target);
        let offsets = open_offsets_topic(&config, &worker).await?;
        let ctx = WorkerContext {
            config,
            plugins: plugins.clone(),
            offsets,
            status: Arc::new(StatusStore::new(worker_id.clone())),
            metrics: Arc::default(),
        };
        let herder = StandaloneHerder::new(ctx, worker_id.clone())?;
        tracing::info!(
            "starting flow {worker_id} ({} connectors)",
            flow.connectors.len()
        );
        herder
            .start(flow.connectors)
            .await
            .with_context(|| format!("flow {worker_id}"))?;
        herders.push(herder);
    }
    anyhow::ensure!(
        !herders.is_empty(),
        "no flow in {} involves the selected clusters",
        mm2_file.display()
    );
    wait_for_signal().await;
    for h in &herders {
        h.shutdown().await;
    }
    Ok(())
}

/// Opens the flow's offsets topic (`offset.storage.topic` of its worker config) on the target.
async fn open_offsets_topic(
    config: &WorkerConfig,
    worker: &ferry_api::Props,
) -> anyhow::Result<Arc<dyn OffsetBackingStore>> {
    let client = config.client_settings(ClientRole::Admin, &ferry_api::Props::new())?;
    let topic = worker
        .get("offset.storage.topic")
        .cloned()
        .context("the flow has no offset.storage.topic")?;
    let number = |key: &str, default: i64| -> anyhow::Result<i64> {
        worker.get(key).map_or(Ok(default), |v| {
            v.trim()
                .parse()
                .with_context(|| format!("Invalid value {v} for configuration {key}: Not a number"))
        })
    };
    let partitions = number("offset.storage.partitions", 25)? as i32;
    let replication = number("offset.storage.replication.factor", 3)? as i16;
    let store = tokio::task::spawn_blocking(move || {
        ferry_cluster::store::offsets::KafkaOffsetStore::open(
            &client,
            &topic,
            partitions,
            replication,
            &ferry_api::Props::new(),
            std::time::Duration::from_secs(30),
        )
    })
    .await??;
    Ok(Arc::new(store))
}
