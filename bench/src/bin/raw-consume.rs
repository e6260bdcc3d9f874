//! Baseline for Ferry's sink path: rdkafka alone reading a topic into a file,
//! one value per line, until N records.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

use ferry_bench::args::Args;
use ferry_bench::kafka::consumer_config;
use ferry_bench::report::Throughput;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

const USAGE: &str =
    "raw-consume --bootstrap HOST:PORT --topic T --out FILE [--records 1000000] [--timeout-secs 300]";

fn main() {
    let args = Args::parse(USAGE);
    let bootstrap: String = args.required("bootstrap");
    let topic: String = args.required("topic");
    let out: String = args.required("out");
    let records: u64 = args.get_or("records", 1_000_000);
    let timeout = Duration::from_secs(args.get_or("timeout-secs", 300));

    let start = Instant::now();
    let consumer: BaseConsumer = consumer_config(&bootstrap, "ferry-bench-raw-consume")
        .create()
        .unwrap_or_else(|e| panic!("consumer for {bootstrap}: {e}"));
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

    let mut file = BufWriter::with_capacity(
        1 << 20,
        File::create(&out).unwrap_or_else(|e| panic!("create {out}: {e}")),
    );
    let (mut count, mut bytes) = (0u64, 0u64);
    while count < records {
        if start.elapsed() > timeout {
            eprintln!("raw-consume: timed out after {timeout:?} with {count} of {records} records");
            std::process::exit(1);
        }
        let Some(message) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let message = message.unwrap_or_else(|e| panic!("consume {topic}: {e}"));
        let value = message.payload().unwrap_or_default();
        file.write_all(value)
            .and_then(|()| file.write_all(b"\n"))
            .expect("write output");
        count += 1;
        bytes += value.len() as u64;
    }
    file.flush().expect("flush output");
    Throughput {
        records: count,
        bytes,
        elapsed: start.elapsed(),
    }
    .print("raw-consume");
}
