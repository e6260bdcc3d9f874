//! Offset syncs kept per partition and the translation of consumer-group offsets (COMPAT §9.5).
//!
//! Like Kafka's `OffsetSyncStore`, a bounded set of syncs is kept per partition, spaced roughly
//! exponentially back from the newest: recent offsets translate precisely, old ones still
//! translate (less precisely), and memory stays bounded. Translation never extrapolates: an
//! upstream offset past a sync maps to `sync.downstream + 1`, so a consumer switching clusters
//! may re-read records but never skips one.

use std::collections::HashMap;

use crate::formats::OffsetSync;

/// The most syncs kept per partition (Kafka keeps 64).
pub const SYNCS_PER_PARTITION: usize = 64;

/// The syncs of one partition, newest first.
#[derive(Debug, Clone, Default)]
pub struct PartitionSyncs {
    syncs: Vec<OffsetSync>,
}

impl PartitionSyncs {
    /// Adds the newest sync. A sync that goes backwards (the upstream topic was recreated or the
    /// downstream truncated) invalidates everything older.
    pub fn add(&mut self, sync: OffsetSync) {
        let rewound = self.syncs.first().is_some_and(|latest| {
            sync.upstream_offset <= latest.upstream_offset
                || sync.downstream_offset <= latest.downstream_offset
        });
        if rewound {
            self.syncs.clear();
        }
        self.syncs.insert(0, sync);
        self.thin();
    }

    /// Over [`SYNCS_PER_PARTITION`], drops the sync whose removal leaves the smallest hole
    /// relative to its distance from the newest: recent syncs stay dense (a group near the head
    /// translates as precisely as `offset.lag.max` allows), old ones thin out roughly
    /// exponentially, and the oldest is kept so old offsets still translate.
    fn thin(&mut self) {
        while self.syncs.len() > SYNCS_PER_PARTITION {
            let latest = self.syncs[0].upstream_offset;
            let cost = |i: usize| {
                let hole =
                    (self.syncs[i - 1].upstream_offset - self.syncs[i + 1].upstream_offset) as f64;
                hole / ((latest - self.syncs[i - 1].upstream_offset) as f64 + 1.0)
            };
            let victim = (1..self.syncs.len() - 1)
                .min_by(|&a, &b| cost(a).total_cmp(&cost(b)))
                .expect("more than two syncs");
            self.syncs.remove(victim);
        }
    }

    /// The downstream offset for the upstream group offset `upstream` (the next offset the group
    /// would read), or None when every sync kept is newer than it.
    pub fn translate(&self, upstream: i64) -> Option<i64> {
        let sync = self.syncs.iter().find(|s| s.upstream_offset <= upstream)?;
        Some(if sync.upstream_offset == upstream {
            sync.downstream_offset
        } else {
            sync.downstream_offset + 1
        })
    }

    /// The syncs kept, newest first.
    pub fn syncs(&self) -> &[OffsetSync] {
        &self.syncs
    }
}

/// Syncs of every partition, keyed by upstream `(topic, partition)`.
#[derive(Debug, Default)]
pub struct OffsetSyncStore {
    partitions: HashMap<(String, i32), PartitionSyncs>,
}

impl OffsetSyncStore {
    /// Adds a sync read from the offset-syncs topic.
    pub fn add(&mut self, topic: String, partition: i32, sync: OffsetSync) {
        self.partitions
            .entry((topic, partition))
            .or_default()
            .add(sync);
    }

    /// Translates `upstream` for `topic`/`partition` (upstream names).
    pub fn translate(&self, topic: &str, partition: i32, upstream: i64) -> Option<i64> {
        self.partitions
            .get(&(topic.to_owned(), partition))?
            .translate(upstream)
    }
}

/// When a source task emits an offset sync for a partition (`MirrorSourceTask.PartitionState`).
#[derive(Debug, Clone)]
pub struct SyncDecider {
    max_lag: i64,
    previous_upstream: i64,
    previous_downstream: i64,
    last_sync_downstream: i64,
}

impl SyncDecider {
    /// A partition with no sync yet this task lifetime.
    pub fn new(max_lag: i64) -> Self {
        SyncDecider {
            max_lag,
            previous_upstream: -1,
            previous_downstream: -1,
            last_sync_downstream: -1,
        }
    }

    /// A record at `upstream` was written at `downstream`: whether to emit a sync for it.
    pub fn update(&mut self, upstream: i64, downstream: i64) -> bool {
        let first = self.last_sync_downstream == -1;
        // Translation goes one past the last sync, hence the + 1.
        let stale = downstream - (self.last_sync_downstream + 1) >= self.max_lag;
        let skipped = upstream - self.previous_upstream != 1;
        let truncated = downstream < self.previous_downstream;
        let emit = first || stale || skipped || truncated;
        if emit {
            self.last_sync_downstream = downstream;
        }
        self.previous_upstream = upstream;
        self.previous_downstream = downstream;
        emit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sync(up: i64, down: i64) -> OffsetSync {
        OffsetSync {
            upstream_offset: up,
            downstream_offset: down,
        }
    }

    #[test]
    fn translation_never_extrapolates() {
        let mut p = PartitionSyncs::default();
        p.add(sync(100, 10));
        p.add(sync(200, 110));
        let cases = [
            (50, None),
            (100, Some(10)),
            (101, Some(11)),
            (199, Some(11)),
            (200, Some(110)),
            (5000, Some(111)),
        ];
        for (up, want) in cases {
            assert_eq!(p.translate(up), want, "upstream {up}");
        }
    }

    #[test]
    fn rewind_forgets_older_syncs() {
        let mut p = PartitionSyncs::default();
        p.add(sync(100, 100));
        p.add(sync(0, 200));
        assert_eq!(p.syncs(), [sync(0, 200)]);
        assert_eq!(p.translate(150), Some(201));
    }

    #[test]
    fn syncs_stay_bounded_and_cover_old_offsets() {
        let mut p = PartitionSyncs::default();
        for i in 0..100_000i64 {
            p.add(sync(i * 10, i * 10));
        }
        assert!(p.syncs().len() <= SYNCS_PER_PARTITION);
        assert_eq!(p.syncs()[0], sync(999_990, 999_990));
        // Every kept sync is older than the one before it.
        assert!(p
            .syncs()
            .windows(2)
            .all(|w| w[0].upstream_offset > w[1].upstream_offset));
        // An old offset still translates, and never beyond itself.
        let t = p.translate(500_005).unwrap();
        assert!(t <= 500_005, "{t}");
        assert!(t > 250_000, "{t}");
        // Near the head, translation is exact to the sync.
        assert_eq!(p.translate(999_985), Some(999_981));
    }

    #[test]
    fn source_task_sync_decisions() {
        let mut d = SyncDecider::new(100);
        // (upstream, downstream, emit?)
        let steps = [
            (0, 0, true),     // first this lifetime
            (1, 1, false),    // contiguous
            (100, 100, true), // gap upstream (compaction)
            (101, 101, false),
            (201, 201, true), // 201 - (100 + 1) >= 100: too stale
            (202, 50, true),  // downstream went backwards
        ];
        for (up, down, want) in steps {
            assert_eq!(d.update(up, down), want, "({up}, {down})");
        }
    }

    #[test]
    fn store_is_keyed_by_upstream_topic_partition() {
        let mut s = OffsetSyncStore::default();
        s.add("t".into(), 0, sync(5, 50));
        assert_eq!(s.translate("t", 0, 5), Some(50));
        assert_eq!(s.translate("t", 1, 5), None);
        assert_eq!(s.translate("u", 0, 5), None);
    }
}
