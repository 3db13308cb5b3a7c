//! The contract between the engine and any phone network (simulated or SIP): commands out,
//! leg events in. Both sides are plain data so either network can sit behind it.

use crate::{AgentId, InteractionId, LegId, PhoneNumber};

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
        /// Whether to tell a person from an answering machine before reporting the answer.
        detect_machine: MachineDetection,
    },
    /// End a leg in any state. The network confirms with `HungUp { by_remote: false }` unless
    /// the leg had already ended.
    Hangup { leg: LegId },
    /// Connect the media of two answered legs.
    Bridge { a: LegId, b: LegId },
    /// Record a bridged call, customer on the left channel and agent on the right, linked to
    /// `interaction`. Networks without media (the simulated one) ignore it.
    Record { interaction: InteractionId, customer: LegId, agent: LegId },
    /// Play a prompt to an answered leg, replacing what it was hearing. `prompt` names a WAV
    /// file in the prompt directory, or is `tts:<language>:<text>` for speech synthesis.
    Play { leg: LegId, prompt: String, looping: bool },
    /// Stop playing to a leg (silence).
    StopPlay { leg: LegId },
    /// Send key presses to a leg (RFC 4733), 100 ms each with 100 ms between.
    SendDtmf { leg: LegId, digits: String },
}

/// Answering-machine detection on an outbound leg. A network that can listen to the callee
/// (SIP) delays the answer until it has decided and reports `Answered` or `MachineAnswered`;
/// one that knows by other means (the simulated network) ignores it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MachineDetection {
    /// Report `Answered` as soon as the callee answers.
    #[default]
    Off,
    /// Listen first; report `Answered` or `MachineAnswered` as soon as it is clear.
    Detect,
    /// As `Detect`, but report `MachineAnswered` only once the machine's greeting ended (the
    /// silence after it), so a message played then is recorded whole.
    DetectAwaitGreetingEnd,
}

/// Key presses sent in one command at most.
pub const DTMF_DIGITS_MAX: usize = 32;

/// Everything a network reports: leg progress, calls arriving, key presses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetEvent {
    Leg(LegEvent),
    /// A call arrived and the network answered it as `leg`; the engine decides what the caller
    /// hears and where the call goes. `caller` is the calling number as the carrier sent it.
    Incoming {
        leg: LegId,
        caller: String,
        dialed: String,
    },
    /// A key pressed on `leg` (RFC 4733 or SIP INFO): `0`-`9`, `*`, `#`, `A`-`D`.
    Dtmf {
        leg: LegId,
        digit: char,
    },
}

/// Legs the network creates for arriving calls take ids from here up, so they never collide
/// with the ids the engine gives its own legs.
pub const INBOUND_LEG_ID_MIN: u64 = 1 << 62;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegEventKind {
    Ringing,
    Answered,
    /// Answered by an answering machine (the network's machine detection said so).
    MachineAnswered,
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
        !matches!(
            self,
            LegEventKind::Ringing | LegEventKind::Answered | LegEventKind::MachineAnswered
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegEvent {
    pub leg: LegId,
    pub kind: LegEventKind,
}
