//! Calls arriving from the trunk: a greeting with a key-press menu, then the chosen queue with
//! music on hold, then the first free agent's phone, then the bridge.
//!
//! The network answers an arriving call and reports it as [`Input::Incoming`]; the call is an
//! IVR leg here until a menu choice (or the menu's timeout) puts it in a queue. From then on it
//! is an interaction like a callback, whose customer leg is already answered: the agent's
//! phone is rung when the router offers the task, and the two are bridged when it answers.
//!
//! Inbound calls take the route's priority, which is set above the callback priority by
//! default, so a callback never starves a live caller of the same queue.
//!
//! [`Input::Incoming`]: crate::Input::Incoming

use domain::event::EventKind;
use domain::telephony::TelCommand;
use domain::{InteractionId, LegId, QueueId, Timestamp};
use routing::TaskSpec;

use crate::center::{Center, Interaction, Side};
use crate::io::{Notice, Output};
use crate::snapshot::Phase;

/// Callers in the menu at once; beyond, new calls are hung up.
pub const IVR_CALLS_MAX: usize = 10_000;
/// Routes configured at once.
pub const INBOUND_ROUTES_MAX: usize = 1_000;
/// The caller number kept (and persisted) is cut to this length.
pub const CALLER_CHARS_MAX: usize = 64;

/// Where calls to one dialed number go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundRoute {
    /// The dialed number or user part this route serves; `None` serves any.
    pub dialed: Option<String>,
    /// Played on answer; it should announce the menu.
    pub greeting: Option<String>,
    /// Key to queue. Empty: straight to `queue`.
    pub menu: Vec<(char, QueueId)>,
    /// Without a menu, on the menu's timeout, or on an unknown key.
    pub queue: QueueId,
    pub menu_timeout_ms: u64,
    /// Looped while the caller waits.
    pub hold_prompt: Option<String>,
    /// Task priority; above the queue's callback priority so callers come first.
    pub priority: i32,
}

/// A caller in the greeting and menu.
pub(crate) struct IvrCall {
    route: usize,
    caller: String,
    deadline: Timestamp,
}

impl Center {
    pub(crate) fn set_inbound_routes(&mut self, mut routes: Vec<InboundRoute>) {
        routes.truncate(INBOUND_ROUTES_MAX);
        self.inbound_routes = routes;
    }

    pub(crate) fn on_incoming(&mut self, leg: LegId, caller: String, dialed: &str) {
        let route = self
            .inbound_routes
            .iter()
            .position(|r| r.dialed.as_deref() == Some(dialed))
            .or_else(|| self.inbound_routes.iter().position(|r| r.dialed.is_none()));
        let Some(index) = route.filter(|_| self.ivr.len() < IVR_CALLS_MAX) else {
            self.outputs.push_back(Output::Telephony(TelCommand::Hangup { leg }));
            return;
        };
        let caller: String = caller.chars().take(CALLER_CHARS_MAX).collect();
        let route = self.inbound_routes[index].clone();
        if route.menu.is_empty() {
            self.enqueue_caller(leg, caller, route.queue, &route);
            return;
        }
        if let Some(greeting) = route.greeting.clone() {
            self.play(leg, greeting, false);
        }
        let deadline = self.now.plus_ms(route.menu_timeout_ms);
        self.ivr.insert(leg, IvrCall { route: index, caller, deadline });
        self.ivr_due.insert((deadline, leg));
    }

    pub(crate) fn on_dtmf(&mut self, leg: LegId, digit: char) {
        let Some(call) = self.ivr.get(&leg) else { return };
        let Some(route) = self.inbound_routes.get(call.route).cloned() else { return };
        let queue = route.menu.iter().find(|(key, _)| *key == digit).map(|(_, q)| *q);
        let queue = queue.unwrap_or(route.queue);
        if let Some(caller) = self.leave_ivr(leg) {
            self.enqueue_caller(leg, caller, queue, &route);
        }
    }

    /// Menus whose time ran out go to the route's default queue.
    pub(crate) fn fire_ivr_timeouts(&mut self) {
        while let Some(&(at, leg)) = self.ivr_due.first() {
            if at > self.now {
                break;
            }
            let Some(route) = self.ivr.get(&leg).and_then(|c| self.inbound_routes.get(c.route))
            else {
                self.ivr_due.remove(&(at, leg));
                continue;
            };
            let route = route.clone();
            if let Some(caller) = self.leave_ivr(leg) {
                self.enqueue_caller(leg, caller, route.queue, &route);
            }
        }
    }

    /// The caller hung up in the menu.
    pub(crate) fn ivr_hangup(&mut self, leg: LegId) -> bool {
        self.leave_ivr(leg).is_some()
    }

    fn leave_ivr(&mut self, leg: LegId) -> Option<String> {
        let call = self.ivr.remove(&leg)?;
        self.ivr_due.remove(&(call.deadline, leg));
        Some(call.caller)
    }

    fn play(&mut self, leg: LegId, prompt: String, looping: bool) {
        self.outputs.push_back(Output::Telephony(TelCommand::Play { leg, prompt, looping }));
    }

    fn enqueue_caller(&mut self, leg: LegId, caller: String, queue: QueueId, route: &InboundRoute) {
        let ix = InteractionId(self.next_interaction);
        let spec =
            TaskSpec { id: Self::task_of(ix), queue, priority: route.priority, skills: Vec::new() };
        if self.router.handle_enqueue(self.now, spec).is_err() {
            // Unknown or full queue: nobody can take the call.
            self.outputs.push_back(Output::Telephony(TelCommand::Hangup { leg }));
            return;
        }
        self.next_interaction += 1;
        self.legs.insert(leg, (ix, Side::Customer));
        self.interactions.insert(
            ix,
            Interaction {
                id: ix,
                callback: None,
                caller: Some(caller.clone()),
                queue,
                attempt: 1,
                agent: None,
                offer: None,
                agent_leg: None,
                customer_leg: Some(leg),
                agent_answered: false,
                customer_answered: true,
                phase: Phase::Queued,
                since: self.now,
            },
        );
        self.persist(EventKind::InboundQueued { interaction: ix, queue, caller });
        if let Some(hold) = route.hold_prompt.clone() {
            self.play(leg, hold, true);
        }
        self.notify(Notice::Queue(queue));
    }
}
