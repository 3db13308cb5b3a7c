//! SIP URIs (RFC 3261 §19.1): `sip:user:password@host:port;params?headers`, enough to route.

use std::fmt;

use super::header::Params;
use super::HeaderError;

/// A `sip:` or `sips:` URI. Other schemes (`tel:`) stay as text in the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uri {
    pub secure: bool,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Host name, IPv4 address, or IPv6 reference with its brackets.
    pub host: String,
    pub port: Option<u16>,
    pub params: Params,
    /// The `?` part, kept as text.
    pub headers: Option<String>,
}

fn bad(reason: &'static str) -> HeaderError {
    HeaderError::Invalid { header: "URI", reason }
}

impl Uri {
    pub fn parse(text: &str) -> Result<Uri, HeaderError> {
        let text = text.trim();
        let (secure, rest) = if let Some(r) = strip_prefix_ci(text, "sips:") {
            (true, r)
        } else if let Some(r) = strip_prefix_ci(text, "sip:") {
            (false, r)
        } else {
            return Err(bad("scheme is not sip or sips"));
        };
        if rest.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
            return Err(bad("contains whitespace"));
        }
        let (rest, headers) = match rest.split_once('?') {
            Some((r, h)) => (r, Some(h.to_string())),
            None => (rest, None),
        };
        // The userinfo ends at the last '@' before any parameter.
        let params_start = rest.find(';').unwrap_or(rest.len());
        let (user, password, hostport_and_params) = match rest[..params_start].rfind('@') {
            Some(at) => {
                let userinfo = &rest[..at];
                let (user, password) = match userinfo.split_once(':') {
                    Some((u, p)) => (u, Some(p.to_string())),
                    None => (userinfo, None),
                };
                if user.is_empty() {
                    return Err(bad("empty user before '@'"));
                }
                (Some(user.to_string()), password, &rest[at + 1..])
            }
            None => (None, None, rest),
        };
        let (hostport, params) = match hostport_and_params.split_once(';') {
            Some((hp, p)) => (hp, Params::parse(p).map_err(bad)?),
            None => (hostport_and_params, Params::new()),
        };
        let (host, port) = split_host_port(hostport).map_err(bad)?;
        Ok(Uri { secure, user, password, host, port, params, headers })
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(user) = &self.user {
            f.write_str(user)?;
            if let Some(password) = &self.password {
                write!(f, ":{password}")?;
            }
            f.write_str("@")?;
        }
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}", self.params)?;
        if let Some(headers) = &self.headers {
            write!(f, "?{headers}")?;
        }
        Ok(())
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// Splits `host[:port]`, where host may be `[v6]`.
pub(crate) fn split_host_port(text: &str) -> Result<(String, Option<u16>), &'static str> {
    let text = text.trim();
    let (host, port) = if text.starts_with('[') {
        let end = text.find(']').ok_or("unterminated IPv6 reference")?;
        let rest = &text[end + 1..];
        let port = match rest.strip_prefix(':') {
            Some(p) => Some(p),
            None if rest.is_empty() => None,
            None => return Err("text after IPv6 reference"),
        };
        (&text[..=end], port)
    } else {
        match text.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    let host_ok = !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.[]:_".contains(&b));
    if !host_ok {
        return Err("bad host");
    }
    let port = match port {
        Some(p) => Some(super::header::digits::<u16>(p.trim()).ok_or("bad port")?),
        None => None,
    };
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let uri = Uri::parse("sip:alice:secret@example.com:5070;transport=tcp;lr?subject=x")
            .expect("valid");
        assert_eq!(uri.user.as_deref(), Some("alice"));
        assert_eq!(uri.password.as_deref(), Some("secret"));
        assert_eq!(uri.host, "example.com");
        assert_eq!(uri.port, Some(5070));
        assert_eq!(uri.params.get("transport"), Some(Some("tcp")));
        assert!(uri.params.contains("lr"));
        assert_eq!(uri.to_string(), "sip:alice:secret@example.com:5070;transport=tcp;lr?subject=x");
        let v6 = Uri::parse("sips:[2001:db8::1]:5061").expect("valid");
        assert_eq!((v6.host.as_str(), v6.port, v6.secure), ("[2001:db8::1]", Some(5061), true));
    }

    #[test]
    fn rejects_bad_uris() {
        for text in ["tel:+123", "sip:", "sip:a@", "sip:host:99999", "sip:a b", "sip:@h"] {
            assert!(Uri::parse(text).is_err(), "{text}");
        }
    }
}
