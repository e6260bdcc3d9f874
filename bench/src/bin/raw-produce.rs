//! Baseline for Ferry's source path: rdkafka alone sending N records of S
//! bytes as fast as it can, with the producer settings Ferry uses.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use ferry_bench::args::Args;
use ferry_bench::data::payload;
use ferry_bench::kafka::producer_config;
use ferry_bench::report::Throughput;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

const USAGE: &str = "raw-produce --bootstrap HOST:PORT --topic T [--records 1000000] [--size 100]";

/// Counts failed deliveries (a benchmark that loses records measures nothing).
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
    let bootstrap: String = args.required("bootstrap");
    let topic: String = args.required("topic");
    let records: u64 = args.get_or("records", 1_000_000);
    let size: usize = args.get_or("size", 100);

    let payloads: Vec<Vec<u8>> = (0..records).map(|i| payload(i, size)).collect();
    let producer: std::sync::Arc<ThreadedProducer<Failures>> = std::sync::Arc::new(
        producer_config(&bootstrap)
            .create_with_context(Failures::default())
            .unwrap_or_else(|e| panic!("producer for {bootstrap}: {e}")),
    );
    // As Ferry's source tasks do, so the baseline does not wait on librdkafka's PID timer.
    ferry_worker::kafka::request_producer_id_now(producer.clone());

    let start = Instant::now();
    for value in &payloads {
        let mut record = BaseRecord::<(), [u8]>::to(&topic).payload(value);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    thread::sleep(Duration::from_micros(100));
                }
                Err((e, _)) => panic!("send to {topic}: {e}"),
            }
        }
    }
    producer
        .flush(Duration::from_secs(300))
        .unwrap_or_else(|e| panic!("flush to {topic}: {e}"));
    let elapsed = start.elapsed();

    let failed = producer.context().0.load(Ordering::Relaxed);
    if failed > 0 {
        eprintln!("raw-produce: {failed} of {records} deliveries failed");
        std::process::exit(1);
    }
    Throughput {
        records,
        bytes: records * size as u64,
        elapsed,
    }
    .print("raw-produce");
}
