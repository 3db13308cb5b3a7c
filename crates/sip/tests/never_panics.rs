//! Parsers are fed random bytes and mutated valid messages; they must return, never panic.
//! Whatever parses is also pushed through a transaction layer. Case counts stay small so the
//! crate's tests run in seconds; the `cargo fuzz` target (issue 3) digs deeper.

mod common;

use common::{fixture, FIXTURES};
use domain::Timestamp;
use proptest::prelude::*;
use sip::digest::{Challenge, Credentials};
use sip::message::{HeaderAccess, NameAddr, Uri, Via};
use sip::sdp::SessionDescription;
use sip::transaction::TimerConfig;
use sip::{Message, Peer, StreamFramer, TransactionConfig, TransactionLayer, Transport};

fn fixtures() -> Vec<Vec<u8>> {
    FIXTURES.iter().map(|name| fixture(name)).collect()
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Bytes that matter to the grammar, so mutations hit interesting paths.
    let special = prop::sample::select(b":;,<>\"\\\r\n =@/[]0 \t\xff".to_vec());
    prop_oneof![
        (any::<usize>(), prop_oneof![special.clone(), any::<u8>()])
            .prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), prop::collection::vec(special, 1..8))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..200).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len().max(1);
    match mutation {
        Mutation::Flip(i, b) => {
            if !bytes.is_empty() {
                bytes[i % len] = *b;
            }
        }
        Mutation::Insert(i, b) => {
            let at = i % (bytes.len() + 1);
            bytes.splice(at..at, b.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let at = i % len;
            let end = (at + n).min(bytes.len());
            bytes.drain(at.min(end)..end);
        }
        Mutation::Truncate(i) => bytes.truncate(i % len),
        Mutation::Duplicate(i, n) => {
            let at = i % len;
            let end = (at + n).min(bytes.len());
            let copy = bytes[at.min(end)..end].to_vec();
            bytes.splice(at.min(end)..at.min(end), copy);
        }
    }
}

fn without_content_length(bytes: &[u8]) -> Vec<u8> {
    let message = Message::parse(bytes).expect("fixtures parse");
    let text = message.to_bytes();
    let body = message.body().len();
    let line = format!("Content-Length: {body}\r\n");
    let at = text.windows(line.len()).position(|w| w == line.as_bytes()).expect("we write it");
    [&text[..at], &text[at + line.len()..]].concat()
}

/// Everything a peer's bytes can reach.
fn exercise(bytes: &[u8]) {
    let _ = SessionDescription::parse(bytes);
    let text = String::from_utf8_lossy(bytes);
    let _ = Via::parse(&text);
    let _ = NameAddr::parse(&text);
    let _ = Uri::parse(&text);
    let _ = Challenge::parse(&text);
    let _ = Credentials::parse(&text);

    let mut framer = StreamFramer::new();
    if framer.handle_bytes(bytes).is_ok() {
        while let Some(Ok(_)) = framer.poll_message() {}
    }

    let Ok(message) = Message::parse(bytes) else { return };
    // Serializing what we parsed must parse back to the same message.
    let again = Message::parse(&message.to_bytes()).expect("our own output parses");
    assert_eq!(again, message);
    if let Message::Request(request) = &message {
        let _ = (request.vias(), request.contacts(), request.expires());
        let _ = SessionDescription::parse(&request.body);
    }
    let mut layer = TransactionLayer::new(TransactionConfig {
        timers: TimerConfig::RFC3261,
        transactions_max: 4,
    });
    let from = Peer::new(Transport::Udp, "192.0.2.1:5060".parse().expect("address"));
    let mut now = Timestamp::from_millis(0);
    for _ in 0..2 {
        let _ = layer.handle_receive(now, message.clone(), from);
        layer.check_invariants();
        while layer.poll_transmit().is_some() {}
        while layer.poll_event().is_some() {}
        if let Some(at) = layer.poll_timeout() {
            now = at;
            layer.handle_timeout(now);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(
        which in 0..FIXTURES.len(),
        drop_length in any::<bool>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut bytes = fixtures()[which].clone();
        if drop_length {
            // Without Content-Length a datagram's body is the rest, so mutations that change
            // the length still reach the header parsers and the transaction layer.
            bytes = without_content_length(&bytes);
        }
        for m in &mutations {
            apply(&mut bytes, m);
        }
        exercise(&bytes);
    }
}
