//! `MirrorHeartbeatConnector` / `MirrorHeartbeatTask`: one task writing a heartbeat
//! `(source, target) → (0, now)` to the target's `heartbeats` topic every
//! `emit.heartbeats.interval.seconds`. Replicated onward, heartbeats show that a flow is alive
//! and let clients discover the replication topology.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use ferry_api::{
    ConfigDef, ConnectRecord, Connector, ConnectorContext, OffsetValue, Props, Result, Schema,
    SourceRecord, SourceTask, SourceTaskContext, Value,
};
use tokio::time::Instant;

use crate::config::{heartbeat_config_def, Client, Cluster, MirrorConfig};
use crate::formats::Heartbeat;
use crate::kafka::{self, TopicSpec};

/// Kafka's `org.apache.kafka.connect.mirror.MirrorHeartbeatConnector`.
#[derive(Debug, Default)]
pub struct MirrorHeartbeatConnector {
    props: Props,
    emit: bool,
}

impl MirrorHeartbeatConnector {
    /// An unstarted connector.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Connector for MirrorHeartbeatConnector {
    fn config_def(&self) -> ConfigDef {
        heartbeat_config_def()
    }

    async fn start(&mut self, props: &Props, _context: Arc<dyn ConnectorContext>) -> Result<()> {
        let cfg = MirrorConfig::parse(&heartbeat_config_def(), props)?;
        self.props = props.clone();
        self.emit = cfg.config().boolean("emit.heartbeats.enabled");
        if self.emit {
            let admin = kafka::admin(
                "MirrorHeartbeatConnector target admin",
                &cfg.client_settings(Cluster::Target, Client::Admin),
            )?;
            let spec = TopicSpec::internal(
                cfg.policy.heartbeats_topic().to_owned(),
                i32::from(cfg.config().short("heartbeats.topic.replication.factor")),
            );
            kafka::create_topics(&admin, &[spec], cfg.millis("admin.timeout.ms")).await?;
        }
        Ok(())
    }

    /// One task when heartbeats are enabled, whatever `tasks.max` says.
    async fn task_configs(&mut self, _max_tasks: usize) -> Result<Vec<Props>> {
        Ok(if self.emit {
            vec![self.props.clone()]
        } else {
            Vec::new()
        })
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Kafka's `org.apache.kafka.connect.mirror.MirrorHeartbeatTask`.
#[derive(Debug)]
pub struct MirrorHeartbeatTask {
    source: String,
    target: String,
    topic: String,
    interval: Duration,
    next: Instant,
}

impl Default for MirrorHeartbeatTask {
    fn default() -> Self {
        MirrorHeartbeatTask {
            source: String::new(),
            target: String::new(),
            topic: String::new(),
            interval: Duration::from_secs(1),
            next: Instant::now(),
        }
    }
}

impl MirrorHeartbeatTask {
    /// An unstarted task.
    pub fn new() -> Self {
        Self::default()
    }

    fn record(&self, timestamp: i64) -> SourceRecord {
        let hb = Heartbeat {
            source_cluster_alias: self.source.clone(),
            target_cluster_alias: self.target.clone(),
            timestamp,
        };
        let schema = Schema::optional_bytes();
        SourceRecord {
            source_partition: [
                (
                    "sourceClusterAlias".to_owned(),
                    OffsetValue::from(self.source.as_str()),
                ),
                (
                    "targetClusterAlias".to_owned(),
                    OffsetValue::from(self.target.as_str()),
                ),
            ]
            .into(),
            source_offset: [("offset".to_owned(), OffsetValue::Int(0))].into(),
            record: ConnectRecord {
                topic: self.topic.clone(),
                kafka_partition: Some(0),
                key_schema: Some(schema.clone()),
                key: Value::Bytes(Bytes::from(hb.key_bytes())),
                value_schema: Some(schema),
                value: Value::Bytes(Bytes::from(hb.value_bytes())),
                timestamp: Some(timestamp),
                ..Default::default()
            },
        }
    }
}

/// Milliseconds since the epoch.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[async_trait]
impl SourceTask for MirrorHeartbeatTask {
    async fn start(&mut self, props: &Props, _context: SourceTaskContext) -> Result<()> {
        let cfg = MirrorConfig::parse(&heartbeat_config_def(), props)?;
        self.source = cfg.source_alias.clone();
        self.target = cfg.target_alias.clone();
        self.topic = cfg.policy.heartbeats_topic().to_owned();
        self.interval = cfg
            .seconds("emit.heartbeats.interval.seconds")
            .max(Duration::from_millis(100));
        self.next = Instant::now();
        Ok(())
    }

    /// Waits for the next heartbeat time (cancel-safe: the deadline is kept in the task).
    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        tokio::time::sleep_until(self.next).await;
        self.next = Instant::now() + self.interval;
        Ok(vec![self.record(now_millis())])
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_record_is_mm2s() {
        let task = MirrorHeartbeatTask {
            source: "A".into(),
            target: "B".into(),
            topic: "heartbeats".into(),
            ..Default::default()
        };
        let r = task.record(5);
        assert_eq!(r.record.topic, "heartbeats");
        assert_eq!(r.record.kafka_partition, Some(0));
        assert_eq!(
            r.record.key,
            Value::Bytes(Bytes::from_static(&[0, 1, b'A', 0, 1, b'B']))
        );
        assert_eq!(
            r.record.value,
            Value::Bytes(Bytes::from_static(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 5]))
        );
        assert_eq!(
            r.source_partition["sourceClusterAlias"],
            OffsetValue::from("A")
        );
    }
}
