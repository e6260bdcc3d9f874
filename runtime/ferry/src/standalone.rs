//! `ferry standalone`: one worker running every connector itself, offsets in a local file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use ferry_api::Props;
use ferry_worker::herder::standalone::StandaloneHerder;
use ferry_worker::herder::Herder;
use ferry_worker::offset_store::FileOffsetStore;
use ferry_worker::properties::load_properties;
use ferry_worker::rest::RestServer;
use ferry_worker::status::StatusStore;
use ferry_worker::task_context::WorkerContext;
use ferry_worker::worker_config::{ClientRole, WorkerConfig};
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::registry::bundled_plugins;

/// Reads a connector config file: Java `.properties`, or JSON shaped like the REST bodies
/// (`{"name":…,"config":{…}}` or a flat config map). JSON numbers and booleans become strings.
pub(crate) fn load_connector_file(path: &Path) -> anyhow::Result<Props> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if !is_json {
        return Ok(load_properties(path)?);
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let Some(obj) = value.as_object() else {
        bail!("{}: expected a JSON object", path.display())
    };
    let (config, name) = match obj.get("config") {
        Some(serde_json::Value::Object(c)) => (c, obj.get("name").and_then(|n| n.as_str())),
        _ => (obj, None),
    };
    let mut props = Props::new();
    for (k, v) in config {
        let s = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            other => bail!(
                "{}: value of {k} must be a string, number or boolean, not {other}",
                path.display()
            ),
        };
        props.insert(k.clone(), s);
    }
    if let Some(name) = name {
        props.insert("name".into(), name.trim().to_owned());
    }
    if props.get("name").is_none_or(|n| n.trim().is_empty()) {
        bail!("{}: the connector config has no name", path.display());
    }
    Ok(props)
}

/// Runs a standalone worker until SIGTERM or SIGINT, then stops every task (flushing and
/// committing) and returns.
pub(crate) async fn run(worker_file: &Path, connector_files: &[PathBuf]) -> anyhow::Result<()> {
    let started = Instant::now();
    let worker_props = load_properties(worker_file)?;
    let logs = ferry_worker::logging::init_logging(
        &std::env::var("FERRY_LOG").unwrap_or_else(|_| "info".into()),
    );
    let config = Arc::new(WorkerConfig::standalone(&worker_props)?);
    let connectors: Vec<Props> = connector_files
        .iter()
        .map(|p| load_connector_file(p))
        .collect::<Result<_, _>>()?;

    let rest = RestServer::bind(&config.listeners().join(",")).await?;
    let port = rest
        .local_addrs()?
        .first()
        .map(|a| a.port())
        .unwrap_or(8083);
    let worker_id = config.advertised_worker_id(port);

    let offsets_path = config
        .offsets_file()
        .context("offset.storage.file.filename is required")?;
    let offsets = Arc::new(FileOffsetStore::open(&offsets_path)?);
    let ctx = WorkerContext {
        config: config.clone(),
        plugins: Arc::new(bundled_plugins()),
        offsets,
        status: Arc::new(StatusStore::new(worker_id.clone())),
        metrics: Arc::default(),
    };
    let herder = StandaloneHerder::new(ctx, worker_id.clone())?;

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(rest.serve(herder.clone() as Arc<dyn Herder>, logs, async {
        let _ = stop_rx.await;
    }));
    tracing::info!(
        "REST API listening as {worker_id} ({:?} after start)",
        started.elapsed()
    );

    let for_id = herder.clone();
    fetch_cluster_id(config.clone(), move |id| for_id.set_kafka_cluster_id(id));
    herder.start(connectors).await?;
    tracing::info!("standalone worker started in {:?}", started.elapsed());

    wait_for_signal().await;
    tracing::info!("stopping: flushing and committing every task");
    herder.shutdown().await;
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    tracing::info!("stopped");
    Ok(())
}

/// Learns the Kafka cluster id in the background (for `GET /`), retrying until the broker
/// answers, and hands it to `found` (both worker modes).
pub(crate) fn fetch_cluster_id(
    config: Arc<WorkerConfig>,
    found: impl FnOnce(String) + Send + 'static,
) {
    tokio::task::spawn_blocking(move || {
        let Ok(settings) = config.client_settings(ClientRole::Admin, &Props::new()) else {
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
                found(id);
                return;
            }
        }
        tracing::warn!("could not read the Kafka cluster id");
    });
}

pub(crate) async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
