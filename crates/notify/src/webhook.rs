//! Signed webhooks. The signature is HMAC-SHA256, keyed by the shared secret, over
//! `"<timestamp>.<body>"` where the timestamp is Unix seconds, sent as
//! `X-Switchboard-Signature: t=<timestamp>,v1=<lowercase hex>`. A receiver recomputes it over
//! the raw body, compares in constant time and rejects timestamps far from its clock, which
//! stops replays ([`verify`]).

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{Secret, ERROR_BODY_BYTES_MAX};

pub const SIGNATURE_HEADER: &str = "X-Switchboard-Signature";
/// The action's id: the same for every attempt, so receivers can drop repeats.
pub const DELIVERY_HEADER: &str = "X-Switchboard-Delivery";
pub const EVENT_HEADER: &str = "X-Switchboard-Event";

type HmacSha256 = Hmac<Sha256>;

/// Lowercase hex HMAC-SHA256 of `"<timestamp>.<body>"`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The header value: `t=<timestamp>,v1=<hex>`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the timestamp is too far from now")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks a signature header against the raw body, as a receiver should: the timestamp
/// within `tolerance_s` of `now_s`, then the HMAC in constant time.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now_s: i64,
    tolerance_s: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut given = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => given = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(timestamp), Some(given)) = (timestamp, given) else {
        return Err(SignatureError::Malformed);
    };
    if now_s.abs_diff(timestamp) > tolerance_s.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let mut mac = HmacSha256::new_from_slice(secret).map_err(|_| SignatureError::Malformed)?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| SignatureError::Mismatch)
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The receiver refused it for good (4xx other than 408 and 429).
    #[error("the receiver refused the webhook: HTTP {status}: {body}")]
    Refused { status: u16, body: String },
    /// The receiver failed or could not be reached: worth another try.
    #[error("the webhook failed: {0}")]
    Unavailable(String),
}

impl WebhookError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, WebhookError::Unavailable(_))
    }
}

/// POSTs signed JSON bodies, each with a bounded time.
#[derive(Clone)]
pub struct WebhookClient {
    client: reqwest::Client,
}

impl WebhookClient {
    pub fn new(timeout: Duration) -> Result<WebhookClient, WebhookError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| WebhookError::Unavailable(e.to_string()))?;
        Ok(WebhookClient { client })
    }

    /// Sends `body` signed at `now_s`; `delivery` is the same for every attempt.
    pub async fn post(
        &self,
        url: &str,
        secret: &Secret,
        event: &str,
        delivery: &str,
        body: Vec<u8>,
        now_s: i64,
    ) -> Result<(), WebhookError> {
        let signature = signature(secret.expose().as_bytes(), now_s, &body);
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(DELIVERY_HEADER, delivery)
            .header(EVENT_HEADER, event)
            .body(body)
            .send()
            .await
            .map_err(|e| WebhookError::Unavailable(e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let body: String = text.chars().take(ERROR_BODY_BYTES_MAX).collect();
        if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
            Err(WebhookError::Refused { status: status.as_u16(), body })
        } else {
            Err(WebhookError::Unavailable(format!("HTTP {}: {body}", status.as_u16())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_reject_tampering_staleness_and_garbage() {
        let body = br#"{"event":"contact.finished"}"#;
        // A known answer, so receivers in other languages can check their code against it.
        // A known answer (Python's hmac module gives the same), for receivers to check against.
        assert_eq!(
            sign(b"whsec_test", 1_700_000_000, body),
            "3173be942ee12f984fb16495386d2b88ec5a60d3d894dca9861aa89319848f6b"
        );
        let header = signature(b"whsec_test", 1_700_000_000, body);
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(verify(b"whsec_test", &header, body, 1_700_000_100, 300), Ok(()));
        assert_eq!(
            verify(b"whsec_test", &header, b"{}", 1_700_000_100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", &header, body, 1_700_000_100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"whsec_test", &header, body, 1_700_000_400, 300),
            Err(SignatureError::Stale)
        );
        assert_eq!(verify(b"k", "v1=zz", body, 0, 300), Err(SignatureError::Malformed));
    }
}
