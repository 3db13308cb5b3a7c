//! Finding message boundaries in a byte stream (TCP, RFC 3261 §18.3): the head ends at the
//! first empty line, and Content-Length (mandatory on streams) says where the body ends.

use super::parse::{find_head_end, finish, leading_crlf, parse_head, Head};
use super::{Message, ParseError};
use crate::limits::{MESSAGE_BYTES_MAX, STREAM_BUFFER_BYTES_MAX};

/// The stream framer refuses more buffered bytes; the shell closes the connection.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("stream buffer would exceed {max} bytes")]
pub struct FrameError {
    pub max: usize,
}

/// Buffers stream bytes and yields whole messages. After a [`ParseError`] the stream is out of
/// step and the shell should close the connection; the framer clears its buffer.
#[derive(Default)]
pub struct StreamFramer {
    buffer: Vec<u8>,
    /// Where the search for the end of the head resumes.
    scanned: usize,
    /// A parsed head waiting for its body: the head, its length, and the message's length.
    pending: Option<(Head, usize, usize)>,
    /// Line ends seen between messages since the last complete ping.
    keepalive_lines: u8,
    /// RFC 5626 pings (`CRLFCRLF`) seen and not yet taken.
    pings: usize,
}

impl StreamFramer {
    pub fn new() -> Self {
        StreamFramer::default()
    }

    /// Bytes buffered and not yet returned as a message.
    pub fn buffered_bytes(&self) -> usize {
        self.buffer.len()
    }

    /// RFC 5626 §4.4.1 keep-alive pings seen since the last call; the shell answers each
    /// with a single CRLF pong.
    pub fn take_pings(&mut self) -> usize {
        std::mem::take(&mut self.pings)
    }

    pub fn handle_bytes(&mut self, bytes: &[u8]) -> Result<(), FrameError> {
        if self.buffer.len() + bytes.len() > STREAM_BUFFER_BYTES_MAX {
            self.reset();
            return Err(FrameError { max: STREAM_BUFFER_BYTES_MAX });
        }
        self.buffer.extend_from_slice(bytes);
        Ok(())
    }

    /// The next complete message, `None` until more bytes arrive.
    pub fn poll_message(&mut self) -> Option<Result<Message, ParseError>> {
        // RFC 5626 keep-alives (CRLF) between messages.
        let skip = leading_crlf(&self.buffer);
        for byte in self.buffer.drain(..skip) {
            if byte == b'\n' {
                self.keepalive_lines += 1;
                if self.keepalive_lines == 2 {
                    self.pings += 1;
                    self.keepalive_lines = 0;
                }
            }
        }
        if !self.buffer.is_empty() {
            self.keepalive_lines = 0;
        }
        if self.buffer.is_empty() {
            return None;
        }
        let result = self.next_message();
        if !matches!(result, Some(Ok(_)) | None) {
            self.reset();
        }
        result
    }

    fn reset(&mut self) {
        self.buffer.clear();
        self.scanned = 0;
        self.pending = None;
    }

    fn next_message(&mut self) -> Option<Result<Message, ParseError>> {
        if self.pending.is_none() {
            let Some(head_len) = find_head_end(&self.buffer, self.scanned) else {
                // The ending may straddle reads: look at the last two bytes again.
                self.scanned = self.buffer.len().saturating_sub(2);
                if self.buffer.len() >= MESSAGE_BYTES_MAX {
                    let bytes = self.buffer.len();
                    return Some(Err(ParseError::MessageTooLarge {
                        bytes,
                        max: MESSAGE_BYTES_MAX,
                    }));
                }
                return None;
            };
            let head = match parse_head(&self.buffer[..head_len]) {
                Ok(head) => head,
                Err(e) => return Some(Err(e)),
            };
            let Some(body_len) = head.content_length else {
                return Some(Err(ParseError::MissingContentLength));
            };
            let total = head_len + body_len;
            if total > MESSAGE_BYTES_MAX {
                let error = ParseError::MessageTooLarge { bytes: total, max: MESSAGE_BYTES_MAX };
                return Some(Err(error));
            }
            self.pending = Some((head, head_len, total));
        }
        let total = self.pending.as_ref().map_or(0, |(_, _, total)| *total);
        if self.buffer.len() < total {
            return None;
        }
        let (head, head_len, total) = self.pending.take()?;
        let body = self.buffer[head_len..total].to_vec();
        self.buffer.drain(..total);
        self.scanned = 0;
        Some(finish(head, body))
    }
}
