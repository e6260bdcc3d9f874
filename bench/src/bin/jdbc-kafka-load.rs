//! Baseline for Ferry's JDBC sink as a whole: the Kafka → database pipeline written by hand for
//! this one table, with the raw clients — consume the topic of JsonConverter envelopes
//! (rdkafka, Ferry's consumer settings), decode each with serde into the known row type (the
//! schema skipped, not interpreted), render it as loader text and stream it into one
//! `COPY … FROM STDIN` (tokio-postgres) or `LOAD DATA LOCAL INFILE` (mysql_async) while the
//! next messages are read: what a pipeline that knows its data in advance does on this machine,
//! so Ferry's generic one is measured against it as well as against a bulk load from memory.
//! The clock covers connect, consume, load and commit.
//!
//! Usage: jdbc-kafka-load --bootstrap HOST:PORT --topic T --url JDBC_URL --table T
//!        [--records 200000]

#[allow(dead_code)]
#[path = "jdbc-common/mod.rs"]
mod common;

use std::borrow::Cow;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use common::db::{report_load, JdbcUrl, Kind};
use common::rows::{Booleans, Row};
use ferry_bench::args::Args;
use ferry_bench::kafka::consumer_config;
use futures_util::StreamExt;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::Message;
use serde::Deserialize;
use tokio::sync::mpsc;

const USAGE: &str =
    "jdbc-kafka-load --bootstrap HOST:PORT --topic T --url JDBC_URL --table T [--records 200000]";
/// Bytes of loader text per COPY message / LOCAL INFILE packet group.
const CHUNK: usize = 1 << 20;

/// `{"schema": …, "payload": {…}}` with the schema skipped.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    payload: Payload<'a>,
}

/// The row as JsonConverter writes it: the Timestamp as epoch ms, the Decimal as base64 of the
/// big-endian unscaled value.
#[derive(Deserialize)]
struct Payload<'a> {
    id: i64,
    #[serde(borrow)]
    name: Cow<'a, str>,
    amount: f64,
    active: bool,
    created: i64,
    #[serde(borrow)]
    price: Cow<'a, str>,
}

impl Payload<'_> {
    fn row(&self) -> Row {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.price.as_bytes())
            .expect("price is base64");
        let unscaled = bytes.iter().fold(
            if bytes.first().is_some_and(|b| b & 0x80 != 0) {
                -1i64
            } else {
                0
            },
            |acc, b| (acc << 8) | i64::from(*b),
        );
        Row {
            id: self.id,
            name: self.name.to_string(),
            amount: self.amount,
            active: self.active,
            created_ms: self.created,
            price_unscaled: unscaled,
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse(USAGE);
    let bootstrap: String = args.required("bootstrap");
    let topic: String = args.required("topic");
    let url = JdbcUrl::parse(&args.required::<String>("url")).unwrap_or_else(|e| panic!("{e}"));
    let table: String = args.required("table");
    let records: u64 = args.get_or("records", 200_000);
    let booleans = match url.kind {
        Kind::Postgres => Booleans::Letters,
        Kind::MySql => Booleans::Digits,
    };

    let start = Instant::now();
    // The consumer thread reads, decodes and renders; this one streams the text to the database.
    let (tx, mut rx) = mpsc::channel::<Bytes>(8);
    let reader = std::thread::spawn(move || read_topic(&bootstrap, &topic, records, booleans, tx));
    let chunks = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed();
    let loaded = url.bulk_load(&table, chunks).await;
    let elapsed = start.elapsed();
    let bytes = reader.join().expect("the reader thread");
    report_load("jdbc-kafka-load", &table, loaded, records, bytes, elapsed);
}

/// Reads `records` envelopes from partition 0 of `topic` and sends them as loader text; returns
/// the bytes consumed.
fn read_topic(
    bootstrap: &str,
    topic: &str,
    records: u64,
    booleans: Booleans,
    tx: mpsc::Sender<Bytes>,
) -> u64 {
    let consumer: BaseConsumer = consumer_config(bootstrap, "jdbc-kafka-load")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .expect("partition 0");
    consumer.assign(&tpl).expect("assign");
    let (mut seen, mut bytes) = (0u64, 0u64);
    let mut text = String::with_capacity(CHUNK + 256);
    while seen < records {
        let Some(msg) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let msg = msg.expect("consume");
        let payload = msg.payload().expect("a value");
        bytes += payload.len() as u64;
        let envelope: Envelope<'_> = serde_json::from_slice(payload).expect("an envelope");
        envelope.payload.row().write_line(&mut text, booleans);
        seen += 1;
        if text.len() >= CHUNK || seen == records {
            let chunk = std::mem::replace(&mut text, String::with_capacity(CHUNK + 256));
            if tx.blocking_send(Bytes::from(chunk)).is_err() {
                break;
            }
        }
    }
    bytes
}
