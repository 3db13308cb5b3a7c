//! The [`Router`] state and the plumbing every input shares: ids, pending work, events.

use std::collections::VecDeque;

use domain::{AgentId, TaskId, Timestamp};

use crate::agent::Agent;
use crate::agent_table::AgentTable;
use crate::id_hash::IdMap;
use crate::offer_table::OfferTable;
use crate::queue_table::QueueTable;
use crate::signature::{Req, SigId, Signatures};
use crate::task_table::TaskTable;
use crate::timers::{Timer, Timers};
use crate::{RouterConfig, RoutingEvent};

/// The ACD state machine. See the crate docs for the calling convention.
///
/// Architecture Invariant (the matching invariant): when no input is being handled, no waiting
/// task has a free agent eligible for it, unless that agent or task is listed as pending work
/// (only [`Router::upsert_queue`], which has no `now`, leaves pending work behind;
/// [`Router::poll_timeout`] then asks for a call right away).
pub struct Router {
    pub(crate) config: RouterConfig,
    pub(crate) queues: QueueTable,
    pub(crate) agents: AgentTable,
    pub(crate) tasks: TaskTable,
    pub(crate) offers: OfferTable,
    pub(crate) sigs: Signatures,
    pub(crate) timers: Timers,
    pub(crate) events: VecDeque<RoutingEvent>,
    /// Orders tasks entered at the same millisecond; never reused.
    pub(crate) next_seq: u64,
    pub(crate) next_offer: u64,
    /// Latest `now` seen, the due time of pending work left by `upsert_queue`.
    pub(crate) last_now: Timestamp,
    /// Tasks (slot and id) that became waiting (or changed requirements) during this input.
    /// The id tells a slot freed since (a cancel) from its task.
    pub(crate) pending_tasks: Vec<(u32, TaskId)>,
    /// Agents (by slot) that gained capacity or eligibility during this input.
    pub(crate) pending_agents: Vec<u32>,
    /// Agents (by slot) whose entries in the queues' free-agent indexes may be stale.
    pub(crate) touched: Vec<u32>,
    pub(crate) scratch_reqs: Vec<Req>,
    pub(crate) scratch_timers: Vec<(Timestamp, Timer)>,
    pub(crate) scratch_keys: Vec<(u32, SigId)>,
    pub(crate) scratch_counts: IdMap<(u32, SigId), usize>,
    pub(crate) scratch_slots: Vec<u32>,
    pub(crate) scratch_precedence: Vec<(crate::aging::Precedence, (u32, TaskId))>,
    /// Tasks (slot and id) flagged `stepped` during this `handle_timeout`, unflagged at its end.
    pub(crate) stepped: Vec<(u32, TaskId)>,
}

impl Router {
    pub fn new(config: RouterConfig) -> Router {
        Router {
            config,
            queues: QueueTable::default(),
            agents: AgentTable::default(),
            tasks: TaskTable::default(),
            offers: OfferTable::default(),
            sigs: Signatures::new(),
            timers: Timers::default(),
            events: VecDeque::new(),
            next_seq: 0,
            next_offer: 1,
            last_now: Timestamp::ZERO,
            pending_tasks: Vec::new(),
            pending_agents: Vec::new(),
            touched: Vec::new(),
            scratch_reqs: Vec::new(),
            scratch_timers: Vec::new(),
            scratch_keys: Vec::new(),
            scratch_counts: IdMap::default(),
            scratch_slots: Vec::new(),
            scratch_precedence: Vec::new(),
            stepped: Vec::new(),
        }
    }

    /// Next decision or notice, oldest first. The caller drains this after every input.
    /// Inlined into callers in other crates: it runs several times per input, mostly
    /// returning `None`.
    #[inline]
    pub fn poll_event(&mut self) -> Option<RoutingEvent> {
        // Most polls find nothing (callers poll after every input): they return at once.
        let event = self.events.pop_front()?;
        if self.events.is_empty() {
            // Back to the start of the buffer: after a burst (an overflow storm) the buffer is
            // large, and a ring walking all of it would put each event in a cold cache line.
            self.events.clear();
        }
        Some(event)
    }

    /// Tasks alive in the router (waiting, offered or assigned).
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    pub(crate) fn observe(&mut self, now: Timestamp) {
        self.last_now = self.last_now.max(now);
    }

    pub(crate) fn has_pending_work(&self) -> bool {
        !self.pending_tasks.is_empty() || !self.pending_agents.is_empty()
    }

    pub(crate) fn push_event(&mut self, event: RoutingEvent) {
        self.events.push_back(event);
    }

    /// The task (by slot) must look for an agent before this input ends.
    pub(crate) fn mark_pending_task(&mut self, slot: u32) {
        let task = self.tasks.at_mut(slot);
        if !task.pending {
            task.pending = true;
            self.pending_tasks.push((slot, task.id));
        }
    }

    /// The agent must look for work before this input ends.
    pub(crate) fn mark_pending_agent(&mut self, id: AgentId) {
        if let Some(agent) = self.agents.get_mut(&id) {
            list_pending(agent, &mut self.pending_agents, &mut self.touched);
        }
    }

    /// The agent's free-index entries must be re-synced before they are next relied on.
    pub(crate) fn touch_agent(&mut self, id: AgentId) {
        if let Some(agent) = self.agents.get_mut(&id) {
            list_touched(agent, &mut self.touched);
        }
    }
}

/// [`Router::mark_pending_agent`] for an agent already in hand (one lookup less).
pub(crate) fn list_pending(agent: &mut Agent, pending: &mut Vec<u32>, touched: &mut Vec<u32>) {
    if !agent.pending {
        agent.pending = true;
        pending.push(agent.slot);
    }
    list_touched(agent, touched);
}

/// [`Router::touch_agent`] for an agent already in hand.
pub(crate) fn list_touched(agent: &mut Agent, touched: &mut Vec<u32>) {
    if !agent.touched {
        agent.touched = true;
        touched.push(agent.slot);
    }
}
