//! Outbound campaign vocabulary shared by the engine (which runs campaigns) and the store (which
//! projects their events): ids, the campaign's run state, a contact's status and how one campaign
//! call ended.

use std::fmt;

use crate::{AgentId, InteractionId, Timestamp};

/// A campaign, as the store numbers it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CampaignId(pub u64);

/// One contact of one campaign's list, as the store numbers it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContactId(pub u64);

impl fmt::Debug for CampaignId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "campaign{}", self.0)
    }
}

impl fmt::Debug for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "contact{}", self.0)
    }
}

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

named_enum! {
    /// Whether a campaign dials.
    CampaignState {
        /// Created or paused: contacts wait, nothing is dialed.
        Paused = "paused",
        Running = "running",
        /// Stopped by a supervisor: never dials again.
        Stopped = "stopped",
        /// Every contact reached a final status.
        Finished = "finished",
    }
}

named_enum! {
    /// Where one contact stands.
    ContactStatus {
        /// Waiting for its turn (first call or a retry).
        Pending = "pending",
        /// A call to it is in progress (or its card is with an agent, in preview).
        Calling = "calling",
        /// A person answered and talked to an agent.
        Reached = "reached",
        /// A robocall message was played to a person (who pressed no deciding key).
        Delivered = "delivered",
        /// Robocall: the person pressed the confirm key.
        Confirmed = "confirmed",
        /// Robocall survey: the person pressed a score (the contact's `answer`).
        SurveyAnswered = "survey_answered",
        /// Robocall: the person pressed the opt-out key; the number is on the campaign's DNC.
        OptedOut = "opted_out",
        /// Robocall: the person said the number is not the contact's.
        WrongNumber = "wrong_number",
        /// An answering machine took the call and the message was left on it.
        MessageLeft = "message_left",
        /// Every allowed attempt was made and the last one rang out.
        NoAnswer = "no_answer",
        /// Every allowed attempt was made, or an outcome the campaign makes final.
        Failed = "failed",
        /// On a do-not-call list at dial time.
        Dnc = "dnc",
        /// Skipped by the agent in preview.
        Skipped = "skipped",
        /// The calling window never opens again for its zone.
        NoWindow = "no_window",
    }
}

impl ContactStatus {
    pub const fn is_final(self) -> bool {
        !matches!(self, ContactStatus::Pending | ContactStatus::Calling)
    }
}

named_enum! {
    /// How one campaign call ended.
    CallResult {
        /// Bridged to an agent and talked.
        Answered = "answered",
        /// Robocall: answered and the message was played.
        Delivered = "delivered",
        /// An answering machine took the call; it was hung up to try again later.
        Machine = "machine",
        /// An answering machine took the call and the message was left on it.
        MessageLeft = "message_left",
        /// Answered live but not bridged within the 2-second limit.
        Abandoned = "abandoned",
        Busy = "busy",
        NoAnswer = "no_answer",
        /// Answered, then hung up by the callee while machine detection was still listening:
        /// nobody could have spoken to them yet, so it is not an abandon. Retried as a no-answer.
        HungUpEarly = "hung_up_early",
        Failed = "failed",
        /// The agent's phone failed; the contact is not charged an attempt.
        AgentFailed = "agent_failed",
        /// The campaign was stopped or paused while the call was being placed.
        Cancelled = "cancelled",
    }
}

/// What a key pressed during a robocall message meant, by the campaign's key menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAnswer {
    Confirm,
    Repeat,
    /// Connect me to an agent.
    Agent,
    /// Do not call me again.
    OptOut,
    /// Not the person the campaign is calling.
    WrongNumber,
    /// A survey score (1-5 for the CES template).
    Score(u8),
}

impl KeyAnswer {
    /// The answer as stored and shown: `confirm`, `repeat`, `agent`, `opt_out`,
    /// `wrong_number`, or the score's digits (`4`).
    pub fn label(self) -> String {
        match self {
            KeyAnswer::Confirm => "confirm".into(),
            KeyAnswer::Repeat => "repeat".into(),
            KeyAnswer::Agent => "agent".into(),
            KeyAnswer::OptOut => "opt_out".into(),
            KeyAnswer::WrongNumber => "wrong_number".into(),
            KeyAnswer::Score(n) => n.to_string(),
        }
    }
}

named_enum! {
    /// What happens when a contact reaches a final status, beside the status itself.
    ActionKind {
        /// A text message to the contact's number.
        Sms = "sms",
        /// A signed HTTP POST to the campaign's webhook.
        Webhook = "webhook",
    }
}

/// A durable campaign change. `call` is an interaction id: campaign calls share the engine's
/// interaction numbering with callbacks, so router tasks never collide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CampaignEvent {
    StateChanged {
        campaign: CampaignId,
        state: CampaignState,
    },
    /// The contact waits for `due_at`; `attempts` were made so far.
    ContactScheduled {
        campaign: CampaignId,
        contact: ContactId,
        due_at: Timestamp,
        attempts: u32,
    },
    /// The contact's number is being dialed (persisted before the dial).
    Dialed {
        campaign: CampaignId,
        contact: ContactId,
        call: InteractionId,
        attempt: u32,
        /// The agent held for the call (progressive, preview), if any.
        agent: Option<AgentId>,
    },
    /// A person (or a machine the network cannot tell apart) answered.
    Answered {
        call: InteractionId,
    },
    /// The answered call reached an agent.
    Bridged {
        call: InteractionId,
        agent: AgentId,
    },
    CallEnded {
        call: InteractionId,
        result: CallResult,
    },
    /// The contact reached a final status.
    ContactFinished {
        campaign: CampaignId,
        contact: ContactId,
        status: ContactStatus,
    },
    /// A key pressed during a robocall message; `answer` is `None` for a key not in the menu.
    /// An opt-out also puts the contact's number on the campaign's do-not-call list.
    KeyPressed {
        campaign: CampaignId,
        contact: ContactId,
        call: InteractionId,
        digit: char,
        answer: Option<KeyAnswer>,
    },
    /// An answering machine answered the call (not a person).
    MachineAnswered {
        call: InteractionId,
    },
    /// The campaign's label for the contact's final status (a supervisor's word for it).
    ContactLabeled {
        campaign: CampaignId,
        contact: ContactId,
        label: String,
    },
    /// An action the campaign runs for the contact's final status; the shell sends it and
    /// marks it sent (see the store's `campaign_actions`).
    ActionQueued {
        campaign: CampaignId,
        contact: ContactId,
        action: ActionKind,
        status: ContactStatus,
    },
}

impl CampaignEvent {
    /// Stable name stored in the event log.
    pub const fn name(&self) -> &'static str {
        match self {
            CampaignEvent::StateChanged { .. } => "campaign_state_changed",
            CampaignEvent::ContactScheduled { .. } => "campaign_contact_scheduled",
            CampaignEvent::Dialed { .. } => "campaign_dialed",
            CampaignEvent::Answered { .. } => "campaign_answered",
            CampaignEvent::Bridged { .. } => "campaign_bridged",
            CampaignEvent::CallEnded { .. } => "campaign_call_ended",
            CampaignEvent::ContactFinished { .. } => "campaign_contact_finished",
            CampaignEvent::KeyPressed { .. } => "campaign_key_pressed",
            CampaignEvent::MachineAnswered { .. } => "campaign_machine_answered",
            CampaignEvent::ContactLabeled { .. } => "campaign_contact_labeled",
            CampaignEvent::ActionQueued { .. } => "campaign_action_queued",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in ContactStatus::ALL {
            assert_eq!(ContactStatus::parse(s.as_str()), Some(*s));
        }
        for s in CallResult::ALL {
            assert_eq!(CallResult::parse(s.as_str()), Some(*s));
        }
        assert_eq!(CampaignState::parse("running"), Some(CampaignState::Running));
        assert_eq!(CampaignState::parse("Running"), None);
        assert!(ContactStatus::Reached.is_final() && !ContactStatus::Calling.is_final());
    }
}
