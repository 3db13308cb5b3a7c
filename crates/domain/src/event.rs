//! Durable events: every state change of a contact or an agent. The engine emits them, the
//! store appends them to the log and updates its tables from them in the same transaction.

use crate::campaign::CampaignEvent;
use crate::{AgentId, CallbackId, InteractionId, QueueId, Timestamp};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub at: Timestamp,
    pub kind: EventKind,
}

/// How one interaction (one dial attempt) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Customer and agent talked.
    Completed,
    NoAnswer,
    Busy,
    Failed,
    /// The agent's leg could not be connected; the attempt does not count.
    AgentFailed,
    /// Cancelled before dialing (request withdrawn).
    Cancelled,
    /// The server stopped while the interaction was open.
    Interrupted,
    /// An inbound caller hung up before talking to an agent.
    Abandoned,
}

impl Outcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::NoAnswer => "no_answer",
            Outcome::Busy => "busy",
            Outcome::Failed => "failed",
            Outcome::AgentFailed => "agent_failed",
            Outcome::Cancelled => "cancelled",
            Outcome::Interrupted => "interrupted",
            Outcome::Abandoned => "abandoned",
        }
    }
}

/// Where a callback request stands, as its requester sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackStatus {
    /// Due now, waiting for a free agent.
    Waiting,
    /// Due later (preferred time, retry delay, out of hours).
    Scheduled,
    /// An agent is reserved and the customer is being connected.
    Calling,
    Done,
    Failed,
}

impl CallbackStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            CallbackStatus::Waiting => "waiting",
            CallbackStatus::Scheduled => "scheduled",
            CallbackStatus::Calling => "calling",
            CallbackStatus::Done => "done",
            CallbackStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<CallbackStatus> {
        [Self::Waiting, Self::Scheduled, Self::Calling, Self::Done, Self::Failed]
            .into_iter()
            .find(|c| c.as_str() == s)
    }

    pub const fn is_final(self) -> bool {
        matches!(self, CallbackStatus::Done | CallbackStatus::Failed)
    }
}

/// Agent status as recorded (the router's status plus the reason text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentState {
    Offline,
    Available,
    Break { reason: String },
    WrapUp { until: Timestamp },
}

impl AgentState {
    pub const fn name(&self) -> &'static str {
        match self {
            AgentState::Offline => "offline",
            AgentState::Available => "available",
            AgentState::Break { .. } => "break",
            AgentState::WrapUp { .. } => "wrap_up",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A callback waits for `due_at` (now, a preferred time, or a retry).
    CallbackScheduled {
        callback: CallbackId,
        due_at: Timestamp,
        attempts: u32,
    },
    /// The callback's attempt entered the router as a task.
    InteractionQueued {
        interaction: InteractionId,
        callback: CallbackId,
        queue: QueueId,
    },
    /// An arriving call entered the router as a task (after its menu, if any).
    InboundQueued {
        interaction: InteractionId,
        queue: QueueId,
        /// The calling number as the carrier sent it.
        caller: String,
    },
    /// An agent was reserved for the interaction.
    AgentReserved {
        interaction: InteractionId,
        agent: AgentId,
    },
    /// The agent's leg answered.
    AgentConnected {
        interaction: InteractionId,
        agent: AgentId,
    },
    /// The customer's number is being dialed; `attempt` counts dials of this callback.
    CustomerDialed {
        interaction: InteractionId,
        callback: CallbackId,
        attempt: u32,
    },
    CustomerAnswered {
        interaction: InteractionId,
    },
    /// Customer and agent are talking.
    Bridged {
        interaction: InteractionId,
    },
    InteractionEnded {
        interaction: InteractionId,
        outcome: Outcome,
    },
    /// The callback reached a final status.
    CallbackFinished {
        callback: CallbackId,
        status: CallbackStatus,
    },
    AgentStatusChanged {
        agent: AgentId,
        state: AgentState,
    },
    /// An outbound campaign changed (see [`crate::campaign`]).
    Campaign(CampaignEvent),
}

impl EventKind {
    /// Stable name stored in the event log.
    pub const fn name(&self) -> &'static str {
        match self {
            EventKind::CallbackScheduled { .. } => "callback_scheduled",
            EventKind::InteractionQueued { .. } => "interaction_queued",
            EventKind::InboundQueued { .. } => "inbound_queued",
            EventKind::AgentReserved { .. } => "agent_reserved",
            EventKind::AgentConnected { .. } => "agent_connected",
            EventKind::CustomerDialed { .. } => "customer_dialed",
            EventKind::CustomerAnswered { .. } => "customer_answered",
            EventKind::Bridged { .. } => "bridged",
            EventKind::InteractionEnded { .. } => "interaction_ended",
            EventKind::CallbackFinished { .. } => "callback_finished",
            EventKind::AgentStatusChanged { .. } => "agent_status_changed",
            EventKind::Campaign(e) => e.name(),
        }
    }
}
