//! Bounds on everything a peer can send. Units come last in the name.

/// Largest SIP message accepted, head and body together. A UDP datagram cannot be larger.
pub const MESSAGE_BYTES_MAX: usize = 65_535;
/// Header lines in one message, after splitting comma-separated lists.
pub const HEADERS_MAX: usize = 128;
/// One header line (or the start line), after unfolding continuation lines.
pub const HEADER_LINE_BYTES_MAX: usize = 4_096;
/// Body of one message.
pub const BODY_BYTES_MAX: usize = 32_768;
/// Bytes a stream framer buffers while waiting for the rest of a message.
pub const STREAM_BUFFER_BYTES_MAX: usize = MESSAGE_BYTES_MAX;

/// Lines in one SDP body.
pub const SDP_LINES_MAX: usize = 256;
/// Media sections (`m=`) in one SDP body.
pub const SDP_MEDIA_MAX: usize = 8;
/// Payload formats listed on one `m=` line.
pub const SDP_FORMATS_MAX: usize = 32;

/// Parameters in one digest `Authorization` or `WWW-Authenticate` value.
pub const DIGEST_PARAMS_MAX: usize = 32;

const _: () = assert!(BODY_BYTES_MAX < MESSAGE_BYTES_MAX);
const _: () = assert!(HEADER_LINE_BYTES_MAX < MESSAGE_BYTES_MAX);
const _: () = assert!(STREAM_BUFFER_BYTES_MAX >= MESSAGE_BYTES_MAX);
