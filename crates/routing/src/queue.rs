//! A queue's state: waiting tasks partitioned by requirement signature (see `partition`), and
//! again by overflow stage, each stage ordered by entry time; the index of free member agents in
//! strategy order; counters.

use std::collections::BTreeSet;

use domain::limits::QUEUES_MAX;
use domain::{AgentId, Timestamp};

use crate::free_index::FreeIndex;
use crate::partition::{Partition, WaitEntry};
use crate::signature::{satisfies, SigId, SkillBits};
use crate::sorted_deque::{Hint, SortedDeque};
use crate::timers::Timers;
use crate::validate;
use crate::{QueueConfig, Router, RoutingError};

/// Position of a free agent in a queue's index. Agents that meet the queue's own skills come
/// first (only they can take a task that is not relaxed), each part in the strategy's order:
/// `rank` is 0 for LongestIdle and `u32::MAX - skill sum` for BestSkill, then longest idle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FreeKey {
    pub(crate) unqualified: bool,
    pub(crate) rank: u32,
    pub(crate) idle_since: Timestamp,
    pub(crate) agent: AgentId,
    /// The agent's slot in the agent table; never decides the order (ids are unique).
    pub(crate) slot: u32,
}

impl FreeKey {
    /// Order within a part, the strategy's preference.
    pub(crate) fn preference(&self) -> (u32, Timestamp, AgentId) {
        (self.rank, self.idle_since, self.agent)
    }
}

/// Position of a waiting task in its overflow stage: by entry into the router (`seq` is
/// unique, so the order is total). Last, the task's slot in the task table: whoever takes an
/// entry out reaches the task without the id index. No id: small entries keep stages and
/// lanes (one entry per waiting task each) compact.
pub(crate) type StageEntry = (Timestamp, u64, u32);

pub(crate) struct QueueState {
    /// Skills sorted by id; overflow rules sorted by `after_ms`.
    pub(crate) config: QueueConfig,
    /// Its slot in the queue table, set when inserted there.
    pub(crate) slot: u32,
    /// The signature of the queue's own skills when last acquired for a task without skills of
    /// its own (most tasks): enqueue re-acquires it by id, without merging and hashing, after
    /// checking that the id still holds these skills.
    pub(crate) base_sig: Option<SigId>,
    /// Sorted by head, best first: a freed agent stops at the first it qualifies for.
    #[expect(clippy::vec_box, reason = "keeping them sorted moves pointers, not partitions")]
    pub(crate) partitions: Vec<Box<Partition>>,
    /// Signature and its [`SkillBits`] of each partition, in the same order: finding a
    /// partition, and a freed agent's scan, read this compact list rather than stride over
    /// the partitions.
    pub(crate) partition_sigs: Vec<(SigId, SkillBits)>,
    /// Head of each partition, in the same order: a freed agent compares heads and
    /// repositioning sorts them without following the partitions' boxes.
    pub(crate) heads: Vec<WaitEntry>,
    /// Emptied partitions, kept with their lane buffers for the next new signatures (see
    /// `Partition::reuse`): partitions of rare signatures come and go all the time, and
    /// growing fresh buffers each time costs more than the decision. Never more than the most
    /// partitions the queue has held at once.
    #[expect(clippy::vec_box, reason = "they go back to `partitions` as they are")]
    spare: Vec<Box<Partition>>,
    /// Waiting tasks by overflow stage (the index of their next rule; the last stage holds
    /// tasks with no rule left), each by entry time. Stage `i` comes due in entry order, so one
    /// timer per stage (its first task's due time) replaces one timer per task.
    pub(crate) stages: Vec<SortedDeque<StageEntry>>,
    /// Due time of the armed timer of each stage that has a rule.
    pub(crate) stage_due: Vec<Option<Timestamp>>,
    /// A stage whose due tasks are taking their steps (see `Router::overflow_stage_due`): each
    /// leaves from the stage's front, and the stage is re-armed once after the last rather
    /// than after each.
    pub(crate) stepping: Option<usize>,
    pub(crate) waiting: usize,
    /// Member agents that could take a task of this queue now, skills aside.
    pub(crate) free: FreeIndex,
    /// Agents whose profile lists this queue.
    pub(crate) members: BTreeSet<AgentId>,
    pub(crate) offered: usize,
    pub(crate) assigned: usize,
}

impl QueueState {
    fn new(config: QueueConfig) -> QueueState {
        let rules = config.overflow.len();
        QueueState {
            config,
            slot: 0,
            base_sig: None,
            partitions: Vec::new(),
            partition_sigs: Vec::new(),
            heads: Vec::new(),
            spare: Vec::new(),
            stages: (0..=rules).map(|_| SortedDeque::default()).collect(),
            stage_due: vec![None; rules],
            stepping: None,
            waiting: 0,
            free: FreeIndex::default(),
            members: BTreeSet::new(),
            offered: 0,
            assigned: 0,
        }
    }

    pub(crate) fn waiting(&self) -> usize {
        self.waiting
    }

    pub(crate) fn oldest_waiting(&self) -> Option<Timestamp> {
        self.stages.iter().filter_map(|s| s.first()).map(|&(at, ..)| at).min()
    }

    pub(crate) fn partition(&self, sig: SigId) -> Option<&Partition> {
        let at = self.partition_sigs.iter().position(|&(s, _)| s == sig)?;
        Some(&self.partitions[at])
    }

    pub(crate) fn insert_waiting(
        &mut self,
        (sig, sig_bits): (SigId, SkillBits),
        entry: WaitEntry,
        stage: usize,
        timers: &mut Timers,
    ) -> (Hint, Hint, bool) {
        let found = self.partition_sigs.iter().position(|&(s, _)| s == sig);
        let lane_hint = match found {
            Some(at) => {
                let p = &mut self.partitions[at];
                let (head, hint) = p.insert(entry);
                if head {
                    self.heads[at] = p.head;
                    self.reposition(at, true);
                }
                hint
            }
            None => {
                let mut partition = match self.spare.pop() {
                    Some(mut spare) => {
                        spare.reuse(sig);
                        spare
                    }
                    None => Box::new(Partition::new(sig, entry)),
                };
                let (_, hint) = partition.insert(entry);
                self.heads.push(partition.head);
                self.partitions.push(partition);
                self.partition_sigs.push((sig, sig_bits));
                self.reposition(self.partitions.len() - 1, true);
                hint
            }
        };
        let staged = entry.lane_key();
        let hint = self.stages[stage].insert_hinted(staged);
        let hint = hint.unwrap_or_else(|| panic!("task at slot {} staged twice", entry.slot));
        self.waiting += 1;
        if self.stages[stage].first() == Some(&staged) {
            self.rearm_stage(stage, timers);
        }
        (lane_hint, hint, found.is_none())
    }

    /// Takes a waiting task out; the hints are what `insert_waiting` returned for it.
    pub(crate) fn remove_waiting(
        &mut self,
        sig: SigId,
        entry: &WaitEntry,
        (stage, lane_hint, hint): (usize, Hint, Hint),
        timers: &mut Timers,
    ) {
        let at = self.partition_sigs.iter().position(|&(s, _)| s == sig);
        let at = at.unwrap_or_else(|| panic!("partition of waiting task at slot {}", entry.slot));
        let aging = self.config.aging_ms_per_level;
        let partition = &mut self.partitions[at];
        let head_changed = partition.remove(entry, lane_hint, aging);
        if partition.len() == 0 {
            self.spare.push(self.partitions.remove(at));
            self.partition_sigs.remove(at);
            self.heads.remove(at);
        } else if head_changed {
            self.heads[at] = partition.head;
            self.reposition(at, false);
        }
        let staged = entry.lane_key();
        let was_first = self.stages[stage].first() == Some(&staged);
        let removed = self.stages[stage].remove_hinted(&staged, hint);
        assert!(removed, "task at slot {} not staged", entry.slot);
        self.waiting -= 1;
        if was_first && self.stepping != Some(stage) {
            self.rearm_stage(stage, timers);
        }
    }

    /// Moves the partition at `at`, whose head changed, to its place in head order. An offer
    /// often lets its partition fall behind many others: the place is found by comparing heads
    /// alone, then each list shifts once. `better` says which way the head moved (a new head
    /// by insert is better, one after taking the head out is worse), so the scan goes one way.
    fn reposition(&mut self, at: usize, better: bool) {
        let (heads, head) = (&self.heads, self.heads[at]);
        let mut to = at;
        if better {
            while to > 0 && head < heads[to - 1] {
                to -= 1;
            }
        } else {
            while to + 1 < heads.len() && heads[to + 1] < head {
                to += 1;
            }
        }
        if to == at {
            return;
        }
        shift(&mut self.heads, at, to);
        shift(&mut self.partition_sigs, at, to);
        shift_boxes(&mut self.partitions, at, to);
    }

    /// Points the stage's timer at its first task's due time (none when empty or last).
    pub(crate) fn rearm_stage(&mut self, stage: usize, timers: &mut Timers) {
        let Some(rule) = self.config.overflow.get(stage) else { return };
        let wanted = self.stages[stage].first().map(|&(at, ..)| at.plus_ms(rule.after_ms));
        if wanted == self.stage_due[stage] {
            return;
        }
        self.stage_due[stage] = wanted;
        self.publish_due(timers);
    }

    /// Hands the earliest stage due time to the timers, which keep one per queue.
    pub(crate) fn publish_due(&self, timers: &mut Timers) {
        timers.set_queue_due(self.slot, self.stage_due.iter().flatten().min().copied());
    }

    /// Waiting tasks' slots, for reconfiguration.
    fn waiting_tasks(&self) -> Vec<u32> {
        self.stages.iter().flat_map(|s| s.iter().map(|&(_, _, slot)| slot)).collect()
    }
}

/// Moves shorter than this swap neighbours in place: most repositions move a partition by
/// one or two places, and a call to `memmove` costs more than a few swaps.
const SHIFT_BY_SWAPS_MAX: usize = 4;

/// Moves `list[from]` to `to`, shifting the elements in between by one.
fn shift<T: Copy>(list: &mut [T], from: usize, to: usize) {
    if from.abs_diff(to) <= SHIFT_BY_SWAPS_MAX {
        return shift_by_swaps(list, from, to);
    }
    let moved = list[from];
    if to < from {
        list.copy_within(to..from, to + 1);
    } else {
        list.copy_within(from + 1..=to, from);
    }
    list[to] = moved;
}

/// [`shift`] for boxes, which are not `Copy`.
fn shift_boxes<T>(list: &mut [Box<T>], from: usize, to: usize) {
    if from.abs_diff(to) <= SHIFT_BY_SWAPS_MAX {
        return shift_by_swaps(list, from, to);
    }
    if to < from {
        list[to..=from].rotate_right(1);
    } else {
        list[from..=to].rotate_left(1);
    }
}

fn shift_by_swaps<T>(list: &mut [T], from: usize, to: usize) {
    if to < from {
        for i in (to..from).rev() {
            list.swap(i, i + 1);
        }
    } else {
        for i in from..to {
            list.swap(i, i + 1);
        }
    }
}

/// Stage indexes fit the timer key: rules per queue are bounded well below 256.
pub(crate) fn stage_number(stage: usize) -> u8 {
    const _: () = assert!(crate::limits::OVERFLOW_RULES_PER_QUEUE_MAX < u8::MAX as usize);
    u8::try_from(stage).expect("stage below OVERFLOW_RULES_PER_QUEUE_MAX")
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
        let Some(state) = self.queues.get_mut(&id) else {
            // A new queue has no members yet: agents may only list known queues.
            self.queues.insert(id, QueueState::new(config));
            return Ok(());
        };
        let queue_slot = state.slot;
        let members: Vec<AgentId> = state.members.iter().copied().collect();
        let waiting = state.waiting_tasks();
        // Out under the old configuration (their order keys depend on it), back in under the
        // new one.
        for &task in &waiting {
            self.leave_waiting_at(task);
        }
        let state = self.queues.get_mut(&id).expect("looked up above");
        assert_eq!(state.waiting, 0, "every waiting task left");
        let rules = config.overflow.len();
        state.config = config;
        state.stages = (0..=rules).map(|_| SortedDeque::default()).collect();
        state.stage_due = vec![None; rules];
        let skills = self.queues.get(&id).expect("looked up above").config.skills.clone();
        for agent in members {
            // Rank, channel or department may have changed; sync recomputes the entries.
            let member = self.agents.get_mut(&agent).expect("members exist");
            member.synced = crate::agent::Synced::NONE;
            let qualified = satisfies(&member.skills[..], &skills);
            let served = member.served.iter_mut().find(|s| s.slot == queue_slot);
            served.expect("members serve the queue").qualified = qualified;
            member.channels = crate::agent::served_channels(&member.served, &self.queues);
            self.mark_pending_agent(agent);
        }
        // Requirements follow the new skills: now for the waiting tasks, when they wait again
        // for the offered ones (assigned ones never wait again).
        for offer in self.offers.values() {
            let task = self.tasks.at_mut(offer.task_slot);
            if task.queue_slot == queue_slot {
                task.stale = true;
            }
        }
        for task in waiting {
            self.tasks.at_mut(task).stale = true;
            self.enter_waiting_at(task);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every move, short (swaps) and long (block copy), against `Vec::remove` + `insert`.
    #[test]
    fn shift_moves_one_element() {
        for len in 1..12usize {
            for from in 0..len {
                for to in 0..len {
                    let mut expected: Vec<usize> = (0..len).collect();
                    let moved = expected.remove(from);
                    expected.insert(to, moved);
                    let mut list: Vec<usize> = (0..len).collect();
                    shift(&mut list, from, to);
                    assert_eq!(list, expected, "shift {from} -> {to} of {len}");
                    let mut boxes: Vec<Box<usize>> = (0..len).map(Box::new).collect();
                    shift_boxes(&mut boxes, from, to);
                    assert!(boxes.iter().map(|b| **b).eq(expected), "boxes {from} -> {to}");
                }
            }
        }
    }
}
