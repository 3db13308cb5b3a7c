//! Outputs: what the router decided, drained with [`crate::Router::poll_event`].

use domain::{AgentId, OfferId, QueueId, TaskId, Timestamp};

use crate::AgentStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferEnd {
    Accepted,
    Rejected,
    TimedOut,
    /// The agent went offline or on break, or the task was cancelled.
    Revoked,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoutingEvent {
    Offered {
        offer: OfferId,
        task: TaskId,
        agent: AgentId,
        expires_at: Timestamp,
    },
    OfferEnded {
        offer: OfferId,
        task: TaskId,
        agent: AgentId,
        end: OfferEnd,
    },
    Overflowed {
        task: TaskId,
        from: QueueId,
        to: QueueId,
    },
    SkillsRelaxed {
        task: TaskId,
    },
    /// Status changes the router made itself (after-call work ended, missed-offer break).
    AgentStatusChanged {
        agent: AgentId,
        status: AgentStatus,
    },
}
