//! Read-only views for consoles: what an agent has on screen, how queues stand.

use domain::event::AgentState;
use domain::{AgentId, CallbackId, InteractionId, OfferId, QueueId, Timestamp};
use routing::QueueSnapshot;

use crate::center::Center;

/// Where an interaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Waiting in the router for an agent.
    Queued,
    /// Offered to an agent who has not accepted yet.
    Offered,
    DialingAgent,
    DialingCustomer,
    Connected,
    /// Over; kept while the agent wraps up.
    Ended,
}

impl Phase {
    pub const fn as_str(self) -> &'static str {
        match self {
            Phase::Queued => "queued",
            Phase::Offered => "offered",
            Phase::DialingAgent => "dialing_agent",
            Phase::DialingCustomer => "dialing_customer",
            Phase::Connected => "connected",
            Phase::Ended => "ended",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferInfo {
    pub offer: OfferId,
    pub interaction: InteractionId,
    pub offered_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InteractionInfo {
    pub id: InteractionId,
    /// `None` for an inbound call.
    pub callback: Option<CallbackId>,
    /// An inbound call's calling number.
    pub caller: Option<String>,
    pub queue: QueueId,
    pub phase: Phase,
    pub since: Timestamp,
    pub attempt: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentSnapshot {
    pub id: AgentId,
    pub state: AgentState,
    pub since: Timestamp,
    pub offers: Vec<OfferInfo>,
    /// In progress first, then those awaiting wrap-up.
    pub interactions: Vec<InteractionInfo>,
}

impl Center {
    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn agent_snapshot(&self, id: AgentId) -> Option<AgentSnapshot> {
        let info = self.agents.get(&id)?;
        let interactions = info
            .active
            .iter()
            .chain(info.wrapping.iter())
            .filter_map(|ix| self.interactions.get(ix))
            .map(|i| InteractionInfo {
                id: i.id,
                callback: i.callback,
                caller: i.caller.clone(),
                queue: i.queue,
                phase: i.phase,
                since: i.since,
                attempt: i.attempt,
            })
            .collect();
        Some(AgentSnapshot {
            id,
            state: info.state.clone(),
            since: info.since,
            offers: info.offers.clone(),
            interactions,
        })
    }

    pub fn agent_ids(&self) -> Vec<AgentId> {
        let mut ids: Vec<AgentId> = self.agents.keys().copied().collect();
        ids.sort();
        ids
    }

    pub fn queue_ids(&self) -> Vec<QueueId> {
        let mut ids: Vec<QueueId> = self.queues.keys().copied().collect();
        ids.sort();
        ids
    }

    pub fn queue_snapshot(&self, id: QueueId) -> Option<QueueSnapshot> {
        self.router.queue_snapshot(id)
    }

    /// Number of open (not final) callbacks.
    pub fn open_callbacks(&self) -> usize {
        self.callbacks.len()
    }

    /// Full consistency check for tests and the simulator; panics on a broken invariant.
    pub fn check_invariants(&self) {
        for (leg, (ix, side)) in &self.legs {
            let inter =
                self.interactions.get(ix).expect("a live leg belongs to a live interaction");
            let own = match side {
                crate::center::Side::Agent => inter.agent_leg,
                crate::center::Side::Customer => inter.customer_leg,
            };
            assert_eq!(own, Some(*leg), "leg table and interaction disagree");
        }
        for (id, cb) in &self.callbacks {
            if let Some(ix) = cb.interaction {
                if let Some(inter) = self.interactions.get(&ix) {
                    assert_eq!(inter.callback, Some(*id), "interaction points at another callback");
                }
            }
        }
        for (agent, info) in &self.agents {
            for ix in &info.active {
                let inter = self.interactions.get(ix).expect("active interaction exists");
                assert_eq!(inter.agent, Some(*agent), "agent holds another agent's interaction");
            }
        }
    }
}
