//! Confluent's source partitions and offsets (`OffsetProtocols`, `TimestampIncrementingOffset`),
//! so that a connector migrated from Kafka Connect resumes where it stopped:
//! partition v1 `{"protocol":"1","table":"db.tbl"}` (v0 `{"table":"tbl"}` read as a fallback),
//! query mode `{"query":"query"}`; offset `{"incrementing":N}`, `{"timestamp":ms,
//! "timestamp_nanos":ns}` or all three.

use ferry_api::{OffsetStorageReader, OffsetValue, SourceMap};

use crate::dialect::TableId;

pub(crate) const PROTOCOL: &str = "protocol";
pub(crate) const TABLE: &str = "table";
pub(crate) const QUERY: &str = "query";
pub(crate) const INCREMENTING: &str = "incrementing";
pub(crate) const TIMESTAMP: &str = "timestamp";
pub(crate) const TIMESTAMP_NANOS: &str = "timestamp_nanos";

/// The v1 partition of a table.
pub(crate) fn table_partition(id: &TableId) -> SourceMap {
    SourceMap::from([
        (PROTOCOL.to_owned(), OffsetValue::from("1")),
        (TABLE.to_owned(), OffsetValue::from(id.to_string())),
    ])
}

/// The v0 partition of a table (bare name), read when no v1 offset exists.
pub(crate) fn legacy_table_partition(id: &TableId) -> SourceMap {
    SourceMap::from([(TABLE.to_owned(), OffsetValue::from(id.table.clone()))])
}

/// The partition of query mode.
pub(crate) fn query_partition() -> SourceMap {
    SourceMap::from([(QUERY.to_owned(), OffsetValue::from("query"))])
}

/// The position in a table: the last incrementing value and/or timestamp (UTC epoch micros).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Position {
    pub(crate) incrementing: Option<i64>,
    pub(crate) timestamp_us: Option<i64>,
}

impl Position {
    /// The offset map (only the keys that are set).
    pub(crate) fn to_map(self) -> SourceMap {
        let mut m = SourceMap::new();
        if let Some(i) = self.incrementing {
            m.insert(INCREMENTING.into(), OffsetValue::Int(i));
        }
        if let Some(us) = self.timestamp_us {
            let ms = us.div_euclid(1000);
            let nanos = us.rem_euclid(1_000_000) * 1000;
            m.insert(TIMESTAMP.into(), OffsetValue::Int(ms));
            m.insert(TIMESTAMP_NANOS.into(), OffsetValue::Int(nanos));
        }
        m
    }

    /// Reads an offset map (missing keys stay unset; nanos refine the millisecond timestamp).
    pub(crate) fn from_map(m: &SourceMap) -> Position {
        let int = |k: &str| match m.get(k) {
            Some(OffsetValue::Int(i)) => Some(*i),
            Some(OffsetValue::Float(f)) => Some(*f as i64),
            Some(OffsetValue::String(s)) => s.parse().ok(),
            _ => None,
        };
        let timestamp_us = int(TIMESTAMP).map(|ms| match int(TIMESTAMP_NANOS) {
            Some(ns) => ms.div_euclid(1000) * 1_000_000 + ns / 1000,
            None => ms * 1000,
        });
        Position {
            incrementing: int(INCREMENTING),
            timestamp_us,
        }
    }

    /// The committed position of `partition`, trying the v0 form for tables.
    pub(crate) fn stored(
        reader: &dyn OffsetStorageReader,
        partition: &SourceMap,
        legacy: Option<&SourceMap>,
    ) -> Option<Position> {
        reader
            .offset(partition)
            .or_else(|| legacy.and_then(|l| reader.offset(l)))
            .map(|m| Position::from_map(&m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_match_confluent() {
        let id = TableId {
            catalog: Some("shop".into()),
            schema: None,
            table: "orders".into(),
        };
        let p = table_partition(&id);
        assert_eq!(p.get("protocol"), Some(&OffsetValue::from("1")));
        assert_eq!(p.get("table"), Some(&OffsetValue::from("shop.orders")));
        assert_eq!(p.len(), 2);
        assert_eq!(
            legacy_table_partition(&id),
            SourceMap::from([("table".to_owned(), OffsetValue::from("orders"))])
        );
        assert_eq!(
            query_partition(),
            SourceMap::from([("query".to_owned(), OffsetValue::from("query"))])
        );
    }

    #[test]
    fn offsets_keep_microseconds() {
        let pos = Position {
            incrementing: Some(42),
            timestamp_us: Some(1_700_000_000_123_456),
        };
        let m = pos.to_map();
        assert_eq!(
            m,
            SourceMap::from([
                ("incrementing".to_owned(), OffsetValue::Int(42)),
                ("timestamp".to_owned(), OffsetValue::Int(1_700_000_000_123)),
                ("timestamp_nanos".to_owned(), OffsetValue::Int(123_456_000)),
            ])
        );
        assert_eq!(Position::from_map(&m), pos);
        let before_epoch = Position {
            incrementing: None,
            timestamp_us: Some(-1),
        };
        assert_eq!(Position::from_map(&before_epoch.to_map()), before_epoch);
        // Java's millisecond-only offsets (older connectors).
        let ms_only = SourceMap::from([("timestamp".to_owned(), OffsetValue::Int(5))]);
        assert_eq!(Position::from_map(&ms_only).timestamp_us, Some(5000));
    }
}
