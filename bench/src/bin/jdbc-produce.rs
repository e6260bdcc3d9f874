//! Writes the JDBC sink benchmark's input: N rows (see `jdbc-common/rows.rs`) as JsonConverter
//! envelopes with schemas (`{"schema":…,"payload":…}`, the JDBC sink needs the schema), encoded
//! by Ferry's own JsonConverter so the sink reads exactly what a Connect producer would write.
//!
//! Usage: jdbc-produce --bootstrap HOST:PORT --topic T [--records 200000]
//! Prints the produce rate (for information; the input is written before any timing starts).

#[allow(dead_code)]
#[path = "jdbc-common/mod.rs"]
mod common;

use std::time::Instant;

use bytes::Bytes;
use common::kafka::TopicProducer;
use common::rows;
use ferry_api::{Converter, Headers, Props, SchemaRef, Value};
use ferry_bench::args::Args;
use ferry_bench::report::Throughput;
use ferry_converters::json::JsonConverter;

const USAGE: &str = "jdbc-produce --bootstrap HOST:PORT --topic T [--records 200000]";

fn main() {
    let args = Args::parse(USAGE);
    let bootstrap: String = args.required("bootstrap");
    let topic: String = args.required("topic");
    let records: u64 = args.get_or("records", 200_000);

    let mut converter = json_converter();
    let schema = rows::schema();
    let mut headers = Headers::new();
    let producer = TopicProducer::new(&bootstrap, &topic);

    let start = Instant::now();
    let mut bytes = 0u64;
    for i in 0..records {
        let encoded = envelope(&mut converter, &mut headers, &schema, &topic, i);
        bytes += encoded.len() as u64;
        producer.send(&encoded);
    }
    producer.flush("jdbc-produce");
    Throughput {
        records,
        bytes,
        elapsed: start.elapsed(),
    }
    .print("jdbc-produce");
}

/// Ferry's JsonConverter with Connect's defaults (schemas enabled, decimals as base64).
fn json_converter() -> JsonConverter {
    let mut converter = JsonConverter::new();
    converter
        .configure(&Props::new(), false)
        .expect("JsonConverter with default settings");
    converter
}

/// Row `i` as a JsonConverter envelope.
fn envelope(
    converter: &mut JsonConverter,
    headers: &mut Headers,
    schema: &SchemaRef,
    topic: &str,
    i: u64,
) -> Bytes {
    let value = Value::from(rows::row(i).to_struct(schema));
    converter
        .from_connect(topic, headers, Some(schema), &value)
        .unwrap_or_else(|e| panic!("encode row {i}: {e}"))
        .expect("a struct encodes to bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_connect_json_envelopes() {
        let mut converter = json_converter();
        let encoded = envelope(
            &mut converter,
            &mut Headers::new(),
            &rows::schema(),
            "t",
            1001,
        );
        // price 370.37 is unscaled 37037 = 0x0090AD, base64 "AJCt".
        let expected = concat!(
            r#"{"schema":{"type":"struct","fields":["#,
            r#"{"type":"int64","optional":false,"field":"id"},"#,
            r#"{"type":"string","optional":false,"field":"name"},"#,
            r#"{"type":"double","optional":false,"field":"amount"},"#,
            r#"{"type":"boolean","optional":false,"field":"active"},"#,
            r#"{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","#,
            r#""version":1,"field":"created"},"#,
            r#"{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","#,
            r#""version":1,"parameters":{"scale":"2"},"field":"price"}],"#,
            r#""optional":false,"name":"bench.Row"},"#,
            r#""payload":{"id":1002,"name":"customer-0001001 of region 15","amount":250.25,"#,
            r#""active":false,"created":1700001001001,"price":"AJCt"}}"#,
        );
        assert_eq!(std::str::from_utf8(&encoded).unwrap(), expected);
    }
}
