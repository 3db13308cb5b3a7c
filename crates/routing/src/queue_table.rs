//! The queue table: queues in a dense Vec, found by id through a small index, or by slot.
//!
//! Queues are never removed, so a slot stays valid: an agent keeps the slot of each queue it
//! serves, and a freed agent's scan and its free-index sync reach them without hashing.

use domain::QueueId;

use crate::id_hash::SlotIndex;
use crate::queue::QueueState;

#[derive(Default)]
pub(crate) struct QueueTable {
    index: SlotIndex<QueueId>,
    slots: Vec<QueueState>,
}

impl QueueTable {
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn contains_key(&self, id: &QueueId) -> bool {
        self.index.contains_key(id)
    }

    pub(crate) fn slot_of(&self, id: &QueueId) -> Option<u32> {
        self.index.get(id)
    }

    pub(crate) fn get(&self, id: &QueueId) -> Option<&QueueState> {
        Some(&self.slots[self.index.get(id)? as usize])
    }

    pub(crate) fn get_mut(&mut self, id: &QueueId) -> Option<&mut QueueState> {
        Some(&mut self.slots[self.index.get(id)? as usize])
    }

    /// A queue by the slot `slot_of` gave.
    pub(crate) fn at(&self, slot: u32) -> &QueueState {
        &self.slots[slot as usize]
    }

    pub(crate) fn at_mut(&mut self, slot: u32) -> &mut QueueState {
        &mut self.slots[slot as usize]
    }

    /// Adds a queue whose id is not in the table (checked by the caller).
    pub(crate) fn insert(&mut self, id: QueueId, mut queue: QueueState) {
        // Queues are bounded by QUEUES_MAX, far below u32::MAX.
        let slot = u32::try_from(self.slots.len()).expect("queue slots fit u32");
        queue.slot = slot;
        assert!(self.index.insert(id, slot).is_none(), "queue {id:?} inserted twice");
        self.slots.push(queue);
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&QueueId, &QueueState)> {
        self.slots.iter().map(|q| (&q.config.id, q))
    }
}
