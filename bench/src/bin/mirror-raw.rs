//! Baseline for Ferry's MirrorMaker 2 path: rdkafka alone piping N records from a topic on
//! cluster A to a topic on cluster B, byte for byte — same partition, key, value, headers and
//! timestamp — with the producer settings Ferry uses. What `ferry mirror` does minus Ferry.
//!
//! Stops once N records are consumed and every one is acknowledged by B.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use ferry_bench::args::Args;
use ferry_bench::kafka::{consumer_config, producer_config};
use ferry_bench::report::Throughput;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Headers as _, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};

const USAGE: &str = "mirror-raw --from HOST:PORT --to HOST:PORT --topic T [--target-topic T2] \
                     [--records 1000000] [--timeout-secs 600]";

/// Counts failed deliveries (a pipe that loses records measures nothing).
#[derive(Debug, Default)]
struct Failures(AtomicU64);

impl ClientContext for Failures {}

impl ProducerContext for Failures {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if result.is_err() {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn main() {
    let args = Args::parse(USAGE);
    let from: String = args.required("from");
    let to: String = args.required("to");
    let topic: String = args.required("topic");
    let target: String = args.get_or("target-topic", topic.clone());
    let records: u64 = args.get_or("records", 1_000_000);
    let timeout = Duration::from_secs(args.get_or("timeout-secs", 600));

    let start = Instant::now();
    let consumer: BaseConsumer = consumer_config(&from, "ferry-bench-mirror-raw")
        .create()
        .unwrap_or_else(|e| panic!("consumer for {from}: {e}"));
    let metadata = consumer
        .fetch_metadata(Some(&topic), Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("metadata of {topic}: {e}"));
    let mut assignment = TopicPartitionList::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            assignment
                .add_partition_offset(&topic, p.id(), Offset::Beginning)
                .expect("valid offset");
        }
    }
    consumer
        .assign(&assignment)
        .unwrap_or_else(|e| panic!("assign {topic}: {e}"));
    let producer: std::sync::Arc<ThreadedProducer<Failures>> = std::sync::Arc::new(
        producer_config(&to)
            .create_with_context(Failures::default())
            .unwrap_or_else(|e| panic!("producer for {to}: {e}")),
    );
    // As Ferry's source tasks do, so the baseline does not wait on librdkafka's PID timer.
    ferry_worker::kafka::request_producer_id_now(producer.clone());

    let (mut count, mut bytes) = (0u64, 0u64);
    while count < records {
        if start.elapsed() > timeout {
            eprintln!("mirror-raw: timed out after {timeout:?} with {count} of {records} records");
            std::process::exit(1);
        }
        let Some(message) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let message = message.unwrap_or_else(|e| panic!("consume {topic}: {e}"));
        let headers = message.headers().map(|h| h.detach());
        let mut record = BaseRecord::<[u8], [u8]>::to(&target).partition(message.partition());
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(value) = message.payload() {
            record = record.payload(value);
            bytes += value.len() as u64;
        }
        if let Some(ts) = message.timestamp().to_millis() {
            record = record.timestamp(ts);
        }
        if let Some(h) = headers.filter(|h: &OwnedHeaders| h.count() > 0) {
            record = record.headers(h);
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    thread::sleep(Duration::from_millis(1));
                }
                Err((e, _)) => panic!("produce to {target}: {e}"),
            }
        }
        count += 1;
    }
    producer
        .flush(timeout)
        .unwrap_or_else(|e| panic!("flush producer to {target}: {e}"));
    let failed = producer.context().0.load(Ordering::Relaxed);
    if failed > 0 {
        eprintln!("mirror-raw: {failed} of {records} deliveries failed");
        std::process::exit(1);
    }
    Throughput {
        records,
        bytes,
        elapsed: start.elapsed(),
    }
    .print(&format!("mirror-raw {topic} -> {target}"));
}
