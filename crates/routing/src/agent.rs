//! Agents: profile, status, per-channel load, and their entries in the queues' free indexes.

use domain::limits::AGENTS_MAX;
use domain::{AgentId, Channel, DepartmentId, OfferId, Timestamp};

use crate::limits::BREAK_REASON_BYTES_MAX;
use crate::queue::FreeKey;
use crate::queue_table::QueueTable;
use crate::signature::{level_sum, satisfies, Req, SkillBits};
use crate::small_list::SmallList;
use crate::sorted_deque::{Hint, NO_HINT};
use crate::timers::Timer;
use crate::validate;
use crate::{
    AgentProfile, AgentStatus, OfferEnd, QueueConfig, Router, RoutingError, RoutingEvent, Strategy,
    MISSED_OFFERS_REASON,
};

/// Skills kept inside the agent; most agents hold a few.
const AGENT_SKILLS_INLINE: usize = 6;
/// Open offers kept inside the agent; most agents hold one or two.
const AGENT_OFFERS_INLINE: usize = 3;
/// Fills unused inline skill places; never read.
const NO_SKILL: Req = (domain::SkillId(0), domain::SkillLevel::MIN);

/// Laid out by hand, hot first: a release reaches an agent busy for minutes, cold in cache,
/// and each of its lines that a decision reads is one more miss. A decision (release, the next
/// offer, its accept) reads the first three lines (load and idle time; status and served
/// queues; offers and sync state); the last two (profile details, free-index entries) are
/// read when the profile changes, when the agent's free state changes, or to break a tie the
/// skill bits leave open. Aligned so that no agent straddles more lines than it needs.
#[repr(C, align(64))]
pub(crate) struct Agent {
    // Line 0: what a release and the choice of work read.
    pub(crate) load: [u32; Channel::COUNT],
    pub(crate) capacity: [u32; Channel::COUNT],
    pub(crate) idle_since: [Timestamp; Channel::COUNT],
    /// [`SkillBits::of_held`] of `skills`.
    pub(crate) skill_bits: SkillBits,
    /// Its slot in the agent table, set there.
    pub(crate) slot: u32,
    /// Consecutive offers rejected or timed out.
    pub(crate) missed_in_row: u32,
    /// Channels of the served queues (see `served_channels`): capacity elsewhere takes nothing.
    pub(crate) channels: [bool; Channel::COUNT],
    /// Listed in `Router::pending_agents`.
    pub(crate) pending: bool,
    /// Listed in `Router::touched`.
    pub(crate) touched: bool,
    // Line 1: whether it takes work, and from which queues.
    pub(crate) status: AgentStatus,
    /// Queues served, sorted by queue id, no duplicates, all known; with this agent's entry in
    /// each one's free index.
    pub(crate) served: ServedList,
    // Line 2: offering, accepting, and whether its free-index entries are in sync.
    pub(crate) id: AgentId,
    /// Open offers, oldest first.
    pub(crate) offers: SmallList<OfferId, AGENT_OFFERS_INLINE>,
    /// `free_state` when the entries were last synced; [`Synced::NONE`] after a change of
    /// profile or of a served queue's configuration, which the state does not capture.
    pub(crate) synced: Synced,
    // Cold lines.
    /// Sorted, no duplicates.
    pub(crate) departments: Vec<DepartmentId>,
    /// Sorted by skill id.
    pub(crate) skills: SmallList<Req, AGENT_SKILLS_INLINE>,
    /// This agent's entry in the free index of each served queue (same order), if any, with
    /// where the index put it. Apart from `served`: a release reads the served queues, and
    /// only a change of free state (a sync) reads these.
    pub(crate) free_keys: Vec<(Option<FreeKey>, Hint)>,
    /// Due time of the armed after-call-work timer.
    pub(crate) acw_due: Option<Timestamp>,
}

// The hot part stays within its three lines.
const _: () = assert!(std::mem::offset_of!(Agent, status) == 64);
const _: () = assert!(std::mem::offset_of!(Agent, id) == 128);
const _: () = assert!(std::mem::offset_of!(Agent, departments) == 192);

/// What an agent's free-index entries depend on besides its profile and the queues' settings:
/// per channel, the idle time if it could take one more task there. A voice agent that takes
/// its next call right after a release comes back to the same state, and syncing is skipped.
pub(crate) type FreeState = [Option<Timestamp>; Channel::COUNT];

/// A [`FreeState`] packed without the options' padding, so that it shares a line with the
/// offers (see [`Agent`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Synced {
    /// The idle times of the channels in `some`, zero elsewhere.
    idle: [Timestamp; Channel::COUNT],
    /// Bit `ch` set when channel `ch` has an idle time; all set in [`Synced::NONE`].
    some: u8,
}

const _: () = assert!(Channel::COUNT < 8);

impl Synced {
    /// Equal to no packed state: the entries must be recomputed.
    pub(crate) const NONE: Synced =
        Synced { idle: [Timestamp::ZERO; Channel::COUNT], some: u8::MAX };

    pub(crate) fn pack(state: FreeState) -> Synced {
        let mut packed = Synced { idle: [Timestamp::ZERO; Channel::COUNT], some: 0 };
        for (ch, idle) in state.iter().enumerate() {
            if let Some(idle) = *idle {
                packed.idle[ch] = idle;
                packed.some |= 1 << ch;
            }
        }
        packed
    }
}

/// Queues an agent serves, inside the agent when few (most agents serve a handful): a freed
/// agent reads the list on every decision, and a separate allocation is one more cache miss.
#[derive(Clone, Debug)]
pub(crate) enum ServedList {
    Inline(u8, [Served; SERVED_INLINE]),
    Heap(Vec<Served>),
}

/// Served queues kept inside the agent.
const SERVED_INLINE: usize = 4;

impl ServedList {
    pub(crate) fn new(list: Vec<Served>) -> ServedList {
        if list.len() > SERVED_INLINE {
            return ServedList::Heap(list);
        }
        let unused = Served { slot: 0, qualified: false };
        let mut items = [unused; SERVED_INLINE];
        items[..list.len()].copy_from_slice(&list);
        // At most SERVED_INLINE, checked above.
        ServedList::Inline(list.len() as u8, items)
    }
}

impl std::ops::Deref for ServedList {
    type Target = [Served];

    fn deref(&self) -> &[Served] {
        match self {
            ServedList::Inline(len, items) => &items[..usize::from(*len)],
            ServedList::Heap(list) => list,
        }
    }
}

impl std::ops::DerefMut for ServedList {
    fn deref_mut(&mut self) -> &mut [Served] {
        match self {
            ServedList::Inline(len, items) => &mut items[..usize::from(*len)],
            ServedList::Heap(list) => list,
        }
    }
}

/// A served queue. No queue id: an id is 8 bytes more per entry, and the queue table has it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Served {
    /// The queue's slot in the queue table.
    pub(crate) slot: u32,
    /// The agent meets the queue's own skills (kept by `upsert_agent` and `upsert_queue`): if
    /// not, only relaxed tasks of the queue are for it.
    pub(crate) qualified: bool,
}

impl Agent {
    /// Its entry for the queue at `slot`, if it serves it.
    pub(crate) fn serves(&self, slot: u32) -> Option<&Served> {
        self.served.iter().find(|s| s.slot == slot)
    }

    /// Its entry in the free index of the queue at `slot`, which it serves.
    pub(crate) fn free_key_in(&self, slot: u32) -> Option<FreeKey> {
        let at = self.served.iter().position(|s| s.slot == slot)?;
        self.free_keys[at].0
    }

    /// Could take one more task of this queue now, skills aside.
    pub(crate) fn free_for(&self, queue: &QueueConfig) -> bool {
        let ch = queue.channel.index();
        matches!(self.status, AgentStatus::Available)
            && self.load[ch] < self.capacity[ch]
            && queue.department.is_none_or(|d| self.departments.binary_search(&d).is_ok())
    }

    /// Available with room for one more task on a channel it serves: a precondition of
    /// `free_for` on any of its queues.
    pub(crate) fn has_spare_capacity(&self) -> bool {
        matches!(self.status, AgentStatus::Available)
            && (0..Channel::COUNT).any(|ch| self.channels[ch] && self.load[ch] < self.capacity[ch])
    }

    pub(crate) fn free_state(&self) -> FreeState {
        let available = matches!(self.status, AgentStatus::Available);
        std::array::from_fn(|ch| {
            (available && self.load[ch] < self.capacity[ch]).then_some(self.idle_since[ch])
        })
    }

    pub(crate) fn satisfies(&self, needed: &[Req]) -> bool {
        satisfies(&self.skills[..], needed)
    }

    /// `satisfies`, from the requirements' bits when they tell (most times); `needed` is
    /// read only when they do not.
    pub(crate) fn satisfies_bits<'a>(
        &self,
        needed_bits: SkillBits,
        needed: impl FnOnce() -> &'a [Req],
    ) -> bool {
        match needed_bits.met_by(self.skill_bits) {
            Some(met) => met,
            None => satisfies(&self.skills[..], needed()),
        }
    }

    /// Its entry in the queue's free index; `qualified` is its `Served::qualified` there.
    pub(crate) fn free_key(&self, queue: &QueueConfig, qualified: bool) -> FreeKey {
        let rank = match queue.strategy {
            Strategy::LongestIdle => 0,
            Strategy::BestSkill => u32::MAX - level_sum(&self.skills[..], &queue.skills),
        };
        FreeKey {
            unqualified: !qualified,
            rank,
            idle_since: self.idle_since[queue.channel.index()],
            agent: self.id,
            slot: self.slot,
        }
    }
}

/// Which channels the served queues use.
pub(crate) fn served_channels(served: &[Served], queues: &QueueTable) -> [bool; Channel::COUNT] {
    let mut channels = [false; Channel::COUNT];
    for s in served {
        channels[queues.at(s.slot).config.channel.index()] = true;
    }
    channels
}

impl Router {
    /// Adds or replaces an agent's profile, keeping status and load. A new agent starts
    /// Offline. Every listed queue must exist; capacity may not drop below the current load.
    pub fn upsert_agent(
        &mut self,
        now: Timestamp,
        agent: AgentProfile,
    ) -> Result<(), RoutingError> {
        self.observe(now);
        let profile = validate::agent_profile(agent, |q| self.queues.contains_key(&q))?;
        let id = profile.id;
        match self.agents.get(&id) {
            Some(existing) => {
                for ch in Channel::ALL {
                    let (cap, load) = (profile.capacity[ch.index()], existing.load[ch.index()]);
                    if cap < load {
                        return Err(RoutingError::InvalidConfig(format!(
                            "capacity {cap} on {} is below the agent's current load {load}",
                            ch.as_str()
                        )));
                    }
                }
            }
            None if self.agents.len() >= AGENTS_MAX => return Err(RoutingError::TooMany("agents")),
            None => {
                let agent = Agent {
                    id,
                    slot: 0,
                    skills: SmallList::new(NO_SKILL),
                    skill_bits: SkillBits::default(),
                    departments: Vec::new(),
                    served: ServedList::new(Vec::new()),
                    free_keys: Vec::new(),
                    capacity: [0; Channel::COUNT],
                    status: AgentStatus::Offline,
                    load: [0; Channel::COUNT],
                    idle_since: [now; Channel::COUNT],
                    missed_in_row: 0,
                    offers: SmallList::new(OfferId(0)),
                    acw_due: None,
                    pending: false,
                    touched: false,
                    synced: Synced::NONE,
                    channels: [false; Channel::COUNT],
                };
                self.agents.insert(id, agent);
            }
        }
        let agent = self.agents.get_mut(&id).expect("inserted or found above");
        // Leave the old queues' indexes and member sets, then join the new ones.
        for (served, (key, hint)) in agent.served.iter().zip(agent.free_keys.iter()) {
            let queue = self.queues.at_mut(served.slot);
            if let Some(key) = key {
                let removed = queue.free.remove(key, *hint);
                assert!(removed, "free index entry of {id:?} was present");
            }
            queue.members.remove(&id);
        }
        for qid in &profile.queues {
            self.queues.get_mut(qid).expect("validated above").members.insert(id);
        }
        let queues = &self.queues;
        let served = profile.queues.iter().map(|&queue| {
            let slot = queues.slot_of(&queue).expect("validated above");
            let qualified = satisfies(&profile.skills, &queues.at(slot).config.skills);
            Served { slot, qualified }
        });
        agent.served = ServedList::new(served.collect());
        agent.channels = served_channels(&agent.served, queues);
        agent.free_keys = vec![(None, NO_HINT); agent.served.len()];
        agent.skill_bits = SkillBits::of_held(&profile.skills);
        agent.skills = SmallList::from_vec(profile.skills, NO_SKILL);
        agent.departments = profile.departments;
        agent.capacity = profile.capacity;
        agent.synced = Synced::NONE;
        self.mark_pending_agent(id);
        self.run_matching(now);
        Ok(())
    }

    /// Sets an agent's status. Offline and Break revoke open offers (assigned tasks finish
    /// normally). Coming back Available from Offline or Break restarts idle time and the
    /// missed-offer count. AfterCallWork ends by itself at `until`.
    pub fn handle_agent_status(
        &mut self,
        now: Timestamp,
        agent: AgentId,
        status: AgentStatus,
    ) -> Result<(), RoutingError> {
        self.observe(now);
        if let AgentStatus::Break { reason } = &status {
            if reason.len() > BREAK_REASON_BYTES_MAX {
                return Err(RoutingError::InvalidConfig(format!(
                    "break reason longer than {BREAK_REASON_BYTES_MAX} bytes"
                )));
            }
        }
        let id = agent;
        let agent = self.agents.get_mut(&id).ok_or(RoutingError::UnknownAgent(id))?;
        let previous = std::mem::replace(&mut agent.status, status.clone());
        if let Some(due) = agent.acw_due.take() {
            assert!(self.timers.disarm(due, Timer::AfterCallWork(id)), "wrap-up timer armed");
        }
        match status {
            AgentStatus::AfterCallWork { until } => {
                agent.acw_due = Some(until);
                self.timers.arm(until, Timer::AfterCallWork(id));
                self.touch_agent(id);
            }
            AgentStatus::Available => {
                if matches!(previous, AgentStatus::Offline | AgentStatus::Break { .. }) {
                    agent.idle_since = [now; Channel::COUNT];
                    agent.missed_in_row = 0;
                }
                self.mark_pending_agent(id);
            }
            AgentStatus::Offline | AgentStatus::Break { .. } => {
                self.touch_agent(id);
                self.revoke_offers(id);
            }
        }
        self.run_matching(now);
        Ok(())
    }

    /// Ends every open offer of the agent as Revoked; the tasks wait again.
    fn revoke_offers(&mut self, id: AgentId) {
        let offers = self.agents.get(&id).map(|a| a.offers.to_vec()).unwrap_or_default();
        for offer in offers {
            let closed = self.close_offer(offer, OfferEnd::Revoked);
            assert!(closed.is_ok(), "the agent's open offer {offer:?} exists");
        }
    }

    /// Counts a rejected or timed-out offer; too many in a row put the agent on break.
    pub(crate) fn count_miss(&mut self, id: AgentId) {
        let max = self.config.missed_offers_max;
        let agent = self.agents.get_mut(&id).expect("agents are never removed");
        agent.missed_in_row = agent.missed_in_row.saturating_add(1);
        if max == 0 || agent.missed_in_row < max {
            return;
        }
        agent.missed_in_row = 0;
        if let AgentStatus::Break { .. } | AgentStatus::Offline = agent.status {
            return;
        }
        let status = AgentStatus::Break { reason: MISSED_OFFERS_REASON.to_string() };
        agent.status = status.clone();
        if let Some(due) = agent.acw_due.take() {
            assert!(self.timers.disarm(due, Timer::AfterCallWork(id)), "wrap-up timer armed");
        }
        self.push_event(RoutingEvent::AgentStatusChanged { agent: id, status });
        self.touch_agent(id);
        self.revoke_offers(id);
    }

    /// The after-call-work timer fired.
    pub(crate) fn end_after_call_work(&mut self, id: AgentId) {
        let agent = self.agents.get_mut(&id).expect("agents are never removed");
        agent.acw_due = None;
        if let AgentStatus::AfterCallWork { .. } = agent.status {
            agent.status = AgentStatus::Available;
            let status = AgentStatus::Available;
            self.push_event(RoutingEvent::AgentStatusChanged { agent: id, status });
            self.mark_pending_agent(id);
        }
    }

    /// Brings the agent's (by slot) entries in its queues' free indexes up to date.
    pub(crate) fn sync_free_at(&mut self, slot: u32) {
        let agent = self.agents.at_mut(slot);
        let id = agent.id;
        let state = agent.free_state();
        let state = Synced::pack(state);
        if agent.synced == state {
            return;
        }
        agent.synced = state;
        for i in 0..agent.served.len() {
            let queue = self.queues.at_mut(agent.served[i].slot);
            let qualified = agent.served[i].qualified;
            let wanted =
                agent.free_for(&queue.config).then(|| agent.free_key(&queue.config, qualified));
            let (current, hint) = &mut agent.free_keys[i];
            if wanted != *current {
                if let Some(old) = current.take() {
                    let removed = queue.free.remove(&old, *hint);
                    assert!(removed, "free index entry of {id:?} was present");
                }
                if let Some(new) = wanted {
                    let placed = queue.free.insert(new);
                    *hint = placed.unwrap_or_else(|| panic!("{id:?} indexed twice as free"));
                }
                *current = wanted;
            }
        }
    }

    /// Syncs every touched agent.
    pub(crate) fn sync_touched(&mut self) {
        if self.touched.is_empty() {
            return;
        }
        let mut touched = std::mem::take(&mut self.touched);
        for &slot in &touched {
            self.agents.at_mut(slot).touched = false;
            self.sync_free_at(slot);
        }
        touched.clear();
        // Syncing touches nothing, so the list is still empty; keep its allocation.
        debug_assert!(self.touched.is_empty());
        self.touched = touched;
    }
}
