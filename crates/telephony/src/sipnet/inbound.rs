//! Requests from the far end: REGISTER from agent phones, BYE and re-INVITE within our legs'
//! dialogs, OPTIONS pings, and refusals for what we do not serve.

use domain::telephony::{LegEventKind, MachineDetection, NetEvent};
use domain::{LegId, Timestamp};
use sip::registrar::Outcome;
use sip::{HeaderAccess, HeaderName, Method, Peer, Request, Response, TransactionId};

use sip::sdp::Direction;

use super::{offer, Leg, LegState, LegTimer, MediaCommand, SipNetwork, SipNotice};

const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER";

impl SipNetwork {
    pub(super) fn on_request(
        &mut self,
        now: Timestamp,
        id: TransactionId,
        request: Request,
        from: Peer,
        cancels: Option<TransactionId>,
    ) {
        let response = match request.method {
            Method::Register => self.on_register(now, &request, from),
            Method::Options => {
                let mut ok = self.reply(&request, 200, "OK");
                ok.headers.push(HeaderName::Allow, ALLOW);
                ok
            }
            Method::Bye => self.on_bye(&request),
            Method::Invite => self.on_invite(now, id, &request, from),
            Method::Cancel => match cancels {
                // We never leave an inbound INVITE pending, so nothing is left to cancel.
                Some(_) => self.reply(&request, 200, "OK"),
                None => self.reply(&request, 481, "Call/Transaction Does Not Exist"),
            },
            _ => {
                let mut refusal = self.reply(&request, 405, "Method Not Allowed");
                refusal.headers.push(HeaderName::Allow, ALLOW);
                refusal
            }
        };
        if let Err(error) = self.layer.handle_send_response(now, id, response) {
            tracing::debug!(%error, "could not answer a SIP request");
        }
    }

    /// A response with a To tag (ours), as every final response outside a dialog needs.
    fn reply(&self, request: &Request, status: u16, reason: &str) -> Response {
        let mut response = request.make_response(status, reason);
        if let Ok(mut to) = request.to() {
            if to.tag().is_none() {
                let seed = request.call_id().unwrap_or_default().len() as u64 ^ self.config.seed;
                to.set_tag(&format!("sb{seed:x}"));
                response.headers.set(HeaderName::To, to.to_string());
            }
        }
        response.headers.push(HeaderName::Server, "Switchboard");
        response
    }

    fn on_register(&mut self, now: Timestamp, request: &Request, from: Peer) -> Response {
        let accounts = &self.config.accounts;
        let password_of =
            |user: &str| accounts.iter().find(|a| a.username == user).map(|a| a.password.clone());
        let (response, outcome) = self.registrar.handle_register(now, request, from, password_of);
        match outcome {
            Outcome::Registered { username } => {
                if let Some(agent) = self.agent_of(&username) {
                    self.notices.push_back(SipNotice::Registered { agent });
                }
            }
            Outcome::Unregistered { username } => {
                if let Some(agent) = self.agent_of(&username) {
                    self.notices.push_back(SipNotice::Unregistered { agent });
                }
            }
            Outcome::Challenged | Outcome::Refused { .. } => {}
        }
        response
    }

    /// The leg whose dialog `request` belongs to.
    fn leg_of(&self, request: &Request) -> Option<LegId> {
        let leg = *self.call_ids.get(request.call_id().ok()?)?;
        let dialog = self.legs.get(&leg)?.dialog.as_ref()?;
        dialog.matches(request).then_some(leg)
    }

    fn on_bye(&mut self, request: &Request) -> Response {
        let Some(leg) = self.leg_of(request) else {
            return self.reply(request, 481, "Call/Transaction Does Not Exist");
        };
        let ok = request.make_response(200, "OK");
        if self.legs.get(&leg).is_some_and(|l| l.state != LegState::Ending) {
            self.leg_event(leg, LegEventKind::HungUp { by_remote: true });
        }
        self.release(leg);
        ok
    }

    fn on_invite(
        &mut self,
        now: Timestamp,
        id: TransactionId,
        request: &Request,
        from: Peer,
    ) -> Response {
        let has_to_tag = request.to().ok().is_some_and(|to| to.tag().is_some());
        if !has_to_tag {
            return self.on_new_call(now, id, request, from);
        }
        let Some(leg) = self.leg_of(request) else {
            return self.reply(request, 481, "Call/Transaction Does Not Exist");
        };
        let Some(l) = self.legs.get_mut(&leg) else {
            return self.reply(request, 481, "Call/Transaction Does Not Exist");
        };
        if let Some(dialog) = l.dialog.as_mut() {
            if dialog.accept_remote_seq(request).is_err() {
                return request.make_response(500, "Server Internal Error");
            }
        }
        // Hold or resume: answer with our same address and the mirrored direction.
        let direction = offer::answer_direction(&request.body);
        let port = l.port;
        let transport = l.peer.transport;
        let mut ok = request.make_response(200, "OK");
        ok.headers.push(HeaderName::Contact, self.contact(transport));
        ok.headers.push(HeaderName::ContentType, "application/sdp");
        ok.body = offer::offer(self.config.media_ip, port, u64::from(port), direction);
        if let Some(remote) = offer::remote_media(&request.body) {
            self.media.push_back(MediaCommand::Remote { leg, remote });
        }
        ok
    }

    /// A call arriving from the trunk: answered at once (the engine decides what the caller
    /// hears) and reported as [`NetEvent::Incoming`].
    fn on_new_call(
        &mut self,
        now: Timestamp,
        id: TransactionId,
        request: &Request,
        from: Peer,
    ) -> Response {
        let from_trunk = self.config.trunk.as_ref().is_some_and(|t| t.proxy.ip() == from.addr.ip());
        if !from_trunk {
            return self.reply(request, 403, "Forbidden");
        }
        let Some(remote) = offer::remote_media(&request.body) else {
            return self.reply(request, 488, "Not Acceptable Here");
        };
        let Some(port) = self.ports.take() else {
            return self.reply(request, 503, "Service Unavailable");
        };
        let tag = self.token(10);
        let dialog = match sip::dialog::Dialog::from_uas(request, &tag) {
            Ok(dialog) => dialog,
            Err(_) => {
                self.ports.release(port);
                return self.reply(request, 400, "Bad Request");
            }
        };
        let leg = LegId(self.next_inbound_leg);
        self.next_inbound_leg += 1;
        let mut ok = request.make_response(200, "OK");
        ok.headers.set(HeaderName::To, dialog.local_party.clone());
        ok.headers.push(HeaderName::Contact, self.contact(from.transport));
        ok.headers.push(HeaderName::Allow, ALLOW);
        ok.headers.push(HeaderName::ContentType, "application/sdp");
        ok.body = offer::offer(self.config.media_ip, port, u64::from(port), Direction::SendRecv);
        let user = |value: Option<&str>| {
            value
                .and_then(|v| sip::NameAddr::parse(v).ok())
                .and_then(|a| sip::Uri::parse(&a.uri).ok())
                .and_then(|u| u.user)
                .unwrap_or_default()
        };
        let caller = user(request.headers.get(&HeaderName::From));
        let dialed = sip::Uri::parse(&request.uri).ok().and_then(|u| u.user).unwrap_or_default();
        if let Ok(call_id) = request.call_id() {
            self.call_ids.insert(call_id.to_string(), leg);
        }
        let t1 = self.config.timers.t1_ms;
        self.legs.insert(
            leg,
            Leg {
                state: LegState::Answered,
                invite: request.clone(),
                invite_tx: None,
                peer: from,
                dialog: Some(dialog),
                port,
                provisional: true,
                cancel_pending: false,
                auth_attempted: false,
                to_trunk: true,
                detect_machine: MachineDetection::Off,
                detecting: false,
                answer: Some((id, ok.clone(), t1)),
                timers: Default::default(),
            },
        );
        self.set_timer(leg, LegTimer::Resend2xx, now.plus_ms(t1));
        self.media.push_back(MediaCommand::Open { leg, port });
        self.media.push_back(MediaCommand::Remote { leg, remote });
        tracing::debug!(%leg, "inbound call answered");
        self.events.push_back(NetEvent::Incoming { leg, caller, dialed });
        ok
    }

    /// The ACK for our 2xx: stop resending it.
    pub(super) fn on_ack(&mut self, request: &Request) {
        let Some(leg) = self.leg_of(request) else { return };
        if let Some(l) = self.legs.get_mut(&leg) {
            l.answer = None;
        }
        self.clear_timer(leg, LegTimer::Resend2xx);
    }

    /// RFC 3261 §13.3.1.4: the 2xx is resent, doubling from T1 up to T2, until the ACK; with
    /// no ACK after 64*T1 the call is ended.
    pub(super) fn resend_2xx(&mut self, now: Timestamp, leg: LegId) {
        let timers = self.config.timers;
        let Some(l) = self.legs.get_mut(&leg) else { return };
        let Some((tx, response, interval)) = l.answer.take() else { return };
        let next = (interval * 2).min(timers.t2_ms);
        let resent = self.layer.handle_send_response(now, tx, response.clone()).is_ok();
        if resent {
            if let Some(l) = self.legs.get_mut(&leg) {
                l.answer = Some((tx, response, next));
            }
            self.set_timer(leg, LegTimer::Resend2xx, now.plus_ms(next));
        } else if self.legs.get(&leg).is_some_and(|l| l.state == LegState::Answered) {
            // Timer L ended the transaction without an ACK: the caller is not there.
            self.leg_event(leg, LegEventKind::HungUp { by_remote: true });
            self.send_bye(now, leg);
        }
    }
}
