//! Header names (with RFC 3261 §7.3.3 compact forms), the ordered header list, and `;`
//! parameters shared by Via, From, To, Contact and URIs.

use std::fmt;

/// A header name. Known names are normalised (compact forms and any case); others keep the
/// spelling they arrived with and compare without case.
#[derive(Clone, Debug, Eq)]
pub enum HeaderName {
    Via,
    From,
    To,
    CallId,
    CSeq,
    Contact,
    MaxForwards,
    ContentLength,
    ContentType,
    ContentEncoding,
    Authorization,
    WwwAuthenticate,
    ProxyAuthenticate,
    ProxyAuthorization,
    Expires,
    MinExpires,
    Route,
    RecordRoute,
    Allow,
    Supported,
    Require,
    ProxyRequire,
    Unsupported,
    Accept,
    Subject,
    Event,
    ReferTo,
    AllowEvents,
    UserAgent,
    Server,
    Other(String),
}

/// Canonical spelling, compact form, and whether the header is a comma-separated list
/// (RFC 3261 §7.3.1) that we split into one entry per element.
const KNOWN: &[(HeaderName, &str, Option<char>, bool)] = &[
    (HeaderName::Via, "Via", Some('v'), true),
    (HeaderName::From, "From", Some('f'), false),
    (HeaderName::To, "To", Some('t'), false),
    (HeaderName::CallId, "Call-ID", Some('i'), false),
    (HeaderName::CSeq, "CSeq", None, false),
    (HeaderName::Contact, "Contact", Some('m'), true),
    (HeaderName::MaxForwards, "Max-Forwards", None, false),
    (HeaderName::ContentLength, "Content-Length", Some('l'), false),
    (HeaderName::ContentType, "Content-Type", Some('c'), false),
    (HeaderName::ContentEncoding, "Content-Encoding", Some('e'), true),
    (HeaderName::Authorization, "Authorization", None, false),
    (HeaderName::WwwAuthenticate, "WWW-Authenticate", None, false),
    (HeaderName::ProxyAuthenticate, "Proxy-Authenticate", None, false),
    (HeaderName::ProxyAuthorization, "Proxy-Authorization", None, false),
    (HeaderName::Expires, "Expires", None, false),
    (HeaderName::MinExpires, "Min-Expires", None, false),
    (HeaderName::Route, "Route", None, true),
    (HeaderName::RecordRoute, "Record-Route", None, true),
    (HeaderName::Allow, "Allow", None, true),
    (HeaderName::Supported, "Supported", Some('k'), true),
    (HeaderName::Require, "Require", None, true),
    (HeaderName::ProxyRequire, "Proxy-Require", None, true),
    (HeaderName::Unsupported, "Unsupported", None, true),
    (HeaderName::Accept, "Accept", None, true),
    (HeaderName::Subject, "Subject", Some('s'), false),
    (HeaderName::Event, "Event", Some('o'), false),
    (HeaderName::ReferTo, "Refer-To", Some('r'), false),
    (HeaderName::AllowEvents, "Allow-Events", Some('u'), true),
    (HeaderName::UserAgent, "User-Agent", None, false),
    (HeaderName::Server, "Server", None, false),
];

impl HeaderName {
    /// Normalises a name as it appears on the wire. The caller has checked it is a token.
    pub fn from_wire(name: &str) -> HeaderName {
        let mut chars = name.chars();
        let compact = match (chars.next(), chars.next()) {
            (Some(c), None) => Some(c.to_ascii_lowercase()),
            _ => None,
        };
        for (known, long, short, _) in KNOWN {
            if long.eq_ignore_ascii_case(name) || (compact.is_some() && compact == *short) {
                return known.clone();
            }
        }
        HeaderName::Other(name.to_string())
    }

    /// The spelling we send: always the long form.
    pub fn as_str(&self) -> &str {
        if let HeaderName::Other(name) = self {
            return name;
        }
        KNOWN.iter().find(|(k, ..)| k == self).map_or("", |(_, long, ..)| long)
    }

    /// Whether several values may share one line separated by commas.
    pub fn is_list(&self) -> bool {
        KNOWN.iter().any(|(k, _, _, list)| k == self && *list)
    }
}

impl PartialEq for HeaderName {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (HeaderName::Other(a), HeaderName::Other(b)) => a.eq_ignore_ascii_case(b),
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header entry. A list header that arrived as `Via: a, b` is two entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: HeaderName,
    pub value: String,
}

/// Headers in arrival order. Order matters for Via, Route and Record-Route.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<Header>);

impl Headers {
    pub fn new() -> Self {
        Headers(Vec::new())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first value of `name`.
    pub fn get(&self, name: &HeaderName) -> Option<&str> {
        self.0.iter().find(|h| &h.name == name).map(|h| h.value.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |h| &h.name == name).map(|h| h.value.as_str())
    }

    /// Appends a value after any existing ones.
    pub fn push(&mut self, name: HeaderName, value: impl Into<String>) {
        self.0.push(Header { name, value: value.into() });
    }

    /// Inserts a value before any existing ones (a new top Via).
    pub fn push_front(&mut self, name: HeaderName, value: impl Into<String>) {
        self.0.insert(0, Header { name, value: value.into() });
    }

    /// Replaces every value of `name` with one value, kept at the first one's position.
    pub fn set(&mut self, name: HeaderName, value: impl Into<String>) {
        let value = value.into();
        match self.0.iter().position(|h| h.name == name) {
            Some(i) => {
                self.0[i].value = value;
                let mut index = 0;
                self.0.retain(|h| {
                    let keep = index <= i || h.name != name;
                    index += 1;
                    keep
                });
            }
            None => self.push(name, value),
        }
    }

    /// Removes every value of `name`.
    pub fn remove(&mut self, name: &HeaderName) {
        self.0.retain(|h| &h.name != name);
    }

    /// Replaces the first value of `name`, if any.
    pub(crate) fn replace_first(&mut self, name: &HeaderName, value: String) {
        if let Some(h) = self.0.iter_mut().find(|h| &h.name == name) {
            h.value = value;
        }
    }
}

/// `;name=value` parameters in order. Names compare without case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, Option<String>)>);

impl Params {
    pub fn new() -> Self {
        Params(Vec::new())
    }

    /// Parses `a=1;b;c="x;y"` (without a leading `;`). Empty segments are skipped.
    pub(crate) fn parse(text: &str) -> Result<Params, &'static str> {
        let mut out = Vec::new();
        for part in split_outside_quotes(text, ';') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (name, value) = match part.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim().to_string())),
                None => (part, None),
            };
            if !is_token(name) {
                return Err("a parameter name is not a token");
            }
            out.push((name.to_string(), value));
        }
        Ok(Params(out))
    }

    /// The value of a parameter; `Some(None)` for a flag such as `;lr` or `;rport`.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_deref())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets a parameter, replacing an existing one in place.
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let value = value.map(str::to_string);
        match self.0.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_string(), value)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_deref()))
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.0 {
            match value {
                Some(v) => write!(f, ";{name}={v}")?,
                None => write!(f, ";{name}")?,
            }
        }
        Ok(())
    }
}

/// A number written as `1*DIGIT` (Rust's `parse` would also take a leading `+`).
pub(crate) fn digits<T: std::str::FromStr>(text: &str) -> Option<T> {
    let all_digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    all_digits.then(|| text.parse().ok()).flatten()
}

/// RFC 3261 §25.1 `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

/// Splits on `sep` where it is outside double quotes and angle brackets, honouring `\"`.
pub(crate) fn split_outside_quotes(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut quoted, mut escaped, mut angle, mut start) = (false, false, false, 0);
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            c if c == sep && !quoted && !angle => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_case_insensitive_names() {
        assert_eq!(HeaderName::from_wire("v"), HeaderName::Via);
        assert_eq!(HeaderName::from_wire("CALL-id"), HeaderName::CallId);
        assert_eq!(HeaderName::from_wire("l"), HeaderName::ContentLength);
        assert_eq!(HeaderName::from_wire("X-Foo"), HeaderName::Other("x-foo".into()));
        assert_eq!(HeaderName::from_wire("x").as_str(), "x");
        assert_eq!(HeaderName::CallId.as_str(), "Call-ID");
    }

    #[test]
    fn split_respects_quotes_and_brackets() {
        let parts = split_outside_quotes(r#""a, \"b\"" <sip:x;y,z>, <sip:w>"#, ',');
        assert_eq!(parts, vec![r#""a, \"b\"" <sip:x;y,z>"#, " <sip:w>"]);
    }

    #[test]
    fn set_keeps_one_value() {
        let mut h = Headers::new();
        h.push(HeaderName::Route, "a");
        h.push(HeaderName::Via, "v");
        h.push(HeaderName::Route, "b");
        h.set(HeaderName::Route, "c");
        assert_eq!(h.get_all(&HeaderName::Route).collect::<Vec<_>>(), vec!["c"]);
        assert_eq!(h.len(), 2);
    }
}
