//! The Kafka-protocol broker the tests run against, and the client-side
//! helpers tests need from it: topics, producing, reading a topic back whole.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use crate::names::unique_name;
use crate::records::{ConsumedRecord, Record};
use crate::wait::{wait_until, wait_until_ok, DEFAULT_TIMEOUT};

/// Environment variable naming the broker, set by `./integration/test.sh`.
const BOOTSTRAP_ENV: &str = "FERRY_TEST_BOOTSTRAP";

/// How long one metadata or admin request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The broker named by `FERRY_TEST_BOOTSTRAP`. Cheap to create: clients are
/// made per call, so tests share nothing but the broker itself.
#[derive(Debug, Clone)]
pub struct TestBroker {
    bootstrap: String,
}

impl TestBroker {
    /// The broker `./integration/test.sh` started. Panics with instructions when
    /// the variable is unset: these tests need a real broker.
    pub fn from_env() -> Self {
        match std::env::var(BOOTSTRAP_ENV) {
            Ok(bootstrap) if !bootstrap.trim().is_empty() => TestBroker::new(bootstrap.trim()),
            _ => panic!(
                "{BOOTSTRAP_ENV} is not set: integration tests need a running broker. \
                 Run ./integration/test.sh (it starts one), or start one with \
                 integration/scripts/start-broker.sh DIR and export {BOOTSTRAP_ENV}=<what it prints>"
            ),
        }
    }

    /// A broker at this `host:port` list.
    pub fn new(bootstrap: impl Into<String>) -> Self {
        TestBroker {
            bootstrap: bootstrap.into(),
        }
    }

    /// The `bootstrap.servers` value.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// Client settings every helper starts from. The broker does not answer a
    /// waiting fetch early, so fetch waits are kept short.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.bootstrap)
            .set("fetch.wait.max.ms", "20")
            .set("socket.timeout.ms", "10000");
        config
    }

    fn admin(&self) -> AdminClient<DefaultClientContext> {
        self.client_config()
            .create()
            .unwrap_or_else(|e| panic!("admin client for {}: {e}", self.bootstrap))
    }

    /// Creates `name` with `partitions` partitions and waits until its metadata
    /// shows all of them. (Producing to a missing topic would auto-create it
    /// with the broker's default partition count: tests create topics first.)
    pub fn create_topic(&self, name: &str, partitions: i32) {
        self.create_topic_with_config(name, partitions, &[]);
    }

    /// [`create_topic`](Self::create_topic) with topic configs
    /// (e.g. `("cleanup.policy", "compact")`).
    pub fn create_topic_with_config(&self, name: &str, partitions: i32, config: &[(&str, &str)]) {
        let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
        for (k, v) in config {
            topic = topic.set(k, v);
        }
        let options = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
        let results = block_on(self.admin().create_topics([&topic], &options))
            .unwrap_or_else(|e| panic!("create topic {name}: {e}"));
        for result in results {
            if let Err((topic, code)) = result {
                panic!("create topic {topic}: {code}");
            }
        }
        wait_until(
            DEFAULT_TIMEOUT,
            &format!("topic {name} to show {partitions} partitions"),
            || (self.partition_count(name) == Some(partitions)).then_some(()),
        );
    }

    /// Creates a topic with a fresh unique name (prefixed `prefix`) and
    /// returns the name.
    pub fn unique_topic(&self, prefix: &str, partitions: i32) -> String {
        let name = unique_name(prefix);
        self.create_topic(&name, partitions);
        name
    }

    /// Deletes `name` (panics on failure).
    pub fn delete_topic(&self, name: &str) {
        let options = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
        let results = block_on(self.admin().delete_topics(&[name], &options))
            .unwrap_or_else(|e| panic!("delete topic {name}: {e}"));
        for result in results {
            if let Err((topic, code)) = result {
                panic!("delete topic {topic}: {code}");
            }
        }
    }

    /// The topic's partition count from fresh metadata; `None` when the
    /// broker does not know the topic.
    pub fn partition_count(&self, topic: &str) -> Option<i32> {
        let consumer = self.metadata_consumer();
        let metadata = consumer
            .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
            .unwrap_or_else(|e| panic!("metadata for topic {topic}: {e}"));
        let t = metadata.topics().iter().find(|t| t.name() == topic)?;
        if t.error().is_some() || t.partitions().is_empty() {
            return None;
        }
        Some(t.partitions().len() as i32)
    }

    /// `(partition, low, high)` watermarks of every partition, by partition.
    pub fn watermarks(&self, topic: &str) -> Vec<(i32, i64, i64)> {
        let consumer = self.metadata_consumer();
        let count = self
            .partition_count(topic)
            .unwrap_or_else(|| panic!("topic {topic} does not exist"));
        (0..count)
            .map(|p| {
                let (low, high) = consumer
                    .fetch_watermarks(topic, p, REQUEST_TIMEOUT)
                    .unwrap_or_else(|e| panic!("watermarks of {topic}-{p}: {e}"));
                (p, low, high)
            })
            .collect()
    }

    /// Sum over partitions of (high − low): the records a full read returns
    /// (for topics without compaction or transaction markers).
    pub fn record_count(&self, topic: &str) -> i64 {
        self.watermarks(topic)
            .iter()
            .map(|(_, low, high)| high - low)
            .sum()
    }

    /// Produces `records` in order, acks=all and idempotent (so each
    /// partition keeps the send order even across retries), and waits until
    /// every one is acknowledged. Panics naming the first failed delivery.
    pub fn produce(&self, topic: &str, records: impl IntoIterator<Item = Record>) {
        let producer: BaseProducer<DeliveryTracker> = self
            .client_config()
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .set("partitioner", "murmur2_random")
            .create_with_context(DeliveryTracker::default())
            .unwrap_or_else(|e| panic!("producer for {}: {e}", self.bootstrap));
        for record in records {
            let headers = record
                .headers
                .iter()
                .fold(OwnedHeaders::new(), |hs, (k, v)| {
                    hs.insert(Header {
                        key: k,
                        value: v.as_deref(),
                    })
                });
            let mut base = BaseRecord::<[u8], [u8]>::to(topic).headers(headers);
            if let Some(key) = record.key.as_deref() {
                base = base.key(key);
            }
            if let Some(value) = record.value.as_deref() {
                base = base.payload(value);
            }
            if let Some(p) = record.partition {
                base = base.partition(p);
            }
            if let Some(ts) = record.timestamp {
                base = base.timestamp(ts);
            }
            while let Err((e, returned)) = producer.send(base) {
                match e {
                    KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) => {
                        producer.poll(Duration::from_millis(10));
                        base = returned;
                    }
                    e => panic!("produce to {topic}: {e}"),
                }
            }
            producer.poll(Duration::ZERO);
        }
        producer
            .flush(DEFAULT_TIMEOUT)
            .unwrap_or_else(|e| panic!("flush producer to {topic}: {e}"));
        if let Some(error) = producer.context().first_error() {
            panic!("produce to {topic}: {error}");
        }
    }

    /// Produces one value-only record per string.
    pub fn produce_values<S: AsRef<str>>(&self, topic: &str, values: &[S]) {
        self.produce(topic, values.iter().map(|v| Record::value(v.as_ref())));
    }

    /// Every record of `topic` from the low to the high watermarks taken at
    /// the start of the call, ordered by (partition, offset). Panics if they
    /// have not all arrived within `timeout`.
    pub fn consume_all(&self, topic: &str, timeout: Duration) -> Vec<ConsumedRecord> {
        let deadline = Instant::now() + timeout;
        let marks = self.watermarks(topic);
        let mut remaining: BTreeMap<i32, i64> = marks
            .iter()
            .filter(|(_, low, high)| high > low)
            .map(|&(p, _, high)| (p, high))
            .collect();
        if remaining.is_empty() {
            return Vec::new();
        }
        let consumer: BaseConsumer = self
            .client_config()
            .set("group.id", unique_name("ferry-test-reader"))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .create()
            .unwrap_or_else(|e| panic!("consumer for {}: {e}", self.bootstrap));
        let mut assignment = TopicPartitionList::new();
        for &p in remaining.keys() {
            assignment
                .add_partition_offset(topic, p, Offset::Beginning)
                .expect("valid offset");
        }
        consumer
            .assign(&assignment)
            .unwrap_or_else(|e| panic!("assign {topic}: {e}"));

        let mut out = Vec::new();
        while !remaining.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                panic!(
                    "timed out after {timeout:?} reading {topic}: got {} records, \
                     still waiting for partitions (partition -> high watermark) {remaining:?}",
                    out.len()
                );
            }
            let Some(result) = consumer.poll((deadline - now).min(Duration::from_millis(100)))
            else {
                continue;
            };
            let message = result.unwrap_or_else(|e| panic!("consume {topic}: {e}"));
            let record = ConsumedRecord::from_message(&message);
            if let Some(&high) = remaining.get(&record.partition) {
                if record.offset + 1 >= high {
                    remaining.remove(&record.partition);
                }
                if record.offset < high {
                    out.push(record);
                }
            }
        }
        out.sort_by_key(|r| (r.partition, r.offset));
        out
    }

    /// Waits until `topic` holds at least `count` records (by watermarks),
    /// then reads them all.
    pub fn wait_for_records(
        &self,
        topic: &str,
        count: i64,
        timeout: Duration,
    ) -> Vec<ConsumedRecord> {
        let start = Instant::now();
        wait_until_ok(
            timeout,
            &format!("{count} records in topic {topic}"),
            || {
                if self.partition_count(topic).is_none() {
                    return Err("topic does not exist".to_owned());
                }
                let marks = self.watermarks(topic);
                let have: i64 = marks.iter().map(|(_, low, high)| high - low).sum();
                if have >= count {
                    Ok(())
                } else {
                    Err(format!(
                        "{have} records; (partition, low, high) = {marks:?}"
                    ))
                }
            },
        );
        self.consume_all(
            topic,
            timeout
                .saturating_sub(start.elapsed())
                .max(Duration::from_secs(1)),
        )
    }

    fn metadata_consumer(&self) -> BaseConsumer {
        self.client_config()
            .create()
            .unwrap_or_else(|e| panic!("metadata client for {}: {e}", self.bootstrap))
    }
}

/// Remembers the first failed delivery, since `BaseProducer` reports
/// deliveries only to its context.
#[derive(Debug, Default)]
struct DeliveryTracker {
    first_error: Mutex<Option<String>>,
}

impl DeliveryTracker {
    fn first_error(&self) -> Option<String> {
        self.first_error.lock().expect("not poisoned").clone()
    }
}

impl ClientContext for DeliveryTracker {}

impl ProducerContext for DeliveryTracker {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, m)) = result {
            let mut first = self.first_error.lock().expect("not poisoned");
            first.get_or_insert_with(|| {
                use rdkafka::Message;
                format!("delivery to {}-{} failed: {e}", m.topic(), m.partition())
            });
        }
    }
}

/// Runs an admin future to completion. rdkafka drives admin requests on its
/// own thread; the runtime only supplies the timer for the request timeout.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio runtime for an admin request")
        .block_on(future)
}
