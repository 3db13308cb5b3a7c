//! The task table: tasks in a dense slab, found by id through a small index.
//!
//! With 100k tasks a hash map holding tasks by value spends most of its time in cache misses
//! (half-empty buckets of wide entries); a dense slab plus an index of 16-byte buckets keeps
//! the hot part small. Freed slots are reused last-in first-out, while still warm in cache.

use domain::TaskId;

use crate::id_hash::IdMap;
use crate::task::Task;

#[derive(Default)]
pub(crate) struct TaskTable {
    index: IdMap<TaskId, u32>,
    slots: Vec<Option<Task>>,
    free: Vec<u32>,
}

impl TaskTable {
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    pub(crate) fn contains_key(&self, id: &TaskId) -> bool {
        self.index.contains_key(id)
    }

    pub(crate) fn get(&self, id: &TaskId) -> Option<&Task> {
        let slot = *self.index.get(id)?;
        self.slots[slot as usize].as_ref()
    }

    pub(crate) fn get_mut(&mut self, id: &TaskId) -> Option<&mut Task> {
        let slot = *self.index.get(id)?;
        self.slots[slot as usize].as_mut()
    }

    /// Adds a task whose id is not in the table (checked by the caller).
    pub(crate) fn insert(&mut self, id: TaskId, task: Task) {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(task);
                slot
            }
            None => {
                // Tasks are bounded by TASKS_MAX, far below u32::MAX.
                let slot = u32::try_from(self.slots.len()).expect("task slots fit u32");
                self.slots.push(Some(task));
                slot
            }
        };
        assert!(self.index.insert(id, slot).is_none(), "task {id:?} inserted twice");
    }

    pub(crate) fn remove(&mut self, id: &TaskId) -> Option<Task> {
        let slot = self.index.remove(id)?;
        let task = self.slots[slot as usize].take();
        assert!(task.is_some(), "indexed slot of {id:?} is empty");
        self.free.push(slot);
        task
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&TaskId, &Task)> {
        self.index.iter().map(|(id, &slot)| {
            let task = self.slots[slot as usize].as_ref();
            (id, task.expect("indexed slots hold tasks"))
        })
    }
}
