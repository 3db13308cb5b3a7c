//! Transaction scenarios (RFC 3261 §17) with time advanced by hand. Each trace lists what the
//! layer sent and told the TU, with the time in milliseconds.

use std::fmt::Write as _;

use domain::Timestamp;
use expect_test::{expect, Expect};
use sip::message::{HeaderAccess, HeaderName, Method, Request};
use sip::transaction::{Kind, ReceiveError, SendError, State, TimerConfig};
use sip::{Event, Message, Peer, TransactionConfig, TransactionId, TransactionLayer, Transport};

fn peer(transport: Transport) -> Peer {
    Peer::new(transport, "198.51.100.7:5060".parse().expect("address"))
}

fn layer(transactions_max: usize) -> TransactionLayer {
    TransactionLayer::new(TransactionConfig { timers: TimerConfig::RFC3261, transactions_max })
}

fn request(method: Method, branch: &str) -> Request {
    let mut r = Request::new(method.clone(), "sip:bob@198.51.100.7");
    r.headers.push(HeaderName::Via, format!("SIP/2.0/UDP 192.0.2.10:5060;branch={branch}"));
    r.headers.push(HeaderName::MaxForwards, "70");
    r.headers.push(HeaderName::From, "<sip:alice@192.0.2.10>;tag=a1");
    r.headers.push(HeaderName::To, "<sip:bob@198.51.100.7>");
    r.headers.push(HeaderName::CallId, "call-1");
    r.headers.push(HeaderName::CSeq, format!("1 {method}"));
    r
}

fn response(to: &Request, status: u16) -> Message {
    let mut r = to.make_response(status, "Reason");
    if status > 100 {
        let mut to = r.to().expect("to");
        to.set_tag("b2");
        r.headers.set(HeaderName::To, to.to_string());
    }
    Message::Response(r)
}

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

/// Records transmits and events as lines.
struct Trace {
    text: String,
    /// The server transaction of the last request the TU heard about.
    last_request: Option<TransactionId>,
}

impl Trace {
    fn new() -> Self {
        Trace { text: String::new(), last_request: None }
    }

    fn drain(&mut self, now: Timestamp, layer: &mut TransactionLayer) {
        layer.check_invariants();
        let ms = now.as_millis();
        while let Some(transmit) = layer.poll_transmit() {
            let first = String::from_utf8_lossy(&transmit.bytes);
            let first = first.lines().next().unwrap_or_default().replace(" SIP/2.0", "");
            writeln!(self.text, "@{ms:>7} send {first}").expect("string");
        }
        while let Some(event) = layer.poll_event() {
            let line = match event {
                Event::Request { id, request, cancels, .. } => {
                    self.last_request = Some(id);
                    format!("request {:?} {} cancels={cancels:?}", id, request.method)
                }
                Event::Ack { .. } => "ack to the TU".to_string(),
                Event::Response { id, response } => format!("response {id:?} {}", response.status),
                Event::StrayResponse { response, .. } => format!("stray {}", response.status),
                Event::Timeout { id } => format!("timeout {id:?}"),
                Event::TransportError { id } => format!("transport error {id:?}"),
                Event::Terminated { id } => format!("terminated {id:?}"),
            };
            writeln!(self.text, "@{ms:>7} event {line}").expect("string");
        }
    }

    /// Fires timers until `end`, draining after each.
    fn run_until(&mut self, layer: &mut TransactionLayer, end: i64) {
        while let Some(at) = layer.poll_timeout().filter(|at| at.as_millis() <= end) {
            layer.handle_timeout(at);
            self.drain(at, layer);
        }
    }

    fn last_request(&self) -> TransactionId {
        self.last_request.expect("a request was received")
    }

    fn check(&self, expect: Expect) {
        expect.assert_eq(&self.text);
    }
}

#[test]
fn invite_client_over_udp_retransmits_until_timer_b() {
    let mut l = layer(10);
    let mut trace = Trace::new();
    l.handle_send_request(t(0), request(Method::Invite, "z9hG4bKinv"), peer(Transport::Udp))
        .expect("sent");
    trace.drain(t(0), &mut l);
    trace.run_until(&mut l, 100_000);
    trace.check(expect![[r#"
        @      0 send INVITE sip:bob@198.51.100.7
        @    500 send INVITE sip:bob@198.51.100.7
        @   1500 send INVITE sip:bob@198.51.100.7
        @   3500 send INVITE sip:bob@198.51.100.7
        @   7500 send INVITE sip:bob@198.51.100.7
        @  15500 send INVITE sip:bob@198.51.100.7
        @  31500 send INVITE sip:bob@198.51.100.7
        @  32000 event timeout TransactionId(0)
        @  32000 event terminated TransactionId(0)
    "#]]);
    assert!(l.is_empty());
    assert_eq!(l.poll_timeout(), None);
}

#[test]
fn invite_client_over_tcp_sends_once() {
    let mut l = layer(10);
    let mut trace = Trace::new();
    l.handle_send_request(t(0), request(Method::Invite, "z9hG4bKinv"), peer(Transport::Tcp))
        .expect("sent");
    trace.drain(t(0), &mut l);
    trace.run_until(&mut l, 100_000);
    trace.check(expect![[r#"
        @      0 send INVITE sip:bob@198.51.100.7
        @  32000 event timeout TransactionId(0)
        @  32000 event terminated TransactionId(0)
    "#]]);
}

#[test]
fn invite_client_acks_a_non_2xx_itself_and_absorbs_retransmissions() {
    let mut l = layer(10);
    let mut trace = Trace::new();
    let invite = request(Method::Invite, "z9hG4bKinv");
    let udp = peer(Transport::Udp);
    let id = l.handle_send_request(t(0), invite.clone(), udp).expect("sent");
    trace.drain(t(0), &mut l);
    l.handle_receive(t(200), response(&invite, 180), udp).expect("matched");
    trace.drain(t(200), &mut l);
    assert_eq!(l.state(id), Some(State::Proceeding));
    l.handle_receive(t(5_000), response(&invite, 486), udp).expect("matched");
    trace.drain(t(5_000), &mut l);
    l.handle_receive(t(5_400), response(&invite, 486), udp).expect("matched");
    trace.drain(t(5_400), &mut l);
    trace.run_until(&mut l, 100_000);
    trace.check(expect![[r#"
        @      0 send INVITE sip:bob@198.51.100.7
        @    200 event response TransactionId(0) 180
        @   5000 send ACK sip:bob@198.51.100.7
        @   5000 event response TransactionId(0) 486
        @   5400 send ACK sip:bob@198.51.100.7
        @  37000 event terminated TransactionId(0)
    "#]]);

    // The ACK reuses the INVITE's branch and carries the To tag of the response.
    let mut l = layer(10);
    l.handle_send_request(t(0), invite.clone(), udp).expect("sent");
    l.poll_transmit();
    l.handle_receive(t(1), response(&invite, 603), udp).expect("matched");
    let ack = Message::parse(&l.poll_transmit().expect("ack").bytes).expect("parses");
    let Message::Request(ack) = ack else { panic!("a request") };
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.top_via().expect("via").branch(), Some("z9hG4bKinv"));
    assert_eq!(ack.to().expect("to").tag(), Some("b2"));
    assert_eq!(ack.cseq().expect("cseq").to_string(), "1 ACK");
}

#[test]
fn reliable_clients_end_right_after_the_final_response() {
    let mut trace = Trace::new();
    let tcp = peer(Transport::Tcp);
    for (method, status) in [(Method::Invite, 404), (Method::Register, 200)] {
        let mut l = layer(10);
        let req = request(method, "z9hG4bKtcp");
        l.handle_send_request(t(0), req.clone(), tcp).expect("sent");
        trace.drain(t(0), &mut l);
        l.handle_receive(t(50), response(&req, status), tcp).expect("matched");
        trace.drain(t(50), &mut l);
        assert!(l.is_empty());
    }
    trace.check(expect![[r#"
        @      0 send INVITE sip:bob@198.51.100.7
        @     50 send ACK sip:bob@198.51.100.7
        @     50 event response TransactionId(0) 404
        @     50 event terminated TransactionId(0)
        @      0 send REGISTER sip:bob@198.51.100.7
        @     50 event response TransactionId(0) 200
        @     50 event terminated TransactionId(0)
    "#]]);
}

#[test]
fn invite_client_leaves_the_2xx_ack_to_the_tu() {
    let mut l = layer(10);
    let mut trace = Trace::new();
    let invite = request(Method::Invite, "z9hG4bKinv");
    let udp = peer(Transport::Udp);
    l.handle_send_request(t(0), invite.clone(), udp).expect("sent");
    trace.drain(t(0), &mut l);
    l.handle_receive(t(300), response(&invite, 200), udp).expect("matched");
    trace.drain(t(300), &mut l);
    l.handle_receive(t(800), response(&invite, 200), udp).expect("stray is fine");
    trace.drain(t(800), &mut l);
    trace.run_until(&mut l, 100_000);
    trace.check(expect![[r#"
        @      0 send INVITE sip:bob@198.51.100.7
        @    300 event response TransactionId(0) 200
        @    800 event response TransactionId(0) 200
        @  32300 event terminated TransactionId(0)
    "#]]);
}

#[test]
fn after_a_2xx_both_sides_stay_accepted_for_64_t1() {
    let mut trace = Trace::new();
    let udp = peer(Transport::Udp);
    let invite = request(Method::Invite, "z9hG4bKacc");

    // Server: a retransmitted INVITE is absorbed, not shown to the TU again; the TU's own 2xx
    // retransmission goes out through the transaction; timer L ends it.
    let mut l = layer(10);
    l.handle_receive(t(0), Message::Request(invite.clone()), udp).expect("new");
    trace.drain(t(0), &mut l);
    let id = trace.last_request();
    let Message::Response(ok) = response(&invite, 200) else { panic!() };
    l.handle_send_response(t(100), id, ok.clone()).expect("sent");
    trace.drain(t(100), &mut l);
    assert_eq!(l.state(id), Some(State::Accepted));
    l.handle_receive(t(600), Message::Request(invite.clone()), udp).expect("absorbed");
    trace.drain(t(600), &mut l);
    l.handle_send_response(t(600), id, ok).expect("2xx retransmission");
    trace.drain(t(600), &mut l);
    let Message::Response(busy) = response(&invite, 486) else { panic!() };
    assert_eq!(l.handle_send_response(t(700), id, busy), Err(SendError::FinalAlreadySent));
    trace.run_until(&mut l, 100_000);

    // Client: each 2xx reaches the TU under the same id until timer M.
    let mut l = layer(10);
    let id = l.handle_send_request(t(0), invite.clone(), udp).expect("sent");
    trace.drain(t(0), &mut l);
    l.handle_receive(t(100), response(&invite, 200), udp).expect("matched");
    trace.drain(t(100), &mut l);
    assert_eq!(l.state(id), Some(State::Accepted));
    l.handle_receive(t(600), response(&invite, 200), udp).expect("matched");
    trace.drain(t(600), &mut l);
    trace.run_until(&mut l, 100_000);
    l.handle_receive(t(40_000), response(&invite, 200), udp).expect("stray");
    trace.drain(t(40_000), &mut l);
    trace.check(expect![[r#"
        @      0 send SIP/2.0 100 Trying
        @      0 event request TransactionId(0) INVITE cancels=None
        @    100 send SIP/2.0 200 Reason
        @    600 send SIP/2.0 200 Reason
        @  32100 event terminated TransactionId(0)
        @      0 send INVITE sip:bob@198.51.100.7
        @    100 event response TransactionId(0) 200
        @    600 event response TransactionId(0) 200
        @  32100 event terminated TransactionId(0)
        @  40000 event stray 200
    "#]]);
}

#[test]
fn non_invite_client_caps_retransmits_at_t2() {
    let mut l = layer(10);
    let mut trace = Trace::new();
    let bye = request(Method::Bye, "z9hG4bKbye");
    let udp = peer(Transport::Udp);
    l.handle_send_request(t(0), bye.clone(), udp).expect("sent");
    trace.drain(t(0), &mut l);
    trace.run_until(&mut l, 12_000);
    l.handle_receive(t(12_100), response(&bye, 100), udp).expect("matched");
    trace.drain(t(12_100), &mut l);
    trace.run_until(&mut l, 20_000);
    l.handle_receive(t(20_100), response(&bye, 200), udp).expect("matched");
    trace.drain(t(20_100), &mut l);
    l.handle_receive(t(20_200), response(&bye, 200), udp).expect("absorbed");
    trace.drain(t(20_200), &mut l);
    trace.run_until(&mut l, 100_000);
    trace.check(expect![[r#"
        @      0 send BYE sip:bob@198.51.100.7
        @    500 send BYE sip:bob@198.51.100.7
        @   1500 send BYE sip:bob@198.51.100.7
        @   3500 send BYE sip:bob@198.51.100.7
        @   7500 send BYE sip:bob@198.51.100.7
        @  11500 send BYE sip:bob@198.51.100.7
        @  12100 event response TransactionId(0) 100
        @  15500 send BYE sip:bob@198.51.100.7
        @  19500 send BYE sip:bob@198.51.100.7
        @  20100 event response TransactionId(0) 200
        @  25100 event terminated TransactionId(0)
    "#]]);
}

#[test]
fn non_invite_client_timer_f() {
    let mut l = layer(10);
    let mut trace = Trace::new();
    l.handle_send_request(t(0), request(Method::Options, "z9hG4bKo"), peer(Transport::Tcp))
        .expect("sent");
    trace.drain(t(0), &mut l);
    trace.run_until(&mut l, 100_000);
    trace.check(expect![[r#"
        @      0 send OPTIONS sip:bob@198.51.100.7
        @  32000 event timeout TransactionId(0)
        @  32000 event terminated TransactionId(0)
    "#]]);
}

#[test]
fn invite_server_retransmits_its_final_response_until_the_ack() {
    let mut l = layer(10);
    let mut trace = Trace::new();
    let invite = request(Method::Invite, "z9hG4bKsrv");
    let udp = peer(Transport::Udp);
    l.handle_receive(t(0), Message::Request(invite.clone()), udp).expect("new");
    trace.drain(t(0), &mut l);
    l.handle_receive(t(400), Message::Request(invite.clone()), udp).expect("retransmission");
    trace.drain(t(400), &mut l);
    let id = trace.last_request();
    let Message::Response(busy) = response(&invite, 486) else { panic!() };
    l.handle_send_response(t(1_000), id, busy.clone()).expect("sent");
    trace.drain(t(1_000), &mut l);
    l.handle_receive(t(1_200), Message::Request(invite.clone()), udp).expect("retransmission");
    trace.drain(t(1_200), &mut l);
    trace.run_until(&mut l, 8_000);
    let mut ack = invite.make_ack_for(&busy);
    ack.headers.set(HeaderName::Via, invite.headers.get(&HeaderName::Via).expect("via"));
    l.handle_receive(t(8_100), Message::Request(ack.clone()), udp).expect("absorbed");
    trace.drain(t(8_100), &mut l);
    assert_eq!(l.state(id), Some(State::Confirmed));
    l.handle_receive(t(8_200), Message::Request(ack), udp).expect("absorbed");
    trace.drain(t(8_200), &mut l);
    assert_eq!(l.handle_send_response(t(8_300), id, busy), Err(SendError::FinalAlreadySent));
    trace.run_until(&mut l, 100_000);
    trace.check(expect![[r#"
        @      0 send SIP/2.0 100 Trying
        @      0 event request TransactionId(0) INVITE cancels=None
        @    400 send SIP/2.0 100 Trying
        @   1000 send SIP/2.0 486 Reason
        @   1200 send SIP/2.0 486 Reason
        @   1500 send SIP/2.0 486 Reason
        @   2500 send SIP/2.0 486 Reason
        @   4500 send SIP/2.0 486 Reason
        @  13100 event terminated TransactionId(0)
    "#]]);
}

#[test]
fn invite_server_timer_h_without_ack_and_2xx_ack_to_the_tu() {
    let mut l = layer(10);
    let mut trace = Trace::new();
    let invite = request(Method::Invite, "z9hG4bKh");
    let tcp = peer(Transport::Tcp);
    l.handle_receive(t(0), Message::Request(invite.clone()), tcp).expect("new");
    let id = server_id(&mut l);
    let Message::Response(busy) = response(&invite, 480) else { panic!() };
    l.handle_send_response(t(10), id, busy).expect("sent");
    trace.drain(t(10), &mut l);
    trace.run_until(&mut l, 100_000);

    let invite = request(Method::Invite, "z9hG4bKok");
    l.handle_receive(t(40_000), Message::Request(invite.clone()), tcp).expect("new");
    let id = server_id(&mut l);
    let Message::Response(ok) = response(&invite, 200) else { panic!() };
    l.handle_send_response(t(40_010), id, ok.clone()).expect("sent");
    trace.drain(t(40_010), &mut l);
    // The ACK for a 2xx is a new transaction with its own branch: the dialog's business.
    let mut ack = request(Method::Ack, "z9hG4bKack");
    ack.headers.set(HeaderName::To, ok.headers.get(&HeaderName::To).expect("to"));
    l.handle_receive(t(40_050), Message::Request(ack), tcp).expect("passed on");
    trace.drain(t(40_050), &mut l);
    trace.check(expect![[r#"
        @     10 send SIP/2.0 480 Reason
        @  32010 event timeout TransactionId(0)
        @  32010 event terminated TransactionId(0)
        @  40010 send SIP/2.0 200 Reason
        @  40050 event ack to the TU
    "#]]);
}

/// Drains the 100 Trying and returns the id of the request just received.
fn server_id(l: &mut TransactionLayer) -> TransactionId {
    while l.poll_transmit().is_some() {}
    loop {
        match l.poll_event() {
            Some(Event::Request { id, .. }) => return id,
            Some(_) => continue,
            None => panic!("no request event"),
        }
    }
}

#[test]
fn non_invite_server_absorbs_then_repeats_its_answer() {
    for transport in [Transport::Udp, Transport::Tcp] {
        let mut l = layer(10);
        let mut trace = Trace::new();
        let bye = request(Method::Bye, "z9hG4bKb");
        let from = peer(transport);
        l.handle_receive(t(0), Message::Request(bye.clone()), from).expect("new");
        trace.drain(t(0), &mut l);
        l.handle_receive(t(500), Message::Request(bye.clone()), from).expect("absorbed");
        trace.drain(t(500), &mut l);
        let Message::Response(ok) = response(&bye, 200) else { panic!() };
        l.handle_send_response(t(600), trace.last_request(), ok).expect("sent");
        trace.drain(t(600), &mut l);
        l.handle_receive(t(1_500), Message::Request(bye), from).expect("retransmission");
        trace.drain(t(1_500), &mut l);
        trace.run_until(&mut l, 100_000);
        let expected = match transport {
            Transport::Udp => expect![[r#"
                @      0 event request TransactionId(0) BYE cancels=None
                @    600 send SIP/2.0 200 Reason
                @   1500 send SIP/2.0 200 Reason
                @  32600 event terminated TransactionId(0)
            "#]],
            _ => expect![[r#"
                @      0 event request TransactionId(0) BYE cancels=None
                @    600 send SIP/2.0 200 Reason
                @    600 event terminated TransactionId(0)
                @   1500 event request TransactionId(1) BYE cancels=None
            "#]],
        };
        trace.check(expected);
    }
}

#[test]
fn cancel_matches_the_invite_on_both_sides() {
    // Server side: the CANCEL names the INVITE transaction it cancels.
    let mut l = layer(10);
    let mut trace = Trace::new();
    let invite = request(Method::Invite, "z9hG4bKc");
    let udp = peer(Transport::Udp);
    l.handle_receive(t(0), Message::Request(invite.clone()), udp).expect("new");
    trace.drain(t(0), &mut l);
    l.handle_receive(t(100), Message::Request(invite.make_cancel()), udp).expect("new");
    trace.drain(t(100), &mut l);
    trace.check(expect![[r#"
        @      0 send SIP/2.0 100 Trying
        @      0 event request TransactionId(0) INVITE cancels=None
        @    100 event request TransactionId(1) CANCEL cancels=Some(TransactionId(0))
    "#]]);

    // Client side: the CANCEL is its own transaction with the INVITE's branch; 200 to the
    // CANCEL and 487 to the INVITE each find theirs.
    let mut l = layer(10);
    let mut trace = Trace::new();
    let invite_id = l.handle_send_request(t(0), invite.clone(), udp).expect("sent");
    trace.drain(t(0), &mut l);
    l.handle_receive(t(100), response(&invite, 180), udp).expect("matched");
    trace.drain(t(100), &mut l);
    let cancel = invite.make_cancel();
    let cancel_id = l.handle_send_request(t(200), cancel.clone(), udp).expect("sent");
    assert_ne!(invite_id, cancel_id);
    assert_eq!(l.kind(cancel_id), Some(Kind::NonInviteClient));
    trace.drain(t(200), &mut l);
    l.handle_receive(t(300), response(&cancel, 200), udp).expect("matched");
    trace.drain(t(300), &mut l);
    l.handle_receive(t(310), response(&invite, 487), udp).expect("matched");
    trace.drain(t(310), &mut l);
    trace.check(expect![[r#"
        @      0 send INVITE sip:bob@198.51.100.7
        @    100 event response TransactionId(0) 180
        @    200 send CANCEL sip:bob@198.51.100.7
        @    300 event response TransactionId(1) 200
        @    310 send ACK sip:bob@198.51.100.7
        @    310 event response TransactionId(0) 487
    "#]]);
}

#[test]
fn timer_c_ends_an_invite_whose_peer_vanished_after_ringing() {
    let mut trace = Trace::new();
    let tcp = peer(Transport::Tcp);
    let invite = request(Method::Invite, "z9hG4bKgone");

    // No final response ever: timer C, restarted by each provisional response.
    let mut l = layer(10);
    l.handle_send_request(t(0), invite.clone(), tcp).expect("sent");
    trace.drain(t(0), &mut l);
    l.handle_receive(t(100), response(&invite, 180), tcp).expect("matched");
    trace.drain(t(100), &mut l);
    l.handle_receive(t(60_000), response(&invite, 183), tcp).expect("matched");
    trace.drain(t(60_000), &mut l);
    trace.run_until(&mut l, 1_000_000);

    // After our CANCEL, 64*T1 is all the INVITE gets (RFC 3261 §9.1).
    let mut l = layer(10);
    l.handle_send_request(t(0), invite.clone(), tcp).expect("sent");
    trace.drain(t(0), &mut l);
    l.handle_receive(t(100), response(&invite, 180), tcp).expect("matched");
    trace.drain(t(100), &mut l);
    l.handle_send_request(t(1_000), invite.make_cancel(), tcp).expect("sent");
    trace.drain(t(1_000), &mut l);
    trace.run_until(&mut l, 1_000_000);
    trace.check(expect![[r#"
        @      0 send INVITE sip:bob@198.51.100.7
        @    100 event response TransactionId(0) 180
        @  60000 event response TransactionId(0) 183
        @ 240000 event timeout TransactionId(0)
        @ 240000 event terminated TransactionId(0)
        @      0 send INVITE sip:bob@198.51.100.7
        @    100 event response TransactionId(0) 180
        @   1000 send CANCEL sip:bob@198.51.100.7
        @  33000 event timeout TransactionId(0)
        @  33000 event terminated TransactionId(0)
        @  33000 event timeout TransactionId(1)
        @  33000 event terminated TransactionId(1)
    "#]]);
}

#[test]
fn the_table_is_bounded() {
    let mut l = layer(1);
    let udp = peer(Transport::Udp);
    l.handle_send_request(t(0), request(Method::Options, "z9hG4bK1"), udp).expect("room");
    assert_eq!(
        l.handle_send_request(t(0), request(Method::Options, "z9hG4bK2"), udp),
        Err(SendError::Full { max: 1 })
    );
    let invite = request(Method::Invite, "z9hG4bK3");
    match l.handle_receive(t(0), Message::Request(invite), udp) {
        Err(ReceiveError::Full { request, from, max: 1 }) => {
            let busy = request.make_response(503, "Service Unavailable");
            l.handle_send_stateless(&Message::Response(busy), from);
        }
        other => panic!("expected Full, got {other:?}"),
    }
    l.poll_transmit();
    let sent = l.poll_transmit().expect("the stateless 503");
    assert!(sent.bytes.starts_with(b"SIP/2.0 503 Service Unavailable\r\n"));
    // An ACK never opens a transaction, so it passes even when full.
    l.handle_receive(t(0), Message::Request(request(Method::Ack, "z9hG4bK4")), udp)
        .expect("ack passes");
}

#[test]
fn send_errors_and_transport_errors() {
    let mut l = layer(10);
    let udp = peer(Transport::Udp);
    let mut no_cookie = request(Method::Options, "abc");
    assert!(matches!(
        l.handle_send_request(t(0), no_cookie.clone(), udp),
        Err(SendError::Header(_))
    ));
    no_cookie.headers.remove(&HeaderName::Via);
    assert!(matches!(l.handle_send_request(t(0), no_cookie, udp), Err(SendError::Header(_))));
    assert_eq!(
        l.handle_send_request(t(0), request(Method::Ack, "z9hG4bKa"), udp),
        Err(SendError::AckIsNotATransaction)
    );
    let id = l.handle_send_request(t(0), request(Method::Info, "z9hG4bKi"), udp).expect("ok");
    assert_eq!(
        l.handle_send_request(t(0), request(Method::Info, "z9hG4bKi"), udp),
        Err(SendError::Duplicate)
    );
    let Message::Response(ok) = response(&request(Method::Info, "z9hG4bKi"), 200) else { panic!() };
    assert_eq!(l.handle_send_response(t(0), id, ok.clone()), Err(SendError::NotAServerTransaction));
    let mut bad = ok.clone();
    bad.status = 700;
    assert_eq!(l.handle_send_response(t(0), id, bad), Err(SendError::BadStatus(700)));
    l.handle_transport_error(t(5), id);
    assert_eq!(l.poll_event(), Some(Event::TransportError { id }));
    assert_eq!(l.poll_event(), Some(Event::Terminated { id }));
    assert_eq!(l.handle_send_response(t(6), id, ok), Err(SendError::UnknownTransaction));
    assert_eq!(l.poll_timeout(), None, "no timers leak from a terminated transaction");
}

#[test]
fn received_and_rport_are_stamped_on_the_top_via() {
    let mut l = layer(10);
    let mut options = request(Method::Options, "z9hG4bKr");
    options.headers.set(HeaderName::Via, "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKr;rport");
    let from = Peer::new(Transport::Udp, "203.0.113.9:40000".parse().expect("addr"));
    l.handle_receive(t(0), Message::Request(options), from).expect("new");
    let Some(Event::Request { request, .. }) = l.poll_event() else { panic!("request") };
    let via = request.top_via().expect("via");
    assert_eq!(via.received(), Some("203.0.113.9"));
    assert_eq!(via.rport(), Some(Some(40000)));
    assert_eq!(
        request.make_response(200, "OK").top_via().expect("via").to_string(),
        "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKr;rport=40000;received=203.0.113.9"
    );
}
