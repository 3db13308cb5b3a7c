//! Matching waiting tasks with free agents, run at the end of every input.
//!
//! Each input records pending work: tasks that became waiting (new, returned, moved, relaxed)
//! and agents that gained capacity or eligibility. Matching then restores the matching
//! invariant (see [`Router`]) in three steps:
//!
//! 1. Each pending task, best first, looks for a free eligible agent that has not missed it,
//!    in its queue's strategy order (the queue's free index).
//! 2. Agents that missed a still-waiting pending task and are free join the pending agents.
//! 3. Each pending agent repeatedly takes the best head among the partitions it may serve.
//!    The task goes to the agent its queue's strategy prefers among the free ones (usually
//!    this one; another if this one missed it or, in a batch, another freed agent ranks first).
//!
//! Fast path: with one pending agent and no pending task (a release, an accept, the end of
//! after-call work) no other agent can take anything, so the agent takes heads directly and
//! no free index is touched until the end.
//!
//! Cost: step 3 walks each served queue's partitions, kept sorted by their (cached) head, and
//! stops at the first whose signature the agent meets; both counts are bounded by limits.
//! Heads compare by their static key inside a queue and exactly at `now` across queues.
//!
//! Step 1 is skipped for a task whose partition holds a task that waited before this input:
//! by the invariant that one has no free eligible agent, and the newcomer needs the same
//! skills. Otherwise it scans the qualified part of the queue's free index in strategy order
//! until the first agent with the task's skills (a relaxed task also merges in the members
//! lacking the queue's own skills). That is a full scan at worst, bounded by the queue's free
//! members, and paid once per signature that finds no agent rather than once per task.

use domain::{TaskId, Timestamp};

use crate::aging::Precedence;
use crate::queue::FreeKey;
use crate::signature::SigId;
use crate::task::Phase;
use crate::Router;

/// Pending tasks that `Router::drop_settled` counts per partition by sorting; beyond, by a map.
const DROP_SETTLED_SORT_MAX: usize = 64;

impl Router {
    #[inline]
    pub(crate) fn run_matching(&mut self, now: Timestamp) {
        if !self.has_pending_work() {
            // Nothing new waits and nobody gained capacity (an accept, most enqueues).
            if !self.touched.is_empty() {
                self.sync_touched();
            }
            return;
        }
        self.match_pending(now);
    }

    /// [`Router::run_matching`] with pending work. Kept apart so that the common call without
    /// any (an accept, most enqueues) does not pay for this function's large frame.
    #[inline(never)]
    fn match_pending(&mut self, now: Timestamp) {
        let mut tasks = std::mem::take(&mut self.pending_tasks);
        let mut agents = std::mem::take(&mut self.pending_agents);
        tasks.retain(|&(slot, id)| match self.tasks.live_at_mut(slot, id) {
            Some(task) => {
                task.pending = false;
                task.phase == Phase::Waiting
            }
            None => false,
        });
        for &slot in &agents {
            self.agents.at_mut(slot).pending = false;
        }
        let fast = tasks.is_empty() && agents.len() == 1;
        if !fast {
            self.sync_touched();
        }
        // Settled tasks go first: a burst of overflow steps makes many pending tasks, most of
        // them behind others of their partition, and sorting the rest costs less. The order
        // of the survivors does not depend on it.
        if !tasks.is_empty() {
            self.drop_settled(&mut tasks);
        }
        // Free indexes only shrink until step 3, so a task whose queue has no free agent now
        // gets none in step 1; without missed agents (kept in its extras) step 2 skips it too.
        tasks.retain(|&(slot, _)| {
            let task = self.tasks.at(slot);
            task.extra || self.queues.at(task.queue_slot).free.len() > 0
        });
        if tasks.len() > 1 {
            self.sort_by_precedence(now, &mut tasks);
        }
        for &(task, _) in &tasks {
            if let Some(agent) = self.select_agent(task, false) {
                self.make_offer_at(now, task, agent);
                self.sync_free_at(agent);
            }
        }
        for &(task, _) in &tasks {
            if self.tasks.at(task).phase != Phase::Waiting {
                continue;
            }
            let Some(extra) = self.tasks.extra(task) else { continue };
            for missed in extra.missed_agents() {
                let slot = self.agents.get(&missed).expect("agents are never removed").slot;
                if !agents.contains(&slot) {
                    agents.push(slot);
                }
            }
        }
        for &agent in &agents {
            self.serve_agent(now, agent, fast);
        }
        self.sync_touched();
        assert!(!self.has_pending_work(), "matching created pending work");
        tasks.clear();
        agents.clear();
        self.pending_tasks = tasks;
        self.pending_agents = agents;
    }

    /// Keeps only the pending tasks that may have a free eligible agent. A partition holding
    /// more tasks than pending ones holds a task that waited before this input; by the
    /// matching invariant no agent free before the input may take it, and agents freed by the
    /// input are pending and look at the heads themselves in step 3.
    fn drop_settled(&mut self, tasks: &mut Vec<(u32, TaskId)>) {
        let key_of = |router: &Router, slot: u32| -> (u32, SigId) {
            let task = router.tasks.at(slot);
            (task.queue_slot, task.sig)
        };
        if let [(slot, _)] = tasks[..] {
            // One task: pending alone in its partition unless others wait there.
            let (queue, sig) = key_of(self, slot);
            if self.queues.at(queue).partition(sig).is_some_and(|p| p.len() > 1) {
                tasks.clear();
            }
            return;
        }
        if tasks.len() > DROP_SETTLED_SORT_MAX {
            // A burst of overflow steps: count per partition in a map rather than sort.
            let mut counts = std::mem::take(&mut self.scratch_counts);
            counts.clear();
            for &(slot, _) in tasks.iter() {
                *counts.entry(key_of(self, slot)).or_default() += 1;
            }
            tasks.retain(|&(slot, _)| {
                let (queue, sig) = key_of(self, slot);
                let pending = counts.get(&(queue, sig)).copied().unwrap_or_default();
                let queue = self.queues.at(queue);
                queue.partition(sig).is_none_or(|p| p.len() <= pending)
            });
            self.scratch_counts = counts;
            return;
        }
        let mut keys = std::mem::take(&mut self.scratch_keys);
        keys.clear();
        keys.extend(tasks.iter().map(|&(slot, _)| key_of(self, slot)));
        keys.sort_unstable();
        tasks.retain(|&(slot, _)| {
            let (queue, sig) = key_of(self, slot);
            let pending = keys.partition_point(|k| *k <= (queue, sig))
                - keys.partition_point(|k| *k < (queue, sig));
            let queue = self.queues.at(queue);
            queue.partition(sig).is_none_or(|p| p.len() <= pending)
        });
        self.scratch_keys = keys;
    }

    /// Best first; each task's precedence is computed once.
    fn sort_by_precedence(&mut self, now: Timestamp, tasks: &mut [(u32, TaskId)]) {
        let mut keyed = std::mem::take(&mut self.scratch_precedence);
        keyed.clear();
        keyed.extend(tasks.iter().map(|&task| (self.precedence(now, task.0), task)));
        keyed.sort_unstable_by(|(a, _), (b, _)| a.order(b));
        for (slot, &(_, task)) in tasks.iter_mut().zip(&keyed) {
            *slot = task;
        }
        self.scratch_precedence = keyed;
    }

    fn precedence(&self, now: Timestamp, slot: u32) -> Precedence {
        let task = self.tasks.at(slot);
        let queue = self.queues.at(task.queue_slot);
        let aging = queue.config.aging_ms_per_level;
        Precedence::at(now, task.priority, task.entered_at, aging, task.seq)
    }

    /// The free agent (by slot) the task's queue prefers for the task (by slot): the first in
    /// the free index with the task's skills, skipping agents that missed it unless
    /// `allow_missed` and nobody else. Only a relaxed task (no requirement) looks at agents
    /// lacking the queue's own skills. Requires synced free indexes.
    fn select_agent(&self, task_slot: u32, allow_missed: bool) -> Option<u32> {
        let task = self.tasks.at(task_slot);
        if task.phase != Phase::Waiting {
            return None;
        }
        let extra = self.tasks.extra(task_slot);
        let queue = self.queues.at(task.queue_slot);
        let (needed, needed_bits) = (self.sigs.reqs(task.sig), self.sigs.bits(task.sig));
        // Taking none of the unqualified part keeps one iterator type without boxing it.
        let unqualified =
            queue.free.unqualified().take(if needed.is_empty() { usize::MAX } else { 0 });
        let candidates = merge_by_preference(queue.free.qualified(), unqualified);
        let mut fallback = None;
        for key in candidates {
            let agent = self.agents.at(key.slot);
            assert!(agent.free_for(&queue.config), "free index lists busy {:?}", key.agent);
            if !agent.satisfies_bits(needed_bits, || needed) {
                continue;
            }
            if !extra.is_some_and(|e| e.missed_by(key.agent)) {
                return Some(key.slot);
            }
            if allow_missed && fallback.is_none() {
                fallback = Some(key.slot);
            }
        }
        fallback
    }

    /// The best waiting task the agent may take now: the best head among the partitions of
    /// the queues it is free for whose signature it satisfies. Inside a queue heads compare by
    /// their static key; only each queue's best is compared across queues at `now`.
    /// Takes the agent's slot; returns the task's slot.
    fn best_head_for(&self, now: Timestamp, agent_slot: u32) -> Option<u32> {
        let agent = self.agents.at(agent_slot);
        let mut best: Option<(Precedence, u32)> = None;
        for served in agent.served.iter() {
            let queue = self.queues.at(served.slot);
            if !agent.free_for(&queue.config) || queue.heads.is_empty() {
                continue;
            }
            // Partitions are sorted by head: the first one the agent qualifies for is the best.
            // Every signature but the relaxed one holds the queue's own skills: an agent
            // lacking them can only take a relaxed task.
            let at = if served.qualified {
                let mut sigs = queue.partition_sigs.iter();
                sigs.position(|&(sig, bits)| agent.satisfies_bits(bits, || self.sigs.reqs(sig)))
            } else {
                queue.partition_sigs.iter().position(|&(sig, _)| sig == SigId::NONE)
            };
            let Some(head) = at.map(|at| &queue.heads[at]) else { continue };
            let aging = queue.config.aging_ms_per_level;
            let prec = Precedence::at(now, head.priority, head.entered_at, aging, head.seq);
            if best.as_ref().is_none_or(|(b, _)| prec.before(b)) {
                best = Some((prec, head.slot));
            }
        }
        best.map(|(_, task)| task)
    }

    /// Lets a freed agent (by slot) take work until it is full or nothing fits.
    fn serve_agent(&mut self, now: Timestamp, agent_slot: u32, fast: bool) {
        // Without spare capacity on any channel the agent is free for no queue: skip the walk
        // over its queues (most offers fill a voice agent).
        while self.agents.at(agent_slot).has_spare_capacity() {
            let Some(slot) = self.best_head_for(now, agent_slot) else { break };
            if fast {
                self.make_offer_at(now, slot, agent_slot);
            } else {
                // The agent itself is in the index, so someone is always found.
                let chosen = self.select_agent(slot, true).unwrap_or(agent_slot);
                self.make_offer_at(now, slot, chosen);
                self.sync_free_at(chosen);
            }
        }
    }
}

/// Both parts of a free index in one strategy order.
fn merge_by_preference<'a>(
    a: impl Iterator<Item = &'a FreeKey>,
    b: impl Iterator<Item = &'a FreeKey>,
) -> impl Iterator<Item = &'a FreeKey> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if y.preference() < x.preference() => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}
