//! Matching keys (RFC 3261 §17.1.3 for responses, §17.2.3 for requests).

use crate::message::{HeaderAccess, HeaderError, Method, Request, Response};

/// Identifies a transaction in the layer's index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    /// Top Via branch and the CSeq method: a CANCEL shares its INVITE's branch.
    Client { branch: String, method: Method },
    /// Branch, sent-by and method, with ACK folded into INVITE so it finds its transaction.
    Server { branch: String, sent_by: String, method: Method },
}

impl Key {
    pub fn for_sent_request(request: &Request) -> Result<Key, HeaderError> {
        let via = request.top_via()?;
        if !via.has_rfc3261_branch() {
            return Err(HeaderError::Invalid {
                header: "Via",
                reason: "a request we send needs a branch starting with z9hG4bK",
            });
        }
        let branch = via.branch().unwrap_or_default().to_string();
        Ok(Key::Client { branch, method: request.cseq()?.method })
    }

    pub fn for_response(response: &Response) -> Result<Key, HeaderError> {
        let via = response.top_via()?;
        let branch = via.branch().ok_or(HeaderError::Missing("Via branch"))?.to_string();
        Ok(Key::Client { branch, method: response.cseq()?.method })
    }

    /// The server key of a received request; `method` overrides the request's own (used to
    /// find the INVITE that a CANCEL or ACK refers to).
    pub fn for_received(request: &Request, method: Option<Method>) -> Result<Key, HeaderError> {
        let via = request.top_via()?;
        let method = match method.unwrap_or_else(|| request.method.clone()) {
            Method::Ack => Method::Invite,
            other => other,
        };
        let branch = if via.has_rfc3261_branch() {
            via.branch().unwrap_or_default().to_string()
        } else {
            // RFC 2543 peers: no usable branch. Request-URI, Call-ID, From tag and CSeq number
            // identify the transaction well enough (§17.2.3 minus the To tag, which an ACK
            // adds).
            let from = request.from()?;
            format!(
                "2543|{}|{}|{}|{}",
                request.uri,
                request.call_id()?,
                from.tag().unwrap_or_default(),
                request.cseq()?.seq
            )
        };
        Ok(Key::Server { branch, sent_by: via.sent_by(), method })
    }
}
