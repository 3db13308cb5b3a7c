//! RFC 3261 §17 transactions: INVITE and non-INVITE, client and server, behind one
//! sans-I/O [`TransactionLayer`].
//!
//! The shell calls `handle_*` with the current time and then drains [`poll_transmit`],
//! [`poll_event`] and [`poll_timeout`]. Retransmissions happen only over unreliable
//! transports; on reliable ones timers D, I, J and K are zero, so a transaction ends as soon
//! as it completes.
//!
//! Choices the RFC leaves open, made here:
//! - An INVITE server transaction sends `100 Trying` at once instead of after 200 ms, so the
//!   far end stops retransmitting without a timer.
//! - A 2xx moves an INVITE transaction to the RFC 6026 Accepted state for 64*T1 (timers L
//!   and M) instead of ending it as RFC 3261 did. The client passes every 2xx retransmission
//!   to the TU (which ACKs each, end to end); the server absorbs INVITE retransmissions so the
//!   TU does not see the call twice, and lets the TU send its 2xx retransmissions through it.
//!   The ACK for a 2xx has its own branch and reaches the TU as [`Event::Ack`].
//! - Timer C bounds an INVITE client in Proceeding (see [`Timer::C`]), so a peer that rings
//!   and vanishes cannot leak a transaction. Server transactions wait for the TU without a
//!   timer: the TU must answer every request it is given.
//! - When the table is full, a new request is refused with [`ReceiveError::Full`] carrying
//!   the request, so the shell can answer 503 statelessly.
//!
//! [`poll_transmit`]: TransactionLayer::poll_transmit
//! [`poll_event`]: TransactionLayer::poll_event
//! [`poll_timeout`]: TransactionLayer::poll_timeout

mod key;
mod timer;

use std::collections::{BTreeSet, HashMap, VecDeque};

use domain::Timestamp;

pub use timer::{Timer, TimerConfig};

use crate::message::{HeaderAccess, HeaderError, HeaderName, Message, Method, Request, Response};
use crate::transport::Peer;
use key::Key;
use timer::TimerTable;

/// A transaction's handle, unique for the life of the layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransactionId(u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransactionConfig {
    pub timers: TimerConfig,
    /// Transactions alive at once; new ones beyond it are refused (SIP 503).
    pub transactions_max: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    InviteClient,
    NonInviteClient,
    InviteServer,
    NonInviteServer,
}

/// RFC 3261 Figures 5 to 8. Terminated transactions are removed, so there is no such state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// INVITE client before any response.
    Calling,
    /// Non-INVITE client before any response, or non-INVITE server before the TU answers.
    Trying,
    Proceeding,
    Completed,
    /// INVITE server after the ACK for its non-2xx.
    Confirmed,
    /// INVITE client or server after a 2xx (RFC 6026).
    Accepted,
}

/// Bytes to send. The shell writes them to the socket (or connection) for `peer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub peer: Peer,
    pub bytes: Vec<u8>,
}

/// What the transaction user (dialogs, registrar, B2BUA) must hear about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new request. `cancels` names the INVITE server transaction a CANCEL matches; the
    /// TU answers the CANCEL with 200 and that INVITE with 487 (or the CANCEL with 481 when
    /// `cancels` is `None`).
    Request { id: TransactionId, request: Request, from: Peer, cancels: Option<TransactionId> },
    /// An ACK that no transaction absorbed: the ACK for a 2xx, for the dialog.
    Ack { request: Request, from: Peer },
    /// A response for one of our client transactions (retransmissions are absorbed).
    Response { id: TransactionId, response: Response },
    /// A response that matches no transaction, such as a 2xx retransmitted after timer M.
    StrayResponse { response: Response, from: Peer },
    /// Timer B, C or F (no final response) or H (no ACK for our final response) fired.
    Timeout { id: TransactionId },
    /// The shell reported that sending failed.
    TransportError { id: TransactionId },
    /// The transaction is gone; its id will not be seen again.
    Terminated { id: TransactionId },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("{max} transactions are alive")]
    Full { max: usize },
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("an ACK is not a transaction; send it with handle_send_stateless")]
    AckIsNotATransaction,
    #[error("a transaction with this branch and method already exists")]
    Duplicate,
    #[error("no such transaction")]
    UnknownTransaction,
    #[error("not a server transaction")]
    NotAServerTransaction,
    #[error("the final response was already sent")]
    FinalAlreadySent,
    #[error("status {0} is not 100..=699")]
    BadStatus(u16),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReceiveError {
    /// The shell answers `request` with 503 (`Request::make_response`), statelessly.
    #[error("{max} transactions are alive")]
    Full { request: Box<Request>, from: Peer, max: usize },
    /// The shell answers 400 or drops.
    #[error(transparent)]
    Header(#[from] HeaderError),
}

struct Transaction {
    kind: Kind,
    state: State,
    key: Key,
    peer: Peer,
    /// Client: the request, for retransmission. Server: unused.
    request_bytes: Vec<u8>,
    /// Client INVITE: the request, to build the ACK for a non-2xx from.
    invite: Option<Request>,
    /// Client INVITE: the ACK for a non-2xx, resent on retransmitted finals.
    ack_bytes: Option<Vec<u8>>,
    /// Server: the last response sent, resent on retransmitted requests.
    response_bytes: Option<Vec<u8>>,
    /// Current interval of timer A, E or G.
    interval_ms: u64,
    timers: TimerTable,
}

/// All transactions of one SIP endpoint.
pub struct TransactionLayer {
    config: TransactionConfig,
    transactions: HashMap<TransactionId, Transaction>,
    index: HashMap<Key, TransactionId>,
    /// Every running timer in firing order; mirrors the per-transaction tables.
    timers: BTreeSet<(Timestamp, TransactionId, Timer)>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    next_id: u64,
}

impl TransactionLayer {
    pub fn new(config: TransactionConfig) -> Self {
        TransactionLayer {
            config,
            transactions: HashMap::new(),
            index: HashMap::new(),
            timers: BTreeSet::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            next_id: 0,
        }
    }

    /// Transactions alive.
    pub fn len(&self) -> usize {
        self.transactions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.transactions.is_empty()
    }

    pub fn state(&self, id: TransactionId) -> Option<State> {
        self.transactions.get(&id).map(|t| t.state)
    }

    pub fn kind(&self, id: TransactionId) -> Option<Kind> {
        self.transactions.get(&id).map(|t| t.kind)
    }

    /// Recounts the indexes against the transactions; a failure is a bug in this module.
    /// Tests call it after every step.
    pub fn check_invariants(&self) {
        assert_eq!(self.index.len(), self.transactions.len(), "index and table disagree");
        for (key, id) in &self.index {
            assert!(self.transactions.get(id).is_some_and(|t| &t.key == key), "stale key");
        }
        let running: usize = self.transactions.values().map(|t| t.timers.running().count()).sum();
        assert_eq!(running, self.timers.len(), "timer index and tables disagree");
        for (at, id, timer) in &self.timers {
            let table = self.transactions.get(id).and_then(|t| t.timers.get(*timer));
            assert_eq!(table, Some(*at), "timer index entry without its table entry");
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.timers.first().map(|(at, ..)| *at)
    }

    /// Starts a client transaction for `request`, whose top Via must carry a fresh
    /// `z9hG4bK` branch (the TU draws it from its seeded generator).
    pub fn handle_send_request(
        &mut self,
        now: Timestamp,
        request: Request,
        peer: Peer,
    ) -> Result<TransactionId, SendError> {
        if request.method == Method::Ack {
            return Err(SendError::AckIsNotATransaction);
        }
        let key = Key::for_sent_request(&request)?;
        if self.index.contains_key(&key) {
            return Err(SendError::Duplicate);
        }
        self.check_capacity().map_err(|max| SendError::Full { max })?;
        if request.method == Method::Cancel {
            self.shorten_cancelled_invite(now, &key);
        }
        let kind = if request.method == Method::Invite {
            Kind::InviteClient
        } else {
            Kind::NonInviteClient
        };
        let bytes = request.to_bytes();
        self.transmits.push_back(Transmit { peer, bytes: bytes.clone() });
        let t1 = self.config.timers.t1_ms;
        let (state, retransmit, timeout) = match kind {
            Kind::InviteClient => (State::Calling, Timer::A, Timer::B),
            _ => (State::Trying, Timer::E, Timer::F),
        };
        let id = self.insert(Transaction {
            kind,
            state,
            key,
            peer,
            request_bytes: bytes,
            invite: (kind == Kind::InviteClient).then_some(request),
            ack_bytes: None,
            response_bytes: None,
            interval_ms: t1,
            timers: TimerTable::default(),
        });
        if !peer.transport.is_reliable() {
            self.set_timer(id, retransmit, Some(now.plus_ms(t1)));
        }
        let timeout_ms = self.config.timers.transaction_timeout_ms();
        self.set_timer(id, timeout, Some(now.plus_ms(timeout_ms)));
        Ok(id)
    }

    /// Sends a response within server transaction `id`.
    pub fn handle_send_response(
        &mut self,
        now: Timestamp,
        id: TransactionId,
        response: Response,
    ) -> Result<(), SendError> {
        if !(100..700).contains(&response.status) {
            return Err(SendError::BadStatus(response.status));
        }
        let timers = self.config.timers;
        let tx = self.transactions.get_mut(&id).ok_or(SendError::UnknownTransaction)?;
        if !matches!(tx.kind, Kind::InviteServer | Kind::NonInviteServer) {
            return Err(SendError::NotAServerTransaction);
        }
        let retransmitted_2xx = tx.state == State::Accepted && response.is_success();
        if !matches!(tx.state, State::Trying | State::Proceeding) && !retransmitted_2xx {
            return Err(SendError::FinalAlreadySent);
        }
        let bytes = response.to_bytes();
        self.transmits.push_back(Transmit { peer: tx.peer, bytes: bytes.clone() });
        tx.response_bytes = Some(bytes);
        let reliable = tx.peer.transport.is_reliable();
        match (tx.kind, response.status) {
            (_, 100..=199) => tx.state = State::Proceeding,
            (Kind::InviteServer, 200..=299) if !retransmitted_2xx => {
                tx.state = State::Accepted;
                let l = now.plus_ms(timers.transaction_timeout_ms());
                self.set_timer(id, Timer::L, Some(l));
            }
            (Kind::InviteServer, 200..=299) => {}
            (Kind::InviteServer, _) => {
                tx.state = State::Completed;
                tx.interval_ms = timers.t1_ms;
                if !reliable {
                    self.set_timer(id, Timer::G, Some(now.plus_ms(timers.t1_ms)));
                }
                let h = now.plus_ms(timers.transaction_timeout_ms());
                self.set_timer(id, Timer::H, Some(h));
            }
            _ => {
                tx.state = State::Completed;
                self.start_wait(now, id, Timer::J, timers.transaction_timeout_ms());
            }
        }
        Ok(())
    }

    /// Queues a message outside any transaction: the ACK for a 2xx, a stateless 400 or 503,
    /// a 2xx retransmitted by the dialog layer.
    pub fn handle_send_stateless(&mut self, message: &Message, peer: Peer) {
        self.transmits.push_back(Transmit { peer, bytes: message.to_bytes() });
    }

    /// A message the shell received and parsed.
    pub fn handle_receive(
        &mut self,
        now: Timestamp,
        message: Message,
        from: Peer,
    ) -> Result<(), ReceiveError> {
        match message {
            Message::Request(request) => self.receive_request(now, request, from),
            Message::Response(response) => self.receive_response(now, response, from),
        }
    }

    /// The shell could not send for transaction `id` (ICMP error, connection refused).
    pub fn handle_transport_error(&mut self, _now: Timestamp, id: TransactionId) {
        if self.transactions.contains_key(&id) {
            self.events.push_back(Event::TransportError { id });
            self.terminate(id);
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        while let Some(&(at, id, timer)) = self.timers.first() {
            if at > now {
                break;
            }
            self.set_timer(id, timer, None);
            self.fire(now, id, timer);
        }
    }

    fn fire(&mut self, now: Timestamp, id: TransactionId, timer: Timer) {
        let t2 = self.config.timers.t2_ms;
        let Some(tx) = self.transactions.get_mut(&id) else { return };
        match timer {
            Timer::A | Timer::E | Timer::G => {
                let bytes = match timer {
                    Timer::G => tx.response_bytes.clone().unwrap_or_default(),
                    _ => tx.request_bytes.clone(),
                };
                self.transmits.push_back(Transmit { peer: tx.peer, bytes });
                tx.interval_ms = match (timer, tx.state) {
                    (Timer::A, _) => tx.interval_ms.saturating_mul(2),
                    (Timer::E, State::Proceeding) => t2,
                    _ => tx.interval_ms.saturating_mul(2).min(t2),
                };
                let next = now.plus_ms(tx.interval_ms);
                self.set_timer(id, timer, Some(next));
            }
            Timer::B | Timer::C | Timer::F | Timer::H => {
                self.events.push_back(Event::Timeout { id });
                self.terminate(id);
            }
            Timer::D | Timer::I | Timer::J | Timer::K | Timer::L | Timer::M => self.terminate(id),
        }
    }

    fn receive_request(
        &mut self,
        now: Timestamp,
        mut request: Request,
        from: Peer,
    ) -> Result<(), ReceiveError> {
        stamp_received(&mut request, from)?;
        let key = Key::for_received(&request, None)?;
        let existing = self.index.get(&key).copied();

        if request.method == Method::Ack {
            let absorbed = existing.is_some_and(|id| self.absorb_ack(now, id));
            if !absorbed {
                self.events.push_back(Event::Ack { request, from });
            }
            return Ok(());
        }

        if let Some(id) = existing {
            // A retransmission: resend whatever we last answered (§17.2.1, §17.2.2). After a
            // 2xx the TU retransmits it (RFC 6026 §7.1), and after the ACK nothing is due.
            if let Some(tx) = self.transactions.get(&id) {
                if !matches!(tx.state, State::Confirmed | State::Accepted) {
                    if let Some(bytes) = tx.response_bytes.clone() {
                        self.transmits.push_back(Transmit { peer: tx.peer, bytes });
                    }
                }
            }
            return Ok(());
        }

        if let Err(max) = self.check_capacity() {
            return Err(ReceiveError::Full { request: Box::new(request), from, max });
        }
        let cancels = if request.method == Method::Cancel {
            let invite = Key::for_received(&request, Some(Method::Invite))?;
            self.index.get(&invite).copied()
        } else {
            None
        };
        let invite = request.method == Method::Invite;
        let mut tx = Transaction {
            kind: if invite { Kind::InviteServer } else { Kind::NonInviteServer },
            state: if invite { State::Proceeding } else { State::Trying },
            key,
            peer: from,
            request_bytes: Vec::new(),
            invite: None,
            ack_bytes: None,
            response_bytes: None,
            interval_ms: self.config.timers.t1_ms,
            timers: TimerTable::default(),
        };
        if invite {
            let trying = request.make_response(100, "Trying").to_bytes();
            self.transmits.push_back(Transmit { peer: from, bytes: trying.clone() });
            tx.response_bytes = Some(trying);
        }
        let id = self.insert(tx);
        self.events.push_back(Event::Request { id, request, from, cancels });
        Ok(())
    }

    /// An ACK for an INVITE server transaction; `false` if the TU should see it.
    fn absorb_ack(&mut self, now: Timestamp, id: TransactionId) -> bool {
        let t4 = self.config.timers.t4_ms;
        let Some(tx) = self.transactions.get_mut(&id) else { return false };
        match tx.state {
            State::Completed => {
                tx.state = State::Confirmed;
                self.set_timer(id, Timer::G, None);
                self.set_timer(id, Timer::H, None);
                self.start_wait(now, id, Timer::I, t4);
                true
            }
            State::Confirmed => true,
            _ => false,
        }
    }

    fn receive_response(
        &mut self,
        now: Timestamp,
        response: Response,
        from: Peer,
    ) -> Result<(), ReceiveError> {
        let key = Key::for_response(&response)?;
        let Some(&id) = self.index.get(&key) else {
            self.events.push_back(Event::StrayResponse { response, from });
            return Ok(());
        };
        let timers = self.config.timers;
        let Some(tx) = self.transactions.get_mut(&id) else { return Ok(()) };
        let provisional = response.is_provisional();
        let peer = tx.peer;
        match (tx.kind, tx.state) {
            (Kind::InviteClient, State::Calling | State::Proceeding) => {
                self.set_timer(id, Timer::A, None);
                self.set_timer(id, Timer::B, None);
                self.set_timer(id, Timer::C, None);
                let Some(tx) = self.transactions.get_mut(&id) else { return Ok(()) };
                if provisional {
                    tx.state = State::Proceeding;
                    self.events.push_back(Event::Response { id, response });
                    self.set_timer(id, Timer::C, Some(now.plus_ms(timers.c_ms)));
                } else if response.is_success() {
                    tx.state = State::Accepted;
                    self.events.push_back(Event::Response { id, response });
                    let m = now.plus_ms(timers.transaction_timeout_ms());
                    self.set_timer(id, Timer::M, Some(m));
                } else {
                    tx.state = State::Completed;
                    let ack = tx.invite.as_ref().map(|i| i.make_ack_for(&response).to_bytes());
                    tx.ack_bytes = ack.clone();
                    if let Some(bytes) = ack {
                        self.transmits.push_back(Transmit { peer, bytes });
                    }
                    self.events.push_back(Event::Response { id, response });
                    self.start_wait(now, id, Timer::D, timers.timer_d_ms());
                }
            }
            // Another 2xx: a retransmission, or a second fork. The TU ACKs it.
            (Kind::InviteClient, State::Accepted) if response.is_success() => {
                self.events.push_back(Event::Response { id, response });
            }
            // A retransmitted non-2xx final: our ACK was lost, send it again.
            (Kind::InviteClient, State::Completed) if !provisional && !response.is_success() => {
                if let Some(bytes) = tx.ack_bytes.clone() {
                    self.transmits.push_back(Transmit { peer, bytes });
                }
            }
            (Kind::NonInviteClient, State::Trying | State::Proceeding) => {
                let completed = !provisional;
                tx.state = if completed { State::Completed } else { State::Proceeding };
                self.events.push_back(Event::Response { id, response });
                if completed {
                    self.set_timer(id, Timer::E, None);
                    self.set_timer(id, Timer::F, None);
                    self.start_wait(now, id, Timer::K, timers.t4_ms);
                }
            }
            // Retransmitted finals in Completed, or a server key that cannot match.
            _ => {}
        }
        Ok(())
    }

    /// RFC 3261 §9.1: without a final response 64*T1 after our CANCEL, the INVITE client
    /// transaction ends.
    fn shorten_cancelled_invite(&mut self, now: Timestamp, cancel: &Key) {
        let Key::Client { branch, .. } = cancel else { return };
        let invite = Key::Client { branch: branch.clone(), method: Method::Invite };
        let Some(&id) = self.index.get(&invite) else { return };
        let Some(tx) = self.transactions.get(&id) else { return };
        if tx.state != State::Proceeding {
            return;
        }
        let deadline = now.plus_ms(self.config.timers.transaction_timeout_ms());
        let c = tx.timers.get(Timer::C).map_or(deadline, |c| c.min(deadline));
        self.set_timer(id, Timer::C, Some(c));
    }

    /// Enters a waiting state: timer `timer` on unreliable transports, an immediate end on
    /// reliable ones (the RFC sets D, I, J and K to zero there).
    fn start_wait(&mut self, now: Timestamp, id: TransactionId, timer: Timer, ms: u64) {
        let reliable = self.transactions.get(&id).is_some_and(|t| t.peer.transport.is_reliable());
        if reliable {
            self.terminate(id);
        } else {
            self.set_timer(id, timer, Some(now.plus_ms(ms)));
        }
    }

    fn check_capacity(&self) -> Result<(), usize> {
        let max = self.config.transactions_max;
        if self.transactions.len() >= max {
            Err(max)
        } else {
            Ok(())
        }
    }

    fn insert(&mut self, tx: Transaction) -> TransactionId {
        let id = TransactionId(self.next_id);
        self.next_id += 1;
        self.index.insert(tx.key.clone(), id);
        self.transactions.insert(id, tx);
        id
    }

    fn set_timer(&mut self, id: TransactionId, timer: Timer, at: Option<Timestamp>) {
        let Some(tx) = self.transactions.get_mut(&id) else { return };
        if let Some(old) = tx.timers.set(timer, at) {
            self.timers.remove(&(old, id, timer));
        }
        if let Some(at) = at {
            self.timers.insert((at, id, timer));
        }
    }

    fn terminate(&mut self, id: TransactionId) {
        let Some(tx) = self.transactions.remove(&id) else { return };
        for (timer, at) in tx.timers.running() {
            self.timers.remove(&(at, id, timer));
        }
        self.index.remove(&tx.key);
        self.events.push_back(Event::Terminated { id });
    }
}

/// RFC 3261 §18.2.1 and RFC 3581: record where the request really came from in its top
/// Via, so responses go back through NAT.
fn stamp_received(request: &mut Request, from: Peer) -> Result<(), HeaderError> {
    let mut via = request.top_via()?;
    let ip = from.addr.ip().to_string();
    if via.host.trim_start_matches('[').trim_end_matches(']') != ip {
        via.params.set("received", Some(&ip));
    }
    if via.rport() == Some(None) {
        via.params.set("rport", Some(&from.addr.port().to_string()));
        via.params.set("received", Some(&ip));
    }
    request.headers.replace_first(&HeaderName::Via, via.to_string());
    Ok(())
}
