//! An SDP body through `SessionDescription::parse`: never a panic, and what parses serializes
//! to a body that parses back the same (our answers are built from parsed offers).

#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::limits::SDP_LINES_MAX;
use sip::sdp::SessionDescription;

fuzz_target!(|data: &[u8]| {
    let Ok(session) = SessionDescription::parse(data) else { return };
    for media in &session.media {
        let _ = (session.connection_for(media), session.is_hold(media));
    }
    let bytes = session.to_bytes();
    let lines = bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
    assert!(lines <= SDP_LINES_MAX, "what we write is within what we read");
    let again = SessionDescription::parse(&bytes).expect("our own SDP parses");
    assert_eq!(again, session, "serialize then parse changed the SDP");
});
