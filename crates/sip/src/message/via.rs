//! The Via header (RFC 3261 §20.42) with `branch`, `received` and `rport` (RFC 3581).

use std::fmt;

use super::header::Params;
use super::uri::split_host_port;
use super::HeaderError;

/// RFC 3261 branches start with this; others come from RFC 2543 peers.
pub const BRANCH_MAGIC_COOKIE: &str = "z9hG4bK";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    /// `UDP`, `TCP`, `TLS`, `WS`..., upper case.
    pub transport: String,
    pub host: String,
    pub port: Option<u16>,
    pub params: Params,
}

fn bad(reason: &'static str) -> HeaderError {
    HeaderError::Invalid { header: "Via", reason }
}

impl Via {
    pub fn new(transport: &str, host: &str, port: Option<u16>, branch: &str) -> Via {
        let mut params = Params::new();
        params.set("branch", Some(branch));
        Via { transport: transport.to_ascii_uppercase(), host: host.into(), port, params }
    }

    /// Parses one Via value: `SIP / 2.0 / UDP host:port;params` (whitespace allowed around
    /// the slashes, as RFC 3261 permits).
    pub fn parse(text: &str) -> Result<Via, HeaderError> {
        let mut parts = text.splitn(3, '/');
        let name = parts.next().unwrap_or_default().trim();
        let version = parts.next().ok_or_else(|| bad("no protocol version"))?.trim();
        let rest = parts.next().ok_or_else(|| bad("no transport"))?.trim_start();
        if !name.eq_ignore_ascii_case("SIP") || version != "2.0" {
            return Err(bad("protocol is not SIP/2.0"));
        }
        let split = rest.find(|c: char| c.is_ascii_whitespace()).ok_or_else(|| bad("no host"))?;
        let transport = &rest[..split];
        if !super::header::is_token(transport) {
            return Err(bad("transport is not a token"));
        }
        let rest = rest[split..].trim_start();
        let (sent_by, params) = match rest.split_once(';') {
            Some((s, p)) => (s, Params::parse(p).map_err(bad)?),
            None => (rest, Params::new()),
        };
        let (host, port) = split_host_port(sent_by).map_err(bad)?;
        Ok(Via { transport: transport.to_ascii_uppercase(), host, port, params })
    }

    pub fn branch(&self) -> Option<&str> {
        self.params.get("branch").flatten()
    }

    /// Whether the branch marks an RFC 3261 transaction id.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(BRANCH_MAGIC_COOKIE))
    }

    pub fn received(&self) -> Option<&str> {
        self.params.get("received").flatten()
    }

    /// `None`: no rport; `Some(None)`: asked for (`;rport`); `Some(Some(p))`: filled in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params.get("rport").map(|v| v.and_then(super::header::digits))
    }

    /// `host:port` as used in transaction matching, with the default port made explicit.
    pub fn sent_by(&self) -> String {
        let default = if self.transport == "TLS" { 5061 } else { 5060 };
        format!("{}:{}", self.host.to_ascii_lowercase(), self.port.unwrap_or(default))
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}", self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_odd_spacing_and_params() {
        let via =
            Via::parse("SIP / 2.0 / udp  10.0.0.1:5062 ; branch=z9hG4bK776 ;rport").expect("valid");
        assert_eq!(via.transport, "UDP");
        assert_eq!((via.host.as_str(), via.port), ("10.0.0.1", Some(5062)));
        assert_eq!(via.branch(), Some("z9hG4bK776"));
        assert_eq!(via.rport(), Some(None));
        assert!(via.has_rfc3261_branch());
        assert_eq!(via.to_string(), "SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK776;rport");
        assert_eq!(via.sent_by(), "10.0.0.1:5062");
    }

    #[test]
    fn rejects_bad_vias() {
        for text in ["SIP/2.0/UDP", "HTTP/1.1/TCP h", "SIP/2.0", "SIP/2.0/UDP h:x", "garbage"] {
            assert!(Via::parse(text).is_err(), "{text}");
        }
    }
}
