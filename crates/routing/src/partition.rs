//! Waiting tasks of one queue that share one requirement signature, in the queue's order.
//!
//! The order key `priority * r - entered_at` is static, and for one priority level it follows
//! (entered_at, seq): new tasks of a level arrive in order. So each level gets a lane, a
//! [`SortedDeque`] by (entered_at, seq), where an enqueue pushes to the back and an offer pops
//! the front; the partition's head is the best lane front. Levels beyond
//! `PRIORITY_LANES_MAX` share one B-tree ordered by the full key.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use domain::Timestamp;

use crate::aging::order_key;
use crate::queue::StageEntry;
use crate::signature::SigId;
use crate::sorted_deque::{Hint, SortedDeque, NO_HINT};

/// Priority levels with a lane of their own in one partition: the head is the best of the
/// lane fronts, so this bounds the cost of finding it.
const PRIORITY_LANES_MAX: usize = 8;

/// Position of a waiting task in its partition: larger aging key first (so the negated key
/// ascends), then older, then earlier enqueued. `seq` is unique, so the order is total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WaitEntry {
    pub(crate) neg_key: i128,
    pub(crate) entered_at: Timestamp,
    pub(crate) seq: u64,
    /// Carried so that heads of different queues compare without a task lookup.
    pub(crate) priority: i32,
    /// The task's slot in the task table, so that the task is offered without the id index.
    pub(crate) slot: u32,
}

/// The fields in declaration order, as a derived order would compare them. Written out so
/// that `<`, on every head comparison, is one chain of compares rather than a chain of
/// `Option<Ordering>`s.
impl Ord for WaitEntry {
    fn cmp(&self, other: &WaitEntry) -> Ordering {
        self.neg_key
            .cmp(&other.neg_key)
            .then(self.entered_at.cmp(&other.entered_at))
            .then(self.seq.cmp(&other.seq))
            .then(self.priority.cmp(&other.priority))
            .then(self.slot.cmp(&other.slot))
    }
}

impl PartialOrd for WaitEntry {
    fn partial_cmp(&self, other: &WaitEntry) -> Option<Ordering> {
        Some(self.cmp(other))
    }

    fn lt(&self, other: &WaitEntry) -> bool {
        if self.neg_key != other.neg_key {
            return self.neg_key < other.neg_key;
        }
        (self.entered_at, self.seq, self.priority, self.slot)
            < (other.entered_at, other.seq, other.priority, other.slot)
    }
}

impl WaitEntry {
    pub(crate) fn new(
        priority: i32,
        (entered_at, seq, slot): StageEntry,
        aging_ms_per_level: u64,
    ) -> WaitEntry {
        let neg_key = -order_key(priority, entered_at, aging_ms_per_level);
        WaitEntry { neg_key, entered_at, seq, priority, slot }
    }

    /// Its key in a priority lane and in an overflow stage.
    pub(crate) fn lane_key(&self) -> StageEntry {
        (self.entered_at, self.seq, self.slot)
    }
}

/// Tasks of one priority level, by (entered_at, seq): the same order as their keys.
struct Lane {
    priority: i32,
    tasks: SortedDeque<StageEntry>,
}

/// Never empty while held by its queue.
pub(crate) struct Partition {
    pub(crate) sig: SigId,
    /// Copy of the first entry: a freed agent reads heads without walking the lanes.
    pub(crate) head: WaitEntry,
    /// An emptied lane stays (keeping its buffer) until another level takes it over.
    lanes: Vec<Lane>,
    /// Tasks whose level found no lane free.
    rest: BTreeSet<WaitEntry>,
    len: usize,
}

impl Partition {
    /// An empty partition: the caller inserts its first task at once.
    pub(crate) fn new(sig: SigId, entry: WaitEntry) -> Partition {
        let (lanes, rest) = (Vec::new(), BTreeSet::new());
        Partition { sig, head: entry, lanes, rest, len: 0 }
    }

    /// Makes an emptied partition (taken back from its queue) hold a new signature, reusing
    /// its lane buffers: partitions of rare signatures come and go with every task. The caller
    /// inserts its first task at once.
    pub(crate) fn reuse(&mut self, sig: SigId) {
        assert_eq!(self.len, 0, "only an empty partition is reused");
        self.sig = sig;
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds a waiting task; returns whether it became the head, and where its lane put it
    /// (for [`Partition::remove`]).
    pub(crate) fn insert(&mut self, entry: WaitEntry) -> (bool, Hint) {
        let twice = !self.rest.is_empty() && self.rest.contains(&entry);
        let at = match self.lanes.iter().position(|l| l.priority == entry.priority) {
            Some(at) => Some(at),
            None => self.lanes.iter().position(|l| l.tasks.is_empty()).or_else(|| {
                (self.lanes.len() < PRIORITY_LANES_MAX).then(|| {
                    let tasks = SortedDeque::default();
                    self.lanes.push(Lane { priority: entry.priority, tasks });
                    self.lanes.len() - 1
                })
            }),
        };
        let hint = if twice {
            None
        } else {
            match at {
                Some(at) => {
                    let lane = &mut self.lanes[at];
                    lane.priority = entry.priority;
                    lane.tasks.insert_hinted(entry.lane_key())
                }
                None => self.rest.insert(entry).then_some(NO_HINT),
            }
        };
        let hint = hint.unwrap_or_else(|| panic!("task at slot {} queued twice", entry.slot));
        self.len += 1;
        if self.len == 1 || entry < self.head {
            self.head = entry;
            return (true, hint);
        }
        (false, hint)
    }

    /// Takes a waiting task out; returns whether the head changed. The head of an emptied
    /// partition is stale: the queue drops it.
    /// `hint` is what [`Partition::insert`] returned for it.
    pub(crate) fn remove(
        &mut self,
        entry: &WaitEntry,
        hint: Hint,
        aging_ms_per_level: u64,
    ) -> bool {
        let at = self.lanes.iter().position(|l| l.priority == entry.priority);
        let in_lane =
            at.is_some_and(|at| self.lanes[at].tasks.remove_hinted(&entry.lane_key(), hint));
        let removed = in_lane || self.rest.remove(entry);
        assert!(removed, "task at slot {} not waiting", entry.slot);
        self.len -= 1;
        if self.len == 0 || *entry != self.head {
            return false;
        }
        self.head = self.first(aging_ms_per_level).expect("a non-empty partition has a first");
        true
    }

    pub(crate) fn contains(&self, entry: &WaitEntry) -> bool {
        let lane = self.lanes.iter().find(|l| l.priority == entry.priority);
        lane.is_some_and(|l| l.tasks.contains(&entry.lane_key())) || self.rest.contains(entry)
    }

    /// The best entry, from the lane fronts.
    pub(crate) fn first(&self, aging_ms_per_level: u64) -> Option<WaitEntry> {
        let mut best = self.rest.first().copied();
        for lane in &self.lanes {
            let Some(&key) = lane.tasks.first() else { continue };
            let front = WaitEntry::new(lane.priority, key, aging_ms_per_level);
            if best.is_none_or(|b| front < b) {
                best = Some(front);
            }
        }
        best
    }

    /// Asserts the representation: lanes of distinct levels, counted in `len`.
    pub(crate) fn check(&self) {
        for (i, lane) in self.lanes.iter().enumerate() {
            lane.tasks.check();
            let twice = self.lanes[..i].iter().any(|l| l.priority == lane.priority);
            assert!(!twice, "two lanes for priority {}", lane.priority);
        }
        assert!(self.lanes.len() <= PRIORITY_LANES_MAX, "too many lanes");
        let in_lanes: usize = self.lanes.iter().map(|l| l.tasks.len()).sum();
        assert_eq!(in_lanes + self.rest.len(), self.len, "partition length");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a BTreeSet: more levels than lanes, out-of-order arrivals, removals anywhere.
    #[test]
    fn head_and_membership_match_a_sorted_set() {
        let aging = 1_000;
        let mut model: BTreeSet<WaitEntry> = BTreeSet::new();
        let mut partition: Option<Partition> = None;
        let mut state: u64 = 11;
        for seq in 0..5_000u64 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let r = state >> 33;
            let remove = r.is_multiple_of(3) && !model.is_empty();
            if remove {
                // Mostly the head, sometimes one in the middle.
                let entry = if r.is_multiple_of(2) {
                    *model.first().expect("not empty")
                } else {
                    *model.iter().nth((r as usize / 7) % model.len()).expect("in range")
                };
                model.remove(&entry);
                let p = partition.as_mut().expect("holds the model's entries");
                p.remove(&entry, NO_HINT, aging);
                if model.is_empty() {
                    partition = None;
                }
            } else {
                let priority = (r % 12) as i32 - 2;
                // Mostly in order; every fifth entry is dated back, like a moved task.
                let at = seq as i64 * 10 - if r.is_multiple_of(5) { 5_000 } else { 0 };
                let key = (Timestamp::from_millis(at), seq, seq as u32);
                let entry = WaitEntry::new(priority, key, aging);
                model.insert(entry);
                match partition.as_mut() {
                    Some(p) => {
                        p.insert(entry);
                    }
                    None => {
                        let mut p = Partition::new(SigId::NONE, entry);
                        p.insert(entry);
                        partition = Some(p);
                    }
                }
            }
            let Some(p) = partition.as_ref() else { continue };
            assert_eq!(p.len(), model.len());
            assert_eq!(Some(p.head), model.first().copied());
            assert_eq!(p.first(aging), Some(p.head));
            if seq % 500 == 0 {
                p.check();
                assert!(model.iter().all(|e| p.contains(e)));
            }
        }
    }
}
