//! The task table: tasks in a dense slab, found by id through a small index.
//!
//! With 100k tasks a hash map holding tasks by value spends most of its time in cache misses
//! (half-empty buckets of wide entries); a dense slab plus a [`SlotIndex`] of 16-byte buckets
//! keeps the hot part small. Freed slots are reused last-in first-out, while still warm in cache.

use domain::TaskId;

use crate::id_hash::IdMap;
use crate::id_hash::SlotIndex;
use crate::task::{Task, TaskExtra};

#[derive(Default)]
pub(crate) struct TaskTable {
    index: SlotIndex<TaskId>,
    slots: Vec<Option<Task>>,
    /// By slot, for tasks flagged `extra`.
    extras: IdMap<u32, TaskExtra>,
    free: Vec<u32>,
}

impl TaskTable {
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    pub(crate) fn contains_key(&self, id: &TaskId) -> bool {
        self.index.contains_key(id)
    }

    pub(crate) fn slot_of(&self, id: &TaskId) -> Option<u32> {
        self.index.get(id)
    }

    /// The task at `slot` if it is still the task `id` (a slot listed earlier may have been
    /// freed since).
    pub(crate) fn live_at_mut(&mut self, slot: u32, id: TaskId) -> Option<&mut Task> {
        self.slots.get_mut(slot as usize)?.as_mut().filter(|t| t.id == id)
    }

    pub(crate) fn get(&self, id: &TaskId) -> Option<&Task> {
        let slot = self.index.get(id)?;
        self.slots[slot as usize].as_ref()
    }

    /// A task by the slot it was stored at (its `slot` field), while it is alive.
    pub(crate) fn at(&self, slot: u32) -> &Task {
        self.slots[slot as usize].as_ref().expect("a live task's slot")
    }

    pub(crate) fn at_mut(&mut self, slot: u32) -> &mut Task {
        self.slots[slot as usize].as_mut().expect("a live task's slot")
    }

    /// Own skills and missed agents of the live task at `slot`, if it has any.
    pub(crate) fn extra(&self, slot: u32) -> Option<&TaskExtra> {
        if !self.at(slot).extra {
            return None;
        }
        self.extras.get(&slot)
    }

    /// Tasks with extras.
    pub(crate) fn extras_len(&self) -> usize {
        self.extras.len()
    }

    /// Its extras, made empty ones if it had none.
    pub(crate) fn extra_mut(&mut self, slot: u32) -> &mut TaskExtra {
        let task = self.slots[slot as usize].as_mut().expect("a live task's slot");
        task.extra = true;
        self.extras.entry(slot).or_default()
    }

    /// Adds a task whose id is not in the table (checked by the caller), setting its `slot`.
    pub(crate) fn insert(&mut self, id: TaskId, mut task: Task) -> u32 {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                // Tasks are bounded by TASKS_MAX, far below u32::MAX.
                let slot = u32::try_from(self.slots.len()).expect("task slots fit u32");
                self.slots.push(None);
                slot
            }
        };
        task.slot = slot;
        self.slots[slot as usize] = Some(task);
        assert!(self.index.insert(id, slot).is_none(), "task {id:?} inserted twice");
        slot
    }

    /// Removes the live task at `slot`.
    pub(crate) fn remove_at(&mut self, slot: u32) -> Task {
        let task = self.slots[slot as usize].take().expect("a live task's slot");
        assert_eq!(self.index.remove(&task.id), Some(slot), "index of {:?}", task.id);
        if task.extra {
            assert!(self.extras.remove(&slot).is_some(), "extras of {:?}", task.id);
        }
        self.free.push(slot);
        task
    }

    /// Every task with the id its slot is indexed under.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (TaskId, &Task)> {
        self.index.iter().map(|(id, slot)| {
            let task = self.slots[slot as usize].as_ref();
            (TaskId(id), task.expect("indexed slots hold tasks"))
        })
    }
}
