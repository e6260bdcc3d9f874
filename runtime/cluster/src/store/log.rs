//! A Kafka topic used as a replicated log (Connect's `KafkaBasedLog`): read every partition
//! from the beginning to the end, append records and wait until they are acknowledged.
//!
//! Blocking by design (like [`ferry_worker::offset_store::OffsetBackingStore`]): the herder calls
//! it from `spawn_blocking`. Records go through librdkafka's `murmur2_random` partitioner, which
//! is Java's default partitioner for keyed records, so Ferry and Java workers sharing a topic
//! put the same key in the same partition (COMPAT §3.3: compaction needs identical placement).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferry_api::{ConnectError, Props};
use ferry_worker::kafka::{create_client, default_setting};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientContext, Offset, TopicPartitionList};

/// One record read from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// Partition.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// Key bytes (`None` = null key).
    pub key: Option<Vec<u8>>,
    /// Value bytes (`None` = tombstone).
    pub value: Option<Vec<u8>>,
}

/// How an internal topic is created when missing.
#[derive(Debug, Clone)]
pub struct TopicSpec {
    /// Name.
    pub name: String,
    /// Partitions (−1 = broker default).
    pub partitions: i32,
    /// Replication factor (−1 = broker default).
    pub replication_factor: i16,
    /// Extra topic configs; `cleanup.policy` is always `compact`.
    pub configs: Props,
}

/// Creates `spec` if it does not exist (an existing topic is left as it is).
pub fn ensure_topic(
    client: &Props,
    spec: &TopicSpec,
    timeout: Duration,
) -> Result<(), ConnectError> {
    let admin: AdminClient<DefaultClientContext> =
        create_client("internal topic admin", client, |c| c.create())?;
    let replication = TopicReplication::Fixed(i32::from(spec.replication_factor));
    let mut topic = NewTopic::new(&spec.name, spec.partitions, replication);
    for (k, v) in &spec.configs {
        if k != "cleanup.policy" {
            topic = topic.set(k, v);
        }
    }
    topic = topic.set("cleanup.policy", "compact");
    let opts = AdminOptions::new().operation_timeout(Some(timeout));
    let results = block_on(admin.create_topics([&topic], &opts)).map_err(|e| {
        ConnectError::external(format!(
            "could not create internal topic {}: {e}",
            spec.name
        ))
    })?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => {
                return Err(ConnectError::external(format!(
                "could not create internal topic {} ({} partitions, replication factor {}): {code}",
                spec.name, spec.partitions, spec.replication_factor
            )))
            }
        }
    }
    Ok(())
}

/// Runs an rdkafka future (completed by librdkafka's own thread) to completion on a private
/// thread, so this works whether or not the caller is inside a tokio runtime.
fn block_on<F: std::future::Future + Send>(future: F) -> F::Output
where
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a current-thread runtime without drivers always builds")
                .block_on(future)
        })
        .join()
        .expect("the admin future does not panic")
    })
}

/// Collects delivery failures of the records sent since the last flush.
#[derive(Debug, Default)]
struct Deliveries {
    failures: Mutex<Vec<String>>,
}

#[derive(Debug, Clone)]
struct DeliveryContext(Arc<Deliveries>);

impl ClientContext for DeliveryContext {}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, msg)) = result {
            let key = msg
                .key()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .unwrap_or_default();
            self.0
                .failures
                .lock()
                .unwrap()
                .push(format!("record with key {key:?}: {e}"));
        }
    }
}

/// A topic read to its end and appended to with acknowledged writes: a [`LogReader`] and a
/// [`LogWriter`] on the same topic, which [`TopicLog::split`] separates when reading must not
/// hold up writing (a store that follows its topic in the background).
#[derive(Debug)]
pub struct TopicLog {
    reader: LogReader,
    writer: LogWriter,
}

/// The reading half of a [`TopicLog`].
pub struct LogReader {
    topic: String,
    consumer: BaseConsumer,
    /// Partition → next offset to read.
    next: BTreeMap<i32, i64>,
    timeout: Duration,
}

/// The appending half of a [`TopicLog`].
pub struct LogWriter {
    topic: String,
    producer: BaseProducer<DeliveryContext>,
    deliveries: Arc<Deliveries>,
    timeout: Duration,
}

impl std::fmt::Debug for LogReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogReader")
            .field("topic", &self.topic)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWriter")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl TopicLog {
    /// Opens `topic` (which must exist) for reading from the beginning and for appending.
    /// `client` holds `bootstrap.servers` and any security settings; `timeout` bounds every
    /// metadata lookup, read-to-end and acknowledgement wait.
    pub fn open(client: &Props, topic: &str, timeout: Duration) -> Result<Self, ConnectError> {
        let mut consumer_settings = client.clone();
        default_setting(&mut consumer_settings, "enable.auto.commit", "false");
        default_setting(&mut consumer_settings, "isolation.level", "read_committed");
        // Read-to-end latency matters (config sync); the broker may hold an idle fetch this long.
        default_setting(&mut consumer_settings, "fetch.wait.max.ms", "50");
        // librdkafka refuses `assign` without a group id; it is never used to join or commit.
        consumer_settings.insert("group.id".into(), format!("ferry-internal-{topic}-reader"));
        let consumer: BaseConsumer =
            create_client(&format!("{topic} reader"), &consumer_settings, |c| {
                c.create()
            })?;

        let mut producer_settings = client.clone();
        default_setting(&mut producer_settings, "acks", "all");
        default_setting(&mut producer_settings, "enable.idempotence", "true");
        default_setting(&mut producer_settings, "partitioner", "murmur2_random");
        default_setting(&mut producer_settings, "linger.ms", "0");
        producer_settings.remove("group.id");
        let deliveries = Arc::new(Deliveries::default());
        let context = DeliveryContext(deliveries.clone());
        let producer = create_client(&format!("{topic} writer"), &producer_settings, |c| {
            c.create_with_context(context.clone())
        })?;

        let metadata = consumer
            .fetch_metadata(Some(topic), timeout)
            .map_err(|e| external(topic, "fetch metadata", e))?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .filter(|t| t.name() == topic && t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if partitions.is_empty() {
            return Err(ConnectError::external(format!(
                "internal topic {topic} does not exist or has no partitions"
            )));
        }
        let mut assignment = TopicPartitionList::new();
        for p in &partitions {
            assignment
                .add_partition_offset(topic, *p, Offset::Beginning)
                .map_err(|e| external(topic, "assign", e))?;
        }
        consumer
            .assign(&assignment)
            .map_err(|e| external(topic, "assign", e))?;
        Ok(TopicLog {
            reader: LogReader {
                topic: topic.to_owned(),
                consumer,
                next: partitions.into_iter().map(|p| (p, 0)).collect(),
                timeout,
            },
            writer: LogWriter {
                topic: topic.to_owned(),
                producer,
                deliveries,
                timeout,
            },
        })
    }

    /// The topic's name.
    pub fn topic(&self) -> &str {
        &self.reader.topic
    }

    /// The number of partitions.
    pub fn partitions(&self) -> usize {
        self.reader.next.len()
    }

    /// See [`LogReader::read_to_end`].
    pub fn read_to_end(&mut self) -> Result<Vec<LogRecord>, ConnectError> {
        self.reader.read_to_end()
    }

    /// See [`LogWriter::send`].
    pub fn send(&mut self, records: &[(&[u8], Option<&[u8]>)]) -> Result<(), ConnectError> {
        self.writer.send(records)
    }

    /// The two halves, to read and write from different threads.
    pub fn split(self) -> (LogReader, LogWriter) {
        (self.reader, self.writer)
    }
}

impl LogReader {
    /// Reads everything appended since the last call, up to the end of every partition as it
    /// was when called (so a write acknowledged before this call is always included).
    pub fn read_to_end(&mut self) -> Result<Vec<LogRecord>, ConnectError> {
        let mut end = BTreeMap::new();
        let partitions: Vec<i32> = self.next.keys().copied().collect();
        for p in partitions {
            let (low, high) = self
                .consumer
                .fetch_watermarks(&self.topic, p, self.timeout)
                .map_err(|e| external(&self.topic, "fetch watermarks", e))?;
            end.insert(p, high);
            // Records below the log start are gone (DeleteRecords): never wait for them.
            let next = self.next.get_mut(&p).expect("known partition");
            *next = (*next).max(low);
        }
        let deadline = Instant::now() + self.timeout;
        let mut records = Vec::new();
        while end.iter().any(|(p, high)| self.next[p] < *high) {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(ConnectError::retriable(format!(
                    "internal topic {}: could not read to the end {end:?} within {:?}; read up to {:?}",
                    self.topic, self.timeout, self.next
                )));
            }
            match self
                .consumer
                .poll(remaining.min(Duration::from_millis(100)))
            {
                None => {}
                Some(Err(e)) => return Err(external(&self.topic, "read", e)),
                Some(Ok(m)) => records.push(take(&mut self.next, &m)),
            }
        }
        Ok(records)
    }

    /// Whatever was appended since the last read: waits up to `wait` for the first record, then
    /// takes what is already fetched. For following the topic; [`Self::read_to_end`] is for
    /// reading up to a point.
    pub fn read_new(&mut self, wait: Duration) -> Result<Vec<LogRecord>, ConnectError> {
        let mut records = Vec::new();
        let mut wait = wait;
        while let Some(m) = self.consumer.poll(wait) {
            let m = m.map_err(|e| external(&self.topic, "read", e))?;
            records.push(take(&mut self.next, &m));
            wait = Duration::ZERO;
        }
        Ok(records)
    }
}

/// Copies a read message out and moves `next` past it.
fn take(next: &mut BTreeMap<i32, i64>, m: &rdkafka::message::BorrowedMessage<'_>) -> LogRecord {
    next.insert(m.partition(), m.offset() + 1);
    LogRecord {
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().map(<[u8]>::to_vec),
        value: m.payload().map(<[u8]>::to_vec),
    }
}

impl LogWriter {
    /// Appends `records` (key, value; `None` value = tombstone) in order and returns once every
    /// one is acknowledged by all in-sync replicas.
    pub fn send(&mut self, records: &[(&[u8], Option<&[u8]>)]) -> Result<(), ConnectError> {
        for (key, value) in records {
            let mut record: BaseRecord<'_, [u8], [u8], ()> = BaseRecord::to(&self.topic).key(*key);
            if let Some(v) = value {
                record = record.payload(*v);
            }
            let mut pending = record;
            loop {
                match self.producer.send(pending) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                        self.producer.poll(Duration::from_millis(10));
                        pending = r;
                    }
                    Err((e, _)) => return Err(external(&self.topic, "send", e)),
                }
            }
        }
        self.producer
            .flush(self.timeout)
            .map_err(|e| external(&self.topic, "wait for acknowledgements", e))?;
        let failures = std::mem::take(&mut *self.deliveries.failures.lock().unwrap());
        if failures.is_empty() {
            Ok(())
        } else {
            Err(ConnectError::retriable(format!(
                "internal topic {}: {} record(s) not written: {}",
                self.topic,
                failures.len(),
                failures.join("; ")
            )))
        }
    }
}

fn external(topic: &str, what: &str, e: KafkaError) -> ConnectError {
    ConnectError::external(format!("internal topic {topic}: {what}: {e}")).with_source(e)
}
