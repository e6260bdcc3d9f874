//! Records as tests write and read them: plain owned bytes, comparable with
//! `assert_eq!`.

use rdkafka::message::{Headers, Message, Timestamp};

/// A record to produce. Unset partition: the producer's partitioner picks
/// (murmur2 of the key, as Java's default). Unset timestamp: now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    pub partition: Option<i32>,
    pub timestamp: Option<i64>,
}

impl Record {
    /// A record with this value, no key and no headers.
    pub fn value(value: impl Into<Vec<u8>>) -> Self {
        Record {
            value: Some(value.into()),
            ..Record::default()
        }
    }

    /// A record with this key and value.
    pub fn keyed(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Self {
        Record {
            key: Some(key.into()),
            ..Record::value(value)
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.to_owned(), Some(value.into())));
        self
    }

    pub fn with_partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    pub fn with_timestamp(mut self, millis: i64) -> Self {
        self.timestamp = Some(millis);
        self
    }
}

/// A record read back from a topic, with where it was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Timestamp,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl ConsumedRecord {
    pub(crate) fn from_message(m: &impl Message) -> Self {
        let headers = m
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        ConsumedRecord {
            topic: m.topic().to_owned(),
            partition: m.partition(),
            offset: m.offset(),
            timestamp: m.timestamp(),
            key: m.key().map(<[u8]>::to_vec),
            value: m.payload().map(<[u8]>::to_vec),
            headers,
        }
    }

    /// The key as UTF-8; panics (naming the record) when absent or not UTF-8.
    pub fn key_str(&self) -> &str {
        self.utf8("key", self.key.as_deref())
    }

    /// The value as UTF-8; panics (naming the record) when absent or not UTF-8.
    pub fn value_str(&self) -> &str {
        self.utf8("value", self.value.as_deref())
    }

    /// The first header called `name`, if any.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
    }

    fn utf8<'a>(&self, what: &str, bytes: Option<&'a [u8]>) -> &'a str {
        let bytes = bytes.unwrap_or_else(|| panic!("{what} is null at {}", self.position()));
        std::str::from_utf8(bytes)
            .unwrap_or_else(|e| panic!("{what} is not UTF-8 at {}: {e}", self.position()))
    }

    fn position(&self) -> String {
        format!("{}-{}@{}", self.topic, self.partition, self.offset)
    }
}
