//! A queue's index of free member agents in strategy order (see [`FreeKey`]).
//!
//! Agents join with the time they became idle, which is the latest so far: under LongestIdle
//! (equal ranks) a key arrives in order and the one leaving is most often the first, the agent
//! just picked. So each part (qualified, unqualified) is a [`SortedDeque`]; BestSkill keys
//! arrive out of order and land in its B-tree.

use crate::queue::FreeKey;
use crate::sorted_deque::{Hint, SortedDeque};

#[derive(Default)]
pub(crate) struct FreeIndex {
    /// Agents meeting the queue's own skills, then the others.
    parts: [SortedDeque<FreeKey>; 2],
}

impl FreeIndex {
    fn part(key: &FreeKey) -> usize {
        usize::from(key.unqualified)
    }

    /// Inserts an absent key and returns where it went (`None` if it was present).
    pub(crate) fn insert(&mut self, key: FreeKey) -> Option<Hint> {
        self.parts[Self::part(&key)].insert_hinted(key)
    }

    /// Returns whether the key was present. `hint` is what [`FreeIndex::insert`] returned
    /// for it: a chat agent's key changes on every release, and the search it saves misses
    /// the cache.
    pub(crate) fn remove(&mut self, key: &FreeKey, hint: Hint) -> bool {
        self.parts[Self::part(key)].remove_hinted(key, hint)
    }

    pub(crate) fn contains(&self, key: &FreeKey) -> bool {
        self.parts[Self::part(key)].contains(key)
    }

    pub(crate) fn len(&self) -> usize {
        self.parts.iter().map(|p| p.len()).sum()
    }

    /// Agents that meet the queue's own skills, in strategy order.
    pub(crate) fn qualified(&self) -> impl Iterator<Item = &FreeKey> + '_ {
        self.parts[0].iter()
    }

    /// Agents lacking some of the queue's own skills, in strategy order.
    pub(crate) fn unqualified(&self) -> impl Iterator<Item = &FreeKey> + '_ {
        self.parts[1].iter()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &FreeKey> + '_ {
        self.qualified().chain(self.unqualified())
    }

    /// Asserts the representation: each part sound and holding only its own keys.
    pub(crate) fn check(&self) {
        for (i, part) in self.parts.iter().enumerate() {
            part.check();
            assert!(part.iter().all(|k| Self::part(k) == i), "free key in the wrong part");
        }
    }
}
