//! Tracks records handed to the producer so that a source offset becomes committable only when
//! its record and every earlier record of the same source partition were acknowledged (or dropped),
//! Connect's `SubmittedRecords` (COMPAT §3.3, §5.3).
//!
//! Records are tracked in *segments*: consecutive records of one source partition submitted in the
//! same poll batch share a segment that counts its unacknowledged records and keeps only the last
//! record's offset. A segment becomes committable when it and every earlier segment of its
//! partition are fully acknowledged. Committing at batch boundaries is as safe as per record
//! (never beyond an unacknowledged record) and costs one counter per record instead of one stored
//! offset map per record — the per-record maps were the source path's largest cost. Tasks that
//! want `commit_record` get one segment per record, so each record's offset is still at hand.
//!
//! Acknowledgements arrive on the producer's delivery thread in any order across partitions.

use std::collections::VecDeque;

use ferry_api::SourceMap;

/// Identifies one submitted record's segment: (partition slot, segment sequence number).
/// Packed into the `usize` delivery opaque of the producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmissionId {
    slot: u32,
    seq: u64,
}

impl SubmissionId {
    const SEQ_BITS: u32 = 40;

    /// Packs into a delivery opaque.
    pub fn to_opaque(self) -> usize {
        ((self.slot as u64) << Self::SEQ_BITS | (self.seq & ((1 << Self::SEQ_BITS) - 1))) as usize
    }
    /// Unpacks a delivery opaque.
    pub fn from_opaque(v: usize) -> Self {
        let v = v as u64;
        SubmissionId {
            slot: (v >> Self::SEQ_BITS) as u32,
            seq: v & ((1 << Self::SEQ_BITS) - 1),
        }
    }
}

#[derive(Debug)]
struct Segment {
    /// Offset of the segment's last record.
    offset: SourceMap,
    /// Records not acknowledged yet.
    outstanding: u32,
}

#[derive(Debug)]
struct PartitionQueue {
    partition: SourceMap,
    /// Sequence number of the front of `segments`.
    front_seq: u64,
    /// Whether the back segment still takes records (same batch).
    back_open: bool,
    segments: VecDeque<Segment>,
    /// Latest offset whose whole prefix is acknowledged, not yet taken by a flush.
    committable: Option<SourceMap>,
}

impl PartitionQueue {
    fn pop_acknowledged(&mut self) -> usize {
        let mut popped = 0;
        while self.segments.front().is_some_and(|s| s.outstanding == 0) {
            // The open back segment may still grow: leave it until the batch is closed.
            if self.segments.len() == 1 && self.back_open {
                break;
            }
            let s = self.segments.pop_front().expect("front exists");
            self.front_seq += 1;
            self.committable = Some(s.offset);
            popped += 1;
        }
        popped
    }
}

/// Submitted-but-unacknowledged records of one task.
#[derive(Debug, Default)]
pub struct SubmittedRecords {
    partitions: Vec<PartitionQueue>,
    last_slot: usize,
    in_flight: usize,
}

impl SubmittedRecords {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    fn slot_of(&mut self, partition: &SourceMap) -> usize {
        if let Some(q) = self.partitions.get(self.last_slot) {
            if q.partition == *partition {
                return self.last_slot;
            }
        }
        let slot = match self
            .partitions
            .iter()
            .position(|q| q.partition == *partition)
        {
            Some(i) => i,
            None => {
                self.partitions.push(PartitionQueue {
                    partition: partition.clone(),
                    front_seq: 0,
                    back_open: false,
                    segments: VecDeque::new(),
                    committable: None,
                });
                self.partitions.len() - 1
            }
        };
        self.last_slot = slot;
        slot
    }

    /// Registers a record about to be sent. With `own_segment` the record gets a segment of its
    /// own (for `commit_record`, which needs each record's offset); otherwise it joins the open
    /// segment of its partition in this batch.
    pub fn submit(
        &mut self,
        partition: &SourceMap,
        offset: SourceMap,
        own_segment: bool,
    ) -> SubmissionId {
        let slot = self.slot_of(partition);
        let q = &mut self.partitions[slot];
        self.in_flight += 1;
        if q.back_open && !own_segment {
            let back = q.segments.back_mut().expect("an open segment exists");
            back.offset = offset;
            back.outstanding += 1;
        } else {
            q.segments.push_back(Segment {
                offset,
                outstanding: 1,
            });
            q.back_open = !own_segment;
        }
        SubmissionId {
            slot: slot as u32,
            seq: q.front_seq + q.segments.len() as u64 - 1,
        }
    }

    /// Registers a record that was dropped (filtered or tolerated): committable as soon as
    /// everything before it is.
    pub fn submit_dropped(&mut self, partition: &SourceMap, offset: SourceMap) {
        let id = self.submit(partition, offset, false);
        self.ack(id);
    }

    /// Ends the current batch: open segments stop growing and can become committable.
    pub fn close_batch(&mut self) {
        for q in &mut self.partitions {
            if q.back_open {
                q.back_open = false;
                q.pop_acknowledged();
            }
        }
    }

    /// The partition and offset of a record submitted with its own segment, not yet acknowledged.
    pub fn get(&self, id: SubmissionId) -> Option<(&SourceMap, &SourceMap)> {
        let q = self.partitions.get(id.slot as usize)?;
        let idx = id.seq.checked_sub(q.front_seq)?;
        q.segments
            .get(idx as usize)
            .map(|s| (&q.partition, &s.offset))
    }

    /// Marks a record acknowledged and advances its partition's committable offset.
    pub fn ack(&mut self, id: SubmissionId) {
        let Some(q) = self.partitions.get_mut(id.slot as usize) else {
            return;
        };
        let Some(idx) = id.seq.checked_sub(q.front_seq) else {
            return;
        };
        let Some(segment) = q.segments.get_mut(idx as usize) else {
            return;
        };
        if segment.outstanding == 0 {
            return;
        }
        segment.outstanding -= 1;
        self.in_flight -= 1;
        if idx == 0 {
            q.pop_acknowledged();
        }
    }

    /// Takes the committable offsets accumulated since the last call.
    pub fn take_committable(&mut self) -> Vec<(SourceMap, SourceMap)> {
        self.partitions
            .iter_mut()
            .filter_map(|q| q.committable.take().map(|o| (q.partition.clone(), o)))
            .collect()
    }

    /// Puts back offsets that could not be written, unless newer ones arrived meanwhile.
    pub fn restore_committable(&mut self, offsets: Vec<(SourceMap, SourceMap)>) {
        for (partition, offset) in offsets {
            let slot = self.slot_of(&partition);
            let q = &mut self.partitions[slot];
            if q.committable.is_none() {
                q.committable = Some(offset);
            }
        }
    }

    /// Records submitted but not yet acknowledged.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_api::OffsetValue;

    fn m(k: &str, v: i64) -> SourceMap {
        [(k.to_owned(), OffsetValue::Int(v))].into_iter().collect()
    }

    #[test]
    fn only_fully_acknowledged_prefixes_are_committable() {
        let mut s = SubmittedRecords::new();
        let (a, b) = (m("p", 1), m("p", 2));
        // One batch: a1 a2 b1 a3 share segments per partition.
        let a1 = s.submit(&a, m("o", 1), false);
        let a2 = s.submit(&a, m("o", 2), false);
        let b1 = s.submit(&b, m("o", 10), false);
        let a3 = s.submit(&a, m("o", 3), false);
        s.close_batch();
        s.ack(a2);
        s.ack(b1);
        assert_eq!(s.take_committable(), vec![(b.clone(), m("o", 10))]);
        s.ack(a1);
        assert!(
            s.take_committable().is_empty(),
            "a3 is in the same segment and still in flight"
        );
        assert_eq!(s.in_flight(), 1);
        // Next batch.
        s.submit_dropped(&a, m("o", 4));
        s.close_batch();
        assert!(s.take_committable().is_empty(), "a3 is still in flight");
        s.ack(SubmissionId::from_opaque(a3.to_opaque()));
        assert_eq!(s.take_committable(), vec![(a, m("o", 4))]);
        assert_eq!(s.in_flight(), 0);
    }

    #[test]
    fn an_open_batch_is_not_committed_early() {
        let mut s = SubmittedRecords::new();
        let p = m("p", 1);
        let r1 = s.submit(&p, m("o", 1), false);
        s.ack(r1);
        assert!(s.take_committable().is_empty(), "the batch may still grow");
        s.close_batch();
        assert_eq!(s.take_committable(), vec![(p, m("o", 1))]);
    }

    #[test]
    fn own_segments_keep_each_offset_for_commit_record() {
        let mut s = SubmittedRecords::new();
        let p = m("p", 1);
        let r1 = s.submit(&p, m("o", 1), true);
        let r2 = s.submit(&p, m("o", 2), true);
        assert_eq!(s.get(r1), Some((&p, &m("o", 1))));
        assert_eq!(s.get(r2), Some((&p, &m("o", 2))));
        s.ack(r2);
        assert!(s.take_committable().is_empty());
        s.ack(r1);
        assert_eq!(s.take_committable(), vec![(p, m("o", 2))]);
    }

    #[test]
    fn restore_keeps_newer_offsets() {
        let mut s = SubmittedRecords::new();
        let p = m("p", 1);
        let id = s.submit(&p, m("o", 1), false);
        s.close_batch();
        s.ack(id);
        let taken = s.take_committable();
        let id = s.submit(&p, m("o", 2), false);
        s.close_batch();
        s.ack(id);
        s.restore_committable(taken);
        assert_eq!(s.take_committable(), vec![(p, m("o", 2))]);
    }
}
