//! The callback call flow: reserve an agent, connect both legs in the queue's order, bridge,
//! end, and decide the next attempt.

use domain::event::{CallbackStatus, EventKind, Outcome};
use domain::telephony::{Endpoint, LegEvent, LegEventKind, TelCommand};
use domain::{AgentId, CallbackId, InteractionId, OfferId, Timestamp};
use routing::{OfferEnd, TaskSpec, TaskState};

use crate::center::{Center, EngineError, Interaction, Side, WRAP_UPS_PER_AGENT_MAX};
use crate::config::{AcceptMode, CallOrder};
use crate::io::{Notice, Output};
use crate::snapshot::{OfferInfo, Phase};

/// Delay before retrying when the queue refuses a task (full).
const QUEUE_FULL_RETRY_MS: u64 = 30_000;

impl Center {
    /// Turns a due callback into an interaction waiting in the router.
    pub(crate) fn start_attempt(&mut self, id: CallbackId) {
        let Some(cb) = self.callbacks.get(&id) else { return };
        let queue = cb.spec.queue;
        let Some(setup) = self.queues.get(&queue) else { return };
        let priority = setup.callback.priority;
        let ix = InteractionId(self.next_interaction);
        let spec = TaskSpec { id: Self::task_of(ix), queue, priority, skills: Vec::new() };
        if self.router.handle_enqueue(self.now, spec).is_err() {
            let attempts = cb.spec.attempts;
            self.schedule(id, self.now.plus_ms(QUEUE_FULL_RETRY_MS), attempts);
            return;
        }
        self.next_interaction += 1;
        if let Some(cb) = self.callbacks.get_mut(&id) {
            cb.interaction = Some(ix);
        }
        self.interactions.insert(
            ix,
            Interaction {
                id: ix,
                callback: Some(id),
                caller: None,
                queue,
                attempt: 0,
                agent: None,
                offer: None,
                agent_leg: None,
                customer_leg: None,
                agent_answered: false,
                customer_answered: false,
                phase: Phase::Queued,
                since: self.now,
            },
        );
        self.persist(EventKind::InteractionQueued { interaction: ix, callback: id, queue });
        self.notify(Notice::Queue(queue));
        self.notify(Notice::Callback(id));
    }

    pub(crate) fn on_offered(
        &mut self,
        offer: OfferId,
        ix: InteractionId,
        agent: AgentId,
        expires_at: Timestamp,
    ) {
        let now = self.now;
        let Some(inter) = self.interactions.get_mut(&ix) else { return };
        inter.agent = Some(agent);
        inter.offer = Some(offer);
        inter.phase = Phase::Offered;
        inter.since = now;
        let (queue, callback) = (inter.queue, inter.callback);
        if let Some(info) = self.agents.get_mut(&agent) {
            info.offers.push(OfferInfo { offer, interaction: ix, offered_at: now, expires_at });
            info.active.push(ix);
        }
        self.persist(EventKind::AgentReserved { interaction: ix, agent });
        self.notify(Notice::Agent(agent));
        self.notify(Notice::Queue(queue));
        self.notify_callback(callback);
        let Some(policy) = self.queues.get(&queue).map(|q| q.callback.clone()) else { return };
        // A caller is already on the line: ring the agent first whatever the callback order.
        let order = if callback.is_none() { CallOrder::AgentFirst } else { policy.order };
        match (order, policy.accept) {
            (CallOrder::CustomerFirst, _) => {
                // The agent is held for this customer; the offer is settled now.
                if self.router.handle_accept(self.now, offer).is_ok() {
                    self.offer_settled(agent, offer, ix);
                    self.dial_customer(ix);
                }
            }
            (CallOrder::AgentFirst, AcceptMode::Auto) => self.dial_agent(ix),
            (CallOrder::AgentFirst, AcceptMode::Console) => {}
        }
    }

    pub(crate) fn accept_offer(
        &mut self,
        agent: AgentId,
        offer: OfferId,
    ) -> Result<(), EngineError> {
        self.check_offer(agent, offer)?;
        let ix = self
            .agents
            .get(&agent)
            .and_then(|a| a.offers.iter().find(|o| o.offer == offer))
            .map(|o| o.interaction)
            .ok_or(EngineError::NotYourOffer(offer))?;
        if self.interactions.get(&ix).is_some_and(|i| i.phase == Phase::Offered) {
            self.dial_agent(ix);
        }
        Ok(())
    }

    fn offer_settled(&mut self, agent: AgentId, offer: OfferId, ix: InteractionId) {
        if let Some(info) = self.agents.get_mut(&agent) {
            info.offers.retain(|o| o.offer != offer);
        }
        if let Some(inter) = self.interactions.get_mut(&ix) {
            inter.offer = None;
        }
        self.notify(Notice::Agent(agent));
    }

    pub(crate) fn on_offer_ended(
        &mut self,
        offer: OfferId,
        ix: InteractionId,
        agent: AgentId,
        end: OfferEnd,
    ) {
        if let Some(info) = self.agents.get_mut(&agent) {
            info.offers.retain(|o| o.offer != offer);
            if end != OfferEnd::Accepted {
                info.active.retain(|i| *i != ix);
            }
        }
        self.notify(Notice::Agent(agent));
        if end == OfferEnd::Accepted {
            return;
        }
        let now = self.now;
        let Some(inter) = self.interactions.get_mut(&ix) else { return };
        if inter.offer != Some(offer) {
            return;
        }
        // Back to waiting: the agent's phone, if it was being rung, is released.
        let leg = inter.agent_leg.take();
        inter.offer = None;
        inter.agent = None;
        inter.agent_answered = false;
        inter.phase = Phase::Queued;
        inter.since = now;
        let (queue, callback) = (inter.queue, inter.callback);
        if let Some(leg) = leg {
            self.legs.remove(&leg);
            self.outputs.push_back(Output::Telephony(TelCommand::Hangup { leg }));
        }
        self.notify(Notice::Queue(queue));
        self.notify_callback(callback);
    }

    fn notify_callback(&mut self, callback: Option<CallbackId>) {
        if let Some(callback) = callback {
            self.notify(Notice::Callback(callback));
        }
    }

    fn dial_agent(&mut self, ix: InteractionId) {
        let Some(agent) = self.interactions.get(&ix).and_then(|i| i.agent) else { return };
        let leg = self.new_leg(ix, Side::Agent);
        let ring_ms_max = self.config.agent_ring_ms;
        let now = self.now;
        if let Some(inter) = self.interactions.get_mut(&ix) {
            inter.agent_leg = Some(leg);
            if inter.phase == Phase::Offered {
                inter.phase = Phase::DialingAgent;
                inter.since = now;
            }
        }
        self.outputs.push_back(Output::Telephony(TelCommand::Originate {
            leg,
            to: Endpoint::Agent(agent),
            caller_id: None,
            ring_ms_max,
            detect_machine: domain::telephony::MachineDetection::Off,
        }));
        self.notify(Notice::Agent(agent));
    }

    fn dial_customer(&mut self, ix: InteractionId) {
        let Some(inter) = self.interactions.get(&ix) else { return };
        let (Some(callback), queue) = (inter.callback, inter.queue) else { return };
        let Some(cb) = self.callbacks.get_mut(&callback) else { return };
        cb.spec.attempts += 1;
        let attempt = cb.spec.attempts;
        let phone = cb.spec.phone.clone();
        let (ring_ms_max, caller_id) = match self.queues.get(&queue) {
            Some(q) => (q.callback.customer_ring_ms, q.callback.caller_id.clone()),
            None => return,
        };
        let leg = self.new_leg(ix, Side::Customer);
        let now = self.now;
        let agent = if let Some(inter) = self.interactions.get_mut(&ix) {
            inter.customer_leg = Some(leg);
            inter.attempt = attempt;
            inter.phase = Phase::DialingCustomer;
            inter.since = now;
            inter.agent
        } else {
            None
        };
        // Persisted before the Originate below: after a crash this dial is known to have
        // happened and is counted, so it is never repeated beyond the attempt limit.
        self.persist(EventKind::CustomerDialed { interaction: ix, callback, attempt });
        self.outputs.push_back(Output::Telephony(TelCommand::Originate {
            leg,
            to: Endpoint::Number(phone),
            caller_id,
            ring_ms_max,
            detect_machine: domain::telephony::MachineDetection::Off,
        }));
        if let Some(agent) = agent {
            self.notify(Notice::Agent(agent));
        }
        self.notify(Notice::Callback(callback));
    }

    pub(crate) fn on_leg_event(&mut self, event: LegEvent) {
        let Some(&(ix, side)) = self.legs.get(&event.leg) else { return };
        if event.kind.is_final() {
            self.legs.remove(&event.leg);
            if let Some(inter) = self.interactions.get_mut(&ix) {
                match side {
                    Side::Agent => inter.agent_leg = None,
                    Side::Customer => inter.customer_leg = None,
                }
            }
        }
        let Some(inter) = self.interactions.get(&ix) else { return };
        let (phase, offer, agent) = (inter.phase, inter.offer, inter.agent);
        let inbound = inter.callback.is_none();
        let order = if inbound {
            // The caller is on the line: once the agent answers, they are bridged.
            CallOrder::CustomerFirst
        } else {
            self.queues.get(&inter.queue).map_or(CallOrder::AgentFirst, |q| q.callback.order)
        };
        match (side, event.kind) {
            (_, LegEventKind::Ringing) => {}
            (Side::Agent, LegEventKind::Answered | LegEventKind::MachineAnswered) => {
                if let Some(offer) = offer {
                    if self.router.handle_accept(self.now, offer).is_err() {
                        self.hangup_leg(event.leg);
                        return;
                    }
                    if let Some(agent) = agent {
                        self.offer_settled(agent, offer, ix);
                    }
                }
                if let Some(inter) = self.interactions.get_mut(&ix) {
                    inter.agent_answered = true;
                }
                if let Some(agent) = agent {
                    self.persist(EventKind::AgentConnected { interaction: ix, agent });
                }
                match order {
                    CallOrder::AgentFirst => self.dial_customer(ix),
                    CallOrder::CustomerFirst => self.bridge(ix),
                }
            }
            (Side::Agent, _) => {
                // The agent's phone failed, or the agent hung up.
                match (phase, offer) {
                    (_, Some(offer)) => {
                        // Still an open offer: a miss; the router re-offers the task.
                        let _ = self.router.handle_reject(self.now, offer);
                    }
                    (Phase::Connected, _) => self.end_interaction(ix, Outcome::Completed),
                    _ => self.end_interaction(ix, Outcome::AgentFailed),
                }
            }
            // Callbacks have no machine policy: whoever answers is connected to the agent.
            (Side::Customer, LegEventKind::Answered | LegEventKind::MachineAnswered) => {
                if let Some(inter) = self.interactions.get_mut(&ix) {
                    inter.customer_answered = true;
                }
                self.persist(EventKind::CustomerAnswered { interaction: ix });
                match order {
                    CallOrder::AgentFirst => self.bridge(ix),
                    CallOrder::CustomerFirst => self.dial_agent(ix),
                }
            }
            (Side::Customer, kind) => {
                let outcome = match (phase, kind) {
                    (Phase::Connected, _) => Outcome::Completed,
                    _ if inbound => Outcome::Abandoned,
                    (_, LegEventKind::Busy) => Outcome::Busy,
                    (_, LegEventKind::NoAnswer) => Outcome::NoAnswer,
                    _ => Outcome::Failed,
                };
                self.end_interaction(ix, outcome);
            }
        }
    }

    fn bridge(&mut self, ix: InteractionId) {
        let now = self.now;
        let Some(inter) = self.interactions.get_mut(&ix) else { return };
        let (Some(a), Some(b)) = (inter.agent_leg, inter.customer_leg) else { return };
        inter.phase = Phase::Connected;
        inter.since = now;
        let agent = inter.agent;
        self.outputs.push_back(Output::Telephony(TelCommand::Bridge { a, b }));
        let record = TelCommand::Record { interaction: ix, customer: b, agent: a };
        self.outputs.push_back(Output::Telephony(record));
        self.persist(EventKind::Bridged { interaction: ix });
        if let Some(agent) = agent {
            self.notify(Notice::Agent(agent));
        }
    }

    fn hangup_leg(&mut self, leg: domain::LegId) {
        self.legs.remove(&leg);
        self.outputs.push_back(Output::Telephony(TelCommand::Hangup { leg }));
    }

    pub(crate) fn agent_hangup(
        &mut self,
        agent: AgentId,
        ix: InteractionId,
    ) -> Result<(), EngineError> {
        let inter = self.interactions.get(&ix).ok_or(EngineError::NotYourInteraction(ix))?;
        if inter.agent != Some(agent) || inter.phase == Phase::Ended {
            return Err(EngineError::NotYourInteraction(ix));
        }
        let outcome = match inter.phase {
            Phase::Connected => Outcome::Completed,
            Phase::DialingCustomer if inter.attempt > 0 => Outcome::NoAnswer,
            _ => Outcome::AgentFailed,
        };
        self.end_interaction(ix, outcome);
        Ok(())
    }

    /// Key presses from the agent's console to the customer's leg of a connected call.
    pub(crate) fn agent_dtmf(
        &mut self,
        agent: AgentId,
        ix: InteractionId,
        digits: String,
    ) -> Result<(), EngineError> {
        let inter = self.interactions.get(&ix).ok_or(EngineError::NotYourInteraction(ix))?;
        let connected = inter.phase == Phase::Connected && inter.agent == Some(agent);
        let leg = inter.customer_leg.filter(|_| connected);
        let leg = leg.ok_or(EngineError::NotYourInteraction(ix))?;
        self.outputs.push_back(Output::Telephony(TelCommand::SendDtmf { leg, digits }));
        Ok(())
    }

    /// Ends an interaction exactly once: hangs up its legs, frees the agent, records the
    /// outcome and moves the callback on.
    pub(crate) fn end_interaction(&mut self, ix: InteractionId, outcome: Outcome) {
        let now = self.now;
        let Some(inter) = self.interactions.get_mut(&ix) else { return };
        assert!(inter.phase != Phase::Ended, "interaction {ix:?} ended twice");
        inter.phase = Phase::Ended;
        inter.since = now;
        inter.offer = None;
        let legs = [inter.agent_leg.take(), inter.customer_leg.take()];
        let (agent, callback, queue) = (inter.agent, inter.callback, inter.queue);
        for leg in legs.into_iter().flatten() {
            self.hangup_leg(leg);
        }
        let task = Self::task_of(ix);
        match self.router.task(task).map(|t| t.state) {
            Some(TaskState::Assigned { .. }) if outcome == Outcome::Completed => {
                let _ = self.router.handle_release(now, task);
            }
            Some(_) => {
                let _ = self.router.handle_cancel(now, task);
            }
            None => {}
        }
        self.persist(EventKind::InteractionEnded { interaction: ix, outcome });
        if let Some(agent) = agent {
            if let Some(info) = self.agents.get_mut(&agent) {
                info.active.retain(|i| *i != ix);
                if outcome == Outcome::Completed {
                    info.wrapping.push(ix);
                    if info.wrapping.len() > WRAP_UPS_PER_AGENT_MAX {
                        let dropped = info.wrapping.remove(0);
                        self.interactions.remove(&dropped);
                    }
                }
            }
            self.notify(Notice::Agent(agent));
        }
        if outcome != Outcome::Completed || agent.is_none() {
            self.interactions.remove(&ix);
        }
        self.notify(Notice::Queue(queue));
        if let Some(callback) = callback {
            self.next_step(callback, outcome);
        }
    }

    /// After an attempt: done, retry later, retry now, or give up.
    fn next_step(&mut self, id: CallbackId, outcome: Outcome) {
        let Some(cb) = self.callbacks.get(&id) else { return };
        let attempts = cb.spec.attempts;
        let Some(policy) = self.queues.get(&cb.spec.queue).map(|q| q.callback.clone()) else {
            return;
        };
        let finished = match outcome {
            Outcome::Completed => Some(CallbackStatus::Done),
            _ if attempts >= policy.max_attempts => Some(CallbackStatus::Failed),
            _ => None,
        };
        if let Some(status) = finished {
            self.callbacks.remove(&id);
            self.persist(EventKind::CallbackFinished { callback: id, status });
            self.notify(Notice::Callback(id));
            return;
        }
        let delay = match outcome {
            Outcome::NoAnswer | Outcome::Busy | Outcome::Failed => {
                let i = (attempts as usize).saturating_sub(1);
                policy
                    .retry_delays_ms
                    .get(i)
                    .or(policy.retry_delays_ms.last())
                    .copied()
                    .unwrap_or(0)
            }
            // Not the customer's doing: try again at once with another agent.
            _ => 0,
        };
        self.schedule(id, self.now.plus_ms(delay), attempts);
    }
}
