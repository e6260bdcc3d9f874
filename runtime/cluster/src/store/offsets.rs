//! Source offsets on the offsets topic (`offset.storage.topic`, COMPAT §3.3), and on
//! per-connector offsets topics (`offsets.storage.topic`, KIP-618).
//!
//! Offsets are indexed by the *decoded* `(connector, source partition)`, never by key bytes, so
//! offsets Java Connect wrote with its `HashMap` key order are found, and overwritten under
//! their original key bytes (so compaction collapses them) — COMPAT §12 item 4.
//!
//! Blocking ([`OffsetBackingStore`] is called off the reactor). Reads come from memory as of the
//! last [`KafkaOffsetStore::refresh`]; call it before starting a task that may have run on
//! another worker.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use ferry_api::{ConnectError, Props, SourceMap};
use ferry_worker::offset_key::{decode_key, decode_offset, encode_key, encode_offset};
use ferry_worker::offset_store::{OffsetBackingStore, OffsetWrite};

use crate::store::log::{ensure_topic, LogRecord, TopicLog, TopicSpec};

#[derive(Debug, Clone)]
struct Stored {
    /// Key bytes as first seen (Java's order for migrated offsets).
    key_bytes: Vec<u8>,
    partition: SourceMap,
    offset: SourceMap,
}

/// Canonical (connector, Ferry-encoded key) → offset, for one topic.
type OffsetMap = BTreeMap<(String, Vec<u8>), Stored>;

#[derive(Debug)]
struct OffsetsTopic {
    log: TopicLog,
    offsets: OffsetMap,
    /// Only this connector's offsets are kept (per-connector topics); `None` = every connector.
    only: Option<String>,
}

impl OffsetsTopic {
    fn open(
        client: &Props,
        spec: &TopicSpec,
        only: Option<String>,
        timeout: Duration,
    ) -> Result<Self, ConnectError> {
        ensure_topic(client, spec, timeout)?;
        let mut topic = OffsetsTopic {
            log: TopicLog::open(client, &spec.name, timeout)?,
            offsets: BTreeMap::new(),
            only,
        };
        topic.refresh()?;
        Ok(topic)
    }

    fn refresh(&mut self) -> Result<(), ConnectError> {
        for record in self.log.read_to_end()? {
            self.apply(record);
        }
        Ok(())
    }

    /// Applies one record; records that do not decode are logged and skipped (another
    /// application's data in a shared topic must not stop the worker).
    fn apply(&mut self, record: LogRecord) {
        let topic = self.log.topic();
        let Some(key_bytes) = record.key else {
            tracing::warn!(
                "offsets topic {topic}: skipping record at {}/{} without a key",
                record.partition,
                record.offset
            );
            return;
        };
        let (connector, partition) = match decode_key(&key_bytes) {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!(
                    "offsets topic {topic}: skipping record at {}/{}: {e}",
                    record.partition,
                    record.offset
                );
                return;
            }
        };
        if self.only.as_ref().is_some_and(|c| *c != connector) {
            return;
        }
        let canonical = (connector, encode_key("", &partition));
        match record.value {
            None => {
                self.offsets.remove(&canonical);
            }
            Some(value) => match decode_offset(&value) {
                Ok(offset) => {
                    self.offsets.insert(
                        canonical,
                        Stored {
                            key_bytes,
                            partition,
                            offset,
                        },
                    );
                }
                Err(e) => tracing::warn!(
                    "offsets topic {topic}: skipping record at {}/{}: {e}",
                    record.partition,
                    record.offset
                ),
            },
        }
    }

    /// Writes `writes` for `connector`, reusing stored key bytes, and applies them once acked.
    fn put(&mut self, connector: &str, writes: &[OffsetWrite]) -> Result<(), ConnectError> {
        let records: Vec<(Vec<u8>, Option<Vec<u8>>)> = writes
            .iter()
            .map(|(partition, offset)| {
                let canonical = (connector.to_owned(), encode_key("", partition));
                let key = self
                    .offsets
                    .get(&canonical)
                    .map(|s| s.key_bytes.clone())
                    .unwrap_or_else(|| encode_key(connector, partition));
                (key, offset.as_ref().map(encode_offset))
            })
            .collect();
        let refs: Vec<(&[u8], Option<&[u8]>)> = records
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_deref()))
            .collect();
        self.log.send(&refs)?;
        for ((partition, offset), (key_bytes, _)) in writes.iter().zip(records) {
            let canonical = (connector.to_owned(), encode_key("", partition));
            match offset {
                None => {
                    self.offsets.remove(&canonical);
                }
                Some(offset) => {
                    self.offsets.insert(
                        canonical,
                        Stored {
                            key_bytes,
                            partition: partition.clone(),
                            offset: offset.clone(),
                        },
                    );
                }
            }
        }
        Ok(())
    }

    fn connector_offsets<'a>(
        &'a self,
        connector: &'a str,
    ) -> impl Iterator<Item = (&'a Vec<u8>, &'a Stored)> + 'a {
        self.offsets
            .iter()
            .filter(move |((c, _), _)| c == connector)
            .map(|((_, k), s)| (k, s))
    }
}

#[derive(Debug)]
struct Topics {
    global: OffsetsTopic,
    /// Connector → its own offsets topic.
    connectors: BTreeMap<String, OffsetsTopic>,
}

/// The distributed worker's offset store.
#[derive(Debug)]
pub struct KafkaOffsetStore {
    client: Props,
    timeout: Duration,
    topics: Mutex<Topics>,
}

impl KafkaOffsetStore {
    /// Creates the global offsets topic if missing (compacted, `partitions`,
    /// `replication_factor`, extra `configs`), opens it and reads it to the end.
    pub fn open(
        client: &Props,
        topic: &str,
        partitions: i32,
        replication_factor: i16,
        configs: &Props,
        timeout: Duration,
    ) -> Result<Self, ConnectError> {
        let spec = TopicSpec {
            name: topic.to_owned(),
            partitions,
            replication_factor,
            configs: configs.clone(),
        };
        let global = OffsetsTopic::open(client, &spec, None, timeout)?;
        Ok(KafkaOffsetStore {
            client: client.clone(),
            timeout,
            topics: Mutex::new(Topics {
                global,
                connectors: BTreeMap::new(),
            }),
        })
    }

    /// Gives `connector` its own offsets topic (created like the global one if missing): its
    /// offsets are written there first (then to the global topic) and read from there first.
    pub fn use_connector_topic(
        &self,
        connector: &str,
        spec: &TopicSpec,
    ) -> Result<(), ConnectError> {
        let topic =
            OffsetsTopic::open(&self.client, spec, Some(connector.to_owned()), self.timeout)?;
        self.topics
            .lock()
            .unwrap()
            .connectors
            .insert(connector.to_owned(), topic);
        Ok(())
    }

    /// Makes `connector` use `spec`'s topic as its own (opening it unless it already does), or
    /// only the worker's topic when `spec` is None (its config no longer names one).
    pub fn ensure_connector_topic(
        &self,
        connector: &str,
        spec: Option<&TopicSpec>,
    ) -> Result<(), ConnectError> {
        let current = self
            .topics
            .lock()
            .unwrap()
            .connectors
            .get(connector)
            .map(|t| t.log.topic().to_owned());
        match spec {
            Some(spec) if current.as_deref() != Some(spec.name.as_str()) => {
                self.use_connector_topic(connector, spec)
            }
            Some(_) => Ok(()),
            None => {
                if current.is_some() {
                    self.topics.lock().unwrap().connectors.remove(connector);
                }
                Ok(())
            }
        }
    }

    /// Reads every offsets topic to its end (offsets other workers committed).
    pub fn refresh(&self) -> Result<(), ConnectError> {
        let mut topics = self.topics.lock().unwrap();
        topics.global.refresh()?;
        for t in topics.connectors.values_mut() {
            t.refresh()?;
        }
        Ok(())
    }
}

impl OffsetBackingStore for KafkaOffsetStore {
    fn get(&self, connector: &str, partition: &SourceMap) -> Option<SourceMap> {
        let topics = self.topics.lock().unwrap();
        let canonical = (connector.to_owned(), encode_key("", partition));
        topics
            .connectors
            .get(connector)
            .and_then(|t| t.offsets.get(&canonical))
            .or_else(|| topics.global.offsets.get(&canonical))
            .map(|s| s.offset.clone())
    }

    fn put(&self, connector: &str, writes: &[OffsetWrite]) -> Result<(), ConnectError> {
        let mut topics = self.topics.lock().unwrap();
        let topics = &mut *topics;
        if let Some(own) = topics.connectors.get_mut(connector) {
            own.put(connector, writes)?;
            // The global copy is secondary (KIP-618): a failure there loses nothing.
            if let Err(e) = topics.global.put(connector, writes) {
                tracing::warn!(
                    "connector {connector}: offsets committed to its own topic but not to the worker's: {e}"
                );
            }
            Ok(())
        } else {
            topics.global.put(connector, writes)
        }
    }

    fn connector_offsets(&self, connector: &str) -> Vec<(SourceMap, SourceMap)> {
        let topics = self.topics.lock().unwrap();
        let mut merged: BTreeMap<&Vec<u8>, &Stored> =
            topics.global.connector_offsets(connector).collect();
        if let Some(own) = topics.connectors.get(connector) {
            merged.extend(own.connector_offsets(connector));
        }
        merged
            .into_values()
            .map(|s| (s.partition.clone(), s.offset.clone()))
            .collect()
    }
}
