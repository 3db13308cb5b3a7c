//! The SIP phone network behind the engine's telephony contract: a B2BUA in which every
//! engine leg is its own SIP call (a UAC dialog toward an agent phone or the trunk), plus the
//! registrar the agent phones use.
//!
//! [`SipNetwork`] is sans-I/O like the rest of the core: the shell ([`crate::sipshell`])
//! feeds it datagrams, engine commands, media events and timeouts, each with `now`, and
//! drains [`poll_transmit`], [`poll_event`], [`poll_media`] and [`poll_timeout`]. So every
//! signalling decision is testable without sockets, and the shell stays a thin loop.
//!
//! Choices made here:
//! - In-dialog requests (ACK for 2xx, BYE) go to the address the INVITE went to: the trunk's
//!   proxy, or the address an agent phone registered from. That is where our peers are, and
//!   it works behind NAT; we do not resolve the remote target's host.
//! - A leg the engine hangs up (or whose ring timer fires) is reported at once; the CANCEL or
//!   BYE and their answers are cleaned up afterwards without further events.
//! - Inbound INVITEs that start a call are refused with 480 until inbound routing lands;
//!   re-INVITEs (hold, resume) are answered.
//!
//! [`poll_transmit`]: SipNetwork::poll_transmit
//! [`poll_event`]: SipNetwork::poll_event
//! [`poll_media`]: SipNetwork::poll_media
//! [`poll_timeout`]: SipNetwork::poll_timeout

mod config;
mod inbound;
mod offer;
mod outbound;
mod ports;
mod trunk_register;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;

use domain::telephony::{Endpoint, LegEvent, LegEventKind, MachineDetection, NetEvent, TelCommand};
use domain::{AgentId, LegId, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sip::digest::Algorithm;
use sip::registrar::Registrar;
use sip::sdp::Codec;
use sip::{Event, Message, Peer, Request, TransactionConfig, TransactionId, TransactionLayer};

pub use config::{NumberFormat, SipAccount, SipConfig, TrunkConfig};
use ports::PortPool;
pub use sip::Transport;

/// Where a leg's RTP goes and how it is encoded, from the far end's SDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteMedia {
    pub addr: SocketAddr,
    pub codec: Codec,
    pub payload_type: u8,
    pub dtmf_payload_type: Option<u8>,
    /// The far end holds the call (sendonly or inactive): send it nothing.
    pub on_hold: bool,
}

/// What the shell must do with RTP sockets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaCommand {
    /// Bind `port` on the media address for `leg`.
    Open { leg: LegId, port: u16 },
    /// Send `leg`'s RTP here (latching may override the address once packets arrive).
    Remote { leg: LegId, remote: RemoteMedia },
    /// Relay RTP between two legs, transcoding if their codecs differ.
    Bridge { a: LegId, b: LegId },
    /// Record two bridged legs into `<recordings>/<name>.wav`: customer left, agent right.
    Record { customer: LegId, agent: LegId, name: String },
    /// Play a prompt (a file name or `tts:<lang>:<text>`) to `leg`, replacing what it hears.
    Play { leg: LegId, prompt: String, looping: bool },
    /// Stop any prompt playing to `leg`.
    StopPlay { leg: LegId },
    /// Send key presses to `leg` as RFC 4733 events.
    SendDtmf { leg: LegId, digits: String },
    /// Run answering-machine detection on what `leg` receives and report the outcome with
    /// [`SipNetwork::handle_machine_detection`]: at the verdict, or for a machine with
    /// `await_greeting_end` once its greeting is over.
    DetectMachine { leg: LegId, await_greeting_end: bool },
    /// Close `leg`'s socket; the port returns to the pool.
    Close { leg: LegId },
}

/// Registration changes, for the console's "phone registered" indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SipNotice {
    Registered { agent: AgentId },
    Unregistered { agent: AgentId },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LegState {
    /// INVITE sent, no provisional response beyond 100.
    Inviting,
    Ringing,
    Answered,
    /// Reported to the engine as ended; CANCEL or BYE in flight.
    Ending,
}

/// Why a transaction exists, so its responses reach the right handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TxRole {
    Invite,
    Bye,
    Cancel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum LegTimer {
    /// Ring-no-answer: CANCEL and report NoAnswer.
    Ring,
    /// Our 2xx to an inbound INVITE is sent again until its ACK arrives.
    Resend2xx,
    /// A leg stuck in Ending (far end gone) is dropped after this.
    Reap,
    /// Machine detection said nothing in time: the answer is reported as a person's.
    MachineDetection,
}

struct Leg {
    state: LegState,
    /// Our INVITE as last sent (for CANCEL, and to rebuild with credentials).
    invite: Request,
    invite_tx: Option<TransactionId>,
    /// Where the INVITE went; in-dialog requests follow it.
    peer: Peer,
    dialog: Option<sip::dialog::Dialog>,
    port: u16,
    /// Any response but 100 arrived, so a CANCEL may be sent (RFC 3261 §9.1).
    provisional: bool,
    /// Hung up before a provisional response: CANCEL as soon as one arrives.
    cancel_pending: bool,
    auth_attempted: bool,
    to_trunk: bool,
    /// Whether to listen for an answering machine before reporting the answer.
    detect_machine: MachineDetection,
    /// Answered, and the answer not reported yet: machine detection is listening.
    detecting: bool,
    /// An inbound call's INVITE transaction, 2xx and resend interval, until the ACK arrives.
    answer: Option<(TransactionId, sip::Response, u64)>,
    timers: BTreeSet<(Timestamp, LegTimer)>,
}

pub struct SipNetwork {
    config: SipConfig,
    rng: ChaCha8Rng,
    layer: TransactionLayer,
    registrar: Registrar,
    legs: HashMap<LegId, Leg>,
    transactions: HashMap<TransactionId, (LegId, TxRole)>,
    /// Call-ID to leg, for in-dialog requests from the far end.
    call_ids: HashMap<String, LegId>,
    ports: PortPool,
    timers: BTreeSet<(Timestamp, LegId, LegTimer)>,
    events: VecDeque<NetEvent>,
    media: VecDeque<MediaCommand>,
    notices: VecDeque<SipNotice>,
    /// Inbound INVITE admission: (second, count in that second).
    invite_window: (i64, u32),
    /// The next id for a leg of an arriving call.
    next_inbound_leg: u64,
    trunk_reg: trunk_register::TrunkRegistration,
}

impl SipNetwork {
    pub fn new(config: SipConfig) -> SipNetwork {
        let layer = TransactionLayer::new(TransactionConfig {
            timers: config.timers,
            transactions_max: config.transactions_max,
        });
        let registrar = Registrar::new(&config.realm, &config.nonce_secret, Algorithm::Md5);
        let ports = PortPool::new(config.rtp_port_min, config.rtp_port_max);
        let mut net = SipNetwork {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            layer,
            registrar,
            legs: HashMap::new(),
            transactions: HashMap::new(),
            call_ids: HashMap::new(),
            ports,
            timers: BTreeSet::new(),
            events: VecDeque::new(),
            media: VecDeque::new(),
            notices: VecDeque::new(),
            invite_window: (0, 0),
            next_inbound_leg: domain::telephony::INBOUND_LEG_ID_MIN,
            trunk_reg: Default::default(),
            config,
        };
        net.plan_trunk_registration();
        net
    }

    /// Replaces the agents' phone accounts. Registrations of accounts that remain stay valid.
    pub fn set_accounts(&mut self, accounts: Vec<SipAccount>) {
        self.config.accounts = accounts;
    }

    /// Legs alive (including ones ending), for leak checks.
    pub fn legs_alive(&self) -> usize {
        self.legs.len()
    }

    /// RTP ports handed out and not yet returned.
    pub fn ports_in_use(&self) -> usize {
        self.ports.in_use()
    }

    /// SIP transactions alive.
    pub fn transactions_alive(&self) -> usize {
        self.layer.len()
    }

    /// Whether `agent`'s phone has a live registration.
    pub fn is_registered(&self, agent: AgentId, now: Timestamp) -> bool {
        self.account_of(agent).is_some_and(|a| self.registrar.lookup(&a.username, now).is_some())
    }

    /// Agents whose phones have a live registration at `now`.
    pub fn registered_agents(&self, now: Timestamp) -> Vec<AgentId> {
        let mut agents: Vec<AgentId> =
            self.registrar.registered(now).filter_map(|u| self.agent_of(u)).collect();
        agents.sort();
        agents
    }

    pub fn poll_transmit(&mut self) -> Option<sip::Transmit> {
        self.layer.poll_transmit()
    }

    pub fn poll_event(&mut self) -> Option<NetEvent> {
        self.events.pop_front()
    }

    /// Reports leg progress to the engine.
    fn leg_event(&mut self, leg: LegId, kind: LegEventKind) {
        self.events.push_back(NetEvent::Leg(LegEvent { leg, kind }));
    }

    pub fn poll_media(&mut self) -> Option<MediaCommand> {
        self.media.pop_front()
    }

    pub fn poll_notice(&mut self) -> Option<SipNotice> {
        self.notices.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Timestamp> {
        [
            self.layer.poll_timeout(),
            self.timers.first().map(|(at, ..)| *at),
            self.registrar.poll_timeout(),
            self.trunk_reg.due,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// An engine command.
    pub fn handle_command(&mut self, now: Timestamp, command: TelCommand) {
        match command {
            TelCommand::Originate { leg, to, caller_id, ring_ms_max, detect_machine } => {
                let caller_id = caller_id.as_ref().map(|c| c.as_str());
                self.originate(now, leg, &to, caller_id, ring_ms_max, detect_machine)
            }
            TelCommand::Hangup { leg } => self.hangup(now, leg),
            TelCommand::Bridge { a, b } => {
                let answered =
                    |l: LegId| self.legs.get(&l).is_some_and(|leg| leg.state == LegState::Answered);
                if answered(a) && answered(b) {
                    self.media.push_back(MediaCommand::Bridge { a, b });
                }
            }
            TelCommand::Record { interaction, customer, agent } => {
                let name = recording_name(interaction);
                self.media.push_back(MediaCommand::Record { customer, agent, name });
            }
            TelCommand::Play { leg, prompt, looping } => {
                if self.legs.get(&leg).is_some_and(|l| l.state == LegState::Answered) {
                    self.media.push_back(MediaCommand::Play { leg, prompt, looping });
                }
            }
            TelCommand::StopPlay { leg } => self.media.push_back(MediaCommand::StopPlay { leg }),
            TelCommand::SendDtmf { leg, digits } => {
                let valid = !digits.is_empty()
                    && digits.len() <= domain::telephony::DTMF_DIGITS_MAX
                    && digits.chars().all(|c| "0123456789*#ABCD".contains(c));
                let answered = self.legs.get(&leg).is_some_and(|l| l.state == LegState::Answered);
                if valid && answered {
                    self.media.push_back(MediaCommand::SendDtmf { leg, digits });
                }
            }
        }
        self.drain_layer(now);
    }

    /// A message framed from a TCP connection with `from`. Our answers and in-dialog requests
    /// to that peer go back over the same connection.
    pub fn handle_stream_message(&mut self, now: Timestamp, from: SocketAddr, message: Message) {
        self.receive(now, message, Peer::new(Transport::Tcp, from));
        self.drain_layer(now);
    }

    /// Our Contact for messages sent over `transport`.
    fn contact(&self, transport: Transport) -> String {
        match transport {
            Transport::Udp => format!("<sip:switchboard@{}>", self.config.signal_addr),
            other => format!(
                "<sip:switchboard@{};transport={}>",
                self.config.signal_addr,
                other.as_str().to_ascii_lowercase()
            ),
        }
    }

    /// A datagram from the SIP socket.
    pub fn handle_datagram(&mut self, now: Timestamp, from: SocketAddr, bytes: &[u8]) {
        let peer = Peer::new(Transport::Udp, from);
        match Message::parse(bytes) {
            Ok(message) => self.receive(now, message, peer),
            Err(error) => {
                // Unparseable input cannot be answered reliably (we may lack the headers a
                // response copies); drop it, as RFC 3261 §18.3 allows for datagrams.
                tracing::debug!(%from, %error, "dropped a malformed SIP datagram");
            }
        }
        self.drain_layer(now);
    }

    /// The shell saw no RTP on `leg` for the configured time: the far end is gone.
    pub fn handle_media_timeout(&mut self, now: Timestamp, leg: LegId) {
        if self.legs.get(&leg).is_some_and(|l| l.state == LegState::Answered) {
            tracing::info!(%leg, "no RTP; hanging up");
            self.leg_event(leg, LegEventKind::HungUp { by_remote: true });
            self.send_bye(now, leg);
        }
        self.drain_layer(now);
    }

    /// A key press the shell decoded from a leg's RTP. While machine detection listens, a
    /// key press settles it: machines do not press keys. The key itself came before anyone
    /// was told the call was answered, so it is not passed on.
    pub fn handle_dtmf(&mut self, leg: LegId, digit: char) {
        let Some(l) = self.legs.get(&leg) else { return };
        if l.state != LegState::Answered {
            return;
        }
        if l.detecting {
            self.report_answer(leg, false);
            return;
        }
        self.events.push_back(NetEvent::Dtmf { leg, digit });
    }

    /// The outcome of machine detection on `leg` (see [`MediaCommand::DetectMachine`]).
    pub fn handle_machine_detection(&mut self, leg: LegId, machine: bool) {
        self.report_answer(leg, machine);
    }

    /// Reports a detecting leg's answer, once.
    fn report_answer(&mut self, leg: LegId, machine: bool) {
        let Some(l) = self.legs.get_mut(&leg) else { return };
        if !l.detecting || l.state != LegState::Answered {
            return;
        }
        l.detecting = false;
        self.clear_timer(leg, LegTimer::MachineDetection);
        let kind = if machine { LegEventKind::MachineAnswered } else { LegEventKind::Answered };
        self.leg_event(leg, kind);
    }

    /// The shell could not bind a leg's port.
    pub fn handle_media_failure(&mut self, now: Timestamp, leg: LegId) {
        if let Some(state) = self.legs.get(&leg).map(|l| l.state) {
            if state != LegState::Ending {
                self.leg_event(leg, LegEventKind::Failed);
            }
            self.hangup_quietly(now, leg);
        }
        self.drain_layer(now);
    }

    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.layer.handle_timeout(now);
        if self.trunk_reg.due.is_some_and(|due| due <= now) {
            self.send_trunk_register(now, None);
        }
        while let Some(&(at, leg, timer)) = self.timers.first() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, leg, timer));
            if let Some(l) = self.legs.get_mut(&leg) {
                l.timers.remove(&(at, timer));
            }
            match timer {
                LegTimer::Ring => self.ring_timeout(now, leg),
                LegTimer::Resend2xx => self.resend_2xx(now, leg),
                LegTimer::Reap => self.release(leg),
                LegTimer::MachineDetection => {
                    tracing::info!(%leg, "no machine detection verdict in time; a person");
                    self.report_answer(leg, false);
                }
            }
        }
        for username in self.registrar.handle_timeout(now) {
            if let Some(agent) = self.agent_of(&username) {
                self.notices.push_back(SipNotice::Unregistered { agent });
            }
        }
        self.drain_layer(now);
    }

    fn receive(&mut self, now: Timestamp, message: Message, peer: Peer) {
        let is_invite = matches!(&message, Message::Request(r) if r.method == sip::Method::Invite);
        if is_invite && !self.admit_invite(now, &message) {
            if let Message::Request(request) = &message {
                let busy = request.make_response(503, "Service Unavailable");
                self.layer.handle_send_stateless(&Message::Response(busy), peer);
            }
            return;
        }
        match self.layer.handle_receive(now, message, peer) {
            Ok(()) => {}
            Err(sip::transaction::ReceiveError::Full { request, from, .. }) => {
                let busy = request.make_response(503, "Service Unavailable");
                self.layer.handle_send_stateless(&Message::Response(busy), from);
            }
            Err(sip::transaction::ReceiveError::Header(error)) => {
                tracing::debug!(%error, "dropped a SIP message with bad headers");
            }
        }
    }

    /// Rate limit on dialog-creating INVITEs (re-INVITEs carry a To tag and pass).
    fn admit_invite(&mut self, now: Timestamp, message: &Message) -> bool {
        use sip::HeaderAccess;
        let Message::Request(request) = message else { return true };
        if request.to().ok().and_then(|to| to.tag().map(str::to_string)).is_some() {
            return true;
        }
        let second = now.as_millis().div_euclid(1_000);
        if self.invite_window.0 != second {
            self.invite_window = (second, 0);
        }
        self.invite_window.1 += 1;
        self.invite_window.1 <= self.config.invites_per_second_max
            && self.legs.len() < self.config.legs_max
    }

    /// Runs the transaction layer's events through the TU until it is quiet.
    fn drain_layer(&mut self, now: Timestamp) {
        while let Some(event) = self.layer.poll_event() {
            match event {
                Event::Request { id, request, from, cancels } => {
                    self.on_request(now, id, request, from, cancels)
                }
                Event::Response { id, response } if self.is_trunk_register(id) => {
                    self.on_trunk_register_response(now, response)
                }
                Event::Response { id, response } => self.on_response(now, id, response),
                Event::Timeout { id } | Event::TransportError { id }
                    if self.is_trunk_register(id) =>
                {
                    self.trunk_failed(now)
                }
                Event::Ack { request, .. } => self.on_ack(&request),
                Event::StrayResponse { .. } => {}
                Event::Timeout { id } | Event::TransportError { id } => self.on_timeout(now, id),
                Event::Terminated { id } => {
                    self.transactions.remove(&id);
                }
            }
        }
    }

    fn account_of(&self, agent: AgentId) -> Option<&SipAccount> {
        self.config.accounts.iter().find(|a| a.agent == agent)
    }

    fn agent_of(&self, username: &str) -> Option<AgentId> {
        self.config.accounts.iter().find(|a| a.username == username).map(|a| a.agent)
    }

    fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len).map(|_| ALPHABET[self.rng.gen_range(0..ALPHABET.len())] as char).collect()
    }

    fn branch(&mut self) -> String {
        format!("z9hG4bK{}", self.token(16))
    }

    fn set_timer(&mut self, leg: LegId, timer: LegTimer, at: Timestamp) {
        if let Some(l) = self.legs.get_mut(&leg) {
            if let Some(old) = l.timers.iter().find(|(_, t)| *t == timer).copied() {
                l.timers.remove(&old);
                self.timers.remove(&(old.0, leg, timer));
            }
            l.timers.insert((at, timer));
            self.timers.insert((at, leg, timer));
        }
    }

    fn clear_timer(&mut self, leg: LegId, timer: LegTimer) {
        if let Some(l) = self.legs.get_mut(&leg) {
            if let Some(old) = l.timers.iter().find(|(_, t)| *t == timer).copied() {
                l.timers.remove(&old);
                self.timers.remove(&(old.0, leg, timer));
            }
        }
    }

    /// Forgets a leg: its timers, Call-ID, transactions' mapping and port.
    fn release(&mut self, leg: LegId) {
        let Some(l) = self.legs.remove(&leg) else { return };
        for (at, timer) in &l.timers {
            self.timers.remove(&(*at, leg, *timer));
        }
        if let Ok(call_id) = sip::HeaderAccess::call_id(&l.invite) {
            self.call_ids.remove(call_id);
        }
        self.transactions.retain(|_, (owner, _)| *owner != leg);
        self.ports.release(l.port);
        self.media.push_back(MediaCommand::Close { leg });
    }

    /// Checks the bookkeeping agrees with itself; for tests.
    pub fn check_invariants(&self) {
        let timers: usize = self.legs.values().map(|l| l.timers.len()).sum();
        assert_eq!(timers, self.timers.len(), "leg timers and the index disagree");
        assert_eq!(self.ports.in_use(), self.legs.len(), "one port per live leg");
        for (owner, _) in self.transactions.values() {
            assert!(self.legs.contains_key(owner), "a transaction maps to a dead leg");
        }
        self.layer.check_invariants();
    }

    fn endpoint_name(to: &Endpoint) -> &'static str {
        match to {
            Endpoint::Agent(_) => "agent",
            Endpoint::Number(_) => "number",
        }
    }
}

/// The file name (without `.wav`) of an interaction's recording.
pub fn recording_name(interaction: domain::InteractionId) -> String {
    format!("interaction-{}", interaction.0)
}

#[cfg(test)]
mod tests;
