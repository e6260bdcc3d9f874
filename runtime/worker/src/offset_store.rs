//! Source offset storage. Offsets are indexed by the *decoded* (connector, partition) so offsets
//! written by Java Connect (whose partition maps are in `HashMap` order) are found and overwritten
//! under their original key bytes (COMPAT §3.3, §12 item 4).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ferry_api::{ConnectError, OffsetStorageReader, SourceMap};

use crate::offset_key::{decode_key, decode_offset, encode_key, encode_offset};
use crate::offsets_file::{read_offsets_file, write_offsets_file, OffsetEntry};

/// A source offset change: a partition and its new offset (None deletes it).
pub type OffsetWrite = (SourceMap, Option<SourceMap>);

/// Where source offsets live (a file in standalone mode, a Kafka topic in distributed mode).
pub trait OffsetBackingStore: Send + Sync + fmt::Debug {
    /// The committed offset of `partition` of `connector`.
    fn get(&self, connector: &str, partition: &SourceMap) -> Option<SourceMap>;
    /// Writes offsets durably; returns once they are durable. Blocking: call off the reactor.
    fn put(&self, connector: &str, writes: &[OffsetWrite]) -> Result<(), ConnectError>;
    /// Every committed (partition, offset) of `connector`.
    fn connector_offsets(&self, connector: &str) -> Vec<(SourceMap, SourceMap)>;
}

#[derive(Debug, Clone)]
struct StoredOffset {
    /// Key bytes as first seen (Java's order for migrated offsets), so rewrites replace them.
    key_bytes: Vec<u8>,
    connector: String,
    partition: SourceMap,
    offset: SourceMap,
}

/// The standalone offsets file: Java-serialised `HashMap<byte[],byte[]>`, rewritten whole (and
/// atomically) on every flush.
#[derive(Debug)]
pub struct FileOffsetStore {
    path: PathBuf,
    /// Canonical (Ferry-encoded) key bytes → stored offset.
    entries: Mutex<BTreeMap<Vec<u8>, StoredOffset>>,
}

impl FileOffsetStore {
    /// Opens `path`, loading whatever is there (a missing file means no offsets). Entries that do
    /// not decode are an error naming the file: silently dropping them would replay data.
    pub fn open(path: &Path) -> Result<Self, ConnectError> {
        let raw = read_offsets_file(path).map_err(|e| ConnectError::external(e.to_string()))?;
        let mut entries = BTreeMap::new();
        for (key, value) in raw {
            let Some(value) = value else { continue };
            let (connector, partition) = decode_key(&key)
                .map_err(|e| ConnectError::data(format!("offsets file {}: {e}", path.display())))?;
            let offset = decode_offset(&value)
                .map_err(|e| ConnectError::data(format!("offsets file {}: {e}", path.display())))?;
            entries.insert(
                encode_key(&connector, &partition),
                StoredOffset {
                    key_bytes: key,
                    connector,
                    partition,
                    offset,
                },
            );
        }
        Ok(FileOffsetStore {
            path: path.to_owned(),
            entries: Mutex::new(entries),
        })
    }

    fn persist(&self, entries: &BTreeMap<Vec<u8>, StoredOffset>) -> Result<(), ConnectError> {
        let raw: Vec<OffsetEntry> = entries
            .values()
            .map(|e| (e.key_bytes.clone(), Some(encode_offset(&e.offset))))
            .collect();
        write_offsets_file(&self.path, &raw).map_err(|e| ConnectError::retriable(e.to_string()))
    }
}

impl OffsetBackingStore for FileOffsetStore {
    fn get(&self, connector: &str, partition: &SourceMap) -> Option<SourceMap> {
        let key = encode_key(connector, partition);
        self.entries
            .lock()
            .unwrap()
            .get(&key)
            .map(|e| e.offset.clone())
    }

    fn put(&self, connector: &str, writes: &[OffsetWrite]) -> Result<(), ConnectError> {
        let mut entries = self.entries.lock().unwrap();
        let mut next = entries.clone();
        for (partition, offset) in writes {
            let key = encode_key(connector, partition);
            match offset {
                None => {
                    next.remove(&key);
                }
                Some(offset) => {
                    let key_bytes = next
                        .get(&key)
                        .map(|e| e.key_bytes.clone())
                        .unwrap_or_else(|| key.clone());
                    next.insert(
                        key,
                        StoredOffset {
                            key_bytes,
                            connector: connector.to_owned(),
                            partition: partition.clone(),
                            offset: offset.clone(),
                        },
                    );
                }
            }
        }
        // Only adopt the new state once it is on disk: a failed write must not pretend durability.
        self.persist(&next)?;
        *entries = next;
        Ok(())
    }

    fn connector_offsets(&self, connector: &str) -> Vec<(SourceMap, SourceMap)> {
        self.entries
            .lock()
            .unwrap()
            .values()
            .filter(|e| e.connector == connector)
            .map(|e| (e.partition.clone(), e.offset.clone()))
            .collect()
    }
}

/// The [`OffsetStorageReader`] a source task gets: its connector's view of the store.
#[derive(Debug, Clone)]
pub struct ConnectorOffsetReader {
    /// The store.
    pub store: Arc<dyn OffsetBackingStore>,
    /// The connector.
    pub connector: String,
}

impl OffsetStorageReader for ConnectorOffsetReader {
    fn offset(&self, partition: &SourceMap) -> Option<SourceMap> {
        self.store.get(&self.connector, partition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_api::OffsetValue;

    fn map(pairs: &[(&str, OffsetValue)]) -> SourceMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn offsets_survive_reopen_and_java_ordered_keys_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connect.offsets");
        // An offset written by Java with the partition keys in HashMap order.
        let java_key = br#"["mm",{"topic":"t","cluster":"A","partition":0}]"#.to_vec();
        write_offsets_file(
            &path,
            &[(java_key.clone(), Some(br#"{"offset":5}"#.to_vec()))],
        )
        .unwrap();

        let store = FileOffsetStore::open(&path).unwrap();
        let part = map(&[
            ("cluster", "A".into()),
            ("partition", OffsetValue::Int(0)),
            ("topic", "t".into()),
        ]);
        assert_eq!(
            store.get("mm", &part),
            Some(map(&[("offset", OffsetValue::Int(5))]))
        );

        store
            .put(
                "mm",
                &[(part.clone(), Some(map(&[("offset", OffsetValue::Int(9))])))],
            )
            .unwrap();
        let file = map(&[("filename", "/x".into())]);
        store
            .put(
                "fs",
                &[(
                    file.clone(),
                    Some(map(&[("position", OffsetValue::Int(42))])),
                )],
            )
            .unwrap();

        // The Java key bytes are reused, so the file keeps one entry for the partition.
        let raw = read_offsets_file(&path).unwrap();
        assert_eq!(raw.len(), 2);
        assert!(raw
            .iter()
            .any(|(k, v)| *k == java_key && v.as_deref() == Some(&br#"{"offset":9}"#[..])));

        let reopened = FileOffsetStore::open(&path).unwrap();
        assert_eq!(
            reopened.get("fs", &file),
            Some(map(&[("position", OffsetValue::Int(42))]))
        );
        assert_eq!(reopened.connector_offsets("mm").len(), 1);
        reopened.put("fs", &[(file.clone(), None)]).unwrap();
        assert_eq!(FileOffsetStore::open(&path).unwrap().get("fs", &file), None);
    }
}
