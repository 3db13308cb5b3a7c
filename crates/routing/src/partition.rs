//! Waiting tasks of one queue that share one requirement signature, in the queue's order.
//!
//! The order key `priority * r - entered_at` is static, and for one priority level it follows
//! (entered_at, seq): new tasks of a level arrive in order. So each level gets a lane, a
//! [`SortedDeque`] by (entered_at, seq), where an enqueue pushes to the back and an offer pops
//! the front; the partition's head is the best lane front. Levels beyond
//! `PRIORITY_LANES_MAX` share one B-tree ordered by the full key.

use std::collections::BTreeSet;

use domain::{TaskId, Timestamp};

use crate::aging::order_key;
use crate::queue::StageEntry;
use crate::signature::SigId;
use crate::sorted_deque::SortedDeque;

/// Priority levels with a lane of their own in one partition: the head is the best of the
/// lane fronts, so this bounds the cost of finding it.
const PRIORITY_LANES_MAX: usize = 8;

/// Position of a waiting task in its partition: larger aging key first (so the negated key
/// ascends), then older, then earlier enqueued. `seq` is unique, so the order is total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct WaitEntry {
    pub(crate) neg_key: i128,
    pub(crate) entered_at: Timestamp,
    pub(crate) seq: u64,
    pub(crate) task: TaskId,
    /// Carried so that heads of different queues compare without a task lookup.
    pub(crate) priority: i32,
}

impl WaitEntry {
    pub(crate) fn new(
        priority: i32,
        (entered_at, seq, task): StageEntry,
        aging_ms_per_level: u64,
    ) -> WaitEntry {
        let neg_key = -order_key(priority, entered_at, aging_ms_per_level);
        WaitEntry { neg_key, entered_at, seq, task, priority }
    }

    fn lane_key(&self) -> StageEntry {
        (self.entered_at, self.seq, self.task)
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
    /// `skill_mask` of the signature: most agents are ruled out without reading it.
    pub(crate) sig_mask: u64,
    /// Copy of the first entry: a freed agent reads heads without walking the lanes.
    pub(crate) head: WaitEntry,
    lanes: Vec<Lane>,
    /// Tasks whose level found no lane free.
    rest: BTreeSet<WaitEntry>,
    len: usize,
}

impl Partition {
    pub(crate) fn new(sig: SigId, sig_mask: u64, entry: WaitEntry) -> Partition {
        let (lanes, rest) = (Vec::new(), BTreeSet::new());
        let mut partition = Partition { sig, sig_mask, head: entry, lanes, rest, len: 0 };
        partition.insert(entry);
        partition
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds a waiting task; returns whether it became the head.
    pub(crate) fn insert(&mut self, entry: WaitEntry) -> bool {
        let twice = !self.rest.is_empty() && self.rest.contains(&entry);
        let lanes = self.lanes.len();
        let added = !twice
            && match self.lanes.iter_mut().find(|l| l.priority == entry.priority) {
                Some(lane) => lane.tasks.insert(entry.lane_key()),
                None if lanes < PRIORITY_LANES_MAX => {
                    let mut tasks = SortedDeque::default();
                    tasks.insert(entry.lane_key());
                    self.lanes.push(Lane { priority: entry.priority, tasks });
                    true
                }
                None => self.rest.insert(entry),
            };
        assert!(added, "task {:?} queued twice", entry.task);
        self.len += 1;
        if self.len == 1 || entry < self.head {
            self.head = entry;
            return true;
        }
        false
    }

    /// Takes a waiting task out; returns whether the head changed. The head of an emptied
    /// partition is stale: the queue drops it.
    pub(crate) fn remove(&mut self, entry: &WaitEntry, aging_ms_per_level: u64) -> bool {
        let at = self.lanes.iter().position(|l| l.priority == entry.priority);
        let in_lane = at.is_some_and(|at| self.lanes[at].tasks.remove(&entry.lane_key()));
        let removed = in_lane || self.rest.remove(entry);
        assert!(removed, "task {:?} not waiting", entry.task);
        if let Some(at) = at.filter(|&at| self.lanes[at].tasks.is_empty()) {
            self.lanes.swap_remove(at);
        }
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
        let fronts = self.lanes.iter().filter_map(|lane| {
            let key = lane.tasks.first()?;
            Some(WaitEntry::new(lane.priority, *key, aging_ms_per_level))
        });
        fronts.chain(self.rest.first().copied()).min()
    }

    /// Asserts the representation: lanes of distinct levels, none empty, counted in `len`.
    pub(crate) fn check(&self) {
        for (i, lane) in self.lanes.iter().enumerate() {
            lane.tasks.check();
            assert!(!lane.tasks.is_empty(), "empty lane kept");
            let twice = self.lanes[..i].iter().any(|l| l.priority == lane.priority);
            assert!(!twice, "two lanes for priority {}", lane.priority);
        }
        assert!(self.lanes.len() <= PRIORITY_LANES_MAX, "too many lanes");
        let in_lanes: usize = self.lanes.iter().map(|l| l.tasks.len()).sum();
        assert_eq!(in_lanes + self.rest.len(), self.len, "partition length");
    }
}
