//! Deterministic, fast hashing for the router's integer ids.
//!
//! Ids come from our own store, not from an adversary, so a keyed hash buys nothing; a fixed
//! multiplicative hash is several times faster than SipHash and keeps runs reproducible.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

#[derive(Clone, Copy, Default)]
pub(crate) struct IdHasher(u64);

impl IdHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.add(u64::from(b));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;
pub(crate) type IdSet<K> = HashSet<K, BuildHasherDefault<IdHasher>>;

/// Ids the dense tables index: each wraps a `u64`.
pub(crate) trait RawId: Copy + Eq {
    fn raw(self) -> u64;
}

macro_rules! raw_id {
    ($($id:ty),*) => {
        $(impl RawId for $id {
            fn raw(self) -> u64 {
                self.0
            }
        })*
    };
}
raw_id!(domain::TaskId, domain::AgentId, domain::QueueId, domain::OfferId);

/// Consecutive ids given consecutive buckets: two cache lines of buckets.
const RUN_IDS: u64 = 8;

/// Marks a vacant bucket; slots are bounded by the tables' limits, far below it.
const VACANT: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Bucket {
    key: u64,
    slot: u32,
    /// The key's home bucket, kept in what would be padding: a removal walks the rest of the
    /// probe run asking each bucket for its home, and runs are several buckets long.
    home: u32,
}

/// Id → slot index of a dense table: open addressing with linear probing, each bucket holding
/// the id beside its slot. Finding a cold id reads one bucket's cache line, where a general hash
/// map reads a control group and then the bucket, two lines apart: with 100k tasks these lookups
/// miss the cache, and they sit on every decision's path.
pub(crate) struct SlotIndex<K> {
    /// A power of two in length, at most half full; empty before the first insert.
    buckets: Vec<Bucket>,
    len: usize,
    /// `64 - log2(buckets)`: the hash's top bits index a bucket.
    shift: u32,
    keys: std::marker::PhantomData<K>,
}

impl<K> Default for SlotIndex<K> {
    fn default() -> Self {
        SlotIndex { buckets: Vec::new(), len: 0, shift: 64, keys: std::marker::PhantomData }
    }
}

impl<K: RawId> SlotIndex<K> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The home bucket. Ids come in runs of [`RUN_IDS`] consecutive values: Fibonacci hashing
    /// of the run number spreads runs evenly (whatever the ids' stride), and ids of one run
    /// take consecutive buckets. Stores hand out ids in sequence, so a new task's bucket is
    /// next to the previous one's, in a cache line just used, rather than a cold one.
    fn home(&self, key: u64) -> usize {
        // Only called with buckets, so the shift is below 64.
        let run = (key / RUN_IDS).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift;
        (run as usize).wrapping_add((key % RUN_IDS) as usize) & self.mask()
    }

    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }

    /// The bucket holding the key, if any.
    fn find(&self, key: u64) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mut at = self.home(key);
        loop {
            let bucket = self.buckets[at];
            if bucket.slot == VACANT {
                return None;
            }
            if bucket.key == key {
                return Some(at);
            }
            at = (at + 1) & self.mask();
        }
    }

    pub(crate) fn get(&self, id: &K) -> Option<u32> {
        self.find(id.raw()).map(|at| self.buckets[at].slot)
    }

    pub(crate) fn contains_key(&self, id: &K) -> bool {
        self.find(id.raw()).is_some()
    }

    /// Returns the slot the id had.
    pub(crate) fn insert(&mut self, id: K, slot: u32) -> Option<u32> {
        assert_ne!(slot, VACANT, "slot out of range");
        let key = id.raw();
        if 2 * (self.len + 1) > self.buckets.len() {
            self.grow();
        }
        // One walk: without tombstones a key is present iff it comes before the first vacancy.
        let home = self.home(key);
        let mut at = home;
        while self.buckets[at].slot != VACANT {
            if self.buckets[at].key == key {
                return Some(std::mem::replace(&mut self.buckets[at].slot, slot));
            }
            at = (at + 1) & self.mask();
        }
        // Buckets are at most twice the slots, which fit u32 well below u32::MAX.
        self.buckets[at] = Bucket { key, slot, home: home as u32 };
        self.len += 1;
        None
    }

    /// Returns the slot the id had. Later buckets of the probe run shift back into the gap, so
    /// no tombstones build up.
    pub(crate) fn remove(&mut self, id: &K) -> Option<u32> {
        let mut gap = self.find(id.raw())?;
        let slot = self.buckets[gap].slot;
        let mask = self.mask();
        let mut at = gap;
        loop {
            at = (at + 1) & mask;
            let bucket = self.buckets[at];
            if bucket.slot == VACANT {
                break;
            }
            // The bucket may fill the gap unless its home lies cyclically in (gap, at].
            let home = bucket.home as usize;
            let stays = if gap <= at { gap < home && home <= at } else { gap < home || home <= at };
            if !stays {
                self.buckets[gap] = bucket;
                gap = at;
            }
        }
        self.buckets[gap] = Bucket { key: 0, slot: VACANT, home: 0 };
        self.len -= 1;
        Some(slot)
    }

    fn grow(&mut self) {
        let size = (2 * self.buckets.len()).max(16);
        let vacant = Bucket { key: 0, slot: VACANT, home: 0 };
        let old = std::mem::replace(&mut self.buckets, vec![vacant; size]);
        self.shift = 64 - size.trailing_zeros();
        for mut bucket in old.into_iter().filter(|b| b.slot != VACANT) {
            let home = self.home(bucket.key);
            let mut at = home;
            while self.buckets[at].slot != VACANT {
                at = (at + 1) & self.mask();
            }
            bucket.home = home as u32;
            self.buckets[at] = bucket;
        }
    }

    /// (raw id, slot) of every entry, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.buckets.iter().filter(|b| b.slot != VACANT).map(|b| (b.key, b.slot))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use domain::TaskId;

    use super::*;

    /// Same answers as a HashMap under inserts and removals that wrap around the buckets.
    #[test]
    fn slot_index_matches_a_map() {
        let mut index: SlotIndex<TaskId> = SlotIndex::default();
        let mut model: HashMap<u64, u32> = HashMap::new();
        let mut state: u64 = 5;
        for step in 0..50_000u32 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let r = state >> 33;
            // Few distinct keys, so removals hit and probe runs collide.
            let key = if r.is_multiple_of(3) { r % 700 } else { (r % 300) * 1_024 };
            if r % 5 < 2 {
                assert_eq!(index.remove(&TaskId(key)), model.remove(&key), "remove {key}");
            } else {
                assert_eq!(index.insert(TaskId(key), step), model.insert(key, step), "insert");
            }
            assert_eq!(index.len(), model.len());
            if step % 2_000 == 0 {
                for (&k, &slot) in &model {
                    assert_eq!(index.get(&TaskId(k)), Some(slot));
                }
                assert_eq!(index.iter().count(), model.len());
                assert!(!index.contains_key(&TaskId(1 << 40)));
            }
        }
    }
}
