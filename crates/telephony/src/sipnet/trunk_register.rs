//! Registration with the trunk (RFC 3261 §10.2), when the carrier wants it: REGISTER at start,
//! answer its digest challenge, refresh before the binding expires, retry after a failure.

use domain::Timestamp;
use sip::digest::{Challenge, Credentials};
use sip::message::CSeq;
use sip::{HeaderAccess, HeaderName, Method, Peer, Request, Response, TransactionId};

use super::SipNetwork;

/// Wait before trying again after a refused or unanswered REGISTER.
const RETRY_MS: u64 = 30_000;

/// The trunk registration's state.
#[derive(Default)]
pub(super) struct TrunkRegistration {
    /// When to send the next REGISTER.
    pub due: Option<Timestamp>,
    tx: Option<TransactionId>,
    call_id: String,
    tag: String,
    seq: u32,
    challenged: bool,
    pub registered_until: Option<Timestamp>,
}

impl SipNetwork {
    /// Starts registering if the trunk asks for it (called once, at construction).
    pub(super) fn plan_trunk_registration(&mut self) {
        if self.config.trunk.as_ref().is_some_and(|t| t.register_expires_s.is_some()) {
            self.trunk_reg.call_id = format!("{}@switchboard", self.token(20));
            self.trunk_reg.tag = self.token(10);
            self.trunk_reg.due = Some(Timestamp::ZERO);
        }
    }

    /// Whether the trunk has a live registration from us at `now`.
    pub fn trunk_registered(&self, now: Timestamp) -> bool {
        self.trunk_reg.registered_until.is_some_and(|until| until > now)
    }

    pub(super) fn is_trunk_register(&self, tx: TransactionId) -> bool {
        self.trunk_reg.tx == Some(tx)
    }

    pub(super) fn send_trunk_register(&mut self, now: Timestamp, challenge: Option<&Response>) {
        self.trunk_reg.due = None;
        let Some(trunk) = self.config.trunk.clone() else { return };
        let Some(expires) = trunk.register_expires_s else { return };
        let user = trunk.username.clone().unwrap_or_else(|| "switchboard".into());
        let uri = format!("sip:{}", trunk.domain);
        self.trunk_reg.seq += 1;
        let branch = self.branch();
        let mut request = Request::new(Method::Register, uri.clone());
        let peer = Peer::new(trunk.transport, trunk.proxy);
        let addr = self.config.signal_addr;
        let mut via = sip::Via::new(
            trunk.transport.as_str(),
            &addr.ip().to_string(),
            Some(addr.port()),
            &branch,
        );
        via.params.set("rport", None);
        request.headers.push(HeaderName::Via, via.to_string());
        request.headers.push(HeaderName::MaxForwards, "70");
        let aor = format!("<sip:{user}@{}>", trunk.domain);
        request.headers.push(HeaderName::From, format!("{aor};tag={}", self.trunk_reg.tag));
        request.headers.push(HeaderName::To, aor);
        request.headers.push(HeaderName::CallId, self.trunk_reg.call_id.clone());
        let cseq = CSeq { seq: self.trunk_reg.seq, method: Method::Register };
        request.headers.push(HeaderName::CSeq, cseq.to_string());
        request.headers.push(HeaderName::Contact, self.contact(trunk.transport));
        request.headers.push(HeaderName::Expires, expires.to_string());
        request.headers.push(HeaderName::UserAgent, "Switchboard");
        if let (Some(response), Some(password)) = (challenge, trunk.password.as_deref()) {
            let (header, answer) = if response.status == 407 {
                (HeaderName::ProxyAuthenticate, HeaderName::ProxyAuthorization)
            } else {
                (HeaderName::WwwAuthenticate, HeaderName::Authorization)
            };
            let cnonce = self.token(12);
            let credentials =
                response.headers.get(&header).and_then(|v| Challenge::parse(v).ok()).and_then(
                    |c| Credentials::answer(&c, "REGISTER", &uri, &user, password, &cnonce, 1).ok(),
                );
            if let Some(credentials) = credentials {
                request.headers.push(answer, credentials.to_string());
            }
        }
        match self.layer.handle_send_request(now, request, peer) {
            Ok(tx) => self.trunk_reg.tx = Some(tx),
            Err(_) => self.trunk_reg.due = Some(now.plus_ms(RETRY_MS)),
        }
    }

    pub(super) fn on_trunk_register_response(&mut self, now: Timestamp, response: Response) {
        match response.status {
            100..=199 => {}
            200..=299 => {
                self.trunk_reg.tx = None;
                self.trunk_reg.challenged = false;
                let asked = self.config.trunk.as_ref().and_then(|t| t.register_expires_s);
                let granted = response.expires().ok().flatten().or(asked).unwrap_or(600).max(10);
                let granted_ms = u64::from(granted) * 1_000;
                self.trunk_reg.registered_until = Some(now.plus_ms(granted_ms));
                // Refresh when four fifths of the binding have passed.
                self.trunk_reg.due = Some(now.plus_ms(granted_ms * 4 / 5));
                tracing::info!(expires_s = granted, "registered with the trunk");
            }
            401 | 407 if !self.trunk_reg.challenged => {
                self.trunk_reg.tx = None;
                self.trunk_reg.challenged = true;
                self.send_trunk_register(now, Some(&response));
            }
            status => {
                tracing::warn!(status, "the trunk refused our registration; retrying later");
                self.trunk_failed(now);
            }
        }
    }

    pub(super) fn trunk_failed(&mut self, now: Timestamp) {
        self.trunk_reg.tx = None;
        self.trunk_reg.challenged = false;
        self.trunk_reg.registered_until = None;
        self.trunk_reg.due = Some(now.plus_ms(RETRY_MS));
    }
}
