//! SIP messages (RFC 3261 §7): requests, responses, their headers, parsing and serializing.

mod address;
mod framer;
pub(crate) mod header;
mod parse;
mod uri;
mod via;

use std::fmt;

pub use address::NameAddr;
pub use framer::{FrameError, StreamFramer};
pub use header::{Header, HeaderName, Headers, Params};
pub use parse::ParseError;
pub use uri::Uri;
pub use via::{Via, BRANCH_MAGIC_COOKIE};

/// A header that is missing or does not parse. For a received message the shell answers 400.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("invalid {header}: {reason}")]
    Invalid { header: &'static str, reason: &'static str },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Update,
    Prack,
    Subscribe,
    Notify,
    Refer,
    Message,
    /// Any other token, kept as sent (methods are case-sensitive).
    Other(String),
}

const METHODS: &[(Method, &str)] = &[
    (Method::Invite, "INVITE"),
    (Method::Ack, "ACK"),
    (Method::Bye, "BYE"),
    (Method::Cancel, "CANCEL"),
    (Method::Register, "REGISTER"),
    (Method::Options, "OPTIONS"),
    (Method::Info, "INFO"),
    (Method::Update, "UPDATE"),
    (Method::Prack, "PRACK"),
    (Method::Subscribe, "SUBSCRIBE"),
    (Method::Notify, "NOTIFY"),
    (Method::Refer, "REFER"),
    (Method::Message, "MESSAGE"),
];

impl Method {
    /// Parses a method token; `None` if it is not a token.
    pub fn parse(text: &str) -> Option<Method> {
        if !header::is_token(text) {
            return None;
        }
        let known = METHODS.iter().find(|(_, s)| *s == text).map(|(m, _)| m.clone());
        Some(known.unwrap_or_else(|| Method::Other(text.to_string())))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Method::Other(s) => s,
            known => METHODS.iter().find(|(m, _)| m == known).map_or("", |(_, s)| s),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The CSeq header (RFC 3261 §20.16).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    pub fn parse(text: &str) -> Result<CSeq, HeaderError> {
        let bad = |reason| HeaderError::Invalid { header: "CSeq", reason };
        let mut parts = text.split_ascii_whitespace();
        let seq = parts.next().ok_or(bad("empty"))?;
        // RFC 3261 §8.1.1.5: less than 2**31.
        let seq: u32 = header::digits(seq).filter(|n| *n < 1 << 31).ok_or(bad("bad number"))?;
        let method = parts.next().and_then(Method::parse).ok_or(bad("bad method"))?;
        if parts.next().is_some() {
            return Err(bad("text after the method"));
        }
        Ok(CSeq { seq, method })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// The Request-URI as text (any scheme); [`Uri::parse`] for `sip:` details.
    pub uri: String,
    /// Every header except Content-Length, which is derived from `body` when serializing.
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// Every header except Content-Length, which is derived from `body` when serializing.
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Request(Request),
    Response(Response),
}

/// Typed access to the headers every message carries. Methods return an error rather than
/// panic, so hand-built messages with missing headers are input, not bugs.
pub trait HeaderAccess {
    fn headers(&self) -> &Headers;
    fn headers_mut(&mut self) -> &mut Headers;

    /// All Via values, top first.
    fn vias(&self) -> Result<Vec<Via>, HeaderError> {
        self.headers().get_all(&HeaderName::Via).map(Via::parse).collect()
    }

    fn top_via(&self) -> Result<Via, HeaderError> {
        Via::parse(self.headers().get(&HeaderName::Via).ok_or(HeaderError::Missing("Via"))?)
    }

    fn from(&self) -> Result<NameAddr, HeaderError> {
        NameAddr::parse(self.headers().get(&HeaderName::From).ok_or(HeaderError::Missing("From"))?)
    }

    fn to(&self) -> Result<NameAddr, HeaderError> {
        NameAddr::parse(self.headers().get(&HeaderName::To).ok_or(HeaderError::Missing("To"))?)
    }

    fn call_id(&self) -> Result<&str, HeaderError> {
        self.headers().get(&HeaderName::CallId).ok_or(HeaderError::Missing("Call-ID"))
    }

    fn cseq(&self) -> Result<CSeq, HeaderError> {
        CSeq::parse(self.headers().get(&HeaderName::CSeq).ok_or(HeaderError::Missing("CSeq"))?)
    }

    fn contacts(&self) -> Result<Vec<NameAddr>, HeaderError> {
        self.headers()
            .get_all(&HeaderName::Contact)
            .filter(|v| v.trim() != "*")
            .map(NameAddr::parse)
            .collect()
    }

    fn max_forwards(&self) -> Result<Option<u8>, HeaderError> {
        self.headers()
            .get(&HeaderName::MaxForwards)
            .map(|v| {
                header::digits::<u8>(v.trim()).ok_or(HeaderError::Invalid {
                    header: "Max-Forwards",
                    reason: "not a number in 0..=255",
                })
            })
            .transpose()
    }

    fn expires(&self) -> Result<Option<u32>, HeaderError> {
        self.headers()
            .get(&HeaderName::Expires)
            .map(|v| {
                header::digits::<u32>(v.trim())
                    .ok_or(HeaderError::Invalid { header: "Expires", reason: "not seconds" })
            })
            .transpose()
    }

    fn content_type(&self) -> Option<&str> {
        self.headers().get(&HeaderName::ContentType)
    }
}

impl HeaderAccess for Request {
    fn headers(&self) -> &Headers {
        &self.headers
    }
    fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }
}

impl HeaderAccess for Response {
    fn headers(&self) -> &Headers {
        &self.headers
    }
    fn headers_mut(&mut self) -> &mut Headers {
        &mut self.headers
    }
}

impl Request {
    pub fn new(method: Method, uri: impl Into<String>) -> Request {
        Request { method, uri: uri.into(), headers: Headers::new(), body: Vec::new() }
    }

    /// A response that copies Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2). The caller
    /// adds a To tag where the response creates a dialog. Used statelessly for 400 and 503.
    pub fn make_response(&self, status: u16, reason: &str) -> Response {
        let mut headers = Headers::new();
        for header in self.headers.iter() {
            let copied = matches!(
                header.name,
                HeaderName::Via
                    | HeaderName::From
                    | HeaderName::To
                    | HeaderName::CallId
                    | HeaderName::CSeq
            );
            if copied {
                headers.push(header.name.clone(), header.value.clone());
            }
        }
        Response { status, reason: reason.to_string(), headers, body: Vec::new() }
    }

    /// The ACK for a non-2xx final response to this INVITE (RFC 3261 §17.1.1.3): same
    /// Request-URI, top Via, From, Call-ID, Route and CSeq number; To from the response.
    pub fn make_ack_for(&self, response: &Response) -> Request {
        let mut ack = self.stripped_copy(Method::Ack);
        if let Some(to) = response.headers.get(&HeaderName::To) {
            ack.headers.replace_first(&HeaderName::To, to.to_string());
        }
        ack
    }

    /// A CANCEL for this request (RFC 3261 §9.1): same branch, so the far end matches it.
    pub fn make_cancel(&self) -> Request {
        self.stripped_copy(Method::Cancel)
    }

    fn stripped_copy(&self, method: Method) -> Request {
        let mut out = Request::new(method.clone(), self.uri.clone());
        if let Some(via) = self.headers.get(&HeaderName::Via) {
            out.headers.push(HeaderName::Via, via);
        }
        for name in [HeaderName::From, HeaderName::To, HeaderName::CallId] {
            if let Some(value) = self.headers.get(&name) {
                out.headers.push(name, value);
            }
        }
        if let Ok(cseq) = self.cseq() {
            out.headers.push(HeaderName::CSeq, CSeq { seq: cseq.seq, method }.to_string());
        }
        for route in self.headers.get_all(&HeaderName::Route) {
            out.headers.push(HeaderName::Route, route);
        }
        out.headers.push(HeaderName::MaxForwards, "70");
        out
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let start = format!("{} {} SIP/2.0", self.method, self.uri);
        serialize(&start, &self.headers, &self.body)
    }
}

impl Response {
    pub fn is_provisional(&self) -> bool {
        self.status < 200
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let start = format!("SIP/2.0 {} {}", self.status, self.reason);
        serialize(&start, &self.headers, &self.body)
    }
}

impl Message {
    /// Parses one complete message from a datagram. Leading CRLF keep-alives are skipped;
    /// bare LF line ends, compact and any-case header names, folded lines and whitespace
    /// around `:` are accepted. A Content-Length, if present, must equal the body's length.
    /// Via, From, To, Call-ID and CSeq must be present and well formed, and a request's
    /// CSeq method must be its own.
    pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
        parse::parse_datagram(bytes)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }

    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    pub fn body(&self) -> &[u8] {
        match self {
            Message::Request(r) => &r.body,
            Message::Response(r) => &r.body,
        }
    }
}

/// Writes the start line, each header on its own line in long form, and Content-Length last
/// (always present, so stream peers can frame us).
fn serialize(start: &str, headers: &Headers, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512 + body.len());
    out.extend_from_slice(start.as_bytes());
    out.extend_from_slice(b"\r\n");
    for header in headers.iter().filter(|h| h.name != HeaderName::ContentLength) {
        out.extend_from_slice(header.name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(header.value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}
