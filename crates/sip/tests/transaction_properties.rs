//! Random interleavings of sends, receives, timeouts and transport errors: the layer keeps its
//! indexes consistent, never reports a transaction after its end, and once the far ends fall
//! silent only transactions waiting for the TU's own answer remain (no leaked timers).

use std::collections::HashSet;

use domain::Timestamp;
use proptest::prelude::*;
use sip::message::{HeaderName, Method, Request};
use sip::transaction::{Kind, State, TimerConfig};
use sip::{Event, Message, Peer, TransactionConfig, TransactionId, TransactionLayer, Transport};

#[derive(Clone, Debug)]
enum Op {
    ReceiveRequest { method: usize, branch: u8, tcp: bool },
    ReceiveResponse { method: usize, branch: u8, status: u16 },
    SendRequest { method: usize, branch: u8, tcp: bool },
    SendResponse { which: usize, status: u16 },
    Advance { ms: u64 },
    TransportError { which: usize },
}

const METHODS: [Method; 5] =
    [Method::Invite, Method::Bye, Method::Options, Method::Cancel, Method::Ack];
const STATUSES: [u16; 6] = [100, 180, 200, 404, 487, 503];

fn op() -> impl Strategy<Value = Op> {
    let status = prop::sample::select(STATUSES.to_vec());
    prop_oneof![
        (0..METHODS.len(), 0u8..3, any::<bool>())
            .prop_map(|(method, branch, tcp)| Op::ReceiveRequest { method, branch, tcp }),
        (0..METHODS.len() - 1, 0u8..3, status.clone())
            .prop_map(|(method, branch, status)| Op::ReceiveResponse { method, branch, status }),
        (0..METHODS.len(), 0u8..3, any::<bool>())
            .prop_map(|(method, branch, tcp)| Op::SendRequest { method, branch, tcp }),
        (any::<usize>(), status).prop_map(|(which, status)| Op::SendResponse { which, status }),
        (0u64..40_000).prop_map(|ms| Op::Advance { ms }),
        any::<usize>().prop_map(|which| Op::TransportError { which }),
    ]
}

fn request(method: &Method, branch: u8, tcp: bool) -> Request {
    let mut r = Request::new(method.clone(), "sip:bob@198.51.100.7");
    let transport = if tcp { "TCP" } else { "UDP" };
    let via = format!("SIP/2.0/{transport} 192.0.2.10:5060;branch=z9hG4bK{branch}");
    r.headers.push(HeaderName::Via, via);
    r.headers.push(HeaderName::From, "<sip:alice@192.0.2.10>;tag=a1");
    r.headers.push(HeaderName::To, "<sip:bob@198.51.100.7>");
    r.headers.push(HeaderName::CallId, "call-1");
    r.headers.push(HeaderName::CSeq, format!("1 {method}"));
    r
}

fn peer(tcp: bool) -> Peer {
    let transport = if tcp { Transport::Tcp } else { Transport::Udp };
    Peer::new(transport, "198.51.100.7:5060".parse().expect("address"))
}

struct Harness {
    layer: TransactionLayer,
    now: Timestamp,
    ids: Vec<TransactionId>,
    ended: HashSet<TransactionId>,
}

impl Harness {
    fn drain(&mut self) {
        self.layer.check_invariants();
        while self.layer.poll_transmit().is_some() {}
        while let Some(event) = self.layer.poll_event() {
            let id = match event {
                Event::Request { id, .. } => {
                    self.ids.push(id);
                    Some(id)
                }
                Event::Response { id, .. }
                | Event::Timeout { id }
                | Event::TransportError { id } => Some(id),
                Event::Terminated { id } => {
                    assert!(self.ended.insert(id), "{id:?} ended twice");
                    None
                }
                Event::Ack { .. } | Event::StrayResponse { .. } => None,
            };
            if let Some(id) = id {
                assert!(!self.ended.contains(&id), "event for {id:?} after its end");
            }
        }
    }

    fn pick(&self, which: usize) -> Option<TransactionId> {
        (!self.ids.is_empty()).then(|| self.ids[which % self.ids.len()])
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::ReceiveRequest { method, branch, tcp } => {
                let r = request(&METHODS[*method], *branch, *tcp);
                let _ = self.layer.handle_receive(self.now, Message::Request(r), peer(*tcp));
            }
            Op::ReceiveResponse { method, branch, status } => {
                let mut r = request(&METHODS[*method], *branch, false).make_response(*status, "R");
                r.headers.set(HeaderName::To, "<sip:bob@198.51.100.7>;tag=b");
                let _ = self.layer.handle_receive(self.now, Message::Response(r), peer(false));
            }
            Op::SendRequest { method, branch, tcp } => {
                let r = request(&METHODS[*method], *branch, *tcp);
                if let Ok(id) = self.layer.handle_send_request(self.now, r, peer(*tcp)) {
                    self.ids.push(id);
                }
            }
            Op::SendResponse { which, status } => {
                if let Some(id) = self.pick(*which) {
                    let r = request(&Method::Invite, 0, false).make_response(*status, "R");
                    let _ = self.layer.handle_send_response(self.now, id, r);
                }
            }
            Op::Advance { ms } => {
                self.now = self.now.plus_ms(*ms);
                self.layer.handle_timeout(self.now);
            }
            Op::TransportError { which } => {
                if let Some(id) = self.pick(*which) {
                    self.layer.handle_transport_error(self.now, id);
                }
            }
        }
        self.drain();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn timers_never_leak(ops in prop::collection::vec(op(), 1..60)) {
        let config = TransactionConfig { timers: TimerConfig::RFC3261, transactions_max: 8 };
        let mut h = Harness {
            layer: TransactionLayer::new(config),
            now: Timestamp::from_millis(0),
            ids: Vec::new(),
            ended: HashSet::new(),
        };
        for op in &ops {
            h.apply(op);
        }
        // The far ends fall silent: every timer-driven transaction must end.
        while let Some(at) = h.layer.poll_timeout() {
            let c_ms = TimerConfig::RFC3261.c_ms;
            prop_assert!(at.ms_since(h.now) <= c_ms, "a timer beyond timer C");
            h.now = at;
            h.layer.handle_timeout(at);
            h.drain();
        }
        for id in &h.ids {
            if h.ended.contains(id) {
                prop_assert_eq!(h.layer.state(*id), None);
                continue;
            }
            let waiting_for_tu = matches!(
                (h.layer.kind(*id), h.layer.state(*id)),
                (Some(Kind::InviteServer), Some(State::Proceeding))
                    | (Some(Kind::NonInviteServer), Some(State::Trying | State::Proceeding))
            );
            prop_assert!(waiting_for_tu, "{:?} left in {:?}", id, h.layer.state(*id));
        }
    }
}
