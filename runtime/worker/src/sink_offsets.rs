//! The offsets API for sink connectors (KIP-875, COMPAT §1.7): their offsets are the committed
//! positions of the consumer group `connect-<name>`, shown as
//! `{"kafka_topic":t,"kafka_partition":p}` → `{"kafka_offset":o}`.

use std::sync::Arc;
use std::time::Duration;

use ferry_api::Props;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use serde_json::{json, Map, Value};

use crate::herder::{ConnectorOffset, ConnectorOffsets, HerderError, HerderResult};
use crate::kafka::create_client;
use crate::worker_config::{ClientRole, WorkerConfig};

const TIMEOUT: Duration = Duration::from_secs(30);

/// Reads and changes sink connectors' consumer group offsets.
#[derive(Debug, Clone)]
pub struct SinkOffsets {
    worker: Arc<WorkerConfig>,
}

fn internal(e: impl std::fmt::Display) -> HerderError {
    HerderError::Internal(e.to_string())
}

impl SinkOffsets {
    /// For the worker's cluster.
    pub fn new(worker: Arc<WorkerConfig>) -> Self {
        SinkOffsets { worker }
    }

    fn consumer(&self, name: &str) -> HerderResult<BaseConsumer> {
        let mut settings = self
            .worker
            .client_settings(ClientRole::Consumer, &Props::new())
            .map_err(internal)?;
        settings.insert("group.id".into(), format!("connect-{name}"));
        settings.insert("enable.auto.commit".into(), "false".into());
        create_client("sink offsets", &settings, |c| c.create()).map_err(internal)
    }

    /// Committed offsets of the connector's consumer group, for the topics it reads.
    pub async fn get(&self, name: &str, config: &Props) -> HerderResult<ConnectorOffsets> {
        let consumer = self.consumer(name)?;
        let topics =
            ferry_api::config::split_list(config.get("topics").map(String::as_str).unwrap_or(""));
        let regex = config
            .get("topics.regex")
            .filter(|r| !r.trim().is_empty())
            .map(|r| regex::Regex::new(&format!("^(?:{})$", r.trim())))
            .transpose()
            .map_err(|e| HerderError::BadRequest(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let md = consumer.fetch_metadata(None, TIMEOUT).map_err(internal)?;
            let mut tpl = TopicPartitionList::new();
            for t in md.topics() {
                let wanted = topics.iter().any(|x| x == t.name())
                    || regex.as_ref().is_some_and(|r| r.is_match(t.name()));
                if wanted {
                    for p in t.partitions() {
                        tpl.add_partition(t.name(), p.id());
                    }
                }
            }
            let committed = consumer.committed_offsets(tpl, TIMEOUT).map_err(internal)?;
            let offsets = committed
                .elements()
                .iter()
                .filter_map(|e| match e.offset() {
                    Offset::Offset(o) => Some(ConnectorOffset {
                        partition: obj(
                            json!({"kafka_topic": e.topic(), "kafka_partition": e.partition()}),
                        ),
                        offset: Some(obj(json!({"kafka_offset": o}))),
                    }),
                    _ => None,
                })
                .collect();
            Ok(ConnectorOffsets { offsets })
        })
        .await
        .map_err(internal)?
    }

    /// Commits the given positions for the group (which has no members while STOPPED).
    pub async fn alter(&self, name: &str, offsets: &ConnectorOffsets) -> HerderResult<()> {
        let mut tpl = TopicPartitionList::new();
        for o in &offsets.offsets {
            let topic = o
                .partition
                .get("kafka_topic")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    HerderError::BadRequest(
                        "Kafka topic names must be valid strings and may not be null".into(),
                    )
                })?;
            let partition = o
                .partition
                .get("kafka_partition")
                .and_then(Value::as_i64)
                .ok_or_else(|| {
                    HerderError::BadRequest(
                        "Kafka partitions must be valid numbers and may not be null".into(),
                    )
                })?;
            let Some(offset) = &o.offset else {
                return Err(HerderError::BadRequest(format!(
                    "Ferry cannot remove the offset of a single sink partition ({topic}-{partition}); use DELETE /connectors/{name}/offsets to reset all of them"
                )));
            };
            let value = offset
                .get("kafka_offset")
                .and_then(Value::as_i64)
                .filter(|v| *v >= 0)
                .ok_or_else(|| {
                    HerderError::BadRequest(
                        "Kafka offsets must be valid non-negative numbers and may not be null"
                            .into(),
                    )
                })?;
            tpl.add_partition_offset(topic, partition as i32, Offset::Offset(value))
                .map_err(|e| HerderError::BadRequest(e.to_string()))?;
        }
        let consumer = self.consumer(name)?;
        tokio::task::spawn_blocking(move || consumer.commit(&tpl, CommitMode::Sync))
            .await
            .map_err(internal)?
            .map_err(|e| {
                HerderError::Internal(format!(
                    "Failed to alter consumer group offsets for connector {name}: {e}"
                ))
            })
    }

    /// Deletes the connector's consumer group (and so all its offsets).
    pub async fn reset(&self, name: &str) -> HerderResult<()> {
        let settings = self
            .worker
            .client_settings(ClientRole::Admin, &Props::new())
            .map_err(internal)?;
        let admin: AdminClient<DefaultClientContext> =
            create_client("sink offsets admin", &settings, |c| c.create()).map_err(internal)?;
        let group = format!("connect-{name}");
        let opts = AdminOptions::new().request_timeout(Some(TIMEOUT));
        let results = admin
            .delete_groups(&[group.as_str()], &opts)
            .await
            .map_err(internal)?;
        for r in results {
            match r {
                Ok(_) => {}
                Err((_, rdkafka::types::RDKafkaErrorCode::GroupIdNotFound)) => {}
                Err((_, code)) => {
                    return Err(HerderError::Internal(format!(
                        "Failed to reset offsets of consumer group {group}: {code}"
                    )))
                }
            }
        }
        Ok(())
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
