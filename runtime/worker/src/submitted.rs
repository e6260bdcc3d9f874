//! Tracks records handed to the producer so that a source offset becomes committable only when
//! its record and every earlier record of the same source partition were acknowledged (or dropped),
//! Connect's `SubmittedRecords` (COMPAT §3.3, §5.3).
//!
//! Acknowledgements arrive on the producer's delivery thread in any order across partitions; each
//! partition keeps a queue in submission order and the acknowledged prefix is popped, its last
//! offset becoming the committable one.

use std::collections::VecDeque;

use ferry_api::SourceMap;

/// Identifies one submitted record: (partition slot, sequence number within the partition).
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
struct PartitionQueue {
    partition: SourceMap,
    /// Sequence number of the front of `pending`.
    front_seq: u64,
    next_seq: u64,
    /// (offset, acknowledged) in submission order.
    pending: VecDeque<(SourceMap, bool)>,
    /// Latest offset whose whole prefix is acknowledged, not yet taken by a flush.
    committable: Option<SourceMap>,
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
                    next_seq: 0,
                    pending: VecDeque::new(),
                    committable: None,
                });
                self.partitions.len() - 1
            }
        };
        self.last_slot = slot;
        slot
    }

    /// Registers a record about to be sent; its offset is committable once acknowledged.
    pub fn submit(&mut self, partition: &SourceMap, offset: SourceMap) -> SubmissionId {
        let slot = self.slot_of(partition);
        let q = &mut self.partitions[slot];
        let seq = q.next_seq;
        q.next_seq += 1;
        q.pending.push_back((offset, false));
        self.in_flight += 1;
        SubmissionId {
            slot: slot as u32,
            seq,
        }
    }

    /// Registers a record that was dropped (filtered or tolerated): committable as soon as
    /// everything before it is.
    pub fn submit_dropped(&mut self, partition: &SourceMap, offset: SourceMap) {
        let id = self.submit(partition, offset);
        self.ack(id);
    }

    /// The partition and offset of a submitted, not yet acknowledged record.
    pub fn get(&self, id: SubmissionId) -> Option<(&SourceMap, &SourceMap)> {
        let q = self.partitions.get(id.slot as usize)?;
        let idx = id.seq.checked_sub(q.front_seq)?;
        q.pending
            .get(idx as usize)
            .map(|(offset, _)| (&q.partition, offset))
    }

    /// Marks a record acknowledged and advances its partition's committable offset.
    pub fn ack(&mut self, id: SubmissionId) {
        let Some(q) = self.partitions.get_mut(id.slot as usize) else {
            return;
        };
        let Some(idx) = id.seq.checked_sub(q.front_seq) else {
            return;
        };
        let Some(entry) = q.pending.get_mut(idx as usize) else {
            return;
        };
        if entry.1 {
            return;
        }
        entry.1 = true;
        while matches!(q.pending.front(), Some((_, true))) {
            let (offset, _) = q.pending.pop_front().expect("front exists");
            q.front_seq += 1;
            q.committable = Some(offset);
            self.in_flight -= 1;
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

    /// Records submitted but not yet acknowledged (acknowledged ones behind a gap included).
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
        let a1 = s.submit(&a, m("o", 1));
        let a2 = s.submit(&a, m("o", 2));
        let b1 = s.submit(&b, m("o", 10));
        let a3 = s.submit(&a, m("o", 3));
        assert_eq!(s.get(a3), Some((&a, &m("o", 3))));
        s.ack(a2);
        s.ack(b1);
        assert_eq!(s.take_committable(), vec![(b.clone(), m("o", 10))]);
        s.ack(a1);
        assert_eq!(s.take_committable(), vec![(a.clone(), m("o", 2))]);
        assert_eq!(s.in_flight(), 1);
        s.submit_dropped(&a, m("o", 4));
        assert!(s.take_committable().is_empty(), "a3 is still in flight");
        s.ack(SubmissionId::from_opaque(a3.to_opaque()));
        assert_eq!(s.take_committable(), vec![(a, m("o", 4))]);
        assert_eq!(s.in_flight(), 0);
    }

    #[test]
    fn restore_keeps_newer_offsets() {
        let mut s = SubmittedRecords::new();
        let p = m("p", 1);
        let id = s.submit(&p, m("o", 1));
        s.ack(id);
        let taken = s.take_committable();
        let id = s.submit(&p, m("o", 2));
        s.ack(id);
        s.restore_committable(taken);
        assert_eq!(s.take_committable(), vec![(p, m("o", 2))]);
    }
}
