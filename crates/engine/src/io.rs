//! What goes into the engine and what comes out.

use domain::event::Event;
use domain::telephony::{LegEvent, TelCommand};
use domain::{AgentId, CallbackId, InteractionId, LegId, OfferId, PhoneNumber, QueueId, Timestamp};
use routing::AgentProfile;

use crate::campaign::CampaignInput;
use crate::config::QueueSetup;

/// A callback request as the engine needs it (its form fields stay in the store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackSpec {
    pub id: CallbackId,
    pub queue: QueueId,
    pub phone: PhoneNumber,
    /// Not dialed before this time (a preferred time or a retry delay).
    pub due_at: Timestamp,
    /// Dials already made (non-zero when rebuilt after a restart).
    pub attempts: u32,
}

#[derive(Clone, Debug)]
pub enum Input {
    /// Time passed; process due timers.
    Tick,
    UpsertQueue(Box<QueueSetup>),
    UpsertAgent(AgentProfile),
    /// A committed callback request (or one rebuilt from the store).
    CallbackAccepted(CallbackSpec),
    SetAgentStatus {
        agent: AgentId,
        status: domain::event::AgentState,
    },
    AcceptOffer {
        agent: AgentId,
        offer: OfferId,
    },
    RejectOffer {
        agent: AgentId,
        offer: OfferId,
    },
    /// The agent ends the call from the console.
    Hangup {
        agent: AgentId,
        interaction: InteractionId,
    },
    /// The agent presses keys during a call (to reach a menu on the customer's side).
    SendDtmf {
        agent: AgentId,
        interaction: InteractionId,
        digits: String,
    },
    /// The agent's disposition is committed; wrap-up may end.
    WrapUpDone {
        agent: AgentId,
        interaction: InteractionId,
    },
    Leg(LegEvent),
    /// Replaces the routes for arriving calls.
    SetInboundRoutes(Vec<crate::inbound::InboundRoute>),
    /// The network answered an arriving call as `leg`.
    Incoming {
        leg: LegId,
        caller: String,
        dialed: String,
    },
    /// A key pressed on `leg`.
    Dtmf {
        leg: LegId,
        digit: char,
    },
    /// Outbound campaigns: setup, contacts, controls, preview decisions, DNC.
    Campaign(CampaignInput),
}

/// Something that changed and may interest a console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Notice {
    Agent(AgentId),
    Queue(QueueId),
    Callback(CallbackId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Commit before executing any later output.
    Persist(Event),
    Telephony(TelCommand),
    Notify(Notice),
}
