//! A registrar (RFC 3261 §10.3) with digest authentication: agent phones REGISTER here and the
//! B2BUA looks their contacts up to ring them.
//!
//! Nonces are stateless: `<issued-at hex>.<H(secret:issued-at)>`, so a nonce proves we made it
//! and says how old it is without a table to grow. The caller passes the secret (random at
//! start) and `now`; nothing here reads a clock or draws a number.

use std::collections::HashMap;

use domain::Timestamp;

use crate::digest::{Algorithm, Challenge, Credentials, Secret};
use crate::message::{HeaderAccess, HeaderName, Request, Response};
use crate::transport::Peer;

/// Registrations kept at once (one per account; an account re-registering replaces its own).
pub const BINDINGS_MAX: usize = 10_000;
/// Shortest registration we accept; shorter asks get 423 Interval Too Brief.
pub const EXPIRES_S_MIN: u32 = 60;
/// Longest registration we grant; longer asks are cut to this.
pub const EXPIRES_S_MAX: u32 = 3_600;
/// Expiry when the phone names none.
pub const EXPIRES_S_DEFAULT: u32 = 600;
/// A nonce older than this is stale: the phone must answer a fresh challenge.
pub const NONCE_MS_MAX: u64 = 300_000;

/// Where an account's phone can be reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI the phone registered.
    pub contact: String,
    /// The address the REGISTER came from: requests go here, which works behind NAT.
    pub peer: Peer,
    pub expires_at: Timestamp,
}

/// What happened to a REGISTER, besides the response to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Asked for credentials (401); the phone will try again.
    Challenged,
    Registered {
        username: String,
    },
    Unregistered {
        username: String,
    },
    /// Bad credentials, unknown account, bad request.
    Refused {
        status: u16,
    },
}

pub struct Registrar {
    realm: String,
    secret: String,
    algorithm: Algorithm,
    bindings: HashMap<String, Binding>,
}

impl Registrar {
    /// `secret` keys the nonces; draw it at random at start.
    pub fn new(realm: &str, secret: &str, algorithm: Algorithm) -> Registrar {
        Registrar {
            realm: realm.to_string(),
            secret: secret.to_string(),
            algorithm,
            bindings: HashMap::new(),
        }
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The live binding of `username`, if registered and not expired at `now`.
    pub fn lookup(&self, username: &str, now: Timestamp) -> Option<&Binding> {
        self.bindings.get(username).filter(|b| b.expires_at > now)
    }

    /// Usernames with a live binding.
    pub fn registered(&self, now: Timestamp) -> impl Iterator<Item = &str> + '_ {
        self.bindings.iter().filter(move |(_, b)| b.expires_at > now).map(|(u, _)| u.as_str())
    }

    /// Drops expired bindings; returns the usernames that lapsed.
    pub fn handle_timeout(&mut self, now: Timestamp) -> Vec<String> {
        let lapsed: Vec<String> = self
            .bindings
            .iter()
            .filter(|(_, b)| b.expires_at <= now)
            .map(|(u, _)| u.clone())
            .collect();
        for username in &lapsed {
            self.bindings.remove(username);
        }
        lapsed
    }

    /// When the next binding lapses.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.bindings.values().map(|b| b.expires_at).min()
    }

    /// A challenge for `now`, for a REGISTER or for an INVITE from an agent phone.
    pub fn challenge(&self, now: Timestamp) -> Challenge {
        let mut challenge = Challenge::new(&self.realm, &self.nonce(now), self.algorithm);
        challenge.qop = vec!["auth".into()];
        challenge
    }

    /// Checks the request's Authorization against `password_of(username)`: `Ok(username)`
    /// when it is valid, fresh and for our realm.
    pub fn authenticate(
        &self,
        request: &Request,
        now: Timestamp,
        password_of: impl Fn(&str) -> Option<String>,
    ) -> Result<String, AuthFailure> {
        let value =
            request.headers().get(&HeaderName::Authorization).ok_or(AuthFailure::NoCredentials)?;
        let credentials = Credentials::parse(value).map_err(|_| AuthFailure::Malformed)?;
        if credentials.realm != self.realm {
            return Err(AuthFailure::Stale);
        }
        let issued = self.check_nonce(&credentials.nonce).ok_or(AuthFailure::Stale)?;
        if now.ms_since(issued) > NONCE_MS_MAX || issued > now {
            return Err(AuthFailure::Stale);
        }
        let password = password_of(&credentials.username).ok_or(AuthFailure::Wrong)?;
        if !credentials.verify(request.method.as_str(), Secret::Password(&password)) {
            return Err(AuthFailure::Wrong);
        }
        Ok(credentials.username)
    }

    /// Handles a REGISTER received from `from`; returns the response to send and the outcome.
    pub fn handle_register(
        &mut self,
        now: Timestamp,
        request: &Request,
        from: Peer,
        password_of: impl Fn(&str) -> Option<String>,
    ) -> (Response, Outcome) {
        let username = match self.authenticate(request, now, password_of) {
            Ok(username) => username,
            Err(AuthFailure::NoCredentials | AuthFailure::Stale) => {
                return (self.unauthorized(request, now), Outcome::Challenged);
            }
            Err(AuthFailure::Malformed) => {
                let response = request.make_response(400, "Bad Authorization");
                return (response, Outcome::Refused { status: 400 });
            }
            Err(AuthFailure::Wrong) => {
                let response = request.make_response(403, "Forbidden");
                return (response, Outcome::Refused { status: 403 });
            }
        };
        let to_user = request.to().ok().and_then(|to| crate::Uri::parse(&to.uri).ok()?.user);
        if to_user.as_deref() != Some(username.as_str()) {
            // An account may only register its own address of record.
            return (request.make_response(403, "Forbidden"), Outcome::Refused { status: 403 });
        }
        let wildcard =
            request.headers().get_all(&HeaderName::Contact).any(|value| value.trim() == "*");
        let contacts = match request.contacts() {
            Ok(contacts) => contacts,
            Err(_) => {
                return (
                    request.make_response(400, "Bad Contact"),
                    Outcome::Refused { status: 400 },
                )
            }
        };
        let header_expires = request.expires().ok().flatten();
        let contact = contacts.first();
        let asked = contact
            .and_then(|c| c.params.get("expires").flatten().and_then(|e| e.parse::<u32>().ok()))
            .or(header_expires)
            .unwrap_or(EXPIRES_S_DEFAULT);
        if wildcard || asked == 0 {
            self.bindings.remove(&username);
            let response = request.make_response(200, "OK");
            return (response, Outcome::Unregistered { username });
        }
        let Some(contact) = contact else {
            // A query: list the current binding.
            let mut response = request.make_response(200, "OK");
            if let Some(binding) = self.lookup(&username, now) {
                let left = binding.expires_at.ms_since(now) / 1_000;
                response
                    .headers
                    .push(HeaderName::Contact, format!("<{}>;expires={left}", binding.contact));
            }
            return (response, Outcome::Registered { username });
        };
        if asked < EXPIRES_S_MIN {
            let mut response = request.make_response(423, "Interval Too Brief");
            response.headers.push(HeaderName::MinExpires, EXPIRES_S_MIN.to_string());
            return (response, Outcome::Refused { status: 423 });
        }
        if !self.bindings.contains_key(&username) && self.bindings.len() >= BINDINGS_MAX {
            let response = request.make_response(503, "Service Unavailable");
            return (response, Outcome::Refused { status: 503 });
        }
        let granted = asked.min(EXPIRES_S_MAX);
        let binding = Binding {
            contact: contact.uri.clone(),
            peer: from,
            expires_at: now.plus_ms(u64::from(granted) * 1_000),
        };
        let mut response = request.make_response(200, "OK");
        response
            .headers
            .push(HeaderName::Contact, format!("<{}>;expires={granted}", binding.contact));
        response.headers.push(HeaderName::Expires, granted.to_string());
        self.bindings.insert(username.clone(), binding);
        (response, Outcome::Registered { username })
    }

    /// 401 with a fresh challenge.
    pub fn unauthorized(&self, request: &Request, now: Timestamp) -> Response {
        let mut response = request.make_response(401, "Unauthorized");
        if let Ok(mut to) = request.to() {
            if to.tag().is_none() {
                to.set_tag(&self.nonce(now)[..8]);
            }
            response.headers.set(HeaderName::To, to.to_string());
        }
        response.headers.push(HeaderName::WwwAuthenticate, self.challenge(now).to_string());
        response
    }

    fn nonce(&self, issued: Timestamp) -> String {
        let stamp = format!("{:x}", issued.as_millis());
        let mac = Algorithm::Sha256.hash(&format!("{}:{stamp}", self.secret));
        format!("{stamp}.{}", &mac[..32])
    }

    /// The issue time of a nonce we made, or `None` if we did not make it.
    fn check_nonce(&self, nonce: &str) -> Option<Timestamp> {
        let (stamp, _) = nonce.split_once('.')?;
        let millis = i64::from_str_radix(stamp, 16).ok()?;
        let issued = Timestamp::from_millis(millis);
        (self.nonce(issued) == nonce).then_some(issued)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("no Authorization header")]
    NoCredentials,
    #[error("the Authorization header does not parse")]
    Malformed,
    #[error("the nonce is not ours, is from another realm, or is too old")]
    Stale,
    #[error("unknown user or wrong password")]
    Wrong,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Method;
    use crate::transport::Transport;

    fn peer() -> Peer {
        Peer::new(Transport::Udp, "192.0.2.7:5062".parse().expect("literal"))
    }

    fn register(expires: Option<u32>, contact: Option<&str>) -> Request {
        let mut r = Request::new(Method::Register, "sip:switchboard");
        r.headers.push(HeaderName::Via, "SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK9");
        r.headers.push(HeaderName::From, "<sip:alice@switchboard>;tag=a");
        r.headers.push(HeaderName::To, "<sip:alice@switchboard>");
        r.headers.push(HeaderName::CallId, "reg1");
        r.headers.push(HeaderName::CSeq, "1 REGISTER");
        if let Some(contact) = contact {
            r.headers.push(HeaderName::Contact, contact);
        }
        if let Some(e) = expires {
            r.headers.push(HeaderName::Expires, e.to_string());
        }
        r
    }

    fn answer(registrar: &Registrar, request: &mut Request, challenge: &Response, pw: &str) {
        let value = challenge.headers.get(&HeaderName::WwwAuthenticate).expect("401 has one");
        let challenge = Challenge::parse(value).expect("we wrote it");
        let credentials =
            Credentials::answer(&challenge, "REGISTER", &request.uri, "alice", pw, "cn", 1)
                .expect("qop auth is supported");
        assert_eq!(challenge.realm, registrar.realm());
        request.headers.set(HeaderName::Authorization, credentials.to_string());
    }

    fn password(user: &str) -> Option<String> {
        (user == "alice").then(|| "secret".to_string())
    }

    #[test]
    fn challenge_then_register_then_expire() {
        let mut registrar = Registrar::new("switchboard", "k", Algorithm::Md5);
        let t0 = Timestamp::from_millis(1_000_000);
        let mut request = register(Some(120), Some("<sip:alice@192.0.2.7:5062>"));
        let (challenge, outcome) = registrar.handle_register(t0, &request, peer(), password);
        assert_eq!((challenge.status, outcome), (401, Outcome::Challenged));
        answer(&registrar, &mut request, &challenge, "secret");
        let (ok, outcome) = registrar.handle_register(t0, &request, peer(), password);
        assert_eq!(ok.status, 200);
        assert_eq!(outcome, Outcome::Registered { username: "alice".into() });
        let binding = registrar.lookup("alice", t0).expect("registered");
        assert_eq!(binding.contact, "sip:alice@192.0.2.7:5062");
        assert_eq!(binding.peer, peer());
        assert_eq!(registrar.poll_timeout(), Some(t0.plus_ms(120_000)));
        assert!(registrar.lookup("alice", t0.plus_ms(120_000)).is_none());
        assert_eq!(registrar.handle_timeout(t0.plus_ms(120_000)), ["alice"]);
        assert_eq!(registrar.poll_timeout(), None);
    }

    #[test]
    fn wrong_password_is_403_and_stale_nonce_is_rechallenged() {
        let mut registrar = Registrar::new("switchboard", "k", Algorithm::Sha256);
        let t0 = Timestamp::from_millis(5_000_000);
        let mut request = register(None, Some("<sip:alice@192.0.2.7>"));
        let (challenge, _) = registrar.handle_register(t0, &request, peer(), password);
        answer(&registrar, &mut request, &challenge, "guess");
        let (refused, outcome) = registrar.handle_register(t0, &request, peer(), password);
        assert_eq!((refused.status, outcome), (403, Outcome::Refused { status: 403 }));
        answer(&registrar, &mut request, &challenge, "secret");
        let late = t0.plus_ms(NONCE_MS_MAX + 1);
        let (again, outcome) = registrar.handle_register(late, &request, peer(), password);
        assert_eq!((again.status, outcome), (401, Outcome::Challenged));
        // A nonce we did not make is stale too, never accepted.
        let forged = Credentials::answer(
            &Challenge::new("switchboard", "123.abc", Algorithm::Sha256),
            "REGISTER",
            "sip:switchboard",
            "alice",
            "secret",
            "c",
            1,
        )
        .expect("no qop");
        request.headers.set(HeaderName::Authorization, forged.to_string());
        assert_eq!(registrar.handle_register(t0, &request, peer(), password).0.status, 401);
    }

    #[test]
    fn expires_zero_unregisters_and_brief_intervals_get_423() {
        let mut registrar = Registrar::new("switchboard", "k", Algorithm::Md5);
        let t0 = Timestamp::from_millis(9_000_000);
        let mut request = register(Some(30), Some("<sip:alice@192.0.2.7>"));
        let (challenge, _) = registrar.handle_register(t0, &request, peer(), password);
        answer(&registrar, &mut request, &challenge, "secret");
        let (brief, _) = registrar.handle_register(t0, &request, peer(), password);
        assert_eq!(brief.status, 423);
        assert_eq!(brief.headers.get(&HeaderName::MinExpires), Some("60"));
        request.headers.set(HeaderName::Expires, "7200");
        let (ok, _) = registrar.handle_register(t0, &request, peer(), password);
        assert_eq!(ok.headers.get(&HeaderName::Expires), Some("3600"), "capped");
        request.headers.set(HeaderName::Expires, "0");
        let (ok, outcome) = registrar.handle_register(t0, &request, peer(), password);
        assert_eq!((ok.status, outcome), (200, Outcome::Unregistered { username: "alice".into() }));
        assert!(registrar.lookup("alice", t0).is_none());
    }
}
