//! The sink side's per-record decode cost: Ferry's JsonConverter turning JDBC-benchmark rows
//! (JsonConverter envelopes with schemas, as `bench/jdbc.sh` feeds the JDBC sink) into Connect
//! values, against serde_json parsing the same bytes into a generic tree — the least any JSON
//! decoder must do. In process, one thread, after a warm-up pass.
//!
//! Usage: json-decode [--records 500000]
//! Prints `RESULT ferry_records_per_sec=… serde_json_records_per_sec=… ratio=…`.

#[allow(dead_code)]
#[path = "jdbc-common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

/// The allocator the `ferry` binary uses, so the per-record costs are Ferry's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use bytes::Bytes;
use common::rows;
use ferry_api::{Converter, Headers, Props, Value};
use ferry_bench::args::Args;
use ferry_converters::json::JsonConverter;

const USAGE: &str = "json-decode [--records 500000]";

fn converter() -> JsonConverter {
    let mut converter = JsonConverter::new();
    converter
        .configure(&Props::new(), false)
        .expect("JsonConverter with default settings");
    converter
}

/// Best of three timed passes of `f` over every input.
fn time(inputs: &[Bytes], mut f: impl FnMut(&Bytes)) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            inputs.iter().for_each(&mut f);
            start.elapsed()
        })
        .min()
        .expect("three passes")
}

fn main() {
    let args = Args::parse(USAGE);
    let records: u64 = args.get_or("records", 500_000);
    let schema = rows::schema();
    let mut encoder = converter();
    let headers = Headers::new();
    let inputs: Vec<Bytes> = (0..records)
        .map(|i| {
            let value = Value::from(rows::row(i).to_struct(&schema));
            encoder
                .from_connect("t", &mut Headers::new(), Some(&schema), &value)
                .expect("encode")
                .expect("bytes")
        })
        .collect();

    let mut decoder = converter();
    let ferry = time(&inputs, |b| {
        black_box(
            decoder
                .to_connect("t", &headers, Some(b.clone()))
                .expect("decode"),
        );
    });
    let serde = time(&inputs, |b| {
        black_box(serde_json::from_slice::<serde_json::Value>(b).expect("parse"));
    });
    let rate = |d: Duration| records as f64 / d.as_secs_f64();
    println!(
        "JsonConverter.toConnect {:.0} records/s, serde_json::Value {:.0} records/s ({} records of ~{} bytes)",
        rate(ferry),
        rate(serde),
        records,
        inputs[0].len()
    );
    println!(
        "RESULT ferry_records_per_sec={:.0} serde_json_records_per_sec={:.0} ratio={:.2}",
        rate(ferry),
        rate(serde),
        serde.as_secs_f64() / ferry.as_secs_f64()
    );
}
