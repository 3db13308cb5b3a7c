//! A sorted set for keys that mostly arrive in ascending order and mostly leave from the front:
//! a priority lane of a partition, an overflow stage, a part of a free index, the offer
//! expiries of one ring time.
//!
//! A B-tree insert or remove costs hundreds of instructions and several cache misses per call.
//! Here the common cases are a push to the back and a pop from the front of a ring buffer. A key
//! leaving from the middle is marked dead in place (found by binary search) and dropped when it
//! reaches the front, or when dead keys outnumber live ones (amortized O(1), so the buffer stays
//! within twice the live keys). A key arriving out of order (a task moved from another queue, a
//! time that went backwards) goes to a B-tree on the side.

use std::collections::{BTreeSet, VecDeque};

/// Dead slots tolerated before a compaction is considered: small runs are never compacted.
const DEAD_SLOTS_MIN: usize = 64;

/// Where a key was placed in the run (its position counted from the first slot ever pushed),
/// so that removing it later skips the binary search. Only a hint: the slot is checked to hold
/// the key, and a stale hint (after a compaction, or for a key on the side) falls back to the
/// search. An overflow stage loses tasks from the middle on most decisions, and each search
/// there costs several cache misses.
/// Kept to 32 bits (positions modulo 2^32; a run is far shorter) so that tasks stay small.
pub(crate) type Hint = u32;

/// A hint for a key that is not in the run.
pub(crate) const NO_HINT: Hint = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Slot<K> {
    key: K,
    live: bool,
}

#[derive(Debug)]
pub(crate) struct SortedDeque<K> {
    /// Strictly ascending; the front, if any, is live.
    run: VecDeque<Slot<K>>,
    /// Dead slots in `run`.
    dead: usize,
    /// Keys that arrived between the run's ends and were not in it, while there are any.
    /// Boxed: most deques never have one, and small deques keep their neighbours (the lanes of
    /// a partition) in fewer cache lines.
    side: Option<Box<Side<K>>>,
    /// Position (see [`Hint`]) of the run's first slot; wraps.
    base: u64,
}

/// Keys off the run: never empty. Disjoint from the live run.
#[derive(Debug)]
struct Side<K> {
    keys: BTreeSet<K>,
    /// First and last of `keys`: most inserts land beyond the side's keys, and most lookups
    /// of the first key need not descend the B-tree.
    first: K,
    last: K,
}

impl<K> Default for SortedDeque<K> {
    fn default() -> Self {
        SortedDeque { run: VecDeque::new(), dead: 0, side: None, base: 0 }
    }
}

impl<K: Ord + Copy> SortedDeque<K> {
    pub(crate) fn len(&self) -> usize {
        self.run.len() - self.dead + self.side.as_ref().map_or(0, |s| s.keys.len())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn first(&self) -> Option<&K> {
        let run = self.run.front().map(|s| &s.key);
        match (run, self.side.as_ref().map(|s| &s.first)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Returns whether the key was absent.
    pub(crate) fn insert(&mut self, key: K) -> bool {
        self.insert_hinted(key).is_some()
    }

    /// Inserts an absent key and returns where it went (`None` if it was present).
    /// Inlined for the common case, a key beyond the back and beyond the side's keys: most
    /// inserts (an enqueue makes two) are that, and the general path's frame costs more than
    /// the push.
    #[inline(always)]
    pub(crate) fn insert_hinted(&mut self, key: K) -> Option<Hint> {
        let beyond_side = self.side.as_deref().is_none_or(|s| s.last < key);
        if beyond_side && self.run.back().is_none_or(|s| s.key < key) {
            self.run.push_back(Slot { key, live: true });
            return Some(self.position(self.run.len() - 1));
        }
        self.insert_slow(key)
    }

    #[inline(never)]
    fn insert_slow(&mut self, key: K) -> Option<Hint> {
        let beyond_back = self.run.back().is_none_or(|s| s.key < key);
        let before_front = !beyond_back && self.run.front().is_some_and(|s| key < s.key);
        if beyond_back || before_front {
            if self.side_holds(&key) {
                return None;
            }
            let slot = Slot { key, live: true };
            if beyond_back {
                self.run.push_back(slot);
                return Some(self.position(self.run.len() - 1));
            }
            self.run.push_front(slot);
            self.base = self.base.wrapping_sub(1);
            return Some(self.position(0));
        }
        match self.run.binary_search_by(|s| s.key.cmp(&key)) {
            Ok(at) if self.run[at].live => None,
            Ok(at) => {
                // A key that left and comes back (a task waiting again) takes its old slot.
                self.run[at].live = true;
                self.dead -= 1;
                Some(self.position(at))
            }
            Err(_) => self.side_insert(key).then_some(NO_HINT),
        }
    }

    fn side_holds(&self, key: &K) -> bool {
        let side = self.side.as_deref();
        side.is_some_and(|s| s.first <= *key && *key <= s.last && s.keys.contains(key))
    }

    fn side_insert(&mut self, key: K) -> bool {
        let Some(side) = self.side.as_deref_mut() else {
            let keys = BTreeSet::from([key]);
            self.side = Some(Box::new(Side { keys, first: key, last: key }));
            return true;
        };
        if !side.keys.insert(key) {
            return false;
        }
        side.first = side.first.min(key);
        side.last = side.last.max(key);
        true
    }

    fn side_remove(&mut self, key: &K) -> bool {
        let Some(side) = self.side.as_deref_mut() else { return false };
        if *key < side.first || side.last < *key || !side.keys.remove(key) {
            return false;
        }
        match (side.keys.first(), side.keys.last()) {
            (Some(&first), Some(&last)) => (side.first, side.last) = (first, last),
            _ => self.side = None,
        }
        true
    }

    fn position(&self, at: usize) -> Hint {
        // Truncation is the point: positions are kept modulo 2^32.
        self.base.wrapping_add(at as u64) as Hint
    }

    /// Removes a key, looking first where `hint` (from [`SortedDeque::insert_hinted`]) says.
    /// Returns whether the key was present.
    /// Inlined for the common case, a fresh hint: every offer removes a task from its lane and
    /// its stage this way.
    #[inline(always)]
    pub(crate) fn remove_hinted(&mut self, key: &K, hint: Hint) -> bool {
        let at = hint.wrapping_sub(self.base as Hint);
        let slot = usize::try_from(at).ok().and_then(|at| self.run.get(at));
        if !slot.is_some_and(|s| s.live && s.key == *key) {
            return self.remove_unhinted(key, hint);
        }
        if at == 0 {
            self.pop_front();
            return true;
        }
        self.run[at as usize].live = false;
        self.dead += 1;
        self.compact_if_sparse();
        true
    }

    /// [`SortedDeque::remove_hinted`] with a stale hint, or one for a key on the side.
    #[inline(never)]
    fn remove_unhinted(&mut self, key: &K, hint: Hint) -> bool {
        // A key put on the side stays there: its removal skips the run's search.
        if hint == NO_HINT && self.side_remove(key) {
            return true;
        }
        self.remove(key)
    }

    fn pop_front(&mut self) {
        self.run.pop_front();
        self.base = self.base.wrapping_add(1);
        self.drop_dead_front();
        if self.run.is_empty() {
            // Back to the start of the buffer (positions are unchanged): a short run cycling
            // through a buffer grown in a burst would touch a cold cache line at each push.
            self.run.clear();
        }
    }

    /// Returns whether the key was present. Inlined for the common case, the front: an
    /// accepted offer's expiry is most often the only one in its lane.
    #[inline(always)]
    pub(crate) fn remove(&mut self, key: &K) -> bool {
        if self.run.front().is_some_and(|front| front.key == *key) {
            self.pop_front();
            return true;
        }
        self.remove_behind_front(key)
    }

    /// [`SortedDeque::remove`] of a key that is not the run's front.
    #[inline(never)]
    fn remove_behind_front(&mut self, key: &K) -> bool {
        if self.run.is_empty() {
            return self.side_remove(key);
        }
        if let Ok(at) = self.run.binary_search_by(|s| s.key.cmp(key)) {
            if self.run[at].live {
                self.run[at].live = false;
                self.dead += 1;
                self.compact_if_sparse();
                return true;
            }
        }
        self.side_remove(key)
    }

    pub(crate) fn contains(&self, key: &K) -> bool {
        let in_run = self.run.binary_search_by(|s| s.key.cmp(key));
        in_run.is_ok_and(|at| self.run[at].live) || self.side_holds(key)
    }

    /// Live keys, ascending.
    pub(crate) fn iter(&self) -> Iter<'_, K> {
        let side = self.side.as_deref().map(|s| s.keys.iter().peekable());
        Iter { run: self.run.iter(), run_next: None, side }
    }

    fn drop_dead_front(&mut self) {
        while self.run.front().is_some_and(|s| !s.live) {
            self.run.pop_front();
            self.base = self.base.wrapping_add(1);
            self.dead -= 1;
        }
    }

    /// Drops dead slots once they outnumber live ones. Positions move, so the hints given so far
    /// go stale (their removals search); the base moves on by the old length so that a stale
    /// hint points past the run rather than at another key.
    /// The check is inlined (it runs on every removal from the middle), the compaction not.
    #[inline(always)]
    fn compact_if_sparse(&mut self) {
        if self.dead >= DEAD_SLOTS_MIN && 2 * self.dead > self.run.len() {
            self.compact();
        }
    }

    #[inline(never)]
    fn compact(&mut self) {
        self.base = self.base.wrapping_add(self.run.len() as u64);
        self.run.retain(|s| s.live);
        self.dead = 0;
    }

    /// Asserts the representation: the run ascends, starts live, counts its dead slots, and
    /// shares no live key with the side.
    pub(crate) fn check(&self) {
        let ascending = self.run.iter().zip(self.run.iter().skip(1)).all(|(a, b)| a.key < b.key);
        assert!(ascending, "sorted deque run out of order");
        assert!(self.run.front().is_none_or(|s| s.live), "sorted deque starts dead");
        let dead = self.run.iter().filter(|s| !s.live).count();
        assert_eq!(dead, self.dead, "sorted deque dead count");
        let shared = self.run.iter().any(|s| s.live && self.side_holds(&s.key));
        assert!(!shared, "sorted deque key both in run and side");
        if let Some(side) = self.side.as_deref() {
            assert!(side.keys.first() == Some(&side.first), "sorted deque side first");
            assert!(side.keys.last() == Some(&side.last), "sorted deque side last");
        }
    }
}

/// [`SortedDeque::iter`]: the run's live keys merged with the side's. Without a side (most
/// deques) it walks the run alone: a free-agent scan and an overflow timer walk these.
pub(crate) struct Iter<'a, K> {
    run: std::collections::vec_deque::Iter<'a, Slot<K>>,
    /// The run's next live key, taken ahead to compare with the side's (only with a side).
    run_next: Option<&'a K>,
    side: Option<std::iter::Peekable<std::collections::btree_set::Iter<'a, K>>>,
}

impl<'a, K: Ord> Iterator for Iter<'a, K> {
    type Item = &'a K;

    fn next(&mut self) -> Option<&'a K> {
        let Some(side) = self.side.as_mut() else {
            return self.run.find(|s| s.live).map(|s| &s.key);
        };
        if self.run_next.is_none() {
            self.run_next = self.run.find(|s| s.live).map(|s| &s.key);
        }
        match (self.run_next, side.peek()) {
            (Some(a), Some(&b)) if b < a => side.next(),
            (Some(a), _) => {
                self.run_next = None;
                Some(a)
            }
            (None, _) => side.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Same answers as a BTreeSet for a mix of in-order, out-of-order and middle operations.
    #[test]
    fn behaves_like_a_sorted_set() {
        let mut deque = SortedDeque::default();
        let mut model = BTreeSet::new();
        let mut state: u64 = 7;
        for step in 0..20_000u64 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let r = state >> 33;
            let key = match r % 4 {
                0 | 1 => step,
                _ => r % (step + 1),
            };
            if r.is_multiple_of(3) {
                assert_eq!(deque.remove(&key), model.remove(&key), "remove {key}");
            } else if r.is_multiple_of(7) {
                let first = model.first().copied();
                if let Some(first) = first {
                    assert!(deque.remove(&first));
                    model.remove(&first);
                }
            } else {
                assert_eq!(deque.insert(key), model.insert(key), "insert {key}");
            }
            assert_eq!(deque.len(), model.len());
            assert_eq!(deque.first(), model.first());
            if step % 1_000 == 0 {
                deque.check();
                assert!(deque.iter().eq(model.iter()));
                assert!(model.iter().all(|k| deque.contains(k)));
            }
        }
    }

    /// Hinted removals give the same answers, whether the hint is fresh, stale or made up.
    #[test]
    fn hinted_removal_behaves_like_a_sorted_set() {
        let mut deque = SortedDeque::default();
        let mut model = BTreeSet::new();
        let mut hints = std::collections::HashMap::new();
        let mut state: u64 = 13;
        for step in 0..30_000u64 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let r = state >> 33;
            // Mostly ascending keys, some behind the front or in the middle.
            let key = if r.is_multiple_of(4) { r % (step + 1) } else { step };
            if r % 5 < 2 {
                let key =
                    if r.is_multiple_of(7) { model.first().copied().unwrap_or(key) } else { key };
                let made_up = r as Hint;
                let hint = if r.is_multiple_of(11) {
                    made_up
                } else {
                    hints.get(&key).copied().unwrap_or(made_up)
                };
                assert_eq!(deque.remove_hinted(&key, hint), model.remove(&key), "remove {key}");
            } else {
                let placed = deque.insert_hinted(key);
                assert_eq!(placed.is_some(), model.insert(key), "insert {key}");
                if let Some(hint) = placed {
                    hints.insert(key, hint);
                }
            }
            assert_eq!(deque.len(), model.len());
            assert_eq!(deque.first(), model.first());
            if step % 1_000 == 0 {
                deque.check();
                assert!(deque.iter().eq(model.iter()));
            }
        }
    }
}
