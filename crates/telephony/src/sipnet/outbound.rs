//! Our side of every leg: INVITE out, responses in, CANCEL and BYE, the ring timer, and digest
//! answers to a trunk's challenge.

use domain::telephony::{Endpoint, LegEventKind, MachineDetection};
use domain::{LegId, Timestamp};
use sip::dialog::Dialog;
use sip::digest::{Challenge, Credentials};
use sip::message::CSeq;
use sip::sdp::Direction;
use sip::{HeaderAccess, HeaderName, Message, Method, Peer, Request, Response, Transport, Via};

use super::{offer, Leg, LegState, LegTimer, MediaCommand, NumberFormat, SipNetwork, TxRole};

/// Machine detection's verdict is awaited this long beyond its analysis cap (a loaded relay,
/// packets late) before the answer is reported as a person's.
const MACHINE_DETECTION_SLACK_MS: u64 = 2_000;
/// How long a leg may stay in Ending (CANCEL or BYE unanswered) before it is dropped.
const REAP_MS: u64 = 40_000;

impl SipNetwork {
    pub(super) fn originate(
        &mut self,
        now: Timestamp,
        leg: LegId,
        to: &Endpoint,
        caller_id: Option<&str>,
        ring_ms_max: u64,
        detect_machine: MachineDetection,
    ) {
        let result = self.try_originate(now, leg, to, caller_id, ring_ms_max, detect_machine);
        if let Err(reason) = result {
            tracing::info!(%leg, to = Self::endpoint_name(to), reason, "originate failed");
            self.leg_event(leg, LegEventKind::Failed);
        }
    }

    fn try_originate(
        &mut self,
        now: Timestamp,
        leg: LegId,
        to: &Endpoint,
        caller_id: Option<&str>,
        ring_ms_max: u64,
        detect_machine: MachineDetection,
    ) -> Result<(), &'static str> {
        if self.legs.contains_key(&leg) {
            return Err("leg id already in use");
        }
        if self.legs.len() >= self.config.legs_max {
            return Err("too many legs");
        }
        let (uri, peer, to_trunk) = match to {
            Endpoint::Agent(agent) => {
                let account = self.account_of(*agent).ok_or("agent has no SIP account")?;
                let binding = self
                    .registrar
                    .lookup(&account.username, now)
                    .ok_or("agent phone not registered")?;
                (binding.contact.clone(), binding.peer, false)
            }
            Endpoint::Number(number) => {
                let trunk = self.config.trunk.as_ref().ok_or("no trunk configured")?;
                let e164 = number.as_str();
                let user = match trunk.number_format {
                    NumberFormat::E164 => e164.to_string(),
                    NumberFormat::E164NoPlus => e164.trim_start_matches('+').to_string(),
                };
                let uri = format!("sip:{user}@{}", trunk.domain);
                (uri, Peer::new(trunk.transport, trunk.proxy), true)
            }
        };
        let port = self.ports.take().ok_or("no free RTP port")?;
        let caller = caller_id
            .map(str::to_string)
            .or_else(|| self.config.trunk.as_ref().and_then(|t| t.caller_id.clone()))
            .unwrap_or_else(|| "switchboard".into());
        let host = self.config.signal_addr.ip().to_string();
        let call_id = format!("{}@{host}", self.token(20));
        let mut invite = Request::new(Method::Invite, uri.clone());
        let branch = self.branch();
        let tag = self.token(10);
        self.push_via(&mut invite, &branch, peer.transport);
        invite.headers.push(HeaderName::MaxForwards, "70");
        invite.headers.push(HeaderName::From, format!("<sip:{caller}@{host}>;tag={tag}"));
        invite.headers.push(HeaderName::To, format!("<{uri}>"));
        invite.headers.push(HeaderName::CallId, call_id.clone());
        invite.headers.push(HeaderName::CSeq, "1 INVITE");
        invite.headers.push(HeaderName::Contact, self.contact(peer.transport));
        invite.headers.push(HeaderName::Allow, "INVITE, ACK, CANCEL, BYE, OPTIONS");
        invite.headers.push(HeaderName::UserAgent, "Switchboard");
        invite.headers.push(HeaderName::ContentType, "application/sdp");
        let session_id = self.rng_u32();
        invite.body = offer::offer(self.config.media_ip, port, session_id, Direction::SendRecv);
        let tx = match self.layer.handle_send_request(now, invite.clone(), peer) {
            Ok(tx) => tx,
            Err(_) => {
                self.ports.release(port);
                return Err("transaction table full");
            }
        };
        self.transactions.insert(tx, (leg, TxRole::Invite));
        self.call_ids.insert(call_id, leg);
        self.legs.insert(
            leg,
            Leg {
                state: LegState::Inviting,
                invite,
                invite_tx: Some(tx),
                peer,
                dialog: None,
                port,
                provisional: false,
                cancel_pending: false,
                auth_attempted: false,
                to_trunk,
                // Only a customer's line may be a machine.
                detect_machine: if to_trunk { detect_machine } else { MachineDetection::Off },
                detecting: false,
                answer: None,
                timers: Default::default(),
            },
        );
        self.media.push_back(MediaCommand::Open { leg, port });
        self.set_timer(leg, LegTimer::Ring, now.plus_ms(ring_ms_max));
        Ok(())
    }

    fn rng_u32(&mut self) -> u64 {
        u64::from(rand::Rng::gen::<u32>(&mut self.rng))
    }

    fn push_via(&self, request: &mut Request, branch: &str, transport: Transport) {
        let addr = self.config.signal_addr;
        let host = addr.ip().to_string();
        let mut via = Via::new(transport.as_str(), &host, Some(addr.port()), branch);
        via.params.set("rport", None);
        request.headers.push_front(HeaderName::Via, via.to_string());
    }

    pub(super) fn on_response(
        &mut self,
        now: Timestamp,
        tx: sip::TransactionId,
        response: Response,
    ) {
        let Some(&(leg, role)) = self.transactions.get(&tx) else { return };
        match role {
            TxRole::Invite => self.on_invite_response(now, leg, tx, response),
            TxRole::Bye if response.status >= 200 => self.release(leg),
            TxRole::Bye | TxRole::Cancel => {}
        }
    }

    fn on_invite_response(
        &mut self,
        now: Timestamp,
        leg: LegId,
        tx: sip::TransactionId,
        response: Response,
    ) {
        let Some(l) = self.legs.get_mut(&leg) else { return };
        if l.invite_tx != Some(tx) {
            return; // an answer to an INVITE we already replaced (sent again with credentials)
        }
        let status = response.status;
        if status > 100 {
            l.provisional = true;
        }
        match status {
            100 => {}
            101..=199 => {
                if l.cancel_pending {
                    l.cancel_pending = false;
                    self.send_cancel(now, leg);
                    return;
                }
                if l.state == LegState::Inviting {
                    l.state = LegState::Ringing;
                    self.leg_event(leg, LegEventKind::Ringing);
                }
                // 183 with SDP: early media (announcements, ringback) flows before answer.
                if let Some(remote) = offer::remote_media(&response.body) {
                    self.media.push_back(MediaCommand::Remote { leg, remote });
                }
            }
            200..=299 => self.on_invite_success(now, leg, response),
            401 | 407 if !l.auth_attempted && l.to_trunk => {
                if !self.resend_with_credentials(now, leg, &response) {
                    self.fail_invite(leg, LegEventKind::Failed);
                }
            }
            _ => {
                let kind = match status {
                    486 | 600 | 603 => LegEventKind::Busy,
                    408 | 480 | 487 => LegEventKind::NoAnswer,
                    _ => LegEventKind::Failed,
                };
                self.fail_invite(leg, kind);
            }
        }
    }

    fn on_invite_success(&mut self, now: Timestamp, leg: LegId, response: Response) {
        let Some(l) = self.legs.get_mut(&leg) else { return };
        let invite_seq = l.invite.cseq().map(|c| c.seq).unwrap_or(1);
        if l.dialog.is_none() {
            match Dialog::from_uac(&l.invite, &response) {
                Ok(dialog) => l.dialog = Some(dialog),
                Err(error) => {
                    tracing::warn!(%leg, %error, "2xx without a usable dialog; giving up on it");
                    self.fail_invite(leg, LegEventKind::Failed);
                    return;
                }
            }
        }
        // Every 2xx (retransmissions too) gets its ACK, end to end.
        self.send_ack(leg, invite_seq);
        let Some(l) = self.legs.get_mut(&leg) else { return };
        match l.state {
            LegState::Inviting | LegState::Ringing => {
                l.state = LegState::Answered;
                l.cancel_pending = false;
                let detection = l.detect_machine;
                self.clear_timer(leg, LegTimer::Ring);
                if let Some(remote) = offer::remote_media(&response.body) {
                    self.media.push_back(MediaCommand::Remote { leg, remote });
                }
                let await_greeting_end = match detection {
                    MachineDetection::Off => {
                        self.leg_event(leg, LegEventKind::Answered);
                        return;
                    }
                    MachineDetection::Detect => false,
                    MachineDetection::DetectAwaitGreetingEnd => true,
                };
                // The answer is reported when the relay has heard enough (or at the cap).
                if let Some(l) = self.legs.get_mut(&leg) {
                    l.detecting = true;
                }
                let amd = &self.config.amd;
                let mut report_ms = amd.total_ms_max + MACHINE_DETECTION_SLACK_MS;
                if await_greeting_end {
                    report_ms += amd.greeting_end_ms_max;
                }
                self.media.push_back(MediaCommand::DetectMachine { leg, await_greeting_end });
                self.set_timer(leg, LegTimer::MachineDetection, now.plus_ms(report_ms));
            }
            LegState::Ending if l.invite_tx.is_some() => {
                // Answered after we gave up (CANCEL crossed the 200): end it at once.
                l.invite_tx = None;
                self.send_bye(now, leg);
            }
            LegState::Answered | LegState::Ending => {}
        }
    }

    fn send_ack(&mut self, leg: LegId, invite_seq: u32) {
        let branch = self.branch();
        let addr = self.config.signal_addr;
        let Some(l) = self.legs.get(&leg) else { return };
        let Some(dialog) = &l.dialog else { return };
        let host = addr.ip().to_string();
        let ack = dialog.make_ack(invite_seq, l.peer.transport, &host, addr.port(), &branch);
        self.layer.handle_send_stateless(&Message::Request(ack), l.peer);
    }

    /// A final failure of our INVITE: report it (unless the engine already heard the leg end)
    /// and forget the leg.
    fn fail_invite(&mut self, leg: LegId, kind: LegEventKind) {
        if let Some(l) = self.legs.get(&leg) {
            if l.state != LegState::Ending {
                self.leg_event(leg, kind);
            }
        }
        self.release(leg);
    }

    fn resend_with_credentials(&mut self, now: Timestamp, leg: LegId, response: &Response) -> bool {
        let Some(trunk) = self.config.trunk.clone() else { return false };
        let (Some(username), Some(password)) = (trunk.username, trunk.password) else {
            return false;
        };
        let (header, answer_header) = if response.status == 407 {
            (HeaderName::ProxyAuthenticate, HeaderName::ProxyAuthorization)
        } else {
            (HeaderName::WwwAuthenticate, HeaderName::Authorization)
        };
        let Some(challenge) = response.headers.get(&header).and_then(|v| Challenge::parse(v).ok())
        else {
            return false;
        };
        let cnonce = self.token(12);
        let branch = self.branch();
        let Some(l) = self.legs.get_mut(&leg) else { return false };
        let mut invite = l.invite.clone();
        let Ok(credentials) = Credentials::answer(
            &challenge,
            "INVITE",
            &invite.uri,
            &username,
            &password,
            &cnonce,
            1,
        ) else {
            return false;
        };
        let seq = invite.cseq().map(|c| c.seq + 1).unwrap_or(2);
        invite.headers.set(HeaderName::CSeq, CSeq { seq, method: Method::Invite }.to_string());
        invite.headers.set(answer_header, credentials.to_string());
        invite.headers.remove(&HeaderName::Via);
        l.auth_attempted = true;
        let peer = l.peer;
        self.push_via(&mut invite, &branch, peer.transport);
        match self.layer.handle_send_request(now, invite.clone(), peer) {
            Ok(tx) => {
                self.transactions.insert(tx, (leg, TxRole::Invite));
                if let Some(l) = self.legs.get_mut(&leg) {
                    l.invite = invite;
                    l.invite_tx = Some(tx);
                    l.provisional = false;
                }
                true
            }
            Err(_) => false,
        }
    }

    pub(super) fn hangup(&mut self, now: Timestamp, leg: LegId) {
        let Some(state) = self.legs.get(&leg).map(|l| l.state) else { return };
        if state == LegState::Ending {
            return;
        }
        self.leg_event(leg, LegEventKind::HungUp { by_remote: false });
        self.hangup_quietly(now, leg);
    }

    /// Ends a leg without telling the engine (it already knows).
    pub(super) fn hangup_quietly(&mut self, now: Timestamp, leg: LegId) {
        let Some(l) = self.legs.get_mut(&leg) else { return };
        match l.state {
            LegState::Inviting | LegState::Ringing => {
                l.state = LegState::Ending;
                if l.provisional {
                    self.send_cancel(now, leg);
                } else {
                    l.cancel_pending = true;
                }
                self.clear_timer(leg, LegTimer::Ring);
                self.set_timer(leg, LegTimer::Reap, now.plus_ms(REAP_MS));
            }
            LegState::Answered => self.send_bye(now, leg),
            LegState::Ending => {}
        }
    }

    pub(super) fn ring_timeout(&mut self, now: Timestamp, leg: LegId) {
        let Some(state) = self.legs.get(&leg).map(|l| l.state) else { return };
        if matches!(state, LegState::Inviting | LegState::Ringing) {
            self.leg_event(leg, LegEventKind::NoAnswer);
            self.hangup_quietly(now, leg);
        }
    }

    fn send_cancel(&mut self, now: Timestamp, leg: LegId) {
        let Some(l) = self.legs.get(&leg) else { return };
        let cancel = l.invite.make_cancel();
        let peer = l.peer;
        if let Ok(tx) = self.layer.handle_send_request(now, cancel, peer) {
            self.transactions.insert(tx, (leg, TxRole::Cancel));
        }
    }

    /// Sends BYE in the leg's dialog and waits (bounded) for its answer before forgetting it.
    pub(super) fn send_bye(&mut self, now: Timestamp, leg: LegId) {
        let branch = self.branch();
        let addr = self.config.signal_addr;
        let Some(l) = self.legs.get_mut(&leg) else { return };
        l.state = LegState::Ending;
        let Some(dialog) = l.dialog.as_mut() else {
            self.release(leg);
            return;
        };
        let host = addr.ip().to_string();
        let peer = l.peer;
        let bye = dialog.make_request(Method::Bye, peer.transport, &host, addr.port(), &branch);
        self.media.push_back(MediaCommand::Close { leg });
        match self.layer.handle_send_request(now, bye, peer) {
            Ok(tx) => {
                self.transactions.insert(tx, (leg, TxRole::Bye));
                self.clear_timer(leg, LegTimer::Ring);
                self.set_timer(leg, LegTimer::Reap, now.plus_ms(REAP_MS));
            }
            Err(_) => self.release(leg),
        }
    }

    pub(super) fn on_timeout(&mut self, _now: Timestamp, tx: sip::TransactionId) {
        let Some((leg, role)) = self.transactions.remove(&tx) else { return };
        match role {
            TxRole::Invite => {
                let kind = match self.legs.get(&leg).map(|l| l.state) {
                    Some(LegState::Ringing) => LegEventKind::NoAnswer,
                    _ => LegEventKind::Failed,
                };
                if self.legs.get(&leg).is_some_and(|l| l.invite_tx == Some(tx)) {
                    self.fail_invite(leg, kind);
                }
            }
            TxRole::Bye => self.release(leg),
            TxRole::Cancel => {}
        }
    }
}

/// The Peer a message for `leg` would go to; used by tests.
#[cfg(test)]
pub(super) fn peer_of(net: &SipNetwork, leg: LegId) -> Option<Peer> {
    net.legs.get(&leg).map(|l| l.peer)
}
