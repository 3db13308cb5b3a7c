//! The `Center`: state, inputs, timers. The callback call flow is in `flow.rs`.

use std::collections::{BTreeSet, HashMap, VecDeque};

use domain::event::{AgentState, CallbackStatus, Event, EventKind};
use domain::{AgentId, CallbackId, InteractionId, LegId, OfferId, QueueId, TaskId, Timestamp};
use routing::{AgentStatus, Router, RoutingError, RoutingEvent};
use thiserror::Error;

use crate::campaign::{CampaignError, Campaigns};
use crate::config::{CenterConfig, QueueSetup};
use crate::io::{CallbackSpec, Input, Notice, Output};
use crate::snapshot::{OfferInfo, Phase};

/// Open callbacks the engine tracks at once; intake is refused beyond (HTTP 503).
pub const CALLBACKS_OPEN_MAX: usize = 1_000_000;
/// Ended interactions kept per agent for wrap-up; the oldest is dropped beyond.
pub const WRAP_UPS_PER_AGENT_MAX: usize = 8;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EngineError {
    #[error(transparent)]
    Routing(#[from] RoutingError),
    #[error("unknown queue {0:?}")]
    UnknownQueue(QueueId),
    #[error("unknown agent {0:?}")]
    UnknownAgent(AgentId),
    #[error("callback {0:?} is already open")]
    DuplicateCallback(CallbackId),
    #[error("too many open callbacks")]
    TooManyCallbacks,
    #[error("offer {0:?} is not open for this agent")]
    NotYourOffer(OfferId),
    #[error("interaction {0:?} is not handled by this agent")]
    NotYourInteraction(InteractionId),
    #[error("interaction {0:?} is not waiting for wrap-up")]
    NotWrappingUp(InteractionId),
    #[error(transparent)]
    Campaign(CampaignError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Agent,
    Customer,
}

pub(crate) struct AgentInfo {
    pub state: AgentState,
    pub since: Timestamp,
    pub offers: Vec<OfferInfo>,
    /// Interactions in progress (reserved, ringing or talking).
    pub active: Vec<InteractionId>,
    /// Ended interactions awaiting a disposition.
    pub wrapping: Vec<InteractionId>,
}

pub(crate) struct Callback {
    pub spec: CallbackSpec,
    pub interaction: Option<InteractionId>,
}

pub(crate) struct Interaction {
    pub id: InteractionId,
    /// The callback this attempt serves; `None` for an inbound call.
    pub callback: Option<CallbackId>,
    /// An inbound call's calling number.
    pub caller: Option<String>,
    pub queue: QueueId,
    /// Dial number of this attempt (0 until the customer is dialed).
    pub attempt: u32,
    pub agent: Option<AgentId>,
    pub offer: Option<OfferId>,
    pub agent_leg: Option<LegId>,
    pub customer_leg: Option<LegId>,
    pub agent_answered: bool,
    pub customer_answered: bool,
    pub phase: Phase,
    pub since: Timestamp,
}

pub struct Center {
    pub(crate) config: CenterConfig,
    pub(crate) router: Router,
    pub(crate) queues: HashMap<QueueId, QueueSetup>,
    pub(crate) agents: HashMap<AgentId, AgentInfo>,
    pub(crate) callbacks: HashMap<CallbackId, Callback>,
    pub(crate) due: BTreeSet<(Timestamp, CallbackId)>,
    pub(crate) interactions: HashMap<InteractionId, Interaction>,
    pub(crate) legs: HashMap<LegId, (InteractionId, Side)>,
    pub(crate) next_interaction: u64,
    pub(crate) next_leg: u64,
    pub(crate) outputs: VecDeque<Output>,
    pub(crate) now: Timestamp,
    pub(crate) inbound_routes: Vec<crate::inbound::InboundRoute>,
    /// Callers in a greeting menu, by leg, and when each menu times out.
    pub(crate) ivr: HashMap<LegId, crate::inbound::IvrCall>,
    pub(crate) ivr_due: BTreeSet<(Timestamp, LegId)>,
    pub(crate) campaigns: Campaigns,
}

impl Center {
    pub fn new(config: CenterConfig) -> Center {
        Center {
            router: Router::new(config.router.clone()),
            next_interaction: config.first_interaction_id.max(1),
            next_leg: 1,
            config,
            queues: HashMap::new(),
            agents: HashMap::new(),
            callbacks: HashMap::new(),
            due: BTreeSet::new(),
            interactions: HashMap::new(),
            legs: HashMap::new(),
            outputs: VecDeque::new(),
            now: Timestamp::ZERO,
            inbound_routes: Vec::new(),
            ivr: HashMap::new(),
            ivr_due: BTreeSet::new(),
            campaigns: Campaigns::new(),
        }
    }

    /// Feeds one input. On error nothing changed except what was already output.
    pub fn handle_input(&mut self, now: Timestamp, input: Input) -> Result<(), EngineError> {
        // Time never goes backwards inside the engine, whatever the shell's clock does.
        self.now = self.now.max(now);
        let result = self.dispatch(input);
        self.drain_router();
        self.pace_campaigns();
        result
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let due = self.due.first().map(|(t, _)| *t);
        let ivr = self.ivr_due.first().map(|(t, _)| *t);
        let campaigns = self.campaign_timeout();
        [due, ivr, self.router.poll_timeout(), campaigns].into_iter().flatten().min()
    }

    fn dispatch(&mut self, input: Input) -> Result<(), EngineError> {
        match input {
            Input::Tick => {
                self.fire_due();
                self.fire_ivr_timeouts();
                self.router.handle_timeout(self.now);
                self.drain_router();
                self.campaign_tick();
                Ok(())
            }
            Input::UpsertQueue(setup) => {
                let id = setup.routing.id;
                self.router.upsert_queue(setup.routing.clone())?;
                self.queues.insert(id, *setup);
                self.notify(Notice::Queue(id));
                Ok(())
            }
            Input::UpsertAgent(profile) => {
                let id = profile.id;
                self.router.upsert_agent(self.now, profile)?;
                let now = self.now;
                self.agents.entry(id).or_insert_with(|| AgentInfo {
                    state: AgentState::Offline,
                    since: now,
                    offers: Vec::new(),
                    active: Vec::new(),
                    wrapping: Vec::new(),
                });
                self.notify(Notice::Agent(id));
                Ok(())
            }
            Input::CallbackAccepted(spec) => self.accept_callback(spec),
            Input::SetAgentStatus { agent, status } => self.set_agent_status(agent, status),
            Input::AcceptOffer { agent, offer } => self.accept_offer(agent, offer),
            Input::RejectOffer { agent, offer } => {
                self.check_offer(agent, offer)?;
                self.router.handle_reject(self.now, offer)?;
                Ok(())
            }
            Input::Hangup { agent, interaction } => self.agent_hangup(agent, interaction),
            Input::SendDtmf { agent, interaction, digits } => {
                self.agent_dtmf(agent, interaction, digits)
            }
            Input::WrapUpDone { agent, interaction } => self.wrap_up_done(agent, interaction),
            Input::Leg(event) => {
                if event.kind.is_final() && self.ivr_hangup(event.leg) {
                    return Ok(());
                }
                if !self.campaign_leg_event(event) {
                    self.on_leg_event(event);
                }
                Ok(())
            }
            Input::Campaign(input) => self.handle_campaign(input),
            Input::SetInboundRoutes(routes) => {
                self.set_inbound_routes(routes);
                Ok(())
            }
            Input::Incoming { leg, caller, dialed } => {
                self.on_incoming(leg, caller, &dialed);
                Ok(())
            }
            Input::Dtmf { leg, digit } => {
                if !self.campaign_dtmf(leg, digit) {
                    self.on_dtmf(leg, digit);
                }
                Ok(())
            }
        }
    }

    fn accept_callback(&mut self, spec: CallbackSpec) -> Result<(), EngineError> {
        if !self.queues.contains_key(&spec.queue) {
            return Err(EngineError::UnknownQueue(spec.queue));
        }
        if self.callbacks.contains_key(&spec.id) {
            return Err(EngineError::DuplicateCallback(spec.id));
        }
        if self.callbacks.len() >= CALLBACKS_OPEN_MAX {
            return Err(EngineError::TooManyCallbacks);
        }
        let (id, due_at, attempts) = (spec.id, spec.due_at, spec.attempts);
        self.callbacks.insert(id, Callback { spec, interaction: None });
        self.schedule(id, due_at, attempts);
        Ok(())
    }

    /// Puts a callback on the timer at `due_at`, moved into the queue's business hours.
    pub(crate) fn schedule(&mut self, id: CallbackId, due_at: Timestamp, attempts: u32) {
        let Some(cb) = self.callbacks.get_mut(&id) else { return };
        let hours = self.queues.get(&cb.spec.queue).and_then(|q| q.callback.hours.clone());
        let due_at = due_at.max(self.now);
        let due_at = match hours {
            Some(h) => h.next_open(due_at).unwrap_or(due_at),
            None => due_at,
        };
        cb.spec.due_at = due_at;
        cb.spec.attempts = attempts;
        cb.interaction = None;
        self.due.insert((due_at, id));
        self.persist(EventKind::CallbackScheduled { callback: id, due_at, attempts });
        self.notify(Notice::Callback(id));
        if due_at <= self.now {
            self.fire_due();
        }
    }

    fn fire_due(&mut self) {
        while let Some(&(at, id)) = self.due.first() {
            if at > self.now {
                break;
            }
            self.due.pop_first();
            self.start_attempt(id);
        }
    }

    pub(crate) fn set_agent_status(
        &mut self,
        agent: AgentId,
        state: AgentState,
    ) -> Result<(), EngineError> {
        if !self.agents.contains_key(&agent) {
            return Err(EngineError::UnknownAgent(agent));
        }
        let status = match &state {
            AgentState::Offline => AgentStatus::Offline,
            AgentState::Available => AgentStatus::Available,
            AgentState::Break { reason } => AgentStatus::Break { reason: reason.clone() },
            AgentState::WrapUp { until } => AgentStatus::AfterCallWork { until: *until },
        };
        self.router.handle_agent_status(self.now, agent, status)?;
        self.record_agent_state(agent, state);
        Ok(())
    }

    pub(crate) fn record_agent_state(&mut self, agent: AgentId, state: AgentState) {
        let now = self.now;
        if let Some(info) = self.agents.get_mut(&agent) {
            if info.state != state {
                info.state = state.clone();
                info.since = now;
                self.persist(EventKind::AgentStatusChanged { agent, state });
            }
        }
        self.notify(Notice::Agent(agent));
    }

    pub(crate) fn check_offer(&self, agent: AgentId, offer: OfferId) -> Result<(), EngineError> {
        let owns =
            self.agents.get(&agent).is_some_and(|a| a.offers.iter().any(|o| o.offer == offer));
        if owns {
            Ok(())
        } else {
            Err(EngineError::NotYourOffer(offer))
        }
    }

    fn wrap_up_done(&mut self, agent: AgentId, ix: InteractionId) -> Result<(), EngineError> {
        let info = self.agents.get_mut(&agent).ok_or(EngineError::UnknownAgent(agent))?;
        let before = info.wrapping.len();
        info.wrapping.retain(|i| *i != ix);
        if info.wrapping.len() == before {
            return Err(EngineError::NotWrappingUp(ix));
        }
        if info.wrapping.is_empty() && matches!(info.state, AgentState::WrapUp { .. }) {
            self.set_agent_status(agent, AgentState::Available)?;
        }
        self.notify(Notice::Agent(agent));
        Ok(())
    }

    /// Handles every event the router queued, including those caused by the handling itself.
    pub(crate) fn drain_router(&mut self) {
        while let Some(event) = self.router.poll_event() {
            let Some(event) = self.campaign_routing_event(event) else { continue };
            match event {
                RoutingEvent::Offered { offer, task, agent, expires_at } => {
                    self.on_offered(offer, InteractionId(task.0), agent, expires_at);
                }
                RoutingEvent::OfferEnded { offer, task, agent, end } => {
                    self.on_offer_ended(offer, InteractionId(task.0), agent, end);
                }
                RoutingEvent::Overflowed { task, from, to } => {
                    if let Some(ix) = self.interactions.get_mut(&InteractionId(task.0)) {
                        ix.queue = to;
                    }
                    self.notify(Notice::Queue(from));
                    self.notify(Notice::Queue(to));
                }
                RoutingEvent::SkillsRelaxed { .. } => {}
                RoutingEvent::AgentStatusChanged { agent, status } => {
                    let state = match status {
                        AgentStatus::Offline => AgentState::Offline,
                        AgentStatus::Available => AgentState::Available,
                        AgentStatus::Break { reason } => AgentState::Break { reason },
                        AgentStatus::AfterCallWork { until } => AgentState::WrapUp { until },
                    };
                    self.record_agent_state(agent, state);
                }
            }
        }
    }

    pub(crate) fn persist(&mut self, kind: EventKind) {
        self.outputs.push_back(Output::Persist(Event { at: self.now, kind }));
    }

    pub(crate) fn notify(&mut self, notice: Notice) {
        // Consecutive duplicates are common (several changes to one agent); drop them here.
        if self.outputs.back() != Some(&Output::Notify(notice)) {
            self.outputs.push_back(Output::Notify(notice));
        }
    }

    pub(crate) fn new_leg(&mut self, ix: InteractionId, side: Side) -> LegId {
        let leg = LegId(self.next_leg);
        self.next_leg += 1;
        self.legs.insert(leg, (ix, side));
        leg
    }

    pub(crate) fn task_of(ix: InteractionId) -> TaskId {
        TaskId(ix.0)
    }

    pub fn callback_status(&self, id: CallbackId) -> Option<CallbackStatus> {
        let cb = self.callbacks.get(&id)?;
        Some(match cb.interaction.and_then(|ix| self.interactions.get(&ix)) {
            None if cb.spec.due_at > self.now => CallbackStatus::Scheduled,
            None => CallbackStatus::Waiting,
            Some(ix) if ix.phase == Phase::Queued => CallbackStatus::Waiting,
            Some(_) => CallbackStatus::Calling,
        })
    }
}
