//! A queue's state: waiting tasks partitioned by requirement signature, each partition ordered
//! by the static aging key; the index of free member agents in strategy order; counters.

use std::collections::BTreeSet;

use domain::limits::QUEUES_MAX;
use domain::{AgentId, TaskId, Timestamp};

use crate::signature::SigId;
use crate::validate;
use crate::{QueueConfig, Router, RoutingError};

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

/// Waiting tasks of one queue that share one requirement signature. Never empty.
pub(crate) struct Partition {
    pub(crate) sig: SigId,
    pub(crate) tasks: BTreeSet<WaitEntry>,
}

/// Position of a free agent in a queue's index: the first entry is the agent the queue's
/// strategy prefers. `rank` is 0 for LongestIdle and `u32::MAX - skill sum` for BestSkill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FreeKey {
    pub(crate) rank: u32,
    pub(crate) idle_since: Timestamp,
    pub(crate) agent: AgentId,
}

pub(crate) struct QueueState {
    /// Skills sorted by id; overflow rules sorted by `after_ms`.
    pub(crate) config: QueueConfig,
    pub(crate) generation: u64,
    pub(crate) partitions: Vec<Partition>,
    /// Waiting tasks by (entered_at, seq): the oldest for snapshots; its size is the depth.
    pub(crate) by_age: BTreeSet<(Timestamp, u64)>,
    /// Member agents that could take a task of this queue now, skills aside.
    pub(crate) free: BTreeSet<FreeKey>,
    /// Agents whose profile lists this queue.
    pub(crate) members: BTreeSet<AgentId>,
    pub(crate) offered: usize,
    pub(crate) assigned: usize,
}

impl QueueState {
    fn new(config: QueueConfig, generation: u64) -> QueueState {
        QueueState {
            config,
            generation,
            partitions: Vec::new(),
            by_age: BTreeSet::new(),
            free: BTreeSet::new(),
            members: BTreeSet::new(),
            offered: 0,
            assigned: 0,
        }
    }

    pub(crate) fn waiting(&self) -> usize {
        self.by_age.len()
    }

    pub(crate) fn partition(&self, sig: SigId) -> Option<&Partition> {
        self.partitions.iter().find(|p| p.sig == sig)
    }

    pub(crate) fn insert_waiting(&mut self, sig: SigId, entry: WaitEntry) {
        match self.partitions.iter_mut().find(|p| p.sig == sig) {
            Some(p) => assert!(p.tasks.insert(entry), "task {:?} queued twice", entry.task),
            None => {
                self.partitions.push(Partition { sig, tasks: BTreeSet::from([entry]) });
            }
        }
        assert!(self.by_age.insert((entry.entered_at, entry.seq)), "task queued twice");
    }

    pub(crate) fn remove_waiting(&mut self, sig: SigId, entry: &WaitEntry) {
        let at = self.partitions.iter().position(|p| p.sig == sig);
        let at = at.unwrap_or_else(|| panic!("partition of waiting task {:?}", entry.task));
        assert!(self.partitions[at].tasks.remove(entry), "task {:?} not waiting", entry.task);
        if self.partitions[at].tasks.is_empty() {
            self.partitions.swap_remove(at);
        }
        assert!(self.by_age.remove(&(entry.entered_at, entry.seq)), "task not waiting");
    }

    /// Waiting task ids, for reconfiguration.
    fn waiting_tasks(&self) -> Vec<TaskId> {
        self.partitions.iter().flat_map(|p| p.tasks.iter().map(|e| e.task)).collect()
    }
}

impl Router {
    /// Adds or replaces a queue. Waiting tasks stay (their requirements and order are
    /// recomputed for the new configuration; an overflow step already taken is not undone).
    ///
    /// Has no `now`: matching that the change makes possible happens at the next input, and
    /// [`Router::poll_timeout`] returns a time in the past so that the caller makes one soon.
    pub fn upsert_queue(&mut self, queue: QueueConfig) -> Result<(), RoutingError> {
        let config = validate::queue_config(queue, &self.queues)?;
        let id = config.id;
        if !self.queues.contains_key(&id) && self.queues.len() >= QUEUES_MAX {
            return Err(RoutingError::TooMany("queues"));
        }
        let generation = self.bump_generation();
        let Some(state) = self.queues.get_mut(&id) else {
            // A new queue has no members yet: agents may only list known queues.
            self.queues.insert(id, QueueState::new(config, generation));
            return Ok(());
        };
        state.config = config;
        state.generation = generation;
        let members: Vec<AgentId> = state.members.iter().copied().collect();
        let waiting = state.waiting_tasks();
        for agent in members {
            // Rank, channel or department may have changed; sync recomputes the entries.
            self.mark_pending_agent(agent);
        }
        for task in waiting {
            self.leave_waiting(task);
            self.enter_waiting(task);
        }
        Ok(())
    }
}
