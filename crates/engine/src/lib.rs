//! The contact center as one deterministic state machine: the router plus the lifecycle of each
//! interaction (reserve an agent, connect the agent's leg, dial the customer, bridge, wrap up,
//! retry by the queue's rules).
//!
//! Calling convention (quinn-proto style): call [`Center::handle_input`] with the current time,
//! then drain [`Center::poll_output`] until it returns `None`, then sleep until
//! [`Center::poll_timeout`] and feed [`Input::Tick`].
//!
//! Architecture Invariant: no I/O, no clock, no async. `Output::Persist` events must be committed
//! by the shell before it executes any later output of the same drain (durability before dial).

mod campaign;
mod campaign_flow;
mod center;
mod config;
mod flow;
mod hours;
mod inbound;
mod io;
mod snapshot;

pub use campaign::{
    CallPhase, CampaignCallInfo, CampaignContact, CampaignError, CampaignInput, CampaignLive,
    CampaignSetup, DialMode, FinalActions, MachinePolicy, RobocallMessage, AGENT_WAIT_MS_MAX,
    CAMPAIGN_CONTACTS_MAX, KEYS_PER_CALL_MAX, LABEL_BYTES_MAX, MENU_KEYS_MAX, PREVIEW_MS_MAX,
};
pub use campaign_flow::dnc_list;
pub use center::{Center, EngineError};
pub use config::{AcceptMode, CallOrder, CallbackPolicy, CenterConfig, QueueSetup};
/// The campaign rules the engine runs, for callers that build a [`CampaignSetup`].
pub use dialer;
pub use hours::{BusinessHours, HoursError};
pub use inbound::InboundRoute;
pub use io::{CallbackSpec, Input, Notice, Output};
pub use snapshot::{AgentSnapshot, InteractionInfo, OfferInfo, Phase};
