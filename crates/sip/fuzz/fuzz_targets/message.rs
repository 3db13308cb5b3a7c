//! A datagram through `Message::parse`: never a panic, and whatever parses serializes to bytes
//! that parse back to the same message (what the shell sends is what a peer reads back).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::limits::HEADERS_MAX;
use sip::message::{HeaderAccess, HeaderName, NameAddr, Uri, Via};
use sip::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(message) = Message::parse(data) else { return };
    exercise_headers(&message);
    assert!(message.headers().len() < HEADERS_MAX, "room for the Content-Length line");
    let bytes = message.to_bytes();
    let again = Message::parse(&bytes).expect("our own serialization parses");
    assert_eq!(again, message, "serialize then parse changed the message");
    assert_eq!(again.to_bytes(), bytes, "serializing is not stable");
});

fn exercise_headers(message: &Message) {
    // The typed header views the network reads from every request.
    if let Message::Request(request) = message {
        let _ = (request.vias(), request.contacts(), request.expires(), request.max_forwards());
        let _ = (request.from(), request.to(), request.cseq(), Uri::parse(&request.uri));
    }
    for header in message.headers().iter() {
        match header.name {
            HeaderName::Via => {
                let _ = Via::parse(&header.value);
            }
            HeaderName::From | HeaderName::To | HeaderName::Contact => {
                let _ = NameAddr::parse(&header.value);
            }
            _ => {}
        }
    }
}
