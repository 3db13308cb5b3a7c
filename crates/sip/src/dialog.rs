//! Dialogs (RFC 3261 §12): the state two user agents share after a 2xx to an INVITE, and the
//! requests built within it (ACK for the 2xx, BYE, re-INVITE).
//!
//! A dialog is plain data. The TU creates it from the INVITE and its 2xx, keeps it per call
//! leg, and asks it for the next in-dialog request; branches and tags come from the caller.

use crate::message::{CSeq, HeaderAccess, HeaderError, HeaderName, Method, Request, Response, Via};
use crate::transport::Transport;

/// The three values that name a dialog, from our side.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DialogId {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialog {
    pub id: DialogId,
    /// Our From (UAC) or To (UAS) value, with our tag.
    pub local_party: String,
    /// Their To (UAC) or From (UAS) value, with their tag.
    pub remote_party: String,
    /// Where in-dialog requests go: the far end's Contact URI.
    pub remote_target: String,
    /// Record-Route set, in the order our requests must carry it as Route.
    pub route_set: Vec<String>,
    /// CSeq of our last request in the dialog.
    pub local_seq: u32,
    /// CSeq of the far end's last request, to reject stale or reordered ones.
    pub remote_seq: Option<u32>,
}

impl Dialog {
    /// The dialog our INVITE created when `response` (a 2xx, or a 1xx with a To tag for an
    /// early dialog) came back. The route set is the Record-Route reversed (§12.1.2).
    pub fn from_uac(invite: &Request, response: &Response) -> Result<Dialog, HeaderError> {
        let to = response.to()?;
        let remote_tag = to.tag().ok_or(HeaderError::Missing("To tag"))?.to_string();
        let from = invite.from()?;
        let local_tag = from.tag().ok_or(HeaderError::Missing("From tag"))?.to_string();
        let remote_target = response
            .contacts()?
            .into_iter()
            .next()
            .map(|c| c.uri)
            .ok_or(HeaderError::Missing("Contact"))?;
        let mut route_set: Vec<String> =
            response.headers().get_all(&HeaderName::RecordRoute).map(str::to_string).collect();
        route_set.reverse();
        Ok(Dialog {
            id: DialogId { call_id: invite.call_id()?.to_string(), local_tag, remote_tag },
            local_party: invite.headers().get(&HeaderName::From).unwrap_or_default().to_string(),
            remote_party: response.headers().get(&HeaderName::To).unwrap_or_default().to_string(),
            remote_target,
            route_set,
            local_seq: invite.cseq()?.seq,
            remote_seq: None,
        })
    }

    /// The dialog we create by answering `invite` with our `local_tag` (§12.1.1). The route
    /// set is the Record-Route in order.
    pub fn from_uas(invite: &Request, local_tag: &str) -> Result<Dialog, HeaderError> {
        let from = invite.from()?;
        let remote_tag = from.tag().ok_or(HeaderError::Missing("From tag"))?.to_string();
        let mut to = invite.to()?;
        to.set_tag(local_tag);
        let remote_target = invite
            .contacts()?
            .into_iter()
            .next()
            .map(|c| c.uri)
            .ok_or(HeaderError::Missing("Contact"))?;
        Ok(Dialog {
            id: DialogId {
                call_id: invite.call_id()?.to_string(),
                local_tag: local_tag.to_string(),
                remote_tag,
            },
            local_party: to.to_string(),
            remote_party: invite.headers().get(&HeaderName::From).unwrap_or_default().to_string(),
            remote_target,
            route_set: invite
                .headers()
                .get_all(&HeaderName::RecordRoute)
                .map(str::to_string)
                .collect(),
            local_seq: 0,
            remote_seq: Some(invite.cseq()?.seq),
        })
    }

    /// Whether `request` belongs to this dialog (Call-ID and both tags, §12.2.2).
    pub fn matches(&self, request: &Request) -> bool {
        let (Ok(call_id), Ok(from), Ok(to)) = (request.call_id(), request.from(), request.to())
        else {
            return false;
        };
        call_id == self.id.call_id
            && from.tag() == Some(self.id.remote_tag.as_str())
            && to.tag() == Some(self.id.local_tag.as_str())
    }

    /// Checks a far-end request's CSeq and remembers it. A lower or equal number than the last
    /// one is out of order (§12.2.2: answer 500).
    pub fn accept_remote_seq(&mut self, request: &Request) -> Result<(), HeaderError> {
        let seq = request.cseq()?.seq;
        if self.remote_seq.is_some_and(|last| seq <= last) {
            return Err(HeaderError::Invalid { header: "CSeq", reason: "lower than the last" });
        }
        self.remote_seq = Some(seq);
        Ok(())
    }

    /// A new request within the dialog (BYE, re-INVITE, OPTIONS), with the next CSeq.
    /// `via_host`/`via_port` is our sent-by; `branch` is fresh from the caller.
    pub fn make_request(
        &mut self,
        method: Method,
        transport: Transport,
        via_host: &str,
        via_port: u16,
        branch: &str,
    ) -> Request {
        self.local_seq = self.local_seq.saturating_add(1);
        self.build(method, self.local_seq, transport, via_host, via_port, branch)
    }

    /// The ACK for a 2xx to our INVITE with CSeq `invite_seq` (§13.2.2.4): a request of its
    /// own, with its own branch, and the INVITE's CSeq number.
    pub fn make_ack(
        &self,
        invite_seq: u32,
        transport: Transport,
        via_host: &str,
        via_port: u16,
        branch: &str,
    ) -> Request {
        self.build(Method::Ack, invite_seq, transport, via_host, via_port, branch)
    }

    fn build(
        &self,
        method: Method,
        seq: u32,
        transport: Transport,
        via_host: &str,
        via_port: u16,
        branch: &str,
    ) -> Request {
        // Loose routing (§12.2.1.1): with a route set whose first entry has `lr`, the
        // Request-URI stays the remote target and the set goes into Route headers.
        let mut request = Request::new(method.clone(), self.remote_target.clone());
        let mut via = Via::new(transport.as_str(), via_host, Some(via_port), branch);
        via.params.set("rport", None);
        request.headers.push(HeaderName::Via, via.to_string());
        request.headers.push(HeaderName::MaxForwards, "70");
        for route in &self.route_set {
            request.headers.push(HeaderName::Route, route.clone());
        }
        request.headers.push(HeaderName::From, self.local_party.clone());
        request.headers.push(HeaderName::To, self.remote_party.clone());
        request.headers.push(HeaderName::CallId, self.id.call_id.clone());
        request.headers.push(HeaderName::CSeq, CSeq { seq, method }.to_string());
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;

    fn invite() -> Request {
        let text = "INVITE sip:bob@192.0.2.2 SIP/2.0\r\n\
            Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n\
            From: <sip:sb@192.0.2.1>;tag=ours\r\n\
            To: <sip:bob@192.0.2.2>\r\n\
            Call-ID: c1\r\n\
            CSeq: 7 INVITE\r\n\
            Contact: <sip:sb@192.0.2.1:5060>\r\n\
            Content-Length: 0\r\n\r\n";
        match Message::parse(text.as_bytes()) {
            Ok(Message::Request(r)) => r,
            other => panic!("fixture is a request: {other:?}"),
        }
    }

    fn ok_for(invite: &Request) -> Response {
        let mut ok = invite.make_response(200, "OK");
        let mut to = invite.to().expect("fixture has To");
        to.set_tag("theirs");
        ok.headers.set(HeaderName::To, to.to_string());
        ok.headers.push(HeaderName::Contact, "<sip:bob@192.0.2.9:5070>");
        ok.headers.push(HeaderName::RecordRoute, "<sip:p1@192.0.2.5;lr>");
        ok.headers.push(HeaderName::RecordRoute, "<sip:p2@192.0.2.6;lr>");
        ok
    }

    #[test]
    fn uac_dialog_targets_the_contact_and_reverses_the_route_set() {
        let invite = invite();
        let mut dialog = Dialog::from_uac(&invite, &ok_for(&invite)).expect("valid 2xx");
        assert_eq!(dialog.remote_target, "sip:bob@192.0.2.9:5070");
        assert_eq!(dialog.route_set, ["<sip:p2@192.0.2.6;lr>", "<sip:p1@192.0.2.5;lr>"]);
        let ack = dialog.make_ack(7, Transport::Udp, "192.0.2.1", 5060, "z9hG4bKa");
        assert_eq!(ack.cseq().expect("built").to_string(), "7 ACK");
        let bye = dialog.make_request(Method::Bye, Transport::Udp, "192.0.2.1", 5060, "z9hG4bKb");
        assert_eq!(bye.uri, "sip:bob@192.0.2.9:5070");
        assert_eq!(bye.cseq().expect("built").to_string(), "8 BYE");
        assert_eq!(bye.to().expect("built").tag(), Some("theirs"));
        assert_eq!(bye.from().expect("built").tag(), Some("ours"));
        let routes: Vec<_> = bye.headers.get_all(&HeaderName::Route).collect();
        assert_eq!(routes, ["<sip:p2@192.0.2.6;lr>", "<sip:p1@192.0.2.5;lr>"]);
        // Round trip: what we build parses.
        assert!(Message::parse(&bye.to_bytes()).is_ok());
    }

    #[test]
    fn uas_dialog_matches_the_far_ends_requests_and_rejects_old_cseq() {
        let invite = invite();
        let mut dialog = Dialog::from_uas(&invite, "mine").expect("valid INVITE");
        assert_eq!(dialog.remote_target, "sip:sb@192.0.2.1:5060");
        let mut bye = Request::new(Method::Bye, "sip:x@192.0.2.2");
        bye.headers.push(HeaderName::Via, "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK2");
        bye.headers.push(HeaderName::From, "<sip:sb@192.0.2.1>;tag=ours");
        bye.headers.push(HeaderName::To, "<sip:bob@192.0.2.2>;tag=mine");
        bye.headers.push(HeaderName::CallId, "c1");
        bye.headers.push(HeaderName::CSeq, "8 BYE");
        assert!(dialog.matches(&bye));
        assert!(dialog.accept_remote_seq(&bye).is_ok());
        assert!(dialog.accept_remote_seq(&bye).is_err(), "same CSeq twice is out of order");
        bye.headers.set(HeaderName::To, "<sip:bob@192.0.2.2>;tag=other");
        assert!(!dialog.matches(&bye));
    }

    #[test]
    fn a_2xx_without_contact_or_tag_is_an_error_not_a_panic() {
        let invite = invite();
        let mut ok = invite.make_response(200, "OK");
        assert!(Dialog::from_uac(&invite, &ok).is_err(), "no To tag");
        ok.headers.set(HeaderName::To, "<sip:bob@192.0.2.2>;tag=t");
        assert!(Dialog::from_uac(&invite, &ok).is_err(), "no Contact");
    }
}
