//! Message round-trips from `test_data/`, snapshots of what we send, and one error test per
//! limit and malformed line.

mod common;

use common::{fixture, FIXTURES};
use expect_test::{expect, Expect};
use sip::limits::{BODY_BYTES_MAX, HEADERS_MAX, HEADER_LINE_BYTES_MAX, MESSAGE_BYTES_MAX};
use sip::message::{CSeq, HeaderAccess, HeaderName, Method};
use sip::{Message, ParseError, StreamFramer};

fn parse_fixture(name: &str) -> Message {
    Message::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_fixture_round_trips() {
    for name in FIXTURES {
        let message = parse_fixture(name);
        let bytes = message.to_bytes();
        let again = Message::parse(&bytes).unwrap_or_else(|e| panic!("{name} again: {e}"));
        assert_eq!(message, again, "{name}");
        assert_eq!(again.to_bytes(), bytes, "{name}: serializing is stable");
    }
}

#[test]
fn every_fixture_frames_from_a_stream_byte_by_byte() {
    let mut framer = StreamFramer::new();
    let mut expected = Vec::new();
    for name in FIXTURES {
        let message = parse_fixture(name);
        for byte in message.to_bytes() {
            framer.handle_bytes(&[byte]).expect("fits");
            if let Some(got) = framer.poll_message() {
                expected.push(got.expect("parses"));
            }
        }
        framer.handle_bytes(b"\r\n\r\n").expect("keep-alive fits");
    }
    assert_eq!(expected.len(), FIXTURES.len());
    assert_eq!(framer.poll_message(), None);
    // Each message was followed by one ping.
    assert_eq!(framer.take_pings(), FIXTURES.len());
    framer.handle_bytes(b"\r\n").expect("fits");
    assert_eq!(framer.poll_message(), None);
    framer.handle_bytes(b"\r\n").expect("fits");
    assert_eq!(framer.poll_message(), None);
    assert_eq!(framer.take_pings(), 1, "a ping split across reads still counts");
    assert_eq!(framer.buffered_bytes(), 0);
}

fn check(message: &Message, expect: Expect) {
    expect.assert_eq(&String::from_utf8_lossy(&message.to_bytes()).replace("\r\n", "\n"));
}

#[test]
fn invite_with_compact_headers_and_odd_whitespace() {
    let Message::Request(invite) = parse_fixture("invite.sip") else { panic!("a request") };
    assert_eq!(invite.method, Method::Invite);
    assert_eq!(invite.vias().expect("vias").len(), 3);
    let top = invite.top_via().expect("via");
    assert_eq!(top.branch(), Some("z9hG4bK74bf9"));
    assert_eq!(top.rport(), Some(None));
    assert_eq!(invite.from().expect("from").tag(), Some("9fxced76sl"));
    assert_eq!(invite.to().expect("to").tag(), None);
    assert_eq!(invite.cseq().expect("cseq"), CSeq { seq: 314159, method: Method::Invite });
    assert_eq!(invite.max_forwards().expect("number"), Some(70));
    assert_eq!(invite.contacts().expect("contact")[0].params.get("expires"), Some(Some("3600")));
    assert_eq!(invite.content_type(), Some("application/sdp"));
    assert_eq!(invite.headers.get(&HeaderName::Subject), Some("a folded subject line"));
    check(
        &Message::Request(invite),
        expect![[r#"
            INVITE sip:+4930123456@trunk.example.net;user=phone SIP/2.0
            Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport
            Via: SIP/2.0/UDP   proxy.example.net;branch=z9hG4bKnashds8
            Via: SIP/2.0/TCP 10.1.1.1:5070;branch=z9hG4bK1
            Max-Forwards: 70
            From: "Alice A." <sip:alice@atlanta.example>;tag=9fxced76sl
            To: <sip:+4930123456@trunk.example.net;user=phone>
            Call-ID: 3848276298220188511@atlanta.example
            CSeq: 314159   INVITE
            Contact: <sip:alice@192.0.2.10:5060;transport=udp>;expires=3600
            Allow: INVITE
            Allow: ACK
            Allow: CANCEL
            Allow: BYE
            Allow: OPTIONS
            Supported: replaces
            Supported: timer
            Subject: a folded subject line
            User-Agent: baresip v3.10.1 (x86_64/Linux)
            Content-Type: application/sdp
            Content-Length: 238

            v=0
            o=alice 2890844526 2890844526 IN IP4 192.0.2.10
            s=-
            c=IN IP4 192.0.2.10
            t=0 0
            m=audio 49170 RTP/AVP 0 8 101
            a=rtpmap:0 PCMU/8000
            a=rtpmap:8 PCMA/8000
            a=rtpmap:101 telephone-event/8000
            a=fmtp:101 0-16
            a=ptime:20
            a=sendrecv
        "#]],
    );
}

#[test]
fn ack_and_cancel_built_from_an_invite() {
    let Message::Request(invite) = parse_fixture("invite.sip") else { panic!("a request") };
    let Message::Response(mut busy) = parse_fixture("ok200.sip") else { panic!("a response") };
    busy.status = 486;
    busy.reason = "Busy Here".into();
    check(
        &Message::Request(invite.make_ack_for(&busy)),
        expect![[r#"
            ACK sip:+4930123456@trunk.example.net;user=phone SIP/2.0
            Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport
            From: "Alice A." <sip:alice@atlanta.example>;tag=9fxced76sl
            To: <sip:+4930123456@trunk.example.net;user=phone>;tag=314159
            Call-ID: 3848276298220188511@atlanta.example
            CSeq: 314159 ACK
            Max-Forwards: 70
            Content-Length: 0

        "#]],
    );
    let cancel = invite.make_cancel();
    let Message::Request(expected) = parse_fixture("cancel.sip") else { panic!("a request") };
    assert_eq!(cancel.top_via(), expected.top_via());
    assert_eq!(cancel.cseq(), expected.cseq());
    assert_eq!(cancel.to(), expected.to());
    check(
        &Message::Response(invite.make_response(503, "Service Unavailable")),
        expect![[r#"
            SIP/2.0 503 Service Unavailable
            Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK74bf9;rport
            Via: SIP/2.0/UDP   proxy.example.net;branch=z9hG4bKnashds8
            Via: SIP/2.0/TCP 10.1.1.1:5070;branch=z9hG4bK1
            From: "Alice A." <sip:alice@atlanta.example>;tag=9fxced76sl
            To: <sip:+4930123456@trunk.example.net;user=phone>
            Call-ID: 3848276298220188511@atlanta.example
            CSeq: 314159   INVITE
            Content-Length: 0

        "#]],
    );
}

#[test]
fn response_fields() {
    let Message::Response(ok) = parse_fixture("ok200.sip") else { panic!("a response") };
    assert_eq!((ok.status, ok.reason.as_str()), (200, "OK"));
    assert!(ok.is_success());
    let via = ok.top_via().expect("via");
    assert_eq!((via.received(), via.rport()), (Some("203.0.113.5"), Some(Some(5060))));
    let routes: Vec<_> = ok.headers.get_all(&HeaderName::RecordRoute).collect();
    assert_eq!(routes, ["<sip:p2.example.net;lr>", "<sip:p1.example.net;lr>"]);
    let Message::Response(challenge) = parse_fixture("unauthorized401.sip") else {
        panic!("a response")
    };
    assert_eq!(challenge.headers.get_all(&HeaderName::WwwAuthenticate).count(), 2);
}

const MINIMAL: &str = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
    From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n";

fn with_extra(extra: &str, body: &str) -> Vec<u8> {
    format!("{MINIMAL}{extra}\r\n{body}").into_bytes()
}

fn err(bytes: &[u8]) -> ParseError {
    Message::parse(bytes).expect_err("must be rejected")
}

#[test]
fn minimal_message_parses_with_lf_only_and_leading_crlf() {
    assert!(Message::parse(&with_extra("", "")).is_ok());
    let lf = String::from_utf8(with_extra("", "")).expect("utf8").replace("\r\n", "\n");
    assert!(Message::parse(format!("\r\n\r\n{lf}").as_bytes()).is_ok());
    assert_eq!(err(b"\r\n\r\n"), ParseError::Empty);
}

#[test]
fn each_limit_is_enforced() {
    let huge = vec![b'a'; MESSAGE_BYTES_MAX + 1];
    assert!(matches!(err(&huge), ParseError::MessageTooLarge { .. }));

    let many: String = (0..HEADERS_MAX).map(|i| format!("X-H{i}: v\r\n")).collect();
    assert_eq!(err(&with_extra(&many, "")), ParseError::TooManyHeaders { max: HEADERS_MAX });

    let list = format!("Allow: {}\r\n", vec!["INFO"; HEADERS_MAX].join(","));
    assert_eq!(err(&with_extra(&list, "")), ParseError::TooManyHeaders { max: HEADERS_MAX });

    let long = format!("Subject: {}\r\n", "s".repeat(HEADER_LINE_BYTES_MAX));
    assert!(matches!(err(&with_extra(&long, "")), ParseError::LineTooLong { line: 7, .. }));

    let folded = format!("Subject: a\r\n {}\r\n", "s".repeat(HEADER_LINE_BYTES_MAX));
    assert!(matches!(err(&with_extra(&folded, "")), ParseError::LineTooLong { .. }));

    let body = "b".repeat(BODY_BYTES_MAX + 1);
    assert!(matches!(err(&with_extra("", &body)), ParseError::BodyTooLarge { .. }));
    let declared = format!("Content-Length: {}\r\n", BODY_BYTES_MAX + 1);
    assert!(matches!(err(&with_extra(&declared, "")), ParseError::BodyTooLarge { .. }));
}

#[test]
fn content_length_must_match_a_datagram() {
    assert_eq!(
        err(&with_extra("Content-Length: 5\r\n", "abc")),
        ParseError::ContentLengthMismatch { declared: 5, actual: 3 }
    );
    assert_eq!(
        err(&with_extra("l: 1\r\n", "abc")),
        ParseError::ContentLengthMismatch { declared: 1, actual: 3 }
    );
    assert_eq!(err(&with_extra("Content-Length: x\r\n", "")), ParseError::BadContentLength);
    assert_eq!(err(&with_extra("Content-Length: +0\r\n", "")), ParseError::BadContentLength);
    assert_eq!(
        err(&with_extra("Content-Length: 1\r\nl: 2\r\n", "ab")),
        ParseError::BadContentLength
    );
    let Ok(Message::Request(r)) = Message::parse(&with_extra("", "abc")) else { panic!() };
    assert_eq!(r.body, b"abc", "without Content-Length a datagram's body is the rest");
}

#[test]
fn malformed_lines_say_what_is_wrong() {
    let cases: &[(&[u8], &str)] = &[
        (b"INVITE sip:a@b SIP/2.0\r\nVia: x", "no empty line ends the headers"),
        (b"INVITE sip:a@b\r\n\r\n", "bad start line: not 'METHOD uri SIP/2.0'"),
        (b"INVITE sip:a@b SIP/3.0\r\n\r\n", "unsupported SIP version"),
        (b"INVITE sip:a@b HTTP/1.1\r\n\r\n", "bad start line: no SIP version"),
        (b"INV(TE sip:a@b SIP/2.0\r\n\r\n", "bad start line: method is not a token"),
        (b"INVITE nocolon SIP/2.0\r\n\r\n", "bad start line: Request-URI is not scheme:rest"),
        (b"SIP/2.0 99 Low\r\n\r\n", "bad start line: status code is not 100..=699"),
        (b"SIP/2.0 2000 OK\r\n\r\n", "bad start line: status code is not 100..=699"),
        (b"SIP/2.0 200 OK\r\nNoColon\r\n\r\n", "line 2: no ':'"),
        (b"SIP/2.0 200 OK\r\nBad Name: x\r\n\r\n", "line 2: header name is not a token"),
        (b"SIP/2.0 200 OK\r\n folded\r\n\r\n", "line 2: continuation line before any header"),
        (b"SIP/2.0 200 OK\r\nX: a\x00b\r\n\r\n", "line 2: control character"),
        (b"SIP/2.0 200 OK\r\nX: \xff\r\n\r\n", "headers are not UTF-8"),
        (b"SIP/2.0 200 OK\r\n\r\n", "missing Via header"),
    ];
    for (bytes, message) in cases {
        assert_eq!(err(bytes).to_string(), *message, "{}", String::from_utf8_lossy(bytes));
    }
    let replace = |from: &str, to: &str| MINIMAL.replace(from, to) + "\r\n";
    let header_cases = [
        (replace("Via: SIP/2.0/UDP h;", "Via: SIP/2.0/UDP ;"), "invalid Via: bad host"),
        (replace("From: <sip:x@y>", "From: <sip:x@y"), "invalid address: unterminated '<'"),
        (replace("To: <sip:a@b>\r\n", ""), "missing To header"),
        (replace("Call-ID: c", "Call-ID:"), "invalid Call-ID: empty"),
        (replace("CSeq: 1 OPTIONS", "CSeq: x OPTIONS"), "invalid CSeq: bad number"),
        (
            replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE"),
            "CSeq method differs from the request method",
        ),
        (
            MINIMAL.to_string() + "Max-Forwards: 300\r\n\r\n",
            "invalid Max-Forwards: not a number in 0..=255",
        ),
    ];
    for (text, message) in header_cases {
        let e = err(text.as_bytes());
        assert_eq!(e.to_string(), message, "{text}");
        assert!(e.may_answer_400(), "{text}");
    }
}

#[test]
fn stream_framer_limits_and_errors() {
    let mut framer = StreamFramer::new();
    let no_length = with_extra("", "");
    framer.handle_bytes(&no_length).expect("fits");
    assert_eq!(framer.poll_message(), Some(Err(ParseError::MissingContentLength)));
    assert_eq!(framer.buffered_bytes(), 0, "a broken stream is cleared");

    let mut framer = StreamFramer::new();
    assert!(framer.handle_bytes(&vec![b'x'; MESSAGE_BYTES_MAX + 1]).is_err());
    framer.handle_bytes(&vec![b'x'; MESSAGE_BYTES_MAX]).expect("fits exactly");
    assert!(matches!(framer.poll_message(), Some(Err(ParseError::MessageTooLarge { .. }))));

    // Two messages in one read, the second split across reads.
    let mut framer = StreamFramer::new();
    let one = with_extra("Content-Length: 3\r\n", "abc");
    let mut both = one.clone();
    both.extend_from_slice(&one[..10]);
    framer.handle_bytes(&both).expect("fits");
    assert!(matches!(framer.poll_message(), Some(Ok(_))));
    assert_eq!(framer.poll_message(), None);
    framer.handle_bytes(&one[10..]).expect("fits");
    assert!(matches!(framer.poll_message(), Some(Ok(_))));

    // A body that starts with line ends, arriving after its head, is not taken for pings.
    let crlf_body = with_extra("Content-Length: 4\r\n", "\r\n\r\n");
    let split = crlf_body.len() - 4;
    framer.handle_bytes(&crlf_body[..split]).expect("fits");
    assert_eq!(framer.poll_message(), None);
    framer.handle_bytes(&crlf_body[split..]).expect("fits");
    let Some(Ok(message)) = framer.poll_message() else { panic!("a message") };
    assert_eq!(message.body(), b"\r\n\r\n");
    assert_eq!(framer.take_pings(), 0);
}
