//! Parsing SIP messages (RFC 3261 §7, §25) under the bounds in [`crate::limits`].
//!
//! Accepted leniencies, because real peers send them: bare LF line ends, compact header
//! names, any case in header names, extra whitespace around `:` and in lists, folded
//! (continued) header lines, and leading CRLF keep-alives before a message.

use super::header::{digits, is_token, split_outside_quotes, HeaderName, Headers};
use super::{HeaderAccess, HeaderError, Message, Method, Request, Response};
use crate::limits::{BODY_BYTES_MAX, HEADERS_MAX, HEADER_LINE_BYTES_MAX, MESSAGE_BYTES_MAX};

/// What is wrong with received bytes. The shell answers 400 where it can read enough of the
/// request to do so (see [`ParseError::may_answer_400`]), and drops the message otherwise.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty message (keep-alive)")]
    Empty,
    #[error("message is {bytes} bytes, more than {max}")]
    MessageTooLarge { bytes: usize, max: usize },
    #[error("more than {max} headers")]
    TooManyHeaders { max: usize },
    #[error("line {line} is longer than {max} bytes")]
    LineTooLong { line: usize, max: usize },
    #[error("body is {bytes} bytes, more than {max}")]
    BodyTooLarge { bytes: usize, max: usize },
    #[error("no empty line ends the headers")]
    UnterminatedHead,
    #[error("headers are not UTF-8")]
    NotUtf8,
    #[error("bad start line: {0}")]
    BadStartLine(&'static str),
    #[error("unsupported SIP version")]
    UnsupportedVersion,
    #[error("line {line}: {reason}")]
    BadHeaderLine { line: usize, reason: &'static str },
    #[error("bad Content-Length")]
    BadContentLength,
    #[error("Content-Length says {declared} bytes but the body has {actual}")]
    ContentLengthMismatch { declared: usize, actual: usize },
    #[error("a stream message has no Content-Length")]
    MissingContentLength,
    #[error("CSeq method differs from the request method")]
    CSeqMethodMismatch,
    #[error(transparent)]
    Header(#[from] HeaderError),
}

impl ParseError {
    /// Errors found after the start line and the core headers were readable, so a 400 can be
    /// addressed. Size and framing errors are dropped instead.
    pub fn may_answer_400(&self) -> bool {
        matches!(
            self,
            ParseError::BadContentLength
                | ParseError::ContentLengthMismatch { .. }
                | ParseError::CSeqMethodMismatch
                | ParseError::Header(_)
        )
    }
}

pub(crate) enum StartLine {
    Request { method: Method, uri: String },
    Response { status: u16, reason: String },
}

pub(crate) struct Head {
    pub start: StartLine,
    pub headers: Headers,
    pub content_length: Option<usize>,
}

/// Bytes of leading CRLF (keep-alives) to skip.
pub(crate) fn leading_crlf(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| **b == b'\r' || **b == b'\n').count()
}

/// Length of the head including the empty line that ends it, if that line has arrived.
/// `from` resumes an earlier search (the stream framer's, so byte-by-byte arrival stays
/// linear). The start line is never empty: leading line ends were skipped.
pub(crate) fn find_head_end(bytes: &[u8], from: usize) -> Option<usize> {
    let start = from.min(bytes.len());
    bytes[start..].iter().enumerate().find_map(|(offset, byte)| {
        let i = start + offset;
        match (byte, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'\n', Some(b'\n'), _) => Some(i + 2),
            (b'\n', Some(b'\r'), Some(b'\n')) => Some(i + 3),
            _ => None,
        }
    })
}

pub(crate) fn parse_datagram(bytes: &[u8]) -> Result<Message, ParseError> {
    if bytes.len() > MESSAGE_BYTES_MAX {
        return Err(ParseError::MessageTooLarge { bytes: bytes.len(), max: MESSAGE_BYTES_MAX });
    }
    let bytes = &bytes[leading_crlf(bytes)..];
    if bytes.is_empty() {
        return Err(ParseError::Empty);
    }
    let head_len = find_head_end(bytes, 0).ok_or(ParseError::UnterminatedHead)?;
    let head = parse_head(&bytes[..head_len])?;
    let body = &bytes[head_len..];
    if let Some(declared) = head.content_length {
        if declared != body.len() {
            return Err(ParseError::ContentLengthMismatch { declared, actual: body.len() });
        }
    }
    finish(head, body.to_vec())
}

/// Parses the start line and headers. `head` ends with the empty line.
pub(crate) fn parse_head(head: &[u8]) -> Result<Head, ParseError> {
    let text = std::str::from_utf8(head).map_err(|_| ParseError::NotUtf8)?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).enumerate();
    let (_, start) = lines.next().ok_or(ParseError::BadStartLine("missing"))?;
    if start.len() > HEADER_LINE_BYTES_MAX {
        return Err(ParseError::LineTooLong { line: 1, max: HEADER_LINE_BYTES_MAX });
    }
    let start = parse_start_line(start)?;

    // Unfold continuation lines first, so each limit applies to a whole logical header.
    let mut logical: Vec<(usize, String)> = Vec::new();
    for (index, line) in lines {
        let line_no = index + 1;
        if line.is_empty() {
            break;
        }
        if line.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return Err(ParseError::BadHeaderLine { line: line_no, reason: "control character" });
        }
        if line.starts_with([' ', '\t']) {
            let Some((_, previous)) = logical.last_mut() else {
                return Err(ParseError::BadHeaderLine {
                    line: line_no,
                    reason: "continuation line before any header",
                });
            };
            previous.push(' ');
            previous.push_str(line.trim());
        } else {
            if logical.len() >= HEADERS_MAX {
                return Err(ParseError::TooManyHeaders { max: HEADERS_MAX });
            }
            logical.push((line_no, line.to_string()));
        }
        if logical.last().is_some_and(|(_, l)| l.len() > HEADER_LINE_BYTES_MAX) {
            return Err(ParseError::LineTooLong { line: line_no, max: HEADER_LINE_BYTES_MAX });
        }
    }

    let mut headers = Headers::new();
    let mut content_length = None;
    for (line_no, line) in &logical {
        let bad = |reason| ParseError::BadHeaderLine { line: *line_no, reason };
        let (name, value) = line.split_once(':').ok_or_else(|| bad("no ':'"))?;
        let name = name.trim_end_matches([' ', '\t']);
        if !is_token(name) {
            return Err(bad("header name is not a token"));
        }
        let name = HeaderName::from_wire(name);
        let value = value.trim_matches([' ', '\t']);
        if name == HeaderName::ContentLength {
            let n: usize = digits(value).ok_or(ParseError::BadContentLength)?;
            if content_length.is_some_and(|m| m != n) {
                return Err(ParseError::BadContentLength);
            }
            if n > BODY_BYTES_MAX {
                return Err(ParseError::BodyTooLarge { bytes: n, max: BODY_BYTES_MAX });
            }
            content_length = Some(n);
        } else if name.is_list() {
            for element in split_outside_quotes(value, ',') {
                let element = element.trim_matches([' ', '\t']);
                if element.is_empty() {
                    continue;
                }
                check_room(&headers)?;
                headers.push(name.clone(), element);
            }
        } else {
            check_room(&headers)?;
            headers.push(name, value);
        }
    }
    Ok(Head { start, headers, content_length })
}

/// Stored headers stay under [`HEADERS_MAX`] with room for the Content-Length line that
/// serializing adds, so whatever parses also parses again once written out.
fn check_room(headers: &Headers) -> Result<(), ParseError> {
    if headers.len() + 1 >= HEADERS_MAX {
        return Err(ParseError::TooManyHeaders { max: HEADERS_MAX });
    }
    Ok(())
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    if let Some(rest) = strip_version(line) {
        // Status-Line: SIP/2.0 SP Status-Code SP Reason-Phrase
        let rest = rest.strip_prefix(' ').ok_or(ParseError::BadStartLine("no space after"))?;
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let status = (code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()))
            .then(|| code.parse::<u16>().ok())
            .flatten()
            .filter(|s| (100..700).contains(s))
            .ok_or(ParseError::BadStartLine("status code is not 100..=699"))?;
        if reason.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return Err(ParseError::BadStartLine("control character in reason"));
        }
        return Ok(StartLine::Response { status, reason: reason.trim().to_string() });
    }
    let mut parts = line.split_ascii_whitespace();
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::BadStartLine("not 'METHOD uri SIP/2.0'"));
    };
    if strip_version(version) != Some("") {
        return if version.to_ascii_uppercase().starts_with("SIP/") {
            Err(ParseError::UnsupportedVersion)
        } else {
            Err(ParseError::BadStartLine("no SIP version"))
        };
    }
    let method = Method::parse(method).ok_or(ParseError::BadStartLine("method is not a token"))?;
    let scheme_ok = uri.split_once(':').is_some_and(|(s, r)| {
        !s.is_empty() && !r.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if !scheme_ok || uri.bytes().any(|b| b.is_ascii_control()) {
        return Err(ParseError::BadStartLine("Request-URI is not scheme:rest"));
    }
    Ok(StartLine::Request { method, uri: uri.to_string() })
}

fn strip_version(text: &str) -> Option<&str> {
    let head = text.get(..7)?;
    head.eq_ignore_ascii_case("SIP/2.0").then(|| &text[7..])
}

/// Builds the message and checks the headers every transaction needs (RFC 3261 §8.1.1).
pub(crate) fn finish(head: Head, body: Vec<u8>) -> Result<Message, ParseError> {
    if body.len() > BODY_BYTES_MAX {
        return Err(ParseError::BodyTooLarge { bytes: body.len(), max: BODY_BYTES_MAX });
    }
    let message = match head.start {
        StartLine::Request { method, uri } => {
            Message::Request(Request { method, uri, headers: head.headers, body })
        }
        StartLine::Response { status, reason } => {
            Message::Response(Response { status, reason, headers: head.headers, body })
        }
    };
    let access: &dyn HeaderAccess = match &message {
        Message::Request(r) => r,
        Message::Response(r) => r,
    };
    access.top_via()?;
    access.from()?;
    access.to()?;
    if access.call_id()?.is_empty() {
        return Err(HeaderError::Invalid { header: "Call-ID", reason: "empty" }.into());
    }
    let cseq = access.cseq()?;
    access.max_forwards()?;
    if let Message::Request(r) = &message {
        if cseq.method != r.method {
            return Err(ParseError::CSeqMethodMismatch);
        }
    }
    Ok(message)
}
