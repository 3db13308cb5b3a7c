//! A TCP byte stream through `StreamFramer`: never a panic, and the messages do not depend on
//! how the stream was cut into reads. The first byte picks the read size.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::limits::HEADERS_MAX;
use sip::{Message, ParseError, StreamFramer};

/// Every message the framer yields, up to and including its first error (after an error the
/// shell closes the connection, so later bytes mean nothing).
fn frame<'a>(reads: impl Iterator<Item = &'a [u8]>) -> Vec<Result<Message, ParseError>> {
    let mut framer = StreamFramer::new();
    let mut out = Vec::new();
    for read in reads {
        if framer.handle_bytes(read).is_err() {
            return out;
        }
        while let Some(result) = framer.poll_message() {
            let failed = result.is_err();
            out.push(result);
            if failed {
                return out;
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else { return };
    let read_bytes = usize::from(first % 64) + 1;
    let whole = frame(std::iter::once(stream));
    let pieces = frame(stream.chunks(read_bytes));
    assert_eq!(whole, pieces, "framing depends on read boundaries ({read_bytes} bytes)");
    for message in whole.iter().flatten() {
        assert!(message.headers().len() < HEADERS_MAX, "room for the Content-Length line");
        let again = Message::parse(&message.to_bytes()).expect("our own serialization parses");
        assert_eq!(&again, message);
    }
});
