//! Records/s through a transform chain of InsertField, ReplaceField and RegexRouter vs no chain, in
//! one run, on the worker's per-record path (transforms, then JsonConverter with schemas): the
//! ratio is the cost of the chain relative to the work a record needs anyway.
//!
//! Usage: transform-chain [--records 1000000]
//! Prints `RESULT chain_records_per_sec=… plain_records_per_sec=… ratio=…`.

use std::time::Instant;

/// The allocator the `ferry` binary uses, so the per-record costs are Ferry's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use ferry_api::{ConnectRecord, Converter, Headers, Props, Schema, SchemaBuilder, Struct, Value};
use ferry_converters::json::JsonConverter;
use ferry_transforms::{BuiltinRegistry, TransformChain};

fn props(pairs: &[(&str, &str)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let records: usize = args
        .iter()
        .position(|a| a == "--records")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);

    let schema = SchemaBuilder::struct_()
        .name("shop.orders.Value")
        .field("id", Schema::int64())
        .field("customer", Schema::string())
        .field("amount", Schema::float64())
        .field("debug", Schema::optional_string())
        .field("note", Schema::optional_string())
        .build();
    let make = |i: usize| {
        let value = Struct::new(schema.clone())
            .with("id", i as i64)
            .and_then(|s| s.with("customer", format!("customer-{}", i % 1000)))
            .and_then(|s| s.with("amount", i as f64 * 0.5))
            .and_then(|s| s.with("debug", "trace"))
            .and_then(|s| s.with("note", "a note of some length for the record"))
            .expect("valid struct");
        ConnectRecord::new("orders-raw", Some(schema.clone()), Value::from(value))
    };

    let only =
        std::env::var("FERRY_BENCH_TRANSFORMS").unwrap_or_else(|_| "insert,replace,route".into());
    let config = props(&[
        ("transforms", only.as_str()),
        (
            "transforms.insert.type",
            "org.apache.kafka.connect.transforms.InsertField$Value",
        ),
        ("transforms.insert.static.field", "pipeline"),
        ("transforms.insert.static.value", "ferry"),
        (
            "transforms.replace.type",
            "org.apache.kafka.connect.transforms.ReplaceField$Value",
        ),
        ("transforms.replace.exclude", "debug"),
        ("transforms.replace.renames", "id:order_id"),
        (
            "transforms.route.type",
            "org.apache.kafka.connect.transforms.RegexRouter",
        ),
        ("transforms.route.regex", "(.*)-raw"),
        ("transforms.route.replacement", "$1-clean"),
    ]);
    let registry = BuiltinRegistry::default();
    let mut chain = TransformChain::from_config(&config, &registry).expect("chain config");
    let mut converter = JsonConverter::new();
    converter
        .configure(&Props::new(), false)
        .expect("converter config");

    // Inputs are built outside the timed loops, so both loops time the same work but the chain.
    let inputs: Vec<ConnectRecord> = (0..records).map(make).collect();
    let mut headers = Headers::new();
    let mut bytes = 0usize;

    let plain_inputs = inputs.clone();
    let start = Instant::now();
    for r in plain_inputs {
        let out = converter
            .from_connect(&r.topic, &mut headers, r.value_schema.as_ref(), &r.value)
            .unwrap();
        bytes += out.map_or(0, |b| b.len());
    }
    let plain = start.elapsed();

    let start = Instant::now();
    let mut last_topic = String::new();
    for r in inputs {
        let t = chain.apply(r).unwrap().expect("not filtered");
        let out = converter
            .from_connect(&t.topic, &mut headers, t.value_schema.as_ref(), &t.value)
            .unwrap();
        bytes += out.map_or(0, |b| b.len());
        last_topic = t.topic;
    }
    let chained = start.elapsed();
    assert!(last_topic.starts_with("orders-"));

    let rate = |d: std::time::Duration| records as f64 / d.as_secs_f64();
    println!(
        "RESULT records={records} plain_records_per_sec={:.0} chain_records_per_sec={:.0} ratio={:.3} (bytes {bytes})",
        rate(plain),
        rate(chained),
        rate(chained) / rate(plain)
    );
}
