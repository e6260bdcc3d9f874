//! Times a producer we cannot instrument (Ferry's source) from outside: polls
//! the topic's high watermarks until their sum reaches N.
//!
//! Without --wait-for, prints the current sum. With it, the clock starts when
//! this probe starts (start it just before the producer) and stops when the
//! sum reaches N.

use std::thread;
use std::time::{Duration, Instant};

use ferry_bench::args::Args;
use ferry_bench::kafka::client_config;
use ferry_bench::report::Throughput;
use rdkafka::consumer::{BaseConsumer, Consumer};

const USAGE: &str =
    "watermarks --bootstrap HOST:PORT --topic T [--wait-for N --size BYTES_PER_RECORD] \
                     [--interval-ms 10] [--timeout-secs 600]";

fn main() {
    let args = Args::parse(USAGE);
    let start = Instant::now();
    let bootstrap: String = args.required("bootstrap");
    let topic: String = args.required("topic");
    let interval = Duration::from_millis(args.get_or("interval-ms", 10));
    let timeout = Duration::from_secs(args.get_or("timeout-secs", 600));
    let consumer: BaseConsumer = client_config(&bootstrap)
        .create()
        .unwrap_or_else(|e| panic!("client for {bootstrap}: {e}"));

    let Some(target) = args.get::<u64>("wait-for") else {
        println!(
            "{}",
            high_watermark_sum(&consumer, &topic).unwrap_or_else(|e| panic!("{e}"))
        );
        return;
    };
    let size: u64 = args.required("size");
    let mut first_seen = None;
    loop {
        // The topic may not exist yet, or be mid-creation: that is "0 so far".
        let sum = high_watermark_sum(&consumer, &topic).unwrap_or(0);
        if sum > 0 && first_seen.is_none() {
            first_seen = Some(start.elapsed());
        }
        if sum >= target {
            break;
        }
        if start.elapsed() > timeout {
            eprintln!(
                "watermarks: timed out after {timeout:?} at {sum} of {target} records in {topic}"
            );
            std::process::exit(1);
        }
        thread::sleep(interval);
    }
    let elapsed = start.elapsed();
    if let Some(first) = first_seen {
        println!(
            "watermarks: first records visible after {} ms",
            first.as_millis()
        );
    }
    Throughput {
        records: target,
        bytes: target * size,
        elapsed,
    }
    .print(&format!("{topic} reached {target} records"));
}

fn high_watermark_sum(consumer: &BaseConsumer, topic: &str) -> Result<u64, String> {
    let timeout = Duration::from_secs(10);
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(|e| format!("metadata of {topic}: {e}"))?;
    let partitions = metadata
        .topics()
        .first()
        .map(|t| t.partitions().len())
        .unwrap_or(0);
    let mut sum = 0;
    for p in 0..partitions as i32 {
        let (_, high) = consumer
            .fetch_watermarks(topic, p, timeout)
            .map_err(|e| format!("watermarks of {topic}-{p}: {e}"))?;
        sum += high.max(0) as u64;
    }
    Ok(sum)
}
