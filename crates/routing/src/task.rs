//! Tasks: entering the router, waiting in a partition, leaving it (cancel, release).

use domain::limits::TASKS_MAX;
use domain::{AgentId, Channel, OfferId, TaskId, Timestamp};

use crate::limits::{MISSED_AGENTS_PER_TASK_MAX, SIGNATURES_PER_QUEUE_MAX};
use crate::partition::WaitEntry;
use crate::router::list_pending;
use crate::signature::{merge_requirements, SigId};
use crate::sorted_deque::{Hint, NO_HINT};
use crate::timers::Timer;
use crate::validate;
use crate::{AgentStatus, Router, RoutingError, RoutingEvent, TaskSpec, TaskState};

/// Agents that recently missed (rejected or let time out) a task, most recent last. The task
/// goes to anyone else first; bounded, the oldest is forgotten.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MissedAgents {
    agents: [Option<AgentId>; MISSED_AGENTS_PER_TASK_MAX],
    next: u8,
}

impl MissedAgents {
    pub(crate) fn insert(&mut self, agent: AgentId) {
        if self.contains(agent) {
            return;
        }
        self.agents[usize::from(self.next)] = Some(agent);
        self.next = ((usize::from(self.next) + 1) % MISSED_AGENTS_PER_TASK_MAX) as u8;
    }

    pub(crate) fn contains(&self, agent: AgentId) -> bool {
        self.agents.contains(&Some(agent))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = AgentId> + '_ {
        self.agents.iter().flatten().copied()
    }
}

/// What a task is doing. With [`Task::agent_slot`] (and the agent's open offer naming the task)
/// it makes the public [`TaskState`], which is three times as wide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Waiting,
    Offered,
    Assigned,
}

/// The part of a task that decisions read: one cache line. A release, an offer or an overflow
/// step reaches a task that has not been touched for minutes, so its size is the number of
/// lines fetched from memory; the rest lives in [`TaskCold`]. Aligned so that no task
/// straddles two lines.
#[repr(align(64))]
pub(crate) struct Task {
    pub(crate) id: TaskId,
    /// When it entered the router; kept across overflow moves.
    pub(crate) entered_at: Timestamp,
    pub(crate) seq: u64,
    /// Where its priority lane and its stage put it while waiting, to take it out without a
    /// search.
    pub(crate) lane_hint: Hint,
    pub(crate) stage_hint: Hint,
    pub(crate) priority: i32,
    /// Slot of its queue in the queue table.
    pub(crate) queue_slot: u32,
    /// Slot of the agent in the agent table while offered or assigned.
    pub(crate) agent_slot: u32,
    pub(crate) sig: SigId,
    /// Its slot in the task table, set there.
    pub(crate) slot: u32,
    pub(crate) phase: Phase,
    /// Overflow stage: index of the next rule of the current queue.
    pub(crate) stage: u8,
    /// RelaxSkills applied in the current queue.
    pub(crate) relaxed: bool,
    /// Listed in `Router::pending_tasks`.
    pub(crate) pending: bool,
    /// Channel of the capacity unit held while offered or assigned.
    pub(crate) channel: Channel,
    /// Its own requirements (beside its queue's), interned like a signature (`NONE` without
    /// any): a quarter of tasks have some, and a map of them by slot cost a cache miss at
    /// each enqueue and release.
    pub(crate) own: SigId,
    /// Has an entry in the task table's extras.
    pub(crate) extra: bool,
    /// `sig` was computed for an older configuration of its queue (set by `upsert_queue` on
    /// the queue's offered tasks): recomputed when it next waits.
    pub(crate) stale: bool,
    /// Took an overflow step during this `handle_timeout` (listed in `Router::stepped`): one
    /// step per task per call.
    pub(crate) stepped: bool,
}

const _: () = assert!(std::mem::size_of::<Option<Task>>() == 64);

/// What only a few tasks have, kept in a map by slot: agents that missed them.
#[derive(Default)]
pub(crate) struct TaskExtra {
    pub(crate) missed: Option<MissedAgents>,
}

impl Task {
    /// Its place in the queue order; `aging_ms_per_level` is its queue's, which does not change
    /// while the task waits (a queue upsert takes waiting tasks out first).
    pub(crate) fn entry(&self, aging_ms_per_level: u64) -> WaitEntry {
        let key = (self.entered_at, self.seq, self.slot);
        WaitEntry::new(self.priority, key, aging_ms_per_level)
    }
}

impl TaskExtra {
    pub(crate) fn missed_by(&self, agent: AgentId) -> bool {
        self.missed.as_ref().is_some_and(|m| m.contains(agent))
    }

    pub(crate) fn missed_agents(&self) -> impl Iterator<Item = AgentId> + '_ {
        self.missed.iter().flat_map(|m| m.iter())
    }

    pub(crate) fn remember_miss(&mut self, agent: AgentId) {
        self.missed.get_or_insert_with(MissedAgents::default).insert(agent);
    }
}

impl Router {
    /// The public state of the live task at `slot`.
    pub(crate) fn task_state(&self, slot: u32) -> TaskState {
        let task = self.tasks.at(slot);
        let agent = || self.agents.at(task.agent_slot).id;
        match task.phase {
            Phase::Waiting => TaskState::Waiting,
            Phase::Offered => TaskState::Offered { agent: agent(), offer: self.offer_of(slot) },
            Phase::Assigned => TaskState::Assigned { agent: agent() },
        }
    }

    /// The open offer of the offered task at `slot`: the one of its agent's offers that names
    /// it (an agent holds a few at most).
    pub(crate) fn offer_of(&self, slot: u32) -> OfferId {
        let agent = self.agents.at(self.tasks.at(slot).agent_slot);
        let named = |offer: &&OfferId| self.offers.get(offer).is_some_and(|o| o.task_slot == slot);
        let offer = agent.offers.iter().find(named);
        *offer.unwrap_or_else(|| panic!("offered task {:?} has no open offer", agent.id))
    }

    pub fn handle_enqueue(
        &mut self,
        now: Timestamp,
        mut task: TaskSpec,
    ) -> Result<(), RoutingError> {
        self.observe(now);
        if self.tasks.contains_key(&task.id) {
            return Err(RoutingError::DuplicateTask(task.id));
        }
        let slot =
            self.queues.slot_of(&task.queue).ok_or(RoutingError::UnknownQueue(task.queue))?;
        let queue = self.queues.at(slot);
        let own_skills = validate::requirements(std::mem::take(&mut task.skills), "task")?;
        if queue.waiting() >= queue.config.depth_max {
            return Err(RoutingError::QueueFull(task.queue));
        }
        if self.tasks.len() >= TASKS_MAX {
            return Err(RoutingError::TooMany("tasks"));
        }
        let base = queue.base_sig.filter(|_| own_skills.is_empty());
        let sig = match base {
            Some(sig) if self.sigs.reacquire(sig, &queue.config.skills) => sig,
            _ => {
                merge_requirements(&mut self.scratch_reqs, &queue.config.skills, &own_skills);
                let sig = self.sigs.acquire(&self.scratch_reqs);
                if own_skills.is_empty() {
                    self.queues.at_mut(slot).base_sig = Some(sig);
                }
                sig
            }
        };
        let queue = self.queues.at(slot);
        let full = queue.partitions.len() >= SIGNATURES_PER_QUEUE_MAX;
        if full && queue.partition(sig).is_none() {
            self.sigs.release(sig);
            return Err(RoutingError::TooMany("skill combinations waiting in one queue"));
        }
        let own = if own_skills.is_empty() { SigId::NONE } else { self.sigs.acquire(&own_skills) };
        let seq = self.next_seq;
        self.next_seq += 1;
        let hot = Task {
            id: task.id,
            entered_at: now,
            seq,
            lane_hint: NO_HINT,
            stage_hint: NO_HINT,
            priority: task.priority,
            queue_slot: slot,
            agent_slot: 0,
            sig,
            own,
            slot: 0,
            phase: Phase::Waiting,
            stage: 0,
            relaxed: false,
            pending: false,
            channel: Channel::Voice,
            extra: false,
            stale: false,
            stepped: false,
        };
        let slot = self.tasks.insert(task.id, hot);
        let first_of_signature = self.enter_waiting_at(slot);
        // Matching invariant: tasks already waiting with this signature have no free eligible
        // agent, so neither has this one. Only the first of a signature searches.
        if first_of_signature {
            self.mark_pending_task(slot);
        }
        self.run_matching(now);
        Ok(())
    }

    /// Removes a task in any state (customer hung up while waiting, callback cancelled). An open
    /// offer ends as Revoked; an assigned task frees the agent without wrap-up.
    pub fn handle_cancel(&mut self, now: Timestamp, task: TaskId) -> Result<(), RoutingError> {
        self.observe(now);
        let slot = self.tasks.slot_of(&task).ok_or(RoutingError::UnknownTask(task))?;
        match self.tasks.at(slot).phase {
            Phase::Waiting => self.leave_waiting_at(slot),
            Phase::Offered => {
                let offer = self.offer_of(slot);
                self.close_offer(offer, crate::OfferEnd::Revoked)?;
                self.leave_waiting_at(slot);
            }
            Phase::Assigned => {
                let found = self.tasks.at(slot);
                self.free_assigned(now, found.queue_slot, found.channel, found.agent_slot);
            }
        }
        self.remove_task(slot);
        self.run_matching(now);
        Ok(())
    }

    /// Finishes an assigned task: frees the agent's capacity and, for voice, starts wrap-up.
    pub fn handle_release(&mut self, now: Timestamp, task: TaskId) -> Result<(), RoutingError> {
        self.observe(now);
        let slot = self.tasks.slot_of(&task).ok_or(RoutingError::UnknownTask(task))?;
        let found = self.tasks.at(slot);
        if found.phase != Phase::Assigned {
            return Err(RoutingError::WrongTaskState(task));
        }
        let (channel, queue) = (found.channel, found.queue_slot);
        let agent_slot = found.agent_slot;
        let wrap_up_ms = self.free_assigned(now, queue, channel, agent_slot);
        if channel == Channel::Voice && wrap_up_ms > 0 {
            let agent = self.agents.at(agent_slot).id;
            self.start_wrap_up(agent, now.plus_ms(wrap_up_ms));
        }
        self.remove_task(slot);
        self.run_matching(now);
        Ok(())
    }

    /// Gives back the capacity an assigned task held; the agent has been idle since now.
    /// Returns the queue's wrap-up.
    fn free_assigned(
        &mut self,
        now: Timestamp,
        queue_slot: u32,
        channel: Channel,
        agent_slot: u32,
    ) -> u64 {
        let queue = self.queues.at_mut(queue_slot);
        assert!(queue.assigned > 0, "assigned counter of {:?} underflows", queue.config.id);
        queue.assigned -= 1;
        let wrap_up_ms = queue.config.wrap_up_ms;
        let agent = self.agents.at_mut(agent_slot);
        let ch = channel.index();
        assert!(agent.load[ch] > 0, "{:?} releases a task it does not hold", agent.id);
        agent.load[ch] -= 1;
        agent.idle_since[ch] = now;
        list_pending(agent, &mut self.pending_agents, &mut self.touched);
        wrap_up_ms
    }

    /// After-call work after a voice task, unless the agent already left (break, offline).
    fn start_wrap_up(&mut self, agent_id: AgentId, until: Timestamp) {
        let agent = self.agents.get_mut(&agent_id).expect("agents are never removed");
        let until = match agent.status {
            AgentStatus::Available => until,
            AgentStatus::AfterCallWork { until: current } => until.max(current),
            AgentStatus::Offline | AgentStatus::Break { .. } => return,
        };
        if let Some(due) = agent.acw_due.take() {
            self.timers.disarm(due, Timer::AfterCallWork(agent_id));
        }
        agent.status = AgentStatus::AfterCallWork { until };
        agent.acw_due = Some(until);
        self.timers.arm(until, Timer::AfterCallWork(agent_id));
        let status = agent.status.clone();
        self.push_event(RoutingEvent::AgentStatusChanged { agent: agent_id, status });
        self.touch_agent(agent_id);
    }

    /// Drops a task (by slot) that is no longer waiting, offered or assigned anywhere.
    fn remove_task(&mut self, slot: u32) {
        let task = self.tasks.remove_at(slot);
        self.sigs.release(task.sig);
        if task.own != SigId::NONE {
            self.sigs.release(task.own);
        }
    }

    /// Puts a task (by slot, state Waiting) into its queue's order and overflow stage, with its
    /// requirements recomputed if its queue changed since.
    /// Returns whether the task is the only one waiting with its signature in its queue.
    pub(crate) fn enter_waiting_at(&mut self, slot: u32) -> bool {
        let task = self.tasks.at(slot);
        assert_eq!(task.phase, Phase::Waiting, "only waiting tasks are queued");
        if task.stale {
            self.refresh_requirements(slot);
        }
        let task = self.tasks.at_mut(slot);
        let queue = self.queues.at_mut(task.queue_slot);
        let entry = task.entry(queue.config.aging_ms_per_level);
        let sig = (task.sig, self.sigs.bits(task.sig));
        let first;
        (task.lane_hint, task.stage_hint, first) =
            queue.insert_waiting(sig, entry, usize::from(task.stage), &mut self.timers);
        first
    }

    /// Takes a waiting task (by slot) out of its queue's order and overflow stage.
    pub(crate) fn leave_waiting_at(&mut self, slot: u32) {
        let task = self.tasks.at(slot);
        assert_eq!(task.phase, Phase::Waiting, "only waiting tasks are queued");
        let queue = self.queues.at_mut(task.queue_slot);
        let entry = task.entry(queue.config.aging_ms_per_level);
        let stage = (usize::from(task.stage), task.lane_hint, task.stage_hint);
        queue.remove_waiting(task.sig, &entry, stage, &mut self.timers);
    }

    /// Re-queues a task (by slot) with new requirements (relaxed, or moved to another queue).
    pub(crate) fn requeue_changed(&mut self, slot: u32) {
        self.refresh_requirements(slot);
        self.enter_waiting_at(slot);
    }
}

impl Router {
    /// Recomputes the task's (by slot) signature for its queue's current configuration.
    fn refresh_requirements(&mut self, slot: u32) {
        let task = self.tasks.at(slot);
        let queue = self.queues.at(task.queue_slot);
        let scratch = &mut self.scratch_reqs;
        if task.relaxed {
            scratch.clear();
        } else {
            merge_requirements(scratch, &queue.config.skills, self.sigs.reqs(task.own));
        }
        let sig = self.sigs.acquire(scratch);
        let task = self.tasks.at_mut(slot);
        self.sigs.release(task.sig);
        task.sig = sig;
        task.stale = false;
        let last_stage = crate::queue::stage_number(queue.config.overflow.len());
        task.stage = task.stage.min(last_stage);
    }
}
