//! Outbound notifications of campaign outcomes: text messages through an [`SmsProvider`]
//! (an HTTP gateway or the log) and signed webhooks ([`WebhookClient`], [`signature`]).
//!
//! This crate only sends. What to send and when (the durable queue of actions, retries with
//! backoff) is the binary's, over the store; [`backoff_ms`] is the schedule it uses.

mod secret;
mod sms;
mod webhook;

pub use secret::Secret;
pub use sms::{BodyFormat, HttpGateway, LogSms, Sms, SmsError, SmsProvider, LOG_SMS_KEPT_MAX};
pub use webhook::{
    sign, signature, verify, SignatureError, WebhookClient, WebhookError, SIGNATURE_HEADER,
};

/// Attempts per action (the first included) before it is given up.
pub const ATTEMPTS_MAX: u32 = 8;
/// The longest wait between two attempts.
pub const BACKOFF_MS_MAX: u64 = 10 * 60_000;
/// Bytes of a response body kept for an error message.
pub const ERROR_BODY_BYTES_MAX: usize = 256;

/// How long to wait after failed attempt number `attempt` (1-based): 1 s, 2 s, 4 s, ... up
/// to [`BACKOFF_MS_MAX`].
pub fn backoff_ms(attempt: u32) -> u64 {
    let exp = attempt.saturating_sub(1).min(20);
    (1_000u64 << exp).min(BACKOFF_MS_MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let waits: Vec<u64> = (1..=12).map(super::backoff_ms).collect();
        assert_eq!(&waits[..4], [1_000, 2_000, 4_000, 8_000]);
        assert_eq!(waits[11], super::BACKOFF_MS_MAX);
        assert_eq!(super::backoff_ms(u32::MAX), super::BACKOFF_MS_MAX);
    }
}
