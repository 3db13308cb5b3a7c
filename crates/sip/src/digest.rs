//! HTTP digest authentication for SIP (RFC 7616, RFC 2617, RFC 3261 §22): MD5 and SHA-256
//! (and their `-sess` forms), with `qop=auth` or the RFC 2069 form without qop.
//!
//! As a server: send a [`Challenge`] with a nonce the caller made (no randomness here), then
//! [`Credentials::verify`] the `Authorization` that comes back against a password or a stored
//! HA1. The caller checks that the nonce is one it issued and is still fresh. As a client:
//! [`Credentials::answer`] a challenge with a caller-supplied cnonce.

use std::fmt;

use md5::Md5;
use sha2::{Digest as _, Sha256};

use crate::limits::DIGEST_PARAMS_MAX;
use crate::message::header::split_outside_quotes;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("scheme is not Digest")]
    NotDigest,
    #[error("malformed parameter list")]
    Malformed,
    #[error("more than {max} parameters")]
    TooManyParams { max: usize },
    #[error("parameter {0} appears twice")]
    Duplicate(String),
    #[error("missing parameter {0}")]
    Missing(&'static str),
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("unsupported qop {0}")]
    UnsupportedQop(String),
    #[error("bad nonce count")]
    BadNonceCount,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    pub fn parse(text: &str) -> Result<Algorithm, DigestError> {
        let all = [Algorithm::Md5, Algorithm::Md5Sess, Algorithm::Sha256, Algorithm::Sha256Sess];
        all.into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| DigestError::UnsupportedAlgorithm(text.to_string()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    fn is_sess(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// Lower-case hex digest, as the RFCs define `H` and `KD`.
    pub fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex::encode(Md5::digest(data.as_bytes())),
            Algorithm::Sha256 | Algorithm::Sha256Sess => {
                hex::encode(Sha256::digest(data.as_bytes()))
            }
        }
    }

    /// `H(username:realm:password)`, what a server may store instead of the password.
    pub fn ha1(self, username: &str, realm: &str, password: &str) -> String {
        self.hash(&format!("{username}:{realm}:{password}"))
    }
}

/// A `WWW-Authenticate` / `Proxy-Authenticate` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Algorithm,
    /// The qop options offered, e.g. `["auth"]`; empty for an RFC 2069 challenge.
    pub qop: Vec<String>,
    pub stale: bool,
}

impl Challenge {
    /// A challenge offering `qop=auth`. The nonce comes from the caller.
    pub fn new(realm: &str, nonce: &str, algorithm: Algorithm) -> Challenge {
        Challenge {
            realm: realm.into(),
            nonce: nonce.into(),
            opaque: None,
            algorithm,
            qop: vec!["auth".into()],
            stale: false,
        }
    }

    pub fn parse(value: &str) -> Result<Challenge, DigestError> {
        let params = parse_params(value)?;
        let algorithm = match params.get("algorithm") {
            Some(a) => Algorithm::parse(a)?,
            None => Algorithm::Md5,
        };
        let qop = params
            .get("qop")
            .map(|q| q.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
            .map(Iterator::collect)
            .unwrap_or_default();
        Ok(Challenge {
            realm: params.require("realm")?.to_string(),
            nonce: params.require("nonce")?.to_string(),
            opaque: params.get("opaque").map(str::to_string),
            algorithm,
            qop,
            stale: params.get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }
}

impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest realm={}, nonce={}", quoted(&self.realm), quoted(&self.nonce))?;
        if let Some(opaque) = &self.opaque {
            write!(f, ", opaque={}", quoted(opaque))?;
        }
        write!(f, ", algorithm={}", self.algorithm.as_str())?;
        if !self.qop.is_empty() {
            write!(f, ", qop={}", quoted(&self.qop.join(",")))?;
        }
        if self.stale {
            f.write_str(", stale=true")?;
        }
        Ok(())
    }
}

/// What the server checks credentials against.
#[derive(Clone, Copy, Debug)]
pub enum Secret<'a> {
    Password(&'a str),
    /// `H(username:realm:password)` with the credentials' base algorithm.
    Ha1(&'a str),
}

/// An `Authorization` / `Proxy-Authorization` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    /// Hex digest as sent.
    pub response: String,
    pub algorithm: Algorithm,
    pub opaque: Option<String>,
    /// `Some` (with `cnonce` and `nc`) when `qop=auth` was used.
    pub qop: Option<String>,
    pub cnonce: Option<String>,
    /// Nonce count, sent as 8 hex digits.
    pub nc: Option<u32>,
}

impl Credentials {
    /// The client side: answers `challenge` for a request. `cnonce` comes from the caller;
    /// `nc` counts the requests sent with this nonce, from 1.
    pub fn answer(
        challenge: &Challenge,
        method: &str,
        uri: &str,
        username: &str,
        password: &str,
        cnonce: &str,
        nc: u32,
    ) -> Result<Credentials, DigestError> {
        let qop = if challenge.qop.is_empty() {
            None
        } else if challenge.qop.iter().any(|q| q.eq_ignore_ascii_case("auth")) {
            Some("auth".to_string())
        } else {
            return Err(DigestError::UnsupportedQop(challenge.qop.join(",")));
        };
        let mut credentials = Credentials {
            username: username.into(),
            realm: challenge.realm.clone(),
            nonce: challenge.nonce.clone(),
            uri: uri.into(),
            response: String::new(),
            algorithm: challenge.algorithm,
            opaque: challenge.opaque.clone(),
            cnonce: qop.as_ref().map(|_| cnonce.to_string()),
            nc: qop.as_ref().map(|_| nc),
            qop,
        };
        credentials.response = credentials.expected_response(method, Secret::Password(password));
        Ok(credentials)
    }

    /// The server side: whether `response` is right for `method` and the secret. Compares in
    /// constant time. Realm, nonce freshness and the Request-URI are the caller's to check.
    pub fn verify(&self, method: &str, secret: Secret<'_>) -> bool {
        let expected = self.expected_response(method, secret);
        let (a, b) = (expected.as_bytes(), self.response.to_ascii_lowercase().into_bytes());
        a.len() == b.len() && a.iter().zip(&b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    fn expected_response(&self, method: &str, secret: Secret<'_>) -> String {
        let h = |data: &str| self.algorithm.hash(data);
        let mut ha1 = match secret {
            Secret::Password(password) => self.algorithm.ha1(&self.username, &self.realm, password),
            Secret::Ha1(ha1) => ha1.to_ascii_lowercase(),
        };
        let cnonce = self.cnonce.as_deref().unwrap_or_default();
        if self.algorithm.is_sess() {
            ha1 = h(&format!("{ha1}:{}:{cnonce}", self.nonce));
        }
        let ha2 = h(&format!("{method}:{}", self.uri));
        match &self.qop {
            Some(qop) => {
                let nc = self.nc.unwrap_or(0);
                h(&format!("{ha1}:{}:{nc:08x}:{cnonce}:{qop}:{ha2}", self.nonce))
            }
            None => h(&format!("{ha1}:{}:{ha2}", self.nonce)),
        }
    }

    pub fn parse(value: &str) -> Result<Credentials, DigestError> {
        let params = parse_params(value)?;
        let algorithm = match params.get("algorithm") {
            Some(a) => Algorithm::parse(a)?,
            None => Algorithm::Md5,
        };
        let qop = params.get("qop").map(str::to_string);
        if let Some(q) = &qop {
            if !q.eq_ignore_ascii_case("auth") {
                return Err(DigestError::UnsupportedQop(q.clone()));
            }
        }
        let nc = match params.get("nc") {
            Some(nc) if nc.len() == 8 => {
                Some(u32::from_str_radix(nc, 16).map_err(|_| DigestError::BadNonceCount)?)
            }
            Some(_) => return Err(DigestError::BadNonceCount),
            None => None,
        };
        let cnonce = params.get("cnonce").map(str::to_string);
        if qop.is_some() && (cnonce.is_none() || nc.is_none()) {
            return Err(DigestError::Missing("cnonce and nc"));
        }
        Ok(Credentials {
            username: params.require("username")?.to_string(),
            realm: params.require("realm")?.to_string(),
            nonce: params.require("nonce")?.to_string(),
            uri: params.require("uri")?.to_string(),
            response: params.require("response")?.to_string(),
            algorithm,
            opaque: params.get("opaque").map(str::to_string),
            qop,
            cnonce,
            nc,
        })
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Digest username={}, realm={}, nonce={}, uri={}, response={}, algorithm={}",
            quoted(&self.username),
            quoted(&self.realm),
            quoted(&self.nonce),
            quoted(&self.uri),
            quoted(&self.response),
            self.algorithm.as_str()
        )?;
        if let Some(opaque) = &self.opaque {
            write!(f, ", opaque={}", quoted(opaque))?;
        }
        if let (Some(qop), Some(cnonce), Some(nc)) = (&self.qop, &self.cnonce, self.nc) {
            write!(f, ", qop={qop}, cnonce={}, nc={nc:08x}", quoted(cnonce))?;
        }
        Ok(())
    }
}

fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

struct DigestParams(Vec<(String, String)>);

impl DigestParams {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn require(&self, name: &'static str) -> Result<&str, DigestError> {
        self.get(name).ok_or(DigestError::Missing(name))
    }
}

/// Parses `Digest a="x", b=y` into unquoted name/value pairs.
fn parse_params(value: &str) -> Result<DigestParams, DigestError> {
    let value = value.trim_start();
    let scheme_end = value.find(|c: char| c.is_ascii_whitespace()).unwrap_or(value.len());
    if !value[..scheme_end].eq_ignore_ascii_case("Digest") {
        return Err(DigestError::NotDigest);
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for part in split_outside_quotes(&value[scheme_end..], ',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if out.len() >= DIGEST_PARAMS_MAX {
            return Err(DigestError::TooManyParams { max: DIGEST_PARAMS_MAX });
        }
        let (name, raw) = part.split_once('=').ok_or(DigestError::Malformed)?;
        let name = name.trim();
        let raw = raw.trim();
        let value = match raw.strip_prefix('"') {
            Some(inner) => unquote(inner).ok_or(DigestError::Malformed)?,
            None => raw.to_string(),
        };
        if out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Err(DigestError::Duplicate(name.to_string()));
        }
        out.push((name.to_string(), value));
    }
    Ok(DigestParams(out))
}

/// The text of a quoted string after its opening quote; nothing may follow the closing one.
fn unquote(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return chars.as_str().trim().is_empty().then_some(out),
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2617 §3.5 (an HTTP example; the arithmetic is the same for SIP).
    #[test]
    fn rfc2617_md5_example() {
        let challenge = Challenge::parse(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int",
               nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
               opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .expect("parses");
        let c = Credentials::answer(
            &challenge,
            "GET",
            "/dir/index.html",
            "Mufasa",
            "Circle Of Life",
            "0a4f113b",
            1,
        )
        .expect("auth offered");
        assert_eq!(c.response, "6629fae49393a05397450978507c4ef1");
        let back = Credentials::parse(&c.to_string()).expect("round-trips");
        assert_eq!(back, c);
        assert!(back.verify("GET", Secret::Password("Circle Of Life")));
        let ha1 = Algorithm::Md5.ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
        assert!(back.verify("GET", Secret::Ha1(&ha1)));
        assert!(!back.verify("GET", Secret::Password("circle of life")));
        assert!(!back.verify("POST", Secret::Password("Circle Of Life")));
    }

    /// RFC 7616 §3.9.1, both algorithms.
    #[test]
    fn rfc7616_sha256_and_md5_example() {
        let cases = [
            (Algorithm::Md5, "8ca523f5e9506fed4657c9700eebdbec"),
            (Algorithm::Sha256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
        ];
        for (algorithm, expected) in cases {
            let mut challenge = Challenge::new(
                "http-auth@example.org",
                "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                algorithm,
            );
            challenge.opaque = Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS".into());
            let challenge = Challenge::parse(&challenge.to_string()).expect("round-trips");
            let c = Credentials::answer(
                &challenge,
                "GET",
                "/dir/index.html",
                "Mufasa",
                "Circle of Life",
                "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                1,
            )
            .expect("auth offered");
            assert_eq!(c.response, expected, "{algorithm:?}");
            assert!(c.verify("GET", Secret::Password("Circle of Life")));
        }
    }

    #[test]
    fn rfc2069_without_qop_and_sess() {
        let challenge = Challenge { qop: vec![], ..Challenge::new("r", "n", Algorithm::Md5) };
        let c = Credentials::answer(&challenge, "REGISTER", "sip:r", "u", "p", "cn", 1)
            .expect("no qop is fine");
        assert_eq!((c.qop.as_deref(), c.cnonce.as_deref()), (None, None));
        let h = |s: &str| Algorithm::Md5.hash(s);
        let expected = h(&format!("{}:n:{}", h("u:r:p"), h("REGISTER:sip:r")));
        assert_eq!(c.response, expected);
        assert!(Credentials::parse(&c.to_string())
            .expect("parses")
            .verify("REGISTER", Secret::Password("p")));

        let sess = Challenge::new("r", "n", Algorithm::Sha256Sess);
        let c = Credentials::answer(&sess, "INVITE", "sip:x", "u", "p", "cn", 2).expect("ok");
        let ha1 = Algorithm::Sha256.ha1("u", "r", "p");
        assert!(c.verify("INVITE", Secret::Ha1(&ha1)));
        assert!(c.to_string().contains("nc=00000002"));
    }

    #[test]
    fn malformed_values_are_errors() {
        let cases = [
            ("Basic abc", DigestError::NotDigest),
            ("Digest realm", DigestError::Malformed),
            (r#"Digest realm="open"#, DigestError::Malformed),
            (r#"Digest nonce="n""#, DigestError::Missing("realm")),
            (r#"Digest realm="a", realm="b""#, DigestError::Duplicate("realm".into())),
            (
                r#"Digest realm="r", nonce="n", algorithm=SHA-512"#,
                DigestError::UnsupportedAlgorithm("SHA-512".into()),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Challenge::parse(text), Err(expected), "{text}");
        }
        let many: Vec<String> = (0..=DIGEST_PARAMS_MAX).map(|i| format!("p{i}=v")).collect();
        let many = format!("Digest {}", many.join(","));
        assert_eq!(
            Challenge::parse(&many),
            Err(DigestError::TooManyParams { max: DIGEST_PARAMS_MAX })
        );
        let only_int =
            Challenge { qop: vec!["auth-int".into()], ..Challenge::new("r", "n", Algorithm::Md5) };
        assert!(Credentials::answer(&only_int, "BYE", "sip:x", "u", "p", "c", 1).is_err());
        let bad_nc = r#"Digest username="u", realm="r", nonce="n", uri="sip:x", response="0",
            qop=auth, cnonce="c", nc=1"#;
        assert_eq!(Credentials::parse(bad_nc), Err(DigestError::BadNonceCount));
    }
}
