//! The dead letter queue (COMPAT §8): records that fail conversion or transformation under
//! `errors.tolerance=all` are written — original key, value, headers and timestamp — to
//! `errors.deadletterqueue.topic.name`, with Connect's `__connect.errors.*` context headers when
//! `errors.deadletterqueue.context.headers.enable=true`.
//!
//! Sends are asynchronous; [`DeadLetterQueue::flush`] runs before consumer offsets are committed, so
//! an offset is never committed for a record whose DLQ copy could still be lost.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferry_api::{ConnectError, Props};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;

use crate::herder::TaskId;
use crate::kafka::{create_client, default_setting};
use crate::task_context::WorkerContext;
use crate::task_converters::RawRecord;
use crate::worker_config::ClientRole;

/// Where a failed record came from.
#[derive(Debug, Clone)]
pub struct ErrorOrigin<'a> {
    /// Original topic (sink) or target topic (source).
    pub topic: &'a str,
    /// Original partition, when known.
    pub partition: Option<i32>,
    /// Original offset, when known.
    pub offset: Option<i64>,
    /// Original timestamp.
    pub timestamp: Option<i64>,
}

struct DlqDelivery {
    failure: Arc<Mutex<Option<String>>>,
}

impl ClientContext for DlqDelivery {}

impl ProducerContext for DlqDelivery {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failure
                .lock()
                .unwrap()
                .get_or_insert_with(|| format!("could not write to the dead letter queue: {e}"));
        }
    }
}

/// A task's dead letter queue producer.
pub struct DeadLetterQueue {
    producer: ThreadedProducer<DlqDelivery>,
    failure: Arc<Mutex<Option<String>>>,
    topic: String,
    context_headers: bool,
    task: TaskId,
}

impl std::fmt::Debug for DeadLetterQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetterQueue")
            .field("topic", &self.topic)
            .finish()
    }
}

impl DeadLetterQueue {
    /// The DLQ of a task, when the connector names a DLQ topic; creates the topic (one partition,
    /// `errors.deadletterqueue.topic.replication.factor`) if it does not exist.
    pub async fn for_task(
        ctx: &WorkerContext,
        task: &TaskId,
        connector: &Props,
    ) -> Result<Option<Self>, ConnectError> {
        let topic = connector
            .get("errors.deadletterqueue.topic.name")
            .map(|s| s.trim())
            .unwrap_or("");
        if topic.is_empty() {
            return Ok(None);
        }
        let replication: i32 = connector
            .get("errors.deadletterqueue.topic.replication.factor")
            .map(|v| v.trim().parse())
            .transpose()
            .map_err(|_| ConnectError::config("Invalid value for configuration errors.deadletterqueue.topic.replication.factor: Not a number of type SHORT"))?
            .unwrap_or(3);
        let admin_settings = ctx.config.client_settings(ClientRole::Admin, connector)?;
        let admin: AdminClient<DefaultClientContext> =
            create_client("dead letter queue admin", &admin_settings, |c| c.create())?;
        let new_topic = NewTopic::new(topic, 1, TopicReplication::Fixed(replication));
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let results = admin
            .create_topics([&new_topic], &opts)
            .await
            .map_err(|e| {
                ConnectError::external(format!(
                    "could not create dead letter queue topic {topic}: {e}"
                ))
            })?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((_, code)) => {
                    return Err(ConnectError::external(format!(
                        "could not create dead letter queue topic {topic} with replication factor {replication}: {code}"
                    )))
                }
            }
        }
        let mut settings = ctx
            .config
            .client_settings(ClientRole::Producer, connector)?;
        default_setting(
            &mut settings,
            "client.id",
            format!("connector-dlq-producer-{}-{}", task.connector, task.task),
        );
        default_setting(&mut settings, "acks", "all");
        default_setting(&mut settings, "message.timeout.ms", "0");
        let failure = Arc::new(Mutex::new(None));
        let f2 = failure.clone();
        let producer = create_client("dead letter queue producer", &settings, move |c| {
            c.create_with_context(DlqDelivery {
                failure: f2.clone(),
            })
        })?;
        Ok(Some(DeadLetterQueue {
            producer,
            failure,
            topic: topic.to_owned(),
            context_headers: connector
                .get("errors.deadletterqueue.context.headers.enable")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
            task: task.clone(),
        }))
    }

    /// Writes a failed record: its original bytes, plus context headers when enabled.
    pub fn report(
        &self,
        raw: &RawRecord,
        origin: &ErrorOrigin<'_>,
        stage: &str,
        class: &str,
        error: &ConnectError,
    ) -> Result<(), ConnectError> {
        let mut headers = OwnedHeaders::new_with_capacity(raw.headers.len() + 10);
        for (k, v) in &raw.headers {
            headers = headers.insert(Header {
                key: k,
                value: v.as_deref(),
            });
        }
        if self.context_headers {
            let mut context: Vec<(&str, String)> =
                vec![("__connect.errors.topic", origin.topic.to_owned())];
            if let Some(p) = origin.partition {
                context.push(("__connect.errors.partition", p.to_string()));
            }
            if let Some(o) = origin.offset {
                context.push(("__connect.errors.offset", o.to_string()));
            }
            context.extend([
                (
                    "__connect.errors.connector.name",
                    self.task.connector.clone(),
                ),
                ("__connect.errors.task.id", self.task.task.to_string()),
                ("__connect.errors.stage", stage.to_owned()),
                ("__connect.errors.class.name", class.to_owned()),
                (
                    "__connect.errors.exception.class.name",
                    error.java_class().to_owned(),
                ),
                ("__connect.errors.exception.message", error.to_string()),
                ("__connect.errors.exception.stacktrace", error.trace()),
            ]);
            for (k, v) in &context {
                headers = headers.insert(Header {
                    key: k,
                    value: Some(v.as_bytes()),
                });
            }
        }
        let mut rec: BaseRecord<'_, [u8], [u8], ()> = BaseRecord::to(&self.topic).headers(headers);
        if let Some(k) = raw.key.as_deref() {
            rec = rec.key(k);
        }
        if let Some(v) = raw.value.as_deref() {
            rec = rec.payload(v);
        }
        if let Some(ts) = origin.timestamp {
            rec = rec.timestamp(ts);
        }
        let mut pending = rec;
        loop {
            match self.producer.send(pending) {
                Ok(()) => return Ok(()),
                Err((
                    rdkafka::error::KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull),
                    back,
                )) => {
                    pending = back;
                    self.producer.poll(Duration::from_millis(10));
                }
                Err((e, _)) => {
                    return Err(ConnectError::external(format!(
                        "could not write to dead letter queue {}: {e}",
                        self.topic
                    )))
                }
            }
        }
    }

    /// Waits until every reported record is acknowledged (blocking). Errors if one failed.
    pub fn flush(&self, timeout: Duration) -> Result<(), ConnectError> {
        self.producer.flush(timeout).map_err(|e| {
            ConnectError::retriable(format!("dead letter queue {} not flushed: {e}", self.topic))
        })?;
        match self.failure.lock().unwrap().take() {
            Some(msg) => Err(ConnectError::external(msg)),
            None => Ok(()),
        }
    }
}
