//! The B2BUA driven by hand: we play the far ends with hand-built messages and advance `now`.

use std::net::SocketAddr;

use domain::telephony::{Endpoint, LegEvent, LegEventKind, MachineDetection, NetEvent, TelCommand};
use domain::{AgentId, LegId, PhoneNumber, Timestamp};
use proptest::prelude::*;
use sip::digest::{Challenge, Credentials};
use sip::{HeaderAccess, HeaderName, Message, Method, Request, Response};

use super::*;

const PHONE: &str = "127.0.0.1:5070";
const TRUNK: &str = "127.0.0.1:5080";

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("literal address")
}

fn network() -> SipNetwork {
    let mut config = SipConfig::local(addr("127.0.0.1:5060"), 7);
    config.accounts.push(SipAccount {
        agent: AgentId(1),
        username: "alice".into(),
        password: "pw".into(),
    });
    config.trunk = Some(TrunkConfig {
        proxy: addr(TRUNK),
        domain: "carrier.example".into(),
        username: Some("acct".into()),
        password: Some("trunkpw".into()),
        caller_id: Some("+442071234567".into()),
        number_format: NumberFormat::E164,
        transport: sip::Transport::Udp,
        register_expires_s: None,
    });
    config.invites_per_second_max = 3;
    SipNetwork::new(config)
}

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000 + ms)
}

/// Every message the network sent, parsed, with where it went.
fn sent(net: &mut SipNetwork) -> Vec<(SocketAddr, Message)> {
    std::iter::from_fn(|| net.poll_transmit())
        .map(|tx| (tx.peer.addr, Message::parse(&tx.bytes).expect("we send valid SIP")))
        .collect()
}

fn events(net: &mut SipNetwork) -> Vec<LegEventKind> {
    std::iter::from_fn(|| net.poll_event())
        .map(|e| match e {
            NetEvent::Leg(e) => e.kind,
            other => panic!("expected a leg event, got {other:?}"),
        })
        .collect()
}

fn requests(messages: Vec<(SocketAddr, Message)>) -> Vec<(SocketAddr, Request)> {
    messages
        .into_iter()
        .filter_map(|(a, m)| match m {
            Message::Request(r) => Some((a, r)),
            Message::Response(_) => None,
        })
        .collect()
}

fn responses(messages: Vec<(SocketAddr, Message)>) -> Vec<Response> {
    messages
        .into_iter()
        .filter_map(|(_, m)| match m {
            Message::Response(r) => Some(r),
            Message::Request(_) => None,
        })
        .collect()
}

fn respond(net: &mut SipNetwork, now: Timestamp, from: &str, request: &Request, status: u16) {
    let mut response = request.make_response(status, "Reason");
    if status > 100 {
        let mut to = request.to().expect("ours have To");
        to.set_tag("far");
        response.headers.set(HeaderName::To, to.to_string());
    }
    if (200..300).contains(&status) {
        response.headers.push(HeaderName::Contact, format!("<sip:far@{from}>"));
        response.headers.push(HeaderName::ContentType, "application/sdp");
        response.body = offer::offer(addr(from).ip(), 30_000, 1, sip::sdp::Direction::SendRecv);
    }
    net.handle_datagram(now, addr(from), &response.to_bytes());
}

fn register(net: &mut SipNetwork, now: Timestamp) {
    let mut request = Request::new(Method::Register, "sip:127.0.0.1:5060");
    request.headers.push(HeaderName::Via, format!("SIP/2.0/UDP {PHONE};branch=z9hG4bKr1"));
    request.headers.push(HeaderName::From, "<sip:alice@127.0.0.1>;tag=p");
    request.headers.push(HeaderName::To, "<sip:alice@127.0.0.1>");
    request.headers.push(HeaderName::CallId, "reg");
    request.headers.push(HeaderName::CSeq, "1 REGISTER");
    request.headers.push(HeaderName::Contact, format!("<sip:alice@{PHONE}>"));
    net.handle_datagram(now, addr(PHONE), &request.to_bytes());
    let challenge = responses(sent(net)).pop().expect("a 401");
    assert_eq!(challenge.status, 401);
    let value = challenge.headers.get(&HeaderName::WwwAuthenticate).expect("a challenge");
    let challenge = Challenge::parse(value).expect("ours parses");
    let credentials =
        Credentials::answer(&challenge, "REGISTER", &request.uri, "alice", "pw", "c", 1)
            .expect("qop auth");
    request.headers.set(HeaderName::Via, format!("SIP/2.0/UDP {PHONE};branch=z9hG4bKr2"));
    request.headers.set(HeaderName::CSeq, "2 REGISTER");
    request.headers.push(HeaderName::Authorization, credentials.to_string());
    net.handle_datagram(now, addr(PHONE), &request.to_bytes());
    assert_eq!(responses(sent(net)).pop().map(|r| r.status), Some(200));
    assert_eq!(net.poll_notice(), Some(SipNotice::Registered { agent: AgentId(1) }));
}

fn originate_agent(net: &mut SipNetwork, now: Timestamp, leg: u64) -> Request {
    let command = TelCommand::Originate {
        leg: LegId(leg),
        to: Endpoint::Agent(AgentId(1)),
        caller_id: None,
        ring_ms_max: 20_000,
        detect_machine: domain::telephony::MachineDetection::Off,
    };
    net.handle_command(now, command);
    let (to, invite) = requests(sent(net)).pop().expect("an INVITE");
    assert_eq!((to, &invite.method), (addr(PHONE), &Method::Invite));
    invite
}

fn number(text: &str) -> PhoneNumber {
    PhoneNumber::parse(text, "DE").expect("valid E.164")
}

#[test]
fn agent_leg_rings_answers_and_hangs_up_with_bye() {
    let mut net = network();
    register(&mut net, t(0));
    assert!(net.is_registered(AgentId(1), t(0)));
    let invite = originate_agent(&mut net, t(10), 1);
    assert_eq!(invite.uri, format!("sip:alice@{PHONE}"));
    assert!(matches!(net.poll_media(), Some(MediaCommand::Open { port: 20_000, .. })));
    respond(&mut net, t(20), PHONE, &invite, 180);
    respond(&mut net, t(30), PHONE, &invite, 200);
    assert_eq!(events(&mut net), [LegEventKind::Ringing, LegEventKind::Answered]);
    let acks = requests(sent(&mut net));
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].1.method, Method::Ack);
    assert_eq!(acks[0].1.uri, format!("sip:far@{PHONE}"), "ACK goes to the 2xx's Contact");
    match net.poll_media() {
        Some(MediaCommand::Remote { remote, .. }) => {
            assert_eq!(remote.addr, addr("127.0.0.1:30000"))
        }
        other => panic!("expected the far end's media, got {other:?}"),
    }
    net.handle_command(t(40), TelCommand::Hangup { leg: LegId(1) });
    assert_eq!(events(&mut net), [LegEventKind::HungUp { by_remote: false }]);
    let (_, bye) = requests(sent(&mut net)).pop().expect("a BYE");
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(net.legs_alive(), 1, "kept until the BYE is answered");
    net.handle_datagram(t(50), addr(PHONE), &bye.make_response(200, "OK").to_bytes());
    assert_eq!((net.legs_alive(), net.ports_in_use()), (0, 0));
    net.handle_command(t(60), TelCommand::Hangup { leg: LegId(1) });
    assert!(events(&mut net).is_empty(), "a second hangup of a gone leg says nothing");
    net.check_invariants();
}

#[test]
fn unregistered_agent_and_missing_account_fail_at_once() {
    let mut net = network();
    for agent in [AgentId(1), AgentId(2)] {
        let command = TelCommand::Originate {
            leg: LegId(agent.0),
            to: Endpoint::Agent(agent),
            caller_id: None,
            ring_ms_max: 20_000,
            detect_machine: domain::telephony::MachineDetection::Off,
        };
        net.handle_command(t(0), command);
    }
    assert_eq!(events(&mut net), [LegEventKind::Failed, LegEventKind::Failed]);
    assert!(sent(&mut net).is_empty());
    assert_eq!(net.ports_in_use(), 0);
}

#[test]
fn trunk_outcomes_map_to_leg_events() {
    for (status, expected) in [
        (486, LegEventKind::Busy),
        (603, LegEventKind::Busy),
        (480, LegEventKind::NoAnswer),
        (404, LegEventKind::Failed),
        (503, LegEventKind::Failed),
    ] {
        let mut net = network();
        let command = TelCommand::Originate {
            leg: LegId(9),
            to: Endpoint::Number(number("+4915112345678")),
            caller_id: None,
            ring_ms_max: 30_000,
            detect_machine: domain::telephony::MachineDetection::Off,
        };
        net.handle_command(t(0), command);
        let (to, invite) = requests(sent(&mut net)).pop().expect("an INVITE");
        assert_eq!(to, addr(TRUNK));
        assert_eq!(invite.uri, "sip:+4915112345678@carrier.example");
        assert!(invite.from().expect("has From").uri.contains("+442071234567"));
        respond(&mut net, t(100), TRUNK, &invite, status);
        assert_eq!(events(&mut net), [expected], "status {status}");
        let acks = requests(sent(&mut net));
        assert_eq!(acks.len(), 1, "the transaction layer ACKs a non-2xx");
        assert_eq!((net.legs_alive(), net.ports_in_use()), (0, 0));
        net.check_invariants();
    }
}

#[test]
fn ring_timeout_cancels_and_the_487_is_quiet() {
    let mut net = network();
    let command = TelCommand::Originate {
        leg: LegId(3),
        to: Endpoint::Number(number("+4915112345679")),
        caller_id: None,
        ring_ms_max: 15_000,
        detect_machine: domain::telephony::MachineDetection::Off,
    };
    net.handle_command(t(0), command);
    let (_, invite) = requests(sent(&mut net)).pop().expect("an INVITE");
    respond(&mut net, t(50), TRUNK, &invite, 180);
    assert_eq!(events(&mut net), [LegEventKind::Ringing]);
    assert_eq!(net.poll_timeout(), Some(t(15_000)));
    net.handle_timeout(t(15_000));
    assert_eq!(events(&mut net), [LegEventKind::NoAnswer]);
    let (_, cancel) = requests(sent(&mut net)).pop().expect("a CANCEL");
    assert_eq!(cancel.method, Method::Cancel);
    net.handle_datagram(t(15_010), addr(TRUNK), &cancel.make_response(200, "OK").to_bytes());
    respond(&mut net, t(15_020), TRUNK, &invite, 487);
    assert!(events(&mut net).is_empty(), "the engine already heard NoAnswer");
    assert_eq!((net.legs_alive(), net.ports_in_use()), (0, 0));
}

#[test]
fn a_200_that_crosses_our_cancel_is_acked_and_ended_with_bye() {
    let mut net = network();
    let command = TelCommand::Originate {
        leg: LegId(4),
        to: Endpoint::Number(number("+4915112345670")),
        caller_id: None,
        ring_ms_max: 30_000,
        detect_machine: domain::telephony::MachineDetection::Off,
    };
    net.handle_command(t(0), command);
    let (_, invite) = requests(sent(&mut net)).pop().expect("an INVITE");
    net.handle_command(t(5), TelCommand::Hangup { leg: LegId(4) });
    assert!(sent(&mut net).is_empty(), "no CANCEL before a provisional response");
    respond(&mut net, t(10), TRUNK, &invite, 180);
    let cancel = requests(sent(&mut net)).pop().expect("the pending CANCEL");
    assert_eq!(cancel.1.method, Method::Cancel);
    respond(&mut net, t(20), TRUNK, &invite, 200);
    let methods: Vec<Method> =
        requests(sent(&mut net)).into_iter().map(|(_, r)| r.method).collect();
    assert_eq!(methods, [Method::Ack, Method::Bye]);
    assert_eq!(events(&mut net), [LegEventKind::HungUp { by_remote: false }]);
}

#[test]
fn trunk_challenge_is_answered_once_with_credentials() {
    let mut net = network();
    let command = TelCommand::Originate {
        leg: LegId(5),
        to: Endpoint::Number(number("+4915112345671")),
        caller_id: None,
        ring_ms_max: 30_000,
        detect_machine: domain::telephony::MachineDetection::Off,
    };
    net.handle_command(t(0), command);
    let (_, invite) = requests(sent(&mut net)).pop().expect("an INVITE");
    let mut challenge = invite.make_response(407, "Proxy Authentication Required");
    challenge.headers.set(HeaderName::To, "<sip:x@carrier.example>;tag=c");
    let value = Challenge::new("carrier", "n0nce", sip::digest::Algorithm::Md5).to_string();
    challenge.headers.push(HeaderName::ProxyAuthenticate, value);
    net.handle_datagram(t(10), addr(TRUNK), &challenge.to_bytes());
    let retried: Vec<_> = requests(sent(&mut net));
    let (_, second) = retried.iter().find(|(_, r)| r.method == Method::Invite).expect("resent");
    let credentials = second.headers.get(&HeaderName::ProxyAuthorization).expect("answered");
    let credentials = Credentials::parse(credentials).expect("valid");
    assert!(credentials.verify("INVITE", sip::digest::Secret::Password("trunkpw")));
    assert_eq!(second.cseq().expect("has CSeq").seq, 2);
    // A second challenge is a failure, not a loop.
    net.handle_datagram(t(20), addr(TRUNK), &{
        let mut again = second.make_response(407, "Again");
        again.headers.set(HeaderName::To, "<sip:x@carrier.example>;tag=c");
        again.to_bytes()
    });
    assert_eq!(events(&mut net), [LegEventKind::Failed]);
}

#[test]
fn remote_bye_ends_the_leg_and_unknown_bye_gets_481() {
    let mut net = network();
    register(&mut net, t(0));
    let invite = originate_agent(&mut net, t(10), 6);
    respond(&mut net, t(20), PHONE, &invite, 200);
    let _ = (events(&mut net), sent(&mut net));
    let mut bye = Request::new(Method::Bye, "sip:switchboard@127.0.0.1:5060");
    bye.headers.push(HeaderName::Via, format!("SIP/2.0/UDP {PHONE};branch=z9hG4bKb1"));
    let mut from = invite.to().expect("has To");
    from.set_tag("far");
    bye.headers.push(HeaderName::From, from.to_string());
    bye.headers.push(HeaderName::To, invite.headers.get(&HeaderName::From).expect("has From"));
    bye.headers.push(HeaderName::CallId, invite.call_id().expect("has Call-ID"));
    bye.headers.push(HeaderName::CSeq, "1 BYE");
    net.handle_datagram(t(30), addr(PHONE), &bye.to_bytes());
    assert_eq!(events(&mut net), [LegEventKind::HungUp { by_remote: true }]);
    assert_eq!(responses(sent(&mut net)).pop().map(|r| r.status), Some(200));
    assert_eq!(net.legs_alive(), 0);
    bye.headers.set(HeaderName::Via, format!("SIP/2.0/UDP {PHONE};branch=z9hG4bKb2"));
    net.handle_datagram(t(40), addr(PHONE), &bye.to_bytes());
    assert_eq!(responses(sent(&mut net)).pop().map(|r| r.status), Some(481));
}

#[test]
fn early_media_in_a_183_is_connected_before_the_answer() {
    let mut net = network();
    let command = TelCommand::Originate {
        leg: LegId(12),
        to: Endpoint::Number(number("+4915112345672")),
        caller_id: None,
        ring_ms_max: 30_000,
        detect_machine: domain::telephony::MachineDetection::Off,
    };
    net.handle_command(t(0), command);
    let (_, invite) = requests(sent(&mut net)).pop().expect("an INVITE");
    while net.poll_media().is_some() {}
    let mut progress = invite.make_response(183, "Session Progress");
    let mut to = invite.to().expect("has To");
    to.set_tag("far");
    progress.headers.set(HeaderName::To, to.to_string());
    progress.headers.push(HeaderName::ContentType, "application/sdp");
    progress.body = offer::offer(addr(TRUNK).ip(), 30_002, 1, sip::sdp::Direction::SendRecv);
    net.handle_datagram(t(10), addr(TRUNK), &progress.to_bytes());
    assert_eq!(events(&mut net), [LegEventKind::Ringing], "not answered yet");
    match net.poll_media() {
        Some(MediaCommand::Remote { remote, .. }) => {
            assert_eq!(remote.addr, addr("127.0.0.1:30002"), "the announcement's address")
        }
        other => panic!("expected early media, got {other:?}"),
    }
}

#[test]
fn a_reinvite_to_hold_is_answered_with_the_mirrored_direction_and_stops_our_media() {
    let mut net = network();
    register(&mut net, t(0));
    let invite = originate_agent(&mut net, t(10), 8);
    respond(&mut net, t(20), PHONE, &invite, 200);
    let _ = (events(&mut net), sent(&mut net));
    while net.poll_media().is_some() {}
    let mut hold = Request::new(Method::Invite, "sip:switchboard@127.0.0.1:5060");
    hold.headers.push(HeaderName::Via, format!("SIP/2.0/UDP {PHONE};branch=z9hG4bKh1"));
    let mut from = invite.to().expect("has To");
    from.set_tag("far");
    hold.headers.push(HeaderName::From, from.to_string());
    hold.headers.push(HeaderName::To, invite.headers.get(&HeaderName::From).expect("has From"));
    hold.headers.push(HeaderName::CallId, invite.call_id().expect("has Call-ID"));
    hold.headers.push(HeaderName::CSeq, "1 INVITE");
    hold.headers.push(HeaderName::Contact, format!("<sip:far@{PHONE}>"));
    hold.headers.push(HeaderName::ContentType, "application/sdp");
    hold.body = offer::offer(addr(PHONE).ip(), 30_000, 1, sip::sdp::Direction::SendOnly);
    net.handle_datagram(t(30), addr(PHONE), &hold.to_bytes());
    let ok = responses(sent(&mut net)).into_iter().find(|r| r.status == 200).expect("200");
    let answer = sip::sdp::SessionDescription::parse(&ok.body).expect("our SDP");
    let media = answer.audio().expect("audio");
    assert_eq!(answer.direction_for(media), sip::sdp::Direction::RecvOnly);
    match net.poll_media() {
        Some(MediaCommand::Remote { remote, .. }) => assert!(remote.on_hold, "nothing is sent"),
        other => panic!("expected the held media, got {other:?}"),
    }
    assert!(events(&mut net).is_empty(), "hold is not a hang-up");
    // The same CSeq again is out of order.
    hold.headers.set(HeaderName::Via, format!("SIP/2.0/UDP {PHONE};branch=z9hG4bKh2"));
    net.handle_datagram(t(40), addr(PHONE), &hold.to_bytes());
    assert_eq!(responses(sent(&mut net)).pop().map(|r| r.status), Some(500));
}

#[test]
fn silent_media_hangs_the_call_up() {
    let mut net = network();
    register(&mut net, t(0));
    let invite = originate_agent(&mut net, t(10), 7);
    respond(&mut net, t(20), PHONE, &invite, 200);
    let _ = (events(&mut net), sent(&mut net));
    net.handle_media_timeout(t(30_000), LegId(7));
    assert_eq!(events(&mut net), [LegEventKind::HungUp { by_remote: true }]);
    assert_eq!(requests(sent(&mut net)).pop().map(|(_, r)| r.method), Some(Method::Bye));
    // The far end is gone: the BYE times out and the leg is reaped, nothing leaks.
    let mut now = t(30_000);
    while net.legs_alive() > 0 || net.transactions_alive() > 0 {
        now = net.poll_timeout().expect("something is pending");
        net.handle_timeout(now);
        let _ = sent(&mut net);
    }
    assert_eq!(net.ports_in_use(), 0);
    assert!(now <= t(30_000 + 40_000), "reaped within the bound");
}

fn inbound_invite(branch: &str, call_id: &str) -> Request {
    let mut invite = Request::new(Method::Invite, "sip:sales@127.0.0.1:5060");
    invite.headers.push(HeaderName::Via, format!("SIP/2.0/UDP {TRUNK};branch={branch}"));
    invite.headers.push(HeaderName::From, "<sip:+15550001@carrier.example>;tag=x");
    invite.headers.push(HeaderName::To, "<sip:sales@127.0.0.1>");
    invite.headers.push(HeaderName::CallId, call_id);
    invite.headers.push(HeaderName::CSeq, "1 INVITE");
    invite.headers.push(HeaderName::Contact, format!("<sip:c@{TRUNK}>"));
    invite
}

#[test]
fn an_invite_flood_past_the_limit_gets_503() {
    let mut net = network();
    let mut statuses = Vec::new();
    for i in 0..5 {
        let invite = inbound_invite(&format!("z9hG4bKf{i}"), &format!("flood{i}"));
        net.handle_datagram(t(100), addr(TRUNK), &invite.to_bytes());
        statuses
            .extend(responses(sent(&mut net)).into_iter().map(|r| r.status).filter(|s| *s >= 200));
    }
    assert_eq!(statuses, [488, 488, 488, 503, 503], "admitted, but no SDP; then refused");
    let invite = inbound_invite("z9hG4bKf9", "flood9");
    net.handle_datagram(t(1_100), addr(TRUNK), &invite.to_bytes());
    let next: Vec<u16> = responses(sent(&mut net)).into_iter().map(|r| r.status).collect();
    assert!(next.contains(&488), "the next second admits again: {next:?}");
}

#[test]
fn options_is_answered_and_unknown_methods_get_405() {
    let mut net = network();
    let mut options = inbound_invite("z9hG4bKo1", "o1");
    options.method = Method::Options;
    options.headers.set(HeaderName::CSeq, "1 OPTIONS");
    net.handle_datagram(t(0), addr(TRUNK), &options.to_bytes());
    assert_eq!(responses(sent(&mut net)).pop().map(|r| r.status), Some(200));
    let mut message = inbound_invite("z9hG4bKo2", "o2");
    message.method = Method::Message;
    message.headers.set(HeaderName::CSeq, "1 MESSAGE");
    net.handle_datagram(t(0), addr(TRUNK), &message.to_bytes());
    assert_eq!(responses(sent(&mut net)).pop().map(|r| r.status), Some(405));
}

fn with_offer(mut invite: Request) -> Request {
    invite.headers.push(HeaderName::ContentType, "application/sdp");
    invite.body = offer::offer(addr(TRUNK).ip(), 40_000, 9, sip::sdp::Direction::SendRecv);
    invite
}

#[test]
fn an_inbound_call_is_answered_reported_and_its_2xx_resent_until_acked() {
    let mut net = network();
    let invite = with_offer(inbound_invite("z9hG4bKin1", "in1"));
    net.handle_datagram(t(0), addr(TRUNK), &invite.to_bytes());
    let answers = responses(sent(&mut net));
    let ok = answers.iter().find(|r| r.status == 200).expect("answered");
    assert!(ok.to().expect("To").tag().is_some(), "our tag");
    assert!(offer::remote_media(&ok.body).is_some(), "with our SDP");
    let leg = LegId(domain::telephony::INBOUND_LEG_ID_MIN);
    let incoming = net.poll_event().expect("reported");
    assert_eq!(
        incoming,
        NetEvent::Incoming { leg, caller: "+15550001".into(), dialed: "sales".into() }
    );
    let media: Vec<_> = std::iter::from_fn(|| net.poll_media()).collect();
    assert!(matches!(media[..], [MediaCommand::Open { .. }, MediaCommand::Remote { .. }]));
    // No ACK yet: the 2xx goes again after T1.
    net.handle_timeout(t(500));
    assert_eq!(responses(sent(&mut net)).iter().filter(|r| r.status == 200).count(), 1);
    let mut ack = Request::new(Method::Ack, "sip:switchboard@127.0.0.1:5060");
    ack.headers.push(HeaderName::Via, format!("SIP/2.0/UDP {TRUNK};branch=z9hG4bKack"));
    ack.headers.push(HeaderName::From, invite.headers.get(&HeaderName::From).expect("From"));
    ack.headers.push(HeaderName::To, ok.headers.get(&HeaderName::To).expect("To"));
    ack.headers.push(HeaderName::CallId, "in1");
    ack.headers.push(HeaderName::CSeq, "1 ACK");
    net.handle_datagram(t(600), addr(TRUNK), &ack.to_bytes());
    net.handle_timeout(t(5_000));
    assert!(responses(sent(&mut net)).is_empty(), "no resend after the ACK");
    // A key press and the engine's hangup.
    net.handle_dtmf(leg, '1');
    assert_eq!(net.poll_event(), Some(NetEvent::Dtmf { leg, digit: '1' }));
    net.handle_command(t(6_000), TelCommand::Play { leg, prompt: "moh.wav".into(), looping: true });
    assert!(matches!(net.poll_media(), Some(MediaCommand::Play { looping: true, .. })));
    net.handle_command(t(7_000), TelCommand::Hangup { leg });
    assert_eq!(events(&mut net), [LegEventKind::HungUp { by_remote: false }]);
    let (_, bye) = requests(sent(&mut net)).pop().expect("a BYE");
    assert_eq!((bye.method.clone(), bye.uri.as_str()), (Method::Bye, "sip:c@127.0.0.1:5080"));
    net.check_invariants();
}

#[test]
fn inbound_calls_from_strangers_are_refused_and_an_unacked_answer_ends_the_call() {
    let mut net = network();
    let invite = with_offer(inbound_invite("z9hG4bKs1", "s1"));
    net.handle_datagram(t(0), addr("10.9.9.9:5060"), &invite.to_bytes());
    assert_eq!(responses(sent(&mut net)).pop().map(|r| r.status), Some(403));
    let invite = with_offer(inbound_invite("z9hG4bKs2", "s2"));
    net.handle_datagram(t(0), addr(TRUNK), &invite.to_bytes());
    let _ = (net.poll_event(), sent(&mut net));
    let mut now = t(0);
    while net.legs_alive() > 0 {
        now = net.poll_timeout().expect("pending");
        net.handle_timeout(now);
        let _ = sent(&mut net);
    }
    assert_eq!(events(&mut net), [LegEventKind::HungUp { by_remote: true }]);
    assert!(now <= t(32_000 + 40_000), "bounded: {now:?}");
    assert_eq!(net.ports_in_use(), 0);
}

proptest! {
    #[test]
    fn arbitrary_datagrams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut net = network();
        net.handle_datagram(t(0), addr(TRUNK), &bytes);
        let _ = sent(&mut net);
        net.check_invariants();
    }
}

#[test]
fn peers_are_where_the_invite_went() {
    let mut net = network();
    register(&mut net, t(0));
    let _ = originate_agent(&mut net, t(1), 11);
    assert_eq!(outbound::peer_of(&net, LegId(11)).map(|p| p.addr), Some(addr(PHONE)));
    let _ = LegEvent { leg: LegId(11), kind: LegEventKind::Ringing };
}

/// A customer's leg with machine detection: the INVITE answered at `t(100)`.
fn detecting_leg(net: &mut SipNetwork, leg: u64, detection: MachineDetection) -> Request {
    let command = TelCommand::Originate {
        leg: LegId(leg),
        to: Endpoint::Number(number("+4915112345678")),
        caller_id: None,
        ring_ms_max: 30_000,
        detect_machine: detection,
    };
    net.handle_command(t(0), command);
    let (_, invite) = requests(sent(net)).pop().expect("an INVITE");
    respond(net, t(100), TRUNK, &invite, 200);
    invite
}

fn media_commands(net: &mut SipNetwork) -> Vec<MediaCommand> {
    std::iter::from_fn(|| net.poll_media()).collect()
}

#[test]
fn machine_detection_holds_the_answer_until_the_relay_decides() {
    let mut net = network();
    detecting_leg(&mut net, 1, MachineDetection::DetectAwaitGreetingEnd);
    assert!(events(&mut net).is_empty(), "the answer waits for the verdict");
    let commands = media_commands(&mut net);
    let detect = MediaCommand::DetectMachine { leg: LegId(1), await_greeting_end: true };
    assert!(commands.contains(&detect), "{commands:?}");
    // A key press while listening is not passed on.
    net.handle_dtmf(LegId(1), '5');
    assert_eq!(events(&mut net), [LegEventKind::Answered], "a key press means a person");
    net.handle_machine_detection(LegId(1), true);
    assert!(events(&mut net).is_empty(), "reported once");

    detecting_leg(&mut net, 2, MachineDetection::Detect);
    let commands = media_commands(&mut net);
    let detect = MediaCommand::DetectMachine { leg: LegId(2), await_greeting_end: false };
    assert!(commands.contains(&detect), "{commands:?}");
    net.handle_machine_detection(LegId(2), true);
    assert_eq!(events(&mut net), [LegEventKind::MachineAnswered]);
    net.handle_dtmf(LegId(2), '1');
    assert_eq!(net.poll_event(), Some(NetEvent::Dtmf { leg: LegId(2), digit: '1' }));
    net.check_invariants();
}

#[test]
fn machine_detection_without_a_verdict_reports_a_person_at_the_cap() {
    let mut net = network();
    detecting_leg(&mut net, 3, MachineDetection::Detect);
    let cap = media::amd::AmdConfig::default().total_ms_max;
    let due = net.poll_timeout().expect("the detection timer");
    assert!(due > t(100 + cap as i64) && due <= t(100 + cap as i64 + 5_000), "{due:?}");
    net.handle_timeout(due);
    assert_eq!(events(&mut net), [LegEventKind::Answered]);
    net.handle_machine_detection(LegId(3), true);
    assert!(events(&mut net).is_empty(), "too late: already reported");
    // Without detection the answer is reported at once.
    let plain = detecting_leg(&mut net, 4, MachineDetection::Off);
    assert_eq!(plain.method, Method::Invite);
    assert_eq!(events(&mut net), [LegEventKind::Answered]);
    net.check_invariants();
}
