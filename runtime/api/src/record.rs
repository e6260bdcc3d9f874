//! Records as they move between connectors, transforms and converters.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::schema::SchemaRef;
use crate::value::Value;

/// A primitive value inside a source partition or source offset map. Connect stores these maps as
/// schemaless JSON, so only JSON primitives are allowed; integers read back as i64.
#[derive(Debug, Clone, PartialEq)]
pub enum OffsetValue {
    /// JSON null.
    Null,
    /// JSON boolean.
    Bool(bool),
    /// JSON integer.
    Int(i64),
    /// JSON non-integral number.
    Float(f64),
    /// JSON string.
    String(String),
}

impl OffsetValue {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            OffsetValue::String(s) => Some(s),
            _ => None,
        }
    }
    /// The integer, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            OffsetValue::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl From<&str> for OffsetValue {
    fn from(v: &str) -> Self {
        OffsetValue::String(v.to_owned())
    }
}
impl From<String> for OffsetValue {
    fn from(v: String) -> Self {
        OffsetValue::String(v)
    }
}
impl From<i64> for OffsetValue {
    fn from(v: i64) -> Self {
        OffsetValue::Int(v)
    }
}
impl From<bool> for OffsetValue {
    fn from(v: bool) -> Self {
        OffsetValue::Bool(v)
    }
}

/// A source partition or source offset: a map of string keys to primitive values. Sorted by key,
/// which is also the order it is serialised in (see the worker's offset stores for how offsets
/// written by Java in another order are still found).
///
/// Shared: cloning is a reference-count increment, because the engine keeps a partition map for
/// every record in flight and a task usually emits the same partition map record after record.
/// Read it like a `BTreeMap` (it derefs to one); changing it copies the map only if it is shared.
#[derive(Clone, Default)]
pub struct SourceMap(Arc<BTreeMap<String, OffsetValue>>);

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        SourceMap::default()
    }
}

impl PartialEq for SourceMap {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl fmt::Debug for SourceMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Deref for SourceMap {
    type Target = BTreeMap<String, OffsetValue>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for SourceMap {
    fn deref_mut(&mut self) -> &mut Self::Target {
        Arc::make_mut(&mut self.0)
    }
}

impl From<BTreeMap<String, OffsetValue>> for SourceMap {
    fn from(map: BTreeMap<String, OffsetValue>) -> Self {
        SourceMap(Arc::new(map))
    }
}

impl<const N: usize> From<[(String, OffsetValue); N]> for SourceMap {
    fn from(entries: [(String, OffsetValue); N]) -> Self {
        SourceMap(Arc::new(BTreeMap::from(entries)))
    }
}

impl FromIterator<(String, OffsetValue)> for SourceMap {
    fn from_iter<I: IntoIterator<Item = (String, OffsetValue)>>(iter: I) -> Self {
        SourceMap(Arc::new(iter.into_iter().collect()))
    }
}

impl<'a> IntoIterator for &'a SourceMap {
    type Item = (&'a String, &'a OffsetValue);
    type IntoIter = std::collections::btree_map::Iter<'a, String, OffsetValue>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for SourceMap {
    type Item = (String, OffsetValue);
    type IntoIter = std::collections::btree_map::IntoIter<String, OffsetValue>;
    fn into_iter(self) -> Self::IntoIter {
        Arc::try_unwrap(self.0)
            .unwrap_or_else(|shared| (*shared).clone())
            .into_iter()
    }
}

/// A Kafka topic partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
}

impl TopicPartition {
    /// A topic partition.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// One header: a key and a Connect value with its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Header key (keys may repeat).
    pub key: String,
    /// Schema of the value, if known.
    pub schema: Option<SchemaRef>,
    /// The value.
    pub value: Value,
}

/// Ordered headers; a key may appear more than once, as in Kafka.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Headers(pub Vec<Header>);

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Headers(Vec::new())
    }
    /// Appends a header.
    pub fn add(&mut self, key: impl Into<String>, schema: Option<SchemaRef>, value: Value) {
        self.0.push(Header {
            key: key.into(),
            schema,
            value,
        });
    }
    /// The last header with `key` (Connect's `lastWithName`).
    pub fn last_with_name(&self, key: &str) -> Option<&Header> {
        self.0.iter().rev().find(|h| h.key == key)
    }
    /// Removes every header with `key`.
    pub fn remove(&mut self, key: &str) {
        self.0.retain(|h| h.key != key);
    }
    /// Number of headers.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Iterates in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.0.iter()
    }
}

/// How a Kafka record's timestamp was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampType {
    /// No timestamp.
    #[default]
    NoTimestampType,
    /// Set by the producer.
    CreateTime,
    /// Set by the broker.
    LogAppendTime,
}

/// The part of a record that transforms see and may change (Connect's `ConnectRecord`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnectRecord {
    /// Kafka topic.
    pub topic: String,
    /// Kafka partition; `None` lets the producer choose (source records).
    pub kafka_partition: Option<i32>,
    /// Key schema.
    pub key_schema: Option<SchemaRef>,
    /// Key.
    pub key: Value,
    /// Value schema.
    pub value_schema: Option<SchemaRef>,
    /// Value.
    pub value: Value,
    /// Timestamp in epoch milliseconds.
    pub timestamp: Option<i64>,
    /// Headers.
    pub headers: Headers,
    /// The Kafka offset, for records read from Kafka (sink records); transforms such as
    /// InsertField read it.
    pub kafka_offset: Option<i64>,
    /// Timestamp type, for records read from Kafka.
    pub timestamp_type: TimestampType,
}

impl ConnectRecord {
    /// A record for `topic` with a value and its schema.
    pub fn new(topic: impl Into<String>, value_schema: Option<SchemaRef>, value: Value) -> Self {
        ConnectRecord {
            topic: topic.into(),
            value_schema,
            value,
            ..Default::default()
        }
    }
    /// Sets the key and its schema.
    pub fn with_key(mut self, key_schema: Option<SchemaRef>, key: Value) -> Self {
        self.key_schema = key_schema;
        self.key = key;
        self
    }
}

/// A record produced by a source task.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// Where in the external system the record came from (e.g. `{"filename": "/x"}`).
    pub source_partition: SourceMap,
    /// The position after this record in that partition (e.g. `{"position": 42}`).
    pub source_offset: SourceMap,
    /// The record itself.
    pub record: ConnectRecord,
}

/// A record delivered to a sink task.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkRecord {
    /// The record after conversion and transforms; `kafka_offset` is always set.
    pub record: ConnectRecord,
    /// Topic the record was consumed from, before transforms (KIP-793).
    pub original_topic: String,
    /// Partition it was consumed from.
    pub original_kafka_partition: i32,
    /// Offset it was consumed at.
    pub original_kafka_offset: i64,
}

impl SinkRecord {
    /// The Kafka offset.
    pub fn kafka_offset(&self) -> i64 {
        self.record
            .kafka_offset
            .unwrap_or(self.original_kafka_offset)
    }
    /// The Kafka partition.
    pub fn kafka_partition(&self) -> i32 {
        self.record
            .kafka_partition
            .unwrap_or(self.original_kafka_partition)
    }
    /// The topic partition the record was consumed from (what offsets are committed for).
    pub fn original_topic_partition(&self) -> TopicPartition {
        TopicPartition::new(self.original_topic.clone(), self.original_kafka_partition)
    }
}

/// Where the producer wrote a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Timestamp, if known.
    pub timestamp: Option<i64>,
}
