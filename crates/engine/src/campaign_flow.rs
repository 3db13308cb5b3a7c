//! The campaign call flow: pace, check every legal rule, dial, bridge within 2 s or abandon,
//! and decide each contact's next attempt by the campaign's retry rules.

use dialer::KeyAction;
use dialer::{
    check_dial, AgentPhase, BusyAgent, CallOutcome, ContactState, Decision, DialBlock, DialResult,
    DialRules, DncList, FinalStatus, Outcome as PaceOutcome, Snapshot, BRIDGE_MS_MAX,
};
use domain::campaign::{
    ActionKind, CallResult, CampaignEvent, CampaignId, CampaignState, ContactId, ContactStatus,
    KeyAnswer,
};
use domain::event::{AgentState, EventKind};
use domain::telephony::{Endpoint, LegEvent, LegEventKind, MachineDetection, TelCommand};
use domain::{AgentId, InteractionId, LegId, OfferId, Timestamp};
use routing::{RoutingEvent, TaskSpec, TaskState};

use crate::campaign::{
    Call, CallPhase, CallTimer, Campaign, CampaignCallInfo, CampaignContact, CampaignError,
    CampaignInput, CampaignLive, DialMode, LegSide, MachinePolicy, RobocallMessage,
    AGENT_WAIT_MS_MAX, CAMPAIGNS_MAX, CAMPAIGN_CONTACTS_MAX, KEYS_PER_CALL_MAX,
    MESSAGES_PENDING_MAX, MESSAGE_MS_MAX, PACE_TICK_MS, PREVIEW_MS_MAX,
};
use crate::center::{Center, EngineError};
use crate::io::{Notice, Output};

/// Contacts checked and found blocked (DNC, window) in one pacing pass at most; the rest wait
/// for the next pass, so one input never does unbounded work.
const BLOCKED_PER_PASS_MAX: usize = 1_000;

impl Center {
    pub(crate) fn handle_campaign(&mut self, input: CampaignInput) -> Result<(), EngineError> {
        match input {
            CampaignInput::Upsert { setup, state } => {
                if !self.queues.contains_key(&setup.queue) {
                    return Err(EngineError::UnknownQueue(setup.queue));
                }
                let id = setup.id;
                let count = self.campaigns.by_id.len();
                match self.campaigns.by_id.get_mut(&id) {
                    Some(c) => {
                        let repace = c.setup.mode != setup.mode
                            || c.setup.cap != setup.cap
                            || c.setup.limits != setup.limits;
                        c.setup = *setup;
                        if repace {
                            let pacer = crate::campaign::pacer_for(&c.setup);
                            c.set_pacer(pacer);
                        }
                    }
                    None if count >= CAMPAIGNS_MAX => return Err(CampaignError::TooMany.into()),
                    None => {
                        self.campaigns.by_id.insert(id, Campaign::new(*setup, state));
                    }
                }
                Ok(())
            }
            CampaignInput::AddContacts { campaign, contacts } => {
                let c = self.campaign_mut(campaign)?;
                if c.contacts.len().saturating_add(contacts.len()) > CAMPAIGN_CONTACTS_MAX {
                    return Err(CampaignError::TooManyContacts.into());
                }
                for contact in contacts {
                    c.due.insert((contact.due_at, contact.id));
                    c.contacts.insert(contact.id, contact);
                }
                Ok(())
            }
            CampaignInput::Resume(id) => {
                let c = self.campaign_mut(id)?;
                let (state, empty) = (c.state, c.contacts.is_empty());
                match state {
                    // Running without contacts would finish at once, for good.
                    CampaignState::Paused if empty => {
                        Err(CampaignError::WrongState("empty").into())
                    }
                    CampaignState::Paused => self.set_campaign_state(id, CampaignState::Running),
                    // New contacts were added after the list ran out: it runs again.
                    CampaignState::Finished if !empty => {
                        self.set_campaign_state(id, CampaignState::Running)
                    }
                    CampaignState::Running => Ok(()),
                    other => Err(CampaignError::WrongState(other.as_str()).into()),
                }
            }
            CampaignInput::Pause(id) => {
                let state = self.campaign_mut(id)?.state;
                match state {
                    CampaignState::Running => self.set_campaign_state(id, CampaignState::Paused),
                    CampaignState::Paused => Ok(()),
                    other => Err(CampaignError::WrongState(other.as_str()).into()),
                }
            }
            CampaignInput::Stop(id) => {
                if self.campaign_mut(id)?.state == CampaignState::Stopped {
                    return Ok(());
                }
                self.set_campaign_state(id, CampaignState::Stopped)?;
                // Cards not dialed yet go back; calls in progress end by themselves.
                let cards: Vec<InteractionId> = self
                    .campaigns
                    .calls
                    .values()
                    .filter(|c| c.campaign == id && c.phase == CallPhase::Preview)
                    .map(|c| c.id)
                    .collect();
                for call in cards {
                    self.end_campaign_call(call, CallResult::Cancelled);
                }
                Ok(())
            }
            CampaignInput::Remove(id) => {
                if self.campaign_mut(id)?.state == CampaignState::Running {
                    return Err(CampaignError::WrongState("running").into());
                }
                if self.campaigns.calls.values().any(|c| c.campaign == id) {
                    return Err(CampaignError::WrongState("still calling").into());
                }
                self.campaigns.by_id.remove(&id);
                self.campaigns.dnc.drop_campaign(dialer::CampaignId(id.0));
                Ok(())
            }
            CampaignInput::PreviewDial { agent, call } => {
                self.own_card(agent, call)?;
                self.campaigns.timers.retain(|(_, t)| *t != CallTimer::Preview(call));
                self.dial_campaign_customer(call);
                Ok(())
            }
            CampaignInput::PreviewSkip { agent, call } => {
                self.own_card(agent, call)?;
                // Skipped for good: the contact is final before the card is taken down, so
                // ending the call does not put it back in line.
                if let Some(c) = self.campaigns.calls.get(&call) {
                    let (campaign, contact) = (c.campaign, c.contact);
                    self.finish_contact(campaign, contact, ContactStatus::Skipped);
                }
                self.end_campaign_call(call, CallResult::Cancelled);
                Ok(())
            }
            CampaignInput::Hangup { agent, call } => {
                let (phase, unserved) = match self.campaigns.calls.get(&call) {
                    Some(c) if c.agent == Some(agent) => (c.phase, unserved_result(c)),
                    _ => return Err(CampaignError::NotYourCard.into()),
                };
                let result = match phase {
                    CallPhase::Bridged => CallResult::Answered,
                    // Hung up before the person was connected: they were let go unserved.
                    CallPhase::Answered => unserved,
                    CallPhase::Preview
                    | CallPhase::Dialing
                    | CallPhase::Message
                    | CallPhase::WrapUp => CallResult::Cancelled,
                };
                self.end_campaign_call(call, result);
                Ok(())
            }
            CampaignInput::WrapUpDone { agent, call } => {
                match self.campaigns.wrapping.get(&agent) {
                    Some(w) if w.call == call => {}
                    _ => return Err(CampaignError::NotYourCard.into()),
                }
                self.campaigns.wrapping.remove(&agent);
                let idle = self.agents.get(&agent).is_some_and(|a| {
                    a.wrapping.is_empty() && matches!(a.state, AgentState::WrapUp { .. })
                });
                if idle {
                    self.set_agent_status(agent, AgentState::Available)?;
                }
                self.notify(Notice::Agent(agent));
                Ok(())
            }
            CampaignInput::DncAdd { list, number } => {
                self.campaigns.dnc_add(list, &number).map_err(EngineError::from)
            }
            CampaignInput::DncRemove { list, number } => {
                self.campaigns.dnc.remove(list, &number);
                Ok(())
            }
        }
    }

    fn campaign_mut(&mut self, id: CampaignId) -> Result<&mut Campaign, EngineError> {
        Ok(self.campaigns.by_id.get_mut(&id).ok_or(CampaignError::Unknown(id))?)
    }

    fn own_card(&self, agent: AgentId, call: InteractionId) -> Result<(), EngineError> {
        match self.campaigns.calls.get(&call) {
            Some(c) if c.agent == Some(agent) && c.phase == CallPhase::Preview => Ok(()),
            _ => Err(CampaignError::NotYourCard.into()),
        }
    }

    fn set_campaign_state(
        &mut self,
        id: CampaignId,
        state: CampaignState,
    ) -> Result<(), EngineError> {
        let c = self.campaign_mut(id)?;
        c.state = state;
        self.persist(EventKind::Campaign(CampaignEvent::StateChanged { campaign: id, state }));
        Ok(())
    }

    /// Routing events of campaign tasks are handled here; others are given back.
    pub(crate) fn campaign_routing_event(&mut self, event: RoutingEvent) -> Option<RoutingEvent> {
        match event {
            RoutingEvent::Offered { offer, task, agent, .. }
                if self.campaigns.is_campaign_task(InteractionId(task.0)) =>
            {
                self.campaign_offered(InteractionId(task.0), offer, agent);
                None
            }
            RoutingEvent::OfferEnded { task, .. }
            | RoutingEvent::Overflowed { task, .. }
            | RoutingEvent::SkillsRelaxed { task, .. }
                if self.campaigns.is_campaign_task(InteractionId(task.0)) =>
            {
                // Offers are accepted at once, so an ended offer is the acceptance itself.
                None
            }
            other => Some(other),
        }
    }

    fn campaign_offered(&mut self, ix: InteractionId, offer: OfferId, agent: AgentId) {
        if self.router.handle_accept(self.now, offer).is_err() {
            return;
        }
        let now = self.now;
        let Some(call) = self.campaigns.calls.get_mut(&ix) else { return };
        call.agent = Some(agent);
        call.offer = None;
        let phase = call.phase;
        self.campaigns.agent_calls.insert(agent, ix);
        // The agent moved on: the previous call's disposition is no longer asked for.
        self.campaigns.wrapping.remove(&agent);
        match phase {
            CallPhase::Preview => {
                self.campaigns.timers.insert((now.plus_ms(PREVIEW_MS_MAX), CallTimer::Preview(ix)));
            }
            CallPhase::Dialing => self.dial_campaign_customer(ix),
            CallPhase::Answered => self.dial_campaign_agent(ix),
            CallPhase::Bridged | CallPhase::Message | CallPhase::WrapUp => {}
        }
        self.notify(Notice::Agent(agent));
    }

    fn new_campaign_leg(&mut self, ix: InteractionId, side: LegSide) -> LegId {
        // Legs share the engine's numbering with callback legs.
        let leg = LegId(self.next_leg);
        self.next_leg += 1;
        self.campaigns.legs.insert(leg, (ix, side));
        leg
    }

    fn dial_campaign_customer(&mut self, ix: InteractionId) {
        let now = self.now;
        let Some(call) = self.campaigns.calls.get(&ix) else { return };
        let (campaign, contact_id, agent) = (call.campaign, call.contact, call.agent);
        let Some(c) = self.campaigns.by_id.get_mut(&campaign) else { return };
        let Some(contact) = c.contacts.get_mut(&contact_id) else { return };
        contact.attempts += 1;
        let (attempt, phone) = (contact.attempts, contact.phone.clone());
        let ring_ms_max = c.setup.limits.no_answer_timeout_ms();
        let caller_id = c.setup.caller_id.clone();
        let detect_machine = machine_detection(&c.setup);
        c.outstanding.insert(ix, now);
        let leg = self.new_campaign_leg(ix, LegSide::Customer);
        if let Some(call) = self.campaigns.calls.get_mut(&ix) {
            call.phase = CallPhase::Dialing;
            call.since = now;
            call.attempt = attempt;
            call.customer_leg = Some(leg);
            call.dialed_at = Some(now);
        }
        // Persisted before the Originate: after a crash the dial is known and counted.
        self.persist(EventKind::Campaign(CampaignEvent::Dialed {
            campaign,
            contact: contact_id,
            call: ix,
            attempt,
            agent,
        }));
        self.outputs.push_back(Output::Telephony(TelCommand::Originate {
            leg,
            to: Endpoint::Number(phone),
            caller_id,
            ring_ms_max,
            detect_machine,
        }));
        if let Some(agent) = agent {
            self.notify(Notice::Agent(agent));
        }
    }

    fn dial_campaign_agent(&mut self, ix: InteractionId) {
        let Some(agent) = self.campaigns.calls.get(&ix).and_then(|c| c.agent) else { return };
        let leg = self.new_campaign_leg(ix, LegSide::Agent);
        if let Some(call) = self.campaigns.calls.get_mut(&ix) {
            call.agent_leg = Some(leg);
        }
        self.outputs.push_back(Output::Telephony(TelCommand::Originate {
            leg,
            to: Endpoint::Agent(agent),
            caller_id: None,
            ring_ms_max: self.config.agent_ring_ms,
            detect_machine: MachineDetection::Off,
        }));
    }

    /// Leg events of campaign legs; `false` for legs that are not the campaigns'.
    pub(crate) fn campaign_leg_event(&mut self, event: LegEvent) -> bool {
        let Some(&(ix, side)) = self.campaigns.legs.get(&event.leg) else { return false };
        if event.kind.is_final() {
            self.campaigns.legs.remove(&event.leg);
            if let Some(call) = self.campaigns.calls.get_mut(&ix) {
                match side {
                    LegSide::Customer => call.customer_leg = None,
                    LegSide::Agent => call.agent_leg = None,
                }
            }
        }
        let Some(call) = self.campaigns.calls.get(&ix) else { return true };
        let (phase, campaign, machine) = (call.phase, call.campaign, call.machine);
        let unserved = unserved_result(call);
        match (side, event.kind) {
            (_, LegEventKind::Ringing) => {}
            (LegSide::Customer, LegEventKind::Answered) => self.customer_answered(ix, campaign),
            (LegSide::Customer, LegEventKind::MachineAnswered) => {
                self.machine_answered(ix, campaign)
            }
            (LegSide::Customer, kind) => {
                let result = match (phase, kind) {
                    (CallPhase::Bridged, _) => CallResult::Answered,
                    (CallPhase::Message, _) if machine => CallResult::MessageLeft,
                    (CallPhase::Message, _) => CallResult::Delivered,
                    // The person hung up before an agent came: abandoned all the same (unless
                    // a robocall listener who asked for one: the message was delivered).
                    (CallPhase::Answered, _) => unserved,
                    (_, LegEventKind::Busy) => CallResult::Busy,
                    (_, LegEventKind::NoAnswer) => CallResult::NoAnswer,
                    // A remote hang-up before we heard of an answer: the network answered
                    // the call and held the news while machine detection listened.
                    (CallPhase::Dialing, LegEventKind::HungUp { by_remote: true }) => {
                        CallResult::HungUpEarly
                    }
                    _ => CallResult::Failed,
                };
                self.resolve_dial(ix, campaign, result);
                self.end_campaign_call(ix, result);
            }
            (LegSide::Agent, LegEventKind::Answered | LegEventKind::MachineAnswered) => {
                self.campaign_bridge(ix)
            }
            (LegSide::Agent, _) => {
                let result = match phase {
                    CallPhase::Bridged => CallResult::Answered,
                    // The person answered and no agent came.
                    _ => unserved,
                };
                self.end_campaign_call(ix, result);
            }
        }
        true
    }

    /// Tells the pacer how a dial resolved (once per dial).
    fn resolve_dial(&mut self, ix: InteractionId, campaign: CampaignId, result: CallResult) {
        let now = self.now;
        let Some(c) = self.campaigns.by_id.get_mut(&campaign) else { return };
        let Some(placed) = c.outstanding.remove(&ix) else { return };
        let result = match result {
            CallResult::NoAnswer => DialResult::NoAnswer,
            CallResult::Busy | CallResult::Failed => DialResult::FastFail,
            CallResult::Machine | CallResult::MessageLeft => DialResult::Machine,
            _ => DialResult::Live,
        };
        let age_ms = now.ms_since(placed);
        c.pacer().handle_outcome(now_ms(now), PaceOutcome::DialResolved { result, age_ms });
    }

    fn customer_answered(&mut self, ix: InteractionId, campaign: CampaignId) {
        let now = self.now;
        self.resolve_dial(ix, campaign, CallResult::Answered);
        let Some(c) = self.campaigns.by_id.get(&campaign) else { return };
        let (mode, queue) = (c.setup.mode, c.setup.queue);
        let priority = self.campaign_priority(campaign);
        let message_ms = c.setup.message_ms.min(MESSAGE_MS_MAX);
        let Some(call) = self.campaigns.calls.get_mut(&ix) else { return };
        call.answered_at = Some(now);
        call.since = now;
        let agent = call.agent;
        self.persist(EventKind::Campaign(CampaignEvent::Answered { call: ix }));
        if mode == DialMode::Robocall {
            // The contact is final when the call ends, by the key pressed (if any).
            self.play_message(ix, message_ms);
            return;
        }
        if let Some(call) = self.campaigns.calls.get_mut(&ix) {
            call.phase = CallPhase::Answered;
        }
        self.campaigns.timers.insert((now.plus_ms(BRIDGE_MS_MAX), CallTimer::Bridge(ix)));
        if agent.is_some() {
            // Progressive and preview held their agent before dialing.
            self.dial_campaign_agent(ix);
            return;
        }
        let spec = TaskSpec { id: Self::task_of(ix), queue, priority, skills: Vec::new() };
        if self.router.handle_enqueue(now, spec).is_ok() {
            if let Some(call) = self.campaigns.calls.get_mut(&ix) {
                call.in_router = true;
            }
        }
        // An agent free now takes it through `campaign_offered`; otherwise it waits at most
        // until the bridge timer.
    }

    /// Hands the message of call `ix` to the shell and holds the leg for `message_ms`.
    fn play_message(&mut self, ix: InteractionId, message_ms: u64) {
        let now = self.now;
        let Some(call) = self.campaigns.calls.get_mut(&ix) else { return };
        call.phase = CallPhase::Message;
        let (campaign, contact, leg) = (call.campaign, call.contact, call.customer_leg);
        if let Some(leg) = leg {
            if self.campaigns.messages.len() >= MESSAGES_PENDING_MAX {
                self.campaigns.messages.pop_front();
            }
            let message = RobocallMessage { campaign, contact, call: ix, leg };
            self.campaigns.messages.push_back(message);
        }
        self.campaigns.timers.retain(|(_, t)| *t != CallTimer::Message(ix));
        self.campaigns.timers.insert((now.plus_ms(message_ms), CallTimer::Message(ix)));
    }

    /// An answering machine took the call: leave the message or hang up to retry, as the
    /// campaign says. An agent held for the call (progressive, preview) is let go at once.
    fn machine_answered(&mut self, ix: InteractionId, campaign: CampaignId) {
        self.resolve_dial(ix, campaign, CallResult::Machine);
        let Some(c) = self.campaigns.by_id.get(&campaign) else { return };
        let (policy, message_ms) = (c.setup.on_machine, c.setup.message_ms.min(MESSAGE_MS_MAX));
        self.persist(EventKind::Campaign(CampaignEvent::MachineAnswered { call: ix }));
        let Some(call) = self.campaigns.calls.get_mut(&ix) else { return };
        call.machine = true;
        call.answered_at = Some(self.now);
        let agent = call.agent.take();
        if let Some(agent) = agent {
            if self.campaigns.agent_calls.get(&agent) == Some(&ix) {
                self.campaigns.agent_calls.remove(&agent);
            }
            let _ = self.router.handle_cancel(self.now, Self::task_of(ix));
            if let Some(call) = self.campaigns.calls.get_mut(&ix) {
                call.in_router = false;
            }
            self.notify(Notice::Agent(agent));
        }
        match policy {
            MachinePolicy::LeaveMessage => self.play_message(ix, message_ms),
            MachinePolicy::Retry => self.end_campaign_call(ix, CallResult::Machine),
        }
    }

    /// A key pressed on a campaign leg; `false` for legs that are not the campaigns'. Keys
    /// count only while a person hears the message.
    pub(crate) fn campaign_dtmf(&mut self, leg: LegId, digit: char) -> bool {
        let Some(&(ix, side)) = self.campaigns.legs.get(&leg) else { return false };
        let Some(call) = self.campaigns.calls.get_mut(&ix) else { return true };
        if side != LegSide::Customer
            || call.phase != CallPhase::Message
            || call.machine
            || call.keys >= KEYS_PER_CALL_MAX
        {
            return true;
        }
        call.keys += 1;
        let (campaign, contact) = (call.campaign, call.contact);
        let Some(c) = self.campaigns.by_id.get(&campaign) else { return true };
        let action = c.setup.menu.iter().find(|(k, _)| *k == digit).map(|(_, a)| *a);
        let message_ms = c.setup.message_ms.min(MESSAGE_MS_MAX);
        let (queue, priority) = (c.setup.queue, self.campaign_priority(campaign));
        let answer = action.map(key_answer);
        self.persist(EventKind::Campaign(CampaignEvent::KeyPressed {
            campaign,
            contact,
            call: ix,
            digit,
            answer,
        }));
        let Some(answer) = answer else { return true };
        match answer {
            KeyAnswer::Repeat => self.play_message(ix, message_ms),
            KeyAnswer::Agent => {
                let now = self.now;
                if let Some(call) = self.campaigns.calls.get_mut(&ix) {
                    call.answer = Some(answer);
                    call.wants_agent = true;
                    call.phase = CallPhase::Answered;
                    call.since = now;
                }
                self.outputs.push_back(Output::Telephony(TelCommand::StopPlay { leg }));
                self.campaigns.timers.retain(|(_, t)| *t != CallTimer::Message(ix));
                let wait = (now.plus_ms(AGENT_WAIT_MS_MAX), CallTimer::Bridge(ix));
                self.campaigns.timers.insert(wait);
                // A routed task like a progressive call: below callbacks and inbound calls.
                let spec = TaskSpec { id: Self::task_of(ix), queue, priority, skills: Vec::new() };
                if self.router.handle_enqueue(now, spec).is_ok() {
                    if let Some(call) = self.campaigns.calls.get_mut(&ix) {
                        call.in_router = true;
                    }
                } else {
                    self.end_campaign_call(ix, CallResult::Delivered);
                }
            }
            KeyAnswer::OptOut => {
                let phone = self
                    .campaigns
                    .by_id
                    .get(&campaign)
                    .and_then(|c| c.contacts.get(&contact))
                    .map(|spec| spec.phone.clone());
                if let Some(phone) = phone {
                    // A full list loses this entry in memory only: the store has it (the
                    // event above), and a rebuild loads it.
                    let _ = self.campaigns.dnc_add(dnc_list(Some(campaign)), &phone);
                }
                self.decide(ix, answer);
            }
            KeyAnswer::Confirm | KeyAnswer::WrongNumber | KeyAnswer::Score(_) => {
                self.decide(ix, answer)
            }
        }
        true
    }

    /// A deciding key: the answer is kept for the contact's status and the call ends.
    fn decide(&mut self, ix: InteractionId, answer: KeyAnswer) {
        if let Some(call) = self.campaigns.calls.get_mut(&ix) {
            call.answer = Some(answer);
        }
        self.end_campaign_call(ix, CallResult::Delivered);
    }

    fn campaign_bridge(&mut self, ix: InteractionId) {
        let now = self.now;
        let Some(call) = self.campaigns.calls.get_mut(&ix) else { return };
        let (Some(a), Some(b), Some(agent)) = (call.agent_leg, call.customer_leg, call.agent)
        else {
            return;
        };
        if call.phase != CallPhase::Answered {
            return;
        }
        call.phase = CallPhase::Bridged;
        call.since = now;
        let campaign = call.campaign;
        self.campaigns.timers.retain(|(_, t)| *t != CallTimer::Bridge(ix));
        self.outputs.push_back(Output::Telephony(TelCommand::Bridge { a, b }));
        let record = TelCommand::Record { interaction: ix, customer: b, agent: a };
        self.outputs.push_back(Output::Telephony(record));
        self.persist(EventKind::Campaign(CampaignEvent::Bridged { call: ix, agent }));
        if let Some(c) = self.campaigns.by_id.get_mut(&campaign) {
            c.pacer().handle_outcome(now_ms(now), PaceOutcome::LiveHandled { abandoned: false });
        }
        self.notify(Notice::Agent(agent));
    }

    /// Ends a campaign call exactly once: hangs up its legs, frees its agent, records the
    /// result and moves the contact on.
    fn end_campaign_call(&mut self, ix: InteractionId, result: CallResult) {
        let now = self.now;
        let Some(call) = self.campaigns.calls.remove(&ix) else { return };
        for leg in [call.customer_leg, call.agent_leg].into_iter().flatten() {
            self.campaigns.legs.remove(&leg);
            self.outputs.push_back(Output::Telephony(TelCommand::Hangup { leg }));
        }
        self.campaigns.timers.retain(|(_, t)| {
            !matches!(t, CallTimer::Bridge(i) | CallTimer::Preview(i) | CallTimer::Message(i)
                if *i == ix)
        });
        if let Some(agent) = call.agent {
            if self.campaigns.agent_calls.get(&agent) == Some(&ix) {
                self.campaigns.agent_calls.remove(&agent);
            }
            if result == CallResult::Answered {
                let info = CampaignCallInfo {
                    call: ix,
                    campaign: call.campaign,
                    contact: call.contact,
                    phase: CallPhase::WrapUp,
                    since: now,
                    attempt: call.attempt,
                };
                self.campaigns.wrapping.insert(agent, info);
            }
            self.notify(Notice::Agent(agent));
        }
        let task = Self::task_of(ix);
        match self.router.task(task).map(|t| t.state) {
            // A conversation happened: the agent wraps up as the queue says.
            Some(TaskState::Assigned { .. }) if result == CallResult::Answered => {
                let _ = self.router.handle_release(now, task);
            }
            Some(_) => {
                let _ = self.router.handle_cancel(now, task);
            }
            None => {}
        }
        let Some(c) = self.campaigns.by_id.get_mut(&call.campaign) else { return };
        c.outstanding.remove(&ix);
        if call.dialed_at.is_some() {
            self.persist(EventKind::Campaign(CampaignEvent::CallEnded { call: ix, result }));
        }
        let Some(c) = self.campaigns.by_id.get_mut(&call.campaign) else { return };
        match result {
            CallResult::Abandoned => {
                c.pacer().handle_outcome(now_ms(now), PaceOutcome::LiveHandled { abandoned: true });
                let uk = c.setup.retry.spec().uk_abandon_hold;
                if let (true, Some(contact)) = (uk, c.contacts.get(&call.contact)) {
                    let phone = contact.phone.clone();
                    // A full table only loses the hold of one number; the retry delay of an
                    // abandoned call is at least the hold anyway under the UK rule.
                    let _ = self.campaigns.abandoned.record(&phone, now);
                }
            }
            CallResult::Answered => {
                let talk_ms = call.answered_at.map_or(0, |t| now.ms_since(t));
                c.pacer().handle_outcome(
                    now_ms(now),
                    PaceOutcome::CallCompleted { talk_ms, wrap_ms: 0 },
                );
            }
            _ => {}
        }
        self.contact_after_call(call.campaign, call.contact, result, call.answer);
        self.maybe_finish_campaign(call.campaign);
    }

    fn contact_after_call(
        &mut self,
        campaign: CampaignId,
        contact: ContactId,
        result: CallResult,
        answer: Option<KeyAnswer>,
    ) {
        let now = self.now;
        let Some(c) = self.campaigns.by_id.get(&campaign) else { return };
        let Some(spec) = c.contacts.get(&contact) else { return };
        let outcome = match result {
            CallResult::Answered => CallOutcome::Answered,
            CallResult::Abandoned => CallOutcome::Abandoned,
            CallResult::Busy => CallOutcome::Busy,
            CallResult::NoAnswer | CallResult::HungUpEarly => CallOutcome::NoAnswer,
            CallResult::Failed => CallOutcome::Failed,
            CallResult::Machine => CallOutcome::Machine,
            CallResult::Delivered => {
                let status = match answer {
                    Some(KeyAnswer::Confirm) => ContactStatus::Confirmed,
                    Some(KeyAnswer::Score(_)) => ContactStatus::SurveyAnswered,
                    Some(KeyAnswer::OptOut) => ContactStatus::OptedOut,
                    Some(KeyAnswer::WrongNumber) => ContactStatus::WrongNumber,
                    Some(KeyAnswer::Repeat | KeyAnswer::Agent) | None => ContactStatus::Delivered,
                };
                self.finish_contact(campaign, contact, status);
                return;
            }
            CallResult::MessageLeft => {
                self.finish_contact(campaign, contact, ContactStatus::MessageLeft);
                return;
            }
            CallResult::AgentFailed | CallResult::Cancelled => {
                // Not the person's doing: back in line with the attempts it had.
                let attempts = spec.attempts;
                self.schedule_contact(campaign, contact, now, attempts);
                return;
            }
        };
        let state = ContactState { attempts_made: spec.attempts, tz: spec.tz };
        let attempts = spec.attempts;
        match c.setup.retry.next_attempt(&state, outcome, now, &c.setup.window) {
            Decision::RetryAt(at) => self.schedule_contact(campaign, contact, at, attempts),
            Decision::Final(status) => {
                let status = match status {
                    FinalStatus::Reached => ContactStatus::Reached,
                    FinalStatus::OptedOut => ContactStatus::Dnc,
                    FinalStatus::NoWindow => ContactStatus::NoWindow,
                    FinalStatus::AttemptsExhausted(CallOutcome::NoAnswer) => {
                        ContactStatus::NoAnswer
                    }
                    _ => ContactStatus::Failed,
                };
                self.finish_contact(campaign, contact, status);
            }
        }
    }

    fn schedule_contact(
        &mut self,
        campaign: CampaignId,
        contact: ContactId,
        at: Timestamp,
        attempts: u32,
    ) {
        let Some(c) = self.campaigns.by_id.get_mut(&campaign) else { return };
        let Some(spec) = c.contacts.get_mut(&contact) else { return };
        c.due.remove(&(spec.due_at, contact));
        spec.due_at = at;
        spec.attempts = attempts;
        c.due.insert((at, contact));
        self.persist(EventKind::Campaign(CampaignEvent::ContactScheduled {
            campaign,
            contact,
            due_at: at,
            attempts,
        }));
    }

    fn finish_contact(&mut self, campaign: CampaignId, contact: ContactId, status: ContactStatus) {
        let Some(c) = self.campaigns.by_id.get_mut(&campaign) else { return };
        let Some(spec) = c.contacts.remove(&contact) else { return };
        c.due.remove(&(spec.due_at, contact));
        let actions = c.setup.actions.iter().find(|(s, _)| *s == status).map(|(_, a)| a.clone());
        self.persist(EventKind::Campaign(CampaignEvent::ContactFinished {
            campaign,
            contact,
            status,
        }));
        // In the same drain as the status, so committed with it: a restart neither loses
        // nor repeats them.
        let Some(actions) = actions else { return };
        if let Some(label) = actions.label {
            self.persist(EventKind::Campaign(CampaignEvent::ContactLabeled {
                campaign,
                contact,
                label,
            }));
        }
        for (on, action) in [(actions.sms, ActionKind::Sms), (actions.webhook, ActionKind::Webhook)]
        {
            if on {
                self.persist(EventKind::Campaign(CampaignEvent::ActionQueued {
                    campaign,
                    contact,
                    action,
                    status,
                }));
            }
        }
    }

    fn maybe_finish_campaign(&mut self, id: CampaignId) {
        let Some(c) = self.campaigns.by_id.get(&id) else { return };
        if c.state == CampaignState::Running
            && c.contacts.is_empty()
            && !self.campaigns.calls.values().any(|call| call.campaign == id)
        {
            let _ = self.set_campaign_state(id, CampaignState::Finished);
        }
    }

    /// Fires due campaign timers (called on every tick).
    pub(crate) fn campaign_tick(&mut self) {
        self.campaigns.abandoned.expire(self.now);
        while let Some(&(at, timer)) = self.campaigns.timers.first() {
            if at > self.now {
                break;
            }
            self.campaigns.timers.pop_first();
            match timer {
                CallTimer::Bridge(ix) => {
                    // The 2-second rule: no agent in time, the call is abandoned (a robocall
                    // listener who asked for an agent waits longer, and is not an abandon).
                    let call = self.campaigns.calls.get(&ix);
                    if let Some(result) =
                        call.filter(|c| c.phase == CallPhase::Answered).map(unserved_result)
                    {
                        self.end_campaign_call(ix, result);
                    }
                }
                CallTimer::Preview(ix) => self.end_campaign_call(ix, CallResult::Cancelled),
                CallTimer::Message(ix) => {
                    let machine = self.campaigns.calls.get(&ix).is_some_and(|c| c.machine);
                    let result =
                        if machine { CallResult::MessageLeft } else { CallResult::Delivered };
                    self.end_campaign_call(ix, result);
                }
                CallTimer::Pace(_) => {}
            }
        }
    }

    /// The next instant a campaign needs the engine: a call timer, a contact coming due, or a
    /// predictive campaign's next look at its policy.
    pub(crate) fn campaign_timeout(&self) -> Option<Timestamp> {
        let mut next = self.campaigns.timers.first().map(|(t, _)| *t);
        let mut earliest = |t: Timestamp| next = Some(next.map_or(t, |n| n.min(t)));
        for c in self.campaigns.by_id.values() {
            if c.state != CampaignState::Running {
                continue;
            }
            let Some(&(due, _)) = c.due.first() else { continue };
            if due > self.now {
                earliest(due);
            } else if c.setup.mode == DialMode::Predictive {
                earliest(self.now.plus_ms(PACE_TICK_MS));
            }
            // Progressive and preview contacts already due wait for an agent's change, which
            // is an input; robocalls wait for a line, freed by a leg event.
        }
        next
    }

    /// Places the dials every running campaign should place now. Called after every input.
    pub(crate) fn pace_campaigns(&mut self) {
        let ids: Vec<CampaignId> = self
            .campaigns
            .by_id
            .iter()
            .filter(|(_, c)| c.state == CampaignState::Running)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let mut blocked = 0;
            self.pace_campaign(id, &mut blocked);
            self.maybe_finish_campaign(id);
        }
    }

    fn pace_campaign(&mut self, id: CampaignId, blocked: &mut usize) {
        let Some(c) = self.campaigns.by_id.get(&id) else { return };
        let (mode, lines) = (c.setup.mode, c.setup.limits.lines_max() as usize);
        match mode {
            DialMode::Progressive | DialMode::Preview => {
                // Each placed call takes a free agent, so this ends within the agents.
                while self.agents_free(id) > 0 {
                    let in_flight = self.campaign_calls(id);
                    if in_flight >= lines {
                        return;
                    }
                    let Some(contact) = self.next_contact(id, blocked) else { return };
                    if !self.place_agent_call(id, contact, mode) {
                        return;
                    }
                }
            }
            DialMode::Predictive => {
                let n = self.predictive_dials(id);
                for _ in 0..n {
                    let Some(contact) = self.next_contact(id, blocked) else { return };
                    let ix = self.new_campaign_call(id, contact, CallPhase::Dialing);
                    self.dial_campaign_customer(ix);
                }
            }
            DialMode::Robocall => {
                while self.campaign_calls(id) < lines {
                    let Some(contact) = self.next_contact(id, blocked) else { return };
                    let ix = self.new_campaign_call(id, contact, CallPhase::Dialing);
                    self.dial_campaign_customer(ix);
                }
            }
        }
    }

    /// Blending: campaign tasks always rank below the queue's callbacks (and so below inbound
    /// calls, which rank above callbacks), whatever the campaign asks.
    fn campaign_priority(&self, id: CampaignId) -> i32 {
        let Some(c) = self.campaigns.by_id.get(&id) else { return i32::MIN };
        let below_callbacks =
            self.queues.get(&c.setup.queue).map_or(0, |q| q.callback.priority.saturating_sub(1));
        c.setup.priority.min(below_callbacks)
    }

    fn campaign_calls(&self, id: CampaignId) -> usize {
        self.campaigns.calls.values().filter(|c| c.campaign == id).count()
    }

    fn agents_free(&self, id: CampaignId) -> usize {
        let Some(c) = self.campaigns.by_id.get(&id) else { return 0 };
        self.router.queue_snapshot(c.setup.queue).map_or(0, |q| q.agents_free)
    }

    fn predictive_dials(&mut self, id: CampaignId) -> u32 {
        let now = self.now;
        let idle = u32::try_from(self.agents_free(id)).unwrap_or(u32::MAX);
        let mut busy = Vec::new();
        let mut waiting = 0u32;
        for call in self.campaigns.calls.values().filter(|c| c.campaign == id) {
            match call.phase {
                CallPhase::Bridged => busy.push(BusyAgent {
                    phase: AgentPhase::Talk,
                    elapsed_ms: now.ms_since(call.since),
                }),
                CallPhase::Answered => waiting += 1,
                _ => {}
            }
        }
        let Some(c) = self.campaigns.by_id.get_mut(&id) else { return 0 };
        let ages: Vec<u64> = c.outstanding.values().map(|t| now.ms_since(*t)).collect();
        let snapshot = Snapshot {
            now_ms: now_ms(now),
            idle_agents: idle,
            busy: &busy,
            outstanding_ages_ms: &ages,
            waiting_calls: waiting,
        };
        c.pacer().poll_dials(&snapshot)
    }

    /// The next due contact that every rule lets us dial now; blocked ones are rescheduled
    /// or finished on the way.
    fn next_contact(&mut self, id: CampaignId, blocked: &mut usize) -> Option<ContactId> {
        let now = self.now;
        loop {
            if *blocked >= BLOCKED_PER_PASS_MAX {
                self.campaigns.timers.insert((now.plus_ms(PACE_TICK_MS), CallTimer::Pace(id)));
                return None;
            }
            let c = self.campaigns.by_id.get_mut(&id)?;
            let &(due, contact) = c.due.first()?;
            if due > now {
                return None;
            }
            c.due.pop_first();
            let spec = c.contacts.get(&contact)?;
            let rules = DialRules {
                campaign: dialer::CampaignId(id.0),
                window: &c.setup.window,
                dnc: &self.campaigns.dnc,
                abandoned: Some(&self.campaigns.abandoned),
            };
            let attempts = spec.attempts;
            match check_dial(&rules, &spec.phone, spec.tz, now) {
                Ok(()) => return Some(contact),
                Err(block) => {
                    *blocked += 1;
                    match block {
                        DialBlock::Dnc(_) => self.finish_contact(id, contact, ContactStatus::Dnc),
                        DialBlock::RecentlyAbandoned { until } => {
                            self.schedule_contact(id, contact, until, attempts)
                        }
                        DialBlock::OutsideWindow { next_open: Some(at) } => {
                            self.schedule_contact(id, contact, at, attempts)
                        }
                        DialBlock::OutsideWindow { next_open: None } => {
                            self.finish_contact(id, contact, ContactStatus::NoWindow)
                        }
                    }
                }
            }
        }
    }

    fn new_campaign_call(
        &mut self,
        campaign: CampaignId,
        contact: ContactId,
        phase: CallPhase,
    ) -> InteractionId {
        let ix = InteractionId(self.next_interaction);
        self.next_interaction += 1;
        self.campaigns.calls.insert(
            ix,
            Call {
                id: ix,
                campaign,
                contact,
                phase,
                since: self.now,
                attempt: 0,
                agent: None,
                offer: None,
                in_router: false,
                customer_leg: None,
                agent_leg: None,
                dialed_at: None,
                answered_at: None,
                keys: 0,
                answer: None,
                wants_agent: false,
                machine: false,
            },
        );
        ix
    }

    /// Progressive and preview: a task that a free agent takes at once. `false` (and the
    /// contact back in line) when no agent took it.
    fn place_agent_call(&mut self, id: CampaignId, contact: ContactId, mode: DialMode) -> bool {
        let Some(c) = self.campaigns.by_id.get(&id) else { return false };
        let queue = c.setup.queue;
        let priority = self.campaign_priority(id);
        let phase = if mode == DialMode::Preview { CallPhase::Preview } else { CallPhase::Dialing };
        let ix = self.new_campaign_call(id, contact, phase);
        let spec = TaskSpec { id: Self::task_of(ix), queue, priority, skills: Vec::new() };
        let taken = match self.router.handle_enqueue(self.now, spec) {
            Ok(()) => {
                if let Some(call) = self.campaigns.calls.get_mut(&ix) {
                    call.in_router = true;
                }
                self.drain_router();
                self.campaigns.calls.get(&ix).is_some_and(|c| c.agent.is_some())
            }
            Err(_) => false,
        };
        if !taken {
            let _ = self.router.handle_cancel(self.now, Self::task_of(ix));
            self.campaigns.calls.remove(&ix);
            if let Some(c) = self.campaigns.by_id.get_mut(&id) {
                if let Some(spec) = c.contacts.get(&contact) {
                    c.due.insert((spec.due_at, contact));
                }
            }
        }
        taken
    }

    /// Robocall messages for the shell to play (see [`RobocallMessage`]).
    pub fn poll_robocall_message(&mut self) -> Option<RobocallMessage> {
        self.campaigns.messages.pop_front()
    }

    /// The campaign call or preview card an agent has, if any.
    pub fn campaign_call_of(&self, agent: AgentId) -> Option<CampaignCallInfo> {
        let ix = self.campaigns.agent_calls.get(&agent)?;
        let c = self.campaigns.calls.get(ix)?;
        Some(CampaignCallInfo {
            call: c.id,
            campaign: c.campaign,
            contact: c.contact,
            phase: c.phase,
            since: c.since,
            attempt: c.attempt,
        })
    }

    /// The agent's last campaign conversation while its disposition is awaited.
    pub fn campaign_wrap_up_of(&self, agent: AgentId) -> Option<CampaignCallInfo> {
        self.campaigns.wrapping.get(&agent).copied()
    }

    /// Live figures of a campaign the engine knows.
    pub fn campaign_live(&self, id: CampaignId) -> Option<CampaignLive> {
        let c = self.campaigns.by_id.get(&id)?;
        let calls = || self.campaigns.calls.values().filter(|call| call.campaign == id);
        Some(CampaignLive {
            state: c.state,
            mode: c.setup.mode,
            open_contacts: c.contacts.len(),
            outstanding: c.outstanding.len(),
            waiting: calls().filter(|x| x.phase == CallPhase::Answered).count(),
            talking: calls()
                .filter(|x| matches!(x.phase, CallPhase::Bridged | CallPhase::Message))
                .count(),
            agents_free: self.agents_free(id),
            abandon_rate: None,
        })
    }

    /// A contact's status in the engine: `None` when final or unknown.
    pub fn campaign_contact(&self, id: CampaignId, contact: ContactId) -> Option<CampaignContact> {
        self.campaigns.by_id.get(&id)?.contacts.get(&contact).cloned()
    }

    /// Consistency of the campaign tables, for tests and the simulator; panics when broken.
    pub fn check_campaign_invariants(&self) {
        for (leg, (ix, side)) in &self.campaigns.legs {
            let call = self.campaigns.calls.get(ix).expect("a live leg belongs to a live call");
            let own = match side {
                LegSide::Customer => call.customer_leg,
                LegSide::Agent => call.agent_leg,
            };
            assert_eq!(own, Some(*leg), "campaign leg table and call disagree");
        }
        for (agent, ix) in &self.campaigns.agent_calls {
            let call = self.campaigns.calls.get(ix).expect("an agent's call exists");
            assert_eq!(call.agent, Some(*agent), "agent holds another agent's call");
        }
        for (id, c) in &self.campaigns.by_id {
            let lines = c.setup.limits.lines_max() as usize;
            assert!(c.outstanding.len() <= lines, "{id:?}: more dials out than lines");
            for (_, contact) in &c.due {
                assert!(c.contacts.contains_key(contact), "a due contact is open");
            }
        }
    }
}

/// How an answered call that never reached an agent ends: abandoned, unless a robocall
/// listener asked for an agent (the message was delivered; no dialer abandon).
fn unserved_result(call: &Call) -> CallResult {
    if call.wants_agent {
        CallResult::Delivered
    } else {
        CallResult::Abandoned
    }
}

/// The domain's word for a key's action.
fn key_answer(action: KeyAction) -> KeyAnswer {
    match action {
        KeyAction::Confirm => KeyAnswer::Confirm,
        KeyAction::Repeat => KeyAnswer::Repeat,
        KeyAction::Agent => KeyAnswer::Agent,
        KeyAction::OptOut => KeyAnswer::OptOut,
        KeyAction::WrongNumber => KeyAnswer::WrongNumber,
        KeyAction::Score(n) => KeyAnswer::Score(n),
    }
}

fn now_ms(now: Timestamp) -> u64 {
    u64::try_from(now.as_millis()).unwrap_or(0)
}

impl From<CampaignError> for EngineError {
    fn from(e: CampaignError) -> Self {
        EngineError::Campaign(e)
    }
}

/// Where a DNC entry goes.
pub fn dnc_list(campaign: Option<CampaignId>) -> DncList {
    match campaign {
        Some(c) => DncList::Campaign(dialer::CampaignId(c.0)),
        None => DncList::Global,
    }
}

/// What the network is asked to listen for when a campaign's customer answers: nothing
/// unless the campaign detects machines; a message for a machine waits for its greeting to
/// end, so the recording holds all of it.
fn machine_detection(setup: &crate::campaign::CampaignSetup) -> MachineDetection {
    match (setup.detect_machine, setup.on_machine) {
        (false, _) => MachineDetection::Off,
        (true, MachinePolicy::Retry) => MachineDetection::Detect,
        (true, MachinePolicy::LeaveMessage) => MachineDetection::DetectAwaitGreetingEnd,
    }
}
