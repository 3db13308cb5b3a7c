//! Text messages: the [`SmsProvider`] trait and its drivers.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use domain::Pii;
use futures::future::BoxFuture;
use serde::Serialize;

use crate::{Secret, ERROR_BODY_BYTES_MAX};

/// Messages the log driver keeps for inspection; the oldest goes beyond.
pub const LOG_SMS_KEPT_MAX: usize = 1_000;

/// One text message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sms {
    /// E.164.
    pub to: String,
    pub text: String,
    /// Our id of the message (the action's), so a gateway can drop a repeat.
    pub reference: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// The gateway refused the message for good (4xx): trying again will not help.
    #[error("the gateway refused the message: HTTP {status}: {body}")]
    Refused { status: u16, body: String },
    /// The gateway failed or could not be reached: worth another try.
    #[error("the gateway failed: {0}")]
    Unavailable(String),
}

impl SmsError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, SmsError::Unavailable(_))
    }
}

/// Sends text messages. Object-safe, so the binary picks a driver at start.
pub trait SmsProvider: Send + Sync {
    fn send<'a>(&'a self, sms: &'a Sms) -> BoxFuture<'a, Result<(), SmsError>>;
}

/// How the HTTP gateway wants its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    /// `{"to": ..., "text": ..., "from": ..., "reference": ...}`.
    Json,
    /// The same fields, `application/x-www-form-urlencoded`.
    Form,
}

/// A gateway that takes a POST per message, authorised by a bearer token.
pub struct HttpGateway {
    client: reqwest::Client,
    url: String,
    token: Option<Secret>,
    format: BodyFormat,
    from: Option<String>,
}

#[derive(Serialize)]
struct GatewayBody<'a> {
    to: &'a str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a str>,
    reference: &'a str,
}

impl HttpGateway {
    pub fn new(
        url: String,
        token: Option<Secret>,
        format: BodyFormat,
        from: Option<String>,
        timeout: Duration,
    ) -> Result<HttpGateway, SmsError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| SmsError::Unavailable(e.to_string()))?;
        Ok(HttpGateway { client, url, token: token.filter(|t| !t.is_empty()), format, from })
    }

    async fn post(&self, sms: &Sms) -> Result<(), SmsError> {
        let body = GatewayBody {
            to: &sms.to,
            text: &sms.text,
            from: self.from.as_deref(),
            reference: &sms.reference,
        };
        let mut request = self.client.post(&self.url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose());
        }
        request = match self.format {
            BodyFormat::Json => request.json(&body),
            BodyFormat::Form => request.form(&body),
        };
        let response = request.send().await.map_err(|e| SmsError::Unavailable(e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let body: String = text.chars().take(ERROR_BODY_BYTES_MAX).collect();
        if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
            Err(SmsError::Refused { status: status.as_u16(), body })
        } else {
            Err(SmsError::Unavailable(format!("HTTP {}: {body}", status.as_u16())))
        }
    }
}

impl SmsProvider for HttpGateway {
    fn send<'a>(&'a self, sms: &'a Sms) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(self.post(sms))
    }
}

/// Writes messages to the log (number redacted) and keeps the last [`LOG_SMS_KEPT_MAX`] for
/// tests and the demo. Never fails.
#[derive(Default)]
pub struct LogSms {
    sent: Mutex<VecDeque<Sms>>,
}

impl LogSms {
    pub fn new() -> LogSms {
        LogSms::default()
    }

    /// The messages kept, oldest first.
    pub fn sent(&self) -> Vec<Sms> {
        self.sent.lock().map(|s| s.iter().cloned().collect()).unwrap_or_default()
    }
}

impl SmsProvider for LogSms {
    fn send<'a>(&'a self, sms: &'a Sms) -> BoxFuture<'a, Result<(), SmsError>> {
        tracing::info!(to = ?Pii::new(sms.to.as_str()), reference = %sms.reference,
            chars = sms.text.chars().count(), "SMS (log driver)");
        if let Ok(mut sent) = self.sent.lock() {
            if sent.len() >= LOG_SMS_KEPT_MAX {
                sent.pop_front();
            }
            sent.push_back(sms.clone());
        }
        Box::pin(futures::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_driver_keeps_a_bounded_list() {
        let log = LogSms::new();
        for i in 0..LOG_SMS_KEPT_MAX + 3 {
            let sms =
                Sms { to: "+447700900001".into(), text: format!("m{i}"), reference: "r".into() };
            futures::executor::block_on(log.send(&sms)).expect("never fails");
        }
        let sent = log.sent();
        assert_eq!(sent.len(), LOG_SMS_KEPT_MAX);
        assert_eq!(sent[0].text, "m3");
        assert!(!SmsError::Refused { status: 400, body: String::new() }.is_retryable());
        assert!(SmsError::Unavailable("HTTP 503".into()).is_retryable());
    }
}
