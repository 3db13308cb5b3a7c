//! The contract between the engine and any phone network (simulated or SIP): commands out,
//! leg events in. Both sides are plain data so either network can sit behind it.

use crate::{AgentId, LegId, PhoneNumber};

/// Who a leg calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// The agent's phone (softphone, desk phone, or the simulated one).
    Agent(AgentId),
    /// A customer's number, dialed over a trunk.
    Number(PhoneNumber),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TelCommand {
    /// Start a new outbound leg. The network answers with [`LegEvent`]s for `leg`.
    Originate {
        leg: LegId,
        to: Endpoint,
        caller_id: Option<PhoneNumber>,
        /// Give up with `NoAnswer` after ringing this long.
        ring_ms_max: u64,
    },
    /// End a leg in any state. The network confirms with `HungUp { by_remote: false }` unless
    /// the leg had already ended.
    Hangup { leg: LegId },
    /// Connect the media of two answered legs.
    Bridge { a: LegId, b: LegId },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegEventKind {
    Ringing,
    Answered,
    Busy,
    NoAnswer,
    /// Unreachable, rejected, network error.
    Failed,
    /// The leg ended after it was answered (or was cancelled by us while ringing).
    HungUp {
        by_remote: bool,
    },
}

impl LegEventKind {
    /// True if the leg no longer exists after this event.
    pub const fn is_final(self) -> bool {
        !matches!(self, LegEventKind::Ringing | LegEventKind::Answered)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegEvent {
    pub leg: LegId,
    pub kind: LegEventKind,
}
