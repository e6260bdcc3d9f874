//! Producing with the settings Ferry's worker uses ([`ferry_bench::kafka::producer_config`]),
//! counting failed deliveries (a benchmark that loses records measures nothing).

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use ferry_bench::kafka::producer_config;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

/// Counts failed deliveries.
#[derive(Debug, Default)]
pub(crate) struct Failures(AtomicU64);

impl ClientContext for Failures {}

impl ProducerContext for Failures {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if result.is_err() {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A producer of null-keyed values to one topic.
pub(crate) struct TopicProducer {
    producer: std::sync::Arc<ThreadedProducer<Failures>>,
    topic: String,
}

impl std::fmt::Debug for TopicProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicProducer")
            .field("topic", &self.topic)
            .finish()
    }
}

impl TopicProducer {
    pub(crate) fn new(bootstrap: &str, topic: &str) -> TopicProducer {
        let producer: std::sync::Arc<ThreadedProducer<Failures>> = std::sync::Arc::new(
            producer_config(bootstrap)
                .create_with_context(Failures::default())
                .unwrap_or_else(|e| panic!("producer for {bootstrap}: {e}")),
        );
        // As Ferry's source tasks do, so the baseline does not wait on librdkafka's PID timer.
        ferry_worker::kafka::request_producer_id_now(producer.clone());
        TopicProducer {
            producer,
            topic: topic.to_owned(),
        }
    }

    /// Queues `value`, waiting while librdkafka's queue is full.
    pub(crate) fn send(&self, value: &[u8]) {
        let mut record = BaseRecord::<(), [u8]>::to(&self.topic).payload(value);
        loop {
            match self.producer.send(record) {
                Ok(()) => return,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    thread::sleep(Duration::from_micros(100));
                }
                Err((e, _)) => panic!("send to {}: {e}", self.topic),
            }
        }
    }

    /// Waits until every queued record is acknowledged; exits the process if any failed.
    pub(crate) fn flush(&self, what: &str) {
        self.producer
            .flush(Duration::from_secs(300))
            .unwrap_or_else(|e| panic!("flush to {}: {e}", self.topic));
        let failed = self.producer.context().0.load(Ordering::Relaxed);
        if failed > 0 {
            eprintln!("{what}: {failed} deliveries to {} failed", self.topic);
            std::process::exit(1);
        }
    }
}
