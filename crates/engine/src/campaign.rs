//! Outbound campaigns in the engine: their setup, inputs and state. The call flow (pacing,
//! dialing, bridging, the 2-second rule, retries) is in `campaign_flow.rs`.
//!
//! Campaign calls are router tasks in the campaign's queue, numbered like callback
//! interactions. A task enters the router only when the queue has a free agent (progressive,
//! preview) or when a predictive call is answered, so it never waits long enough to age past a
//! callback; when a callback and a campaign call wait for the same agent, the callback's higher
//! priority wins. Robocalls never enter the router.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

use chrono_tz::Tz;
use dialer::{
    AbandonRule, AbandonedNumbers, CallingWindow, CapGuard, DncList, DncRegistry, KeyAction, Pacer,
    PacingLimits, Predictive, PredictiveConfig, Progressive, RetryRules,
};
use domain::campaign::{CampaignId, CampaignState, ContactId, ContactStatus, KeyAnswer};
use domain::{AgentId, InteractionId, LegId, OfferId, PhoneNumber, QueueId, Timestamp};
use thiserror::Error;

/// Campaigns the engine runs at once.
pub const CAMPAIGNS_MAX: usize = 1_000;
/// Open (not final) contacts per campaign held in the engine.
pub const CAMPAIGN_CONTACTS_MAX: usize = 1_000_000;
/// How long a preview card waits for the agent to dial or skip before the contact goes back.
pub const PREVIEW_MS_MAX: u64 = 120_000;
/// How often a predictive campaign with contacts due re-asks its pacing policy.
pub const PACE_TICK_MS: u64 = 500;
/// The longest robocall message hold, whatever the campaign says.
pub const MESSAGE_MS_MAX: u64 = 300_000;
/// Robocall messages waiting for the shell to play them; older ones are dropped beyond.
pub const MESSAGES_PENDING_MAX: usize = 10_000;
/// Key presses taken from one robocall; later ones are ignored (and not recorded).
pub const KEYS_PER_CALL_MAX: u32 = 16;
/// How long a robocall listener who pressed "agent" waits for one before the call ends.
pub const AGENT_WAIT_MS_MAX: u64 = 60_000;
/// Keys in a campaign's menu (0-9, *, #).
pub const MENU_KEYS_MAX: usize = 12;
/// Bytes of a final status's label.
pub const LABEL_BYTES_MAX: usize = 64;

/// What a campaign does when an answering machine takes the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MachinePolicy {
    /// Hang up and call again after the campaign's machine retry delay.
    Retry,
    /// Play the message to the machine, then hang up; the contact is final (`message_left`).
    LeaveMessage,
}

/// What a campaign does when a contact reaches one final status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FinalActions {
    /// Stored with the contact (at most [`LABEL_BYTES_MAX`] bytes).
    pub label: Option<String>,
    pub sms: bool,
    pub webhook: bool,
}

/// How a campaign dials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialMode {
    /// The agent sees the contact card first, then dials or skips.
    Preview,
    /// One dial per free agent of the queue.
    Progressive,
    /// Over-dials by the predictive policy, bounded by the abandon cap.
    Predictive,
    /// Agentless: dial, play the message on answer.
    Robocall,
}

impl DialMode {
    pub const fn as_str(self) -> &'static str {
        match self {
            DialMode::Preview => "preview",
            DialMode::Progressive => "progressive",
            DialMode::Predictive => "predictive",
            DialMode::Robocall => "robocall",
        }
    }

    pub fn parse(s: &str) -> Option<DialMode> {
        [DialMode::Preview, DialMode::Progressive, DialMode::Predictive, DialMode::Robocall]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// A campaign as the engine runs it (validated by the caller).
#[derive(Clone, Debug)]
pub struct CampaignSetup {
    pub id: CampaignId,
    /// The agents who serve it (unused by robocalls, but the queue must exist).
    pub queue: QueueId,
    pub mode: DialMode,
    /// Router priority of its tasks; clamped below the queue's callbacks.
    pub priority: i32,
    pub caller_id: Option<PhoneNumber>,
    /// Lines (outstanding dials) and the no-answer timeout (at least 15 s).
    pub limits: PacingLimits,
    pub retry: RetryRules,
    pub window: CallingWindow,
    pub abandon_rule: AbandonRule,
    /// Abandon-rate cap for predictive dialing, in `[0, 1)`.
    pub cap: f64,
    /// Robocall: how long the answered leg is held for the message.
    pub message_ms: u64,
    /// Robocall key menu: what each key does while the message plays (at most
    /// [`MENU_KEYS_MAX`] keys; the first entry of a key counts).
    pub menu: Vec<(char, KeyAction)>,
    pub on_machine: MachinePolicy,
    /// Ask the network to tell people from answering machines (SIP: by listening to the
    /// callee's first words; the simulated network knows by the number). Without it every
    /// answer counts as a person and `on_machine` applies only to networks that know.
    pub detect_machine: bool,
    /// Actions per final status; statuses not listed run none.
    pub actions: Vec<(ContactStatus, FinalActions)>,
}

/// One contact as the engine needs it (its fields stay in the store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CampaignContact {
    pub id: ContactId,
    pub phone: PhoneNumber,
    pub tz: Tz,
    /// Calls already made (non-zero when rebuilt after a restart).
    pub attempts: u32,
    /// Not dialed before.
    pub due_at: Timestamp,
}

#[derive(Clone, Debug)]
pub enum CampaignInput {
    /// Creates or replaces a campaign. A new one starts paused (or in `state`).
    Upsert {
        setup: Box<CampaignSetup>,
        state: CampaignState,
    },
    /// Adds committed contacts (or ones rebuilt from the store).
    AddContacts {
        campaign: CampaignId,
        contacts: Vec<CampaignContact>,
    },
    /// Paused to running (`Start` and `Resume` are the same move).
    Resume(CampaignId),
    Pause(CampaignId),
    /// For good: nothing more is dialed.
    Stop(CampaignId),
    /// Forgets a campaign that is not running.
    Remove(CampaignId),
    /// Preview: the agent dials the contact on the card.
    PreviewDial {
        agent: AgentId,
        call: InteractionId,
    },
    /// The agent ends the campaign call from the console.
    Hangup {
        agent: AgentId,
        call: InteractionId,
    },
    /// The agent's disposition of an ended call is committed; after-call work may end.
    WrapUpDone {
        agent: AgentId,
        call: InteractionId,
    },
    /// Preview: the agent skips the contact on the card.
    PreviewSkip {
        agent: AgentId,
        call: InteractionId,
    },
    DncAdd {
        list: DncList,
        number: PhoneNumber,
    },
    DncRemove {
        list: DncList,
        number: PhoneNumber,
    },
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CampaignError {
    #[error("unknown campaign {0:?}")]
    Unknown(CampaignId),
    #[error("too many campaigns")]
    TooMany,
    #[error("too many open contacts in the campaign")]
    TooManyContacts,
    #[error("campaign is {0}")]
    WrongState(&'static str),
    #[error("no such preview card for this agent")]
    NotYourCard,
    #[error("the do-not-call list is full")]
    DncFull,
}

/// The shell's hook for robocall messages: render the campaign's template for `contact` and
/// play it to `leg` (speech or a recording). The engine hangs the leg up after the campaign's
/// `message_ms`, or when the person does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RobocallMessage {
    pub campaign: CampaignId,
    pub contact: ContactId,
    pub call: InteractionId,
    pub leg: LegId,
}

/// Where a campaign call stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallPhase {
    /// Preview: the card is with the agent, nothing dialed yet.
    Preview,
    /// The customer's number is ringing.
    Dialing,
    /// Answered, waiting for an agent (the 2-second clock runs) or the agent's phone.
    Answered,
    /// Talking to an agent.
    Bridged,
    /// Robocall: the message is playing.
    Message,
    /// Ended after a conversation; the agent's disposition is awaited (not a live call).
    WrapUp,
}

impl CallPhase {
    pub const fn as_str(self) -> &'static str {
        match self {
            CallPhase::Preview => "preview",
            CallPhase::Dialing => "dialing",
            CallPhase::Answered => "answered",
            CallPhase::Bridged => "bridged",
            CallPhase::Message => "message",
            CallPhase::WrapUp => "wrap_up",
        }
    }
}

/// A live campaign call, as the agent's screen shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CampaignCallInfo {
    pub call: InteractionId,
    pub campaign: CampaignId,
    pub contact: ContactId,
    pub phase: CallPhase,
    pub since: Timestamp,
    pub attempt: u32,
}

/// Live figures of one campaign.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CampaignLive {
    pub state: CampaignState,
    pub mode: DialMode,
    /// Contacts not final held by the engine.
    pub open_contacts: usize,
    /// Dials placed and not resolved.
    pub outstanding: usize,
    /// Answered calls waiting for an agent.
    pub waiting: usize,
    /// Calls talking to an agent (or playing a message).
    pub talking: usize,
    /// Agents of the queue free for a call now.
    pub agents_free: usize,
    /// The abandon rate the cap guard sees in its window (predictive only).
    pub abandon_rate: Option<f64>,
}

pub(crate) struct Campaign {
    pub setup: CampaignSetup,
    pub state: CampaignState,
    pub contacts: HashMap<ContactId, CampaignContact>,
    /// Pending contacts by due time (a contact being called is in `contacts` only).
    pub due: BTreeSet<(Timestamp, ContactId)>,
    /// In a mutex only so that `Center` stays `Sync` (pacing policies are `Send` only); the
    /// engine owns it exclusively and reaches it through `get_mut`, which never blocks.
    pacer: Mutex<Pacer>,
    /// Unresolved dials and when they were placed.
    pub outstanding: BTreeMap<InteractionId, Timestamp>,
}

impl Campaign {
    pub fn pacer(&mut self) -> &mut Pacer {
        // A poisoned lock means a panic mid-update elsewhere, which already is a bug report;
        // the pacer itself is still usable.
        self.pacer.get_mut().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_pacer(&mut self, pacer: Pacer) {
        self.pacer = Mutex::new(pacer);
    }

    pub fn new(setup: CampaignSetup, state: CampaignState) -> Campaign {
        let pacer = pacer_for(&setup);
        Campaign {
            setup,
            state,
            contacts: HashMap::new(),
            due: BTreeSet::new(),
            pacer: Mutex::new(pacer),
            outstanding: BTreeMap::new(),
        }
    }
}

/// Predictive: our policy inside the hard cap guard; anything else paces progressively (the
/// robocall and preview flows do not ask the pacer).
pub(crate) fn pacer_for(setup: &CampaignSetup) -> Pacer {
    if setup.mode == DialMode::Predictive {
        let config = PredictiveConfig::new(setup.cap, setup.limits.no_answer_timeout_ms());
        let inner = Box::new(Predictive::new(config));
        if let Ok(guard) = CapGuard::new(inner, setup.abandon_rule, setup.cap) {
            return Pacer::new(Box::new(guard), setup.limits);
        }
    }
    // A cap the guard refuses cannot be bounded: dial progressively, which never abandons.
    Pacer::new(Box::new(Progressive::new()), setup.limits)
}

pub(crate) struct Call {
    pub id: InteractionId,
    pub campaign: CampaignId,
    pub contact: ContactId,
    pub phase: CallPhase,
    pub since: Timestamp,
    pub attempt: u32,
    pub agent: Option<AgentId>,
    pub offer: Option<OfferId>,
    pub in_router: bool,
    pub customer_leg: Option<LegId>,
    pub agent_leg: Option<LegId>,
    pub dialed_at: Option<Timestamp>,
    pub answered_at: Option<Timestamp>,
    /// Robocall: keys taken so far and the deciding answer, if any.
    pub keys: u32,
    pub answer: Option<KeyAnswer>,
    /// Robocall: the listener asked for an agent and waits (not an abandon if none comes).
    pub wants_agent: bool,
    /// An answering machine took the call (the message, if any, is left on it).
    pub machine: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum CallTimer {
    /// The 2-second rule: bridged by then, or abandoned.
    Bridge(InteractionId),
    Preview(InteractionId),
    Message(InteractionId),
    /// A predictive campaign re-asks its policy.
    Pace(CampaignId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LegSide {
    Customer,
    Agent,
}

/// Every campaign and call the engine runs.
pub(crate) struct Campaigns {
    pub by_id: BTreeMap<CampaignId, Campaign>,
    pub calls: HashMap<InteractionId, Call>,
    pub legs: HashMap<LegId, (InteractionId, LegSide)>,
    pub agent_calls: HashMap<AgentId, InteractionId>,
    pub timers: BTreeSet<(Timestamp, CallTimer)>,
    pub dnc: DncRegistry,
    /// Numbers whose call was abandoned, held 72 h where the UK rule applies.
    pub abandoned: AbandonedNumbers,
    pub messages: VecDeque<RobocallMessage>,
    /// The last conversation of each agent, until its disposition is in or the agent takes
    /// another campaign call (one per agent, so bounded by the agents).
    pub wrapping: HashMap<AgentId, CampaignCallInfo>,
}

impl Campaigns {
    pub fn new() -> Campaigns {
        Campaigns {
            by_id: BTreeMap::new(),
            calls: HashMap::new(),
            legs: HashMap::new(),
            agent_calls: HashMap::new(),
            timers: BTreeSet::new(),
            dnc: DncRegistry::new(),
            abandoned: AbandonedNumbers::uk(),
            messages: VecDeque::new(),
            wrapping: HashMap::new(),
        }
    }

    pub fn is_campaign_task(&self, ix: InteractionId) -> bool {
        self.calls.contains_key(&ix)
    }

    pub fn dnc_add(&mut self, list: DncList, number: &PhoneNumber) -> Result<(), CampaignError> {
        self.dnc.add(list, number).map(|_| ()).map_err(|_| CampaignError::DncFull)
    }
}

impl Default for Campaigns {
    fn default() -> Self {
        Campaigns::new()
    }
}
