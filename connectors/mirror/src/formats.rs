//! The binary records of MM2's internal topics (COMPAT §9.4), in Kafka-protocol encoding:
//! big-endian integers, STRING = int16 length + UTF-8.
//!
//! * heartbeats: key `(sourceClusterAlias, targetClusterAlias)`, value `(version=0, timestamp)`;
//! * `<alias>.checkpoints.internal`: key `(group, downstream topic, partition)`, value
//!   `(version=0, upstreamOffset, downstreamOffset, metadata)`;
//! * `mm2-offset-syncs.<alias>.internal`: key `(upstream topic, partition)`, value
//!   `(upstreamOffset, downstreamOffset)` — no version header.
//!
//! Java readers (`Heartbeat.deserializeRecord`, `Checkpoint`, `OffsetSync`) parse exactly these
//! bytes, so a Java MM2 or `RemoteClusterUtils` can read what Ferry writes and the reverse.

/// A record of an internal topic that does not parse.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    /// Fewer bytes than the field needs.
    #[error("{record}: truncated while reading field {field}")]
    Truncated {
        /// Which record type.
        record: &'static str,
        /// Which field.
        field: &'static str,
    },
    /// A string field is not UTF-8 or has a negative length.
    #[error("{record}: field {field} is not a valid string")]
    BadString {
        /// Which record type.
        record: &'static str,
        /// Which field.
        field: &'static str,
    },
    /// Key or value missing (a tombstone).
    #[error("{record}: null {part}")]
    Null {
        /// Which record type.
        record: &'static str,
        /// `key` or `value`.
        part: &'static str,
    },
}

/// The only value version MM2 writes for heartbeats and checkpoints.
pub const VERSION: i16 = 0;

struct Writer(Vec<u8>);

impl Writer {
    fn new() -> Self {
        Writer(Vec::with_capacity(32))
    }
    fn string(mut self, s: &str) -> Self {
        // Kafka's STRING type caps lengths at i16::MAX; topic/group names are far shorter.
        let len = i16::try_from(s.len()).unwrap_or(i16::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(&s.as_bytes()[..len as usize]);
        self
    }
    fn i16(mut self, v: i16) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn i32(mut self, v: i32) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn i64(mut self, v: i64) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    record: &'static str,
}

impl<'a> Reader<'a> {
    fn new(
        buf: Option<&'a [u8]>,
        record: &'static str,
        part: &'static str,
    ) -> Result<Self, FormatError> {
        let buf = buf.ok_or(FormatError::Null { record, part })?;
        Ok(Reader { buf, record })
    }
    fn take<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], FormatError> {
        if self.buf.len() < N {
            return Err(FormatError::Truncated {
                record: self.record,
                field,
            });
        }
        let (head, rest) = self.buf.split_at(N);
        self.buf = rest;
        Ok(head.try_into().expect("split at N"))
    }
    fn i16(&mut self, field: &'static str) -> Result<i16, FormatError> {
        self.take::<2>(field).map(i16::from_be_bytes)
    }
    fn i32(&mut self, field: &'static str) -> Result<i32, FormatError> {
        self.take::<4>(field).map(i32::from_be_bytes)
    }
    fn i64(&mut self, field: &'static str) -> Result<i64, FormatError> {
        self.take::<8>(field).map(i64::from_be_bytes)
    }
    fn string(&mut self, field: &'static str) -> Result<String, FormatError> {
        let len = self.i16(field)?;
        let bad = FormatError::BadString {
            record: self.record,
            field,
        };
        let len = usize::try_from(len).map_err(|_| bad.clone())?;
        if self.buf.len() < len {
            return Err(FormatError::Truncated {
                record: self.record,
                field,
            });
        }
        let (head, rest) = self.buf.split_at(len);
        self.buf = rest;
        String::from_utf8(head.to_vec()).map_err(|_| bad)
    }
}

/// A heartbeat: `source` → `target` was alive at `timestamp` (epoch ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// `sourceClusterAlias`.
    pub source_cluster_alias: String,
    /// `targetClusterAlias`.
    pub target_cluster_alias: String,
    /// Epoch milliseconds.
    pub timestamp: i64,
}

impl Heartbeat {
    /// Key bytes.
    pub fn key_bytes(&self) -> Vec<u8> {
        Writer::new()
            .string(&self.source_cluster_alias)
            .string(&self.target_cluster_alias)
            .0
    }
    /// Value bytes.
    pub fn value_bytes(&self) -> Vec<u8> {
        Writer::new().i16(VERSION).i64(self.timestamp).0
    }
    /// Parses a record of a heartbeats topic.
    pub fn decode(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<Self, FormatError> {
        const R: &str = "heartbeat";
        let mut k = Reader::new(key, R, "key")?;
        let mut v = Reader::new(value, R, "value")?;
        let source_cluster_alias = k.string("sourceClusterAlias")?;
        let target_cluster_alias = k.string("targetClusterAlias")?;
        v.i16("version")?;
        Ok(Heartbeat {
            source_cluster_alias,
            target_cluster_alias,
            timestamp: v.i64("timestamp")?,
        })
    }
}

/// A checkpoint: `group` had committed `upstream_offset` on the source cluster, which is
/// `downstream_offset` in the remote topic `topic` on the target cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Consumer group id.
    pub group: String,
    /// The downstream (renamed) topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The group's committed offset upstream.
    pub upstream_offset: i64,
    /// The translated offset downstream.
    pub downstream_offset: i64,
    /// The commit's metadata, carried through.
    pub metadata: String,
}

impl Checkpoint {
    /// Key bytes.
    pub fn key_bytes(&self) -> Vec<u8> {
        Writer::new()
            .string(&self.group)
            .string(&self.topic)
            .i32(self.partition)
            .0
    }
    /// Value bytes.
    pub fn value_bytes(&self) -> Vec<u8> {
        Writer::new()
            .i16(VERSION)
            .i64(self.upstream_offset)
            .i64(self.downstream_offset)
            .string(&self.metadata)
            .0
    }
    /// Parses a record of a checkpoints topic.
    pub fn decode(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<Self, FormatError> {
        const R: &str = "checkpoint";
        let mut k = Reader::new(key, R, "key")?;
        let mut v = Reader::new(value, R, "value")?;
        let group = k.string("group")?;
        let topic = k.string("topic")?;
        let partition = k.i32("partition")?;
        v.i16("version")?;
        Ok(Checkpoint {
            group,
            topic,
            partition,
            upstream_offset: v.i64("upstreamOffset")?,
            downstream_offset: v.i64("offset")?,
            metadata: v.string("metadata")?,
        })
    }
}

/// An offset sync: upstream `topic`/`partition` offset `upstream_offset` was written downstream
/// at `downstream_offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetSync {
    /// Upstream offset.
    pub upstream_offset: i64,
    /// Downstream offset.
    pub downstream_offset: i64,
}

/// Key bytes of an offset sync (the **upstream** topic name).
pub fn offset_sync_key(topic: &str, partition: i32) -> Vec<u8> {
    Writer::new().string(topic).i32(partition).0
}

impl OffsetSync {
    /// Value bytes (no version header).
    pub fn value_bytes(&self) -> Vec<u8> {
        Writer::new()
            .i64(self.upstream_offset)
            .i64(self.downstream_offset)
            .0
    }
    /// Parses a record of an offset-syncs topic: `(topic, partition, sync)`.
    pub fn decode(
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) -> Result<(String, i32, Self), FormatError> {
        const R: &str = "offset sync";
        let mut k = Reader::new(key, R, "key")?;
        let mut v = Reader::new(value, R, "value")?;
        let topic = k.string("topic")?;
        let partition = k.i32("partition")?;
        let sync = OffsetSync {
            upstream_offset: v.i64("upstreamOffset")?,
            downstream_offset: v.i64("offset")?,
        };
        Ok((topic, partition, sync))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_golden_bytes() {
        let hb = Heartbeat {
            source_cluster_alias: "A".into(),
            target_cluster_alias: "B".into(),
            timestamp: 0x0102030405060708,
        };
        assert_eq!(hb.key_bytes(), [0, 1, b'A', 0, 1, b'B']);
        assert_eq!(hb.value_bytes(), [0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        let back = Heartbeat::decode(Some(&hb.key_bytes()), Some(&hb.value_bytes())).unwrap();
        assert_eq!(back, hb);
    }

    #[test]
    fn checkpoint_golden_bytes() {
        let cp = Checkpoint {
            group: "g".into(),
            topic: "A.t".into(),
            partition: 2,
            upstream_offset: 100,
            downstream_offset: 7,
            metadata: "m".into(),
        };
        assert_eq!(
            cp.key_bytes(),
            [0, 1, b'g', 0, 3, b'A', b'.', b't', 0, 0, 0, 2]
        );
        assert_eq!(
            cp.value_bytes(),
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 7, 0, 1, b'm']
        );
        let back = Checkpoint::decode(Some(&cp.key_bytes()), Some(&cp.value_bytes())).unwrap();
        assert_eq!(back, cp);
    }

    #[test]
    fn offset_sync_golden_bytes_have_no_version() {
        let sync = OffsetSync {
            upstream_offset: 258,
            downstream_offset: 3,
        };
        assert_eq!(offset_sync_key("t", 1), [0, 1, b't', 0, 0, 0, 1]);
        assert_eq!(
            sync.value_bytes(),
            [0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 3]
        );
        let (t, p, back) =
            OffsetSync::decode(Some(&offset_sync_key("t", 1)), Some(&sync.value_bytes())).unwrap();
        assert_eq!((t.as_str(), p, back), ("t", 1, sync));
    }

    #[test]
    fn malformed_records_name_the_field() {
        type Case<'a> = (Option<&'a [u8]>, Option<&'a [u8]>, FormatError);
        let cases: [Case<'_>; 3] = [
            (
                Some(&[0, 1, b'A']),
                Some(&[0, 0]),
                FormatError::Truncated {
                    record: "heartbeat",
                    field: "targetClusterAlias",
                },
            ),
            (
                None,
                Some(&[0, 0]),
                FormatError::Null {
                    record: "heartbeat",
                    part: "key",
                },
            ),
            (
                Some(&[0xff, 0xff]),
                Some(&[0, 0]),
                FormatError::BadString {
                    record: "heartbeat",
                    field: "sourceClusterAlias",
                },
            ),
        ];
        for (k, v, want) in cases {
            assert_eq!(Heartbeat::decode(k, v).unwrap_err(), want);
        }
    }
}
