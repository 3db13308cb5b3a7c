//! Name-addr values (RFC 3261 §20.10, §20.20, §20.39): From, To, Contact, Route,
//! Record-Route. `"Display" <uri>;params` or a bare `uri;params`.

use std::fmt;

use super::header::Params;
use super::HeaderError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAddr {
    /// Display name without its quotes or escapes.
    pub display: Option<String>,
    /// The URI as text (any scheme); use [`super::Uri::parse`] for `sip:` details.
    pub uri: String,
    /// Header parameters such as `tag`, `expires`, `q`.
    pub params: Params,
}

fn bad(reason: &'static str) -> HeaderError {
    HeaderError::Invalid { header: "address", reason }
}

impl NameAddr {
    pub fn new(uri: impl Into<String>) -> NameAddr {
        NameAddr { display: None, uri: uri.into(), params: Params::new() }
    }

    pub fn parse(text: &str) -> Result<NameAddr, HeaderError> {
        let text = text.trim();
        let (display, after_display) = if let Some(quoted) = text.strip_prefix('"') {
            let (name, rest) = unquote(quoted).ok_or_else(|| bad("unterminated quoted name"))?;
            (Some(name), rest.trim_start())
        } else {
            match text.find('<') {
                Some(i) => {
                    let name = text[..i].trim();
                    ((!name.is_empty()).then(|| name.to_string()), &text[i..])
                }
                None => (None, text),
            }
        };
        let (uri, params) = if let Some(inner) = after_display.strip_prefix('<') {
            let end = inner.find('>').ok_or_else(|| bad("unterminated '<'"))?;
            let rest = inner[end + 1..].trim();
            let params = match rest.strip_prefix(';') {
                Some(p) => Params::parse(p).map_err(bad)?,
                None if rest.is_empty() => Params::new(),
                None => return Err(bad("text after '>'")),
            };
            (inner[..end].trim(), params)
        } else {
            if display.is_some() {
                return Err(bad("display name without '<uri>'"));
            }
            // addr-spec form: parameters after the URI belong to the header.
            match after_display.split_once(';') {
                Some((u, p)) => (u.trim(), Params::parse(p).map_err(bad)?),
                None => (after_display, Params::new()),
            }
        };
        let scheme_ok = uri.split_once(':').is_some_and(|(s, rest)| {
            !s.is_empty() && !rest.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !scheme_ok || uri.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(bad("URI is not scheme:rest"));
        }
        Ok(NameAddr { display, uri: uri.to_string(), params })
    }

    pub fn tag(&self) -> Option<&str> {
        self.params.get("tag").flatten()
    }

    pub fn set_tag(&mut self, tag: &str) {
        self.params.set("tag", Some(tag));
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.display {
            f.write_str("\"")?;
            for c in name.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\" ")?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

/// Reads a quoted string after its opening quote; returns the text and what follows.
fn unquote(text: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return Some((out, &text[i + 1..]));
        } else {
            out.push(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let a = NameAddr::parse(r#""Bob \"B\"" <sip:bob@b.example>;tag=a6c85cf"#).expect("ok");
        assert_eq!(a.display.as_deref(), Some("Bob \"B\""));
        assert_eq!(a.uri, "sip:bob@b.example");
        assert_eq!(a.tag(), Some("a6c85cf"));
        assert_eq!(a.to_string(), r#""Bob \"B\"" <sip:bob@b.example>;tag=a6c85cf"#);

        let b = NameAddr::parse("Alice <sip:alice@a.example;transport=tcp>").expect("ok");
        assert_eq!(b.display.as_deref(), Some("Alice"));
        assert_eq!(b.uri, "sip:alice@a.example;transport=tcp");
        assert_eq!(b.tag(), None);

        let c = NameAddr::parse("sip:carol@c.example;tag=88").expect("ok");
        assert_eq!((c.uri.as_str(), c.tag()), ("sip:carol@c.example", Some("88")));
        assert_eq!(c.to_string(), "<sip:carol@c.example>;tag=88");
    }

    #[test]
    fn rejects_bad_addresses() {
        for text in ["\"open <sip:a@b>", "<sip:a@b", "Bob sip:a@b", "<nocolon>", "<sip:a b>"] {
            assert!(NameAddr::parse(text).is_err(), "{text}");
        }
    }
}
