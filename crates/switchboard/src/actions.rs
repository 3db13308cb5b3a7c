//! The campaign actions worker: sends the SMS and webhooks that final contact statuses queued
//! (the store's `campaign_actions`, filled by the engine's `ActionQueued` events in the same
//! transaction as the status), with bounded retries and backoff, and marks each done.
//!
//! It runs as its own task, so the engine actor never waits for a network: the actor only
//! wakes it ([`ActionsWake`]) after committing a batch that queued actions. The queue is the
//! table, so a restart resumes it; a sent action is marked at once, so it is not sent again
//! (a crash between the send and the mark can repeat it, which is why every webhook carries
//! its action id in `X-Switchboard-Delivery` and every SMS its `reference`).

use std::sync::Arc;
use std::time::Duration;

use api::CampaignSettings;
use dialer::Template;
use futures::StreamExt;
use notify::{Secret, Sms, SmsProvider, WebhookClient};
use serde_json::{json, Value};
use store::{ActionRow, ContactRow, Store};
use tokio::sync::{watch, Notify};

use crate::config::NotifyConfig;
use crate::runtime::clock;

/// Actions read from the store per pass.
pub const ACTIONS_BATCH_MAX: i64 = 64;
/// Actions being sent at once.
pub const ACTIONS_IN_FLIGHT_MAX: usize = 8;
/// Longest sleep between two looks at the table (a wake-up comes sooner).
const IDLE_POLL_MS: u64 = 5_000;
/// The event name of webhooks about a contact's final status.
pub const CONTACT_FINISHED: &str = "contact.finished";

/// Wakes the worker when actions were queued.
pub type ActionsWake = Arc<Notify>;

pub struct ActionsWorker {
    pub store: Store,
    pub sms: Arc<dyn SmsProvider>,
    pub webhooks: WebhookClient,
    pub webhook_secret: Option<Secret>,
    pub wake: ActionsWake,
}

/// What one attempt came to.
enum Attempt {
    Sent,
    /// Worth another try later.
    Retry(String),
    /// Will never work (a missing field, a refused request, a deleted campaign).
    GiveUp(String),
}

/// The SMS driver, and the log driver as itself (for reading its messages back) when it is one.
pub type SmsDrivers = (Arc<dyn SmsProvider>, Option<Arc<notify::LogSms>>);

/// The SMS driver the configuration names.
pub fn sms_provider(config: &NotifyConfig) -> anyhow::Result<SmsDrivers> {
    let s = &config.sms;
    Ok(match s.driver.as_str() {
        "http" => {
            let format = if s.format == "form" {
                notify::BodyFormat::Form
            } else {
                notify::BodyFormat::Json
            };
            let from = (!s.from.is_empty()).then(|| s.from.clone());
            let timeout = Duration::from_millis(s.timeout_ms);
            let token = Some(s.token.clone());
            let gateway = notify::HttpGateway::new(s.url.clone(), token, format, from, timeout)
                .map_err(|e| anyhow::anyhow!("notify.sms: {e}"))?;
            (Arc::new(gateway), None)
        }
        _ => {
            let log = Arc::new(notify::LogSms::new());
            (log.clone(), Some(log))
        }
    })
}

impl ActionsWorker {
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        loop {
            let now = clock().as_millis();
            let due = match self.store.due_actions(now, ACTIONS_BATCH_MAX).await {
                Ok(due) => due,
                Err(error) => {
                    tracing::error!(%error, "cannot read campaign actions; trying again");
                    Vec::new()
                }
            };
            let full = due.len() as i64 >= ACTIONS_BATCH_MAX;
            futures::stream::iter(due)
                .for_each_concurrent(ACTIONS_IN_FLIGHT_MAX, |action| self.handle(action))
                .await;
            if full {
                continue;
            }
            let next = self.store.next_action_at().await.ok().flatten();
            let now = clock().as_millis();
            let wait_ms = next.map_or(IDLE_POLL_MS, |t| {
                u64::try_from(t.saturating_sub(now)).unwrap_or(0).min(IDLE_POLL_MS)
            });
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(wait_ms.max(10))) => {}
                _ = shutdown.changed() => return Ok(()),
            }
        }
    }

    async fn handle(&self, action: ActionRow) {
        let result = self.attempt(&action).await;
        let now = clock().as_millis();
        let attempts = u32::try_from(action.attempts).unwrap_or(u32::MAX).saturating_add(1);
        let done = match result {
            Attempt::Sent => self.store.action_sent(action.id, now).await,
            Attempt::Retry(error) if attempts < notify::ATTEMPTS_MAX => {
                tracing::warn!(id = action.id, kind = %action.kind, attempts, %error,
                    "campaign action failed; will retry");
                let next = now.saturating_add(notify::backoff_ms(attempts) as i64);
                self.store.action_retry(action.id, next, &error).await
            }
            Attempt::Retry(error) | Attempt::GiveUp(error) => {
                tracing::error!(id = action.id, kind = %action.kind, attempts, %error,
                    "campaign action given up");
                self.store.action_failed(action.id, now, &error).await
            }
        };
        if let Err(error) = done {
            tracing::error!(id = action.id, %error, "cannot record a campaign action's result");
        }
    }

    async fn attempt(&self, action: &ActionRow) -> Attempt {
        let lookup = async {
            let campaign = self.store.campaign(action.campaign_id).await?;
            let contact = self.store.contact(action.contact_id).await?;
            Ok::<_, store::StoreError>((campaign, contact))
        };
        let (campaign, contact) = match lookup.await {
            Ok((Some(campaign), Some(contact))) => (campaign, contact),
            Ok(_) => return Attempt::GiveUp("the campaign or contact was deleted".into()),
            Err(e) => return Attempt::Retry(format!("store: {e}")),
        };
        let settings: CampaignSettings = match serde_json::from_value(campaign.settings.clone()) {
            Ok(s) => s,
            Err(e) => return Attempt::GiveUp(format!("campaign settings: {e}")),
        };
        let outcome = settings.actions.get(&action.outcome);
        match action.kind.as_str() {
            "sms" => {
                let Some(text) = outcome.and_then(|o| o.sms.as_deref()) else {
                    return Attempt::GiveUp(format!("no SMS text for {}", action.outcome));
                };
                let text = match render(text, &contact) {
                    Ok(text) => text,
                    Err(e) => return Attempt::GiveUp(e),
                };
                let sms = Sms { to: contact.phone.clone(), text, reference: action.id.to_string() };
                match self.sms.send(&sms).await {
                    Ok(()) => Attempt::Sent,
                    Err(e) if e.is_retryable() => Attempt::Retry(e.to_string()),
                    Err(e) => Attempt::GiveUp(e.to_string()),
                }
            }
            "webhook" => {
                let Some(url) = settings.webhook_url.as_deref().filter(|u| !u.is_empty()) else {
                    return Attempt::GiveUp("the campaign has no webhook_url".into());
                };
                let secret = settings
                    .webhook_secret
                    .as_deref()
                    .map(Secret::new)
                    .or_else(|| self.webhook_secret.clone())
                    .filter(|s| !s.is_empty());
                let Some(secret) = secret else {
                    return Attempt::GiveUp("no webhook secret (campaign or notify)".into());
                };
                let body = webhook_body(action, &campaign.name, &contact);
                let now_s = clock().as_millis() / 1_000;
                let delivery = action.id.to_string();
                let body = body.to_string().into_bytes();
                match self
                    .webhooks
                    .post(url, &secret, CONTACT_FINISHED, &delivery, body, now_s)
                    .await
                {
                    Ok(()) => Attempt::Sent,
                    Err(e) if e.is_retryable() => Attempt::Retry(e.to_string()),
                    Err(e) => Attempt::GiveUp(e.to_string()),
                }
            }
            other => Attempt::GiveUp(format!("unknown action kind {other:?}")),
        }
    }
}

/// The SMS text with the contact's fields (and `name`, `phone`) filled in.
fn render(text: &str, contact: &ContactRow) -> Result<String, String> {
    let template = Template::parse(text).map_err(|e| format!("SMS template: {e}"))?;
    let fields = contact.fields.as_object();
    let name = contact.name.clone().unwrap_or_default();
    template
        .render(|key| match key {
            "name" if !name.is_empty() => Some(name.as_str()),
            "phone" => Some(contact.phone.as_str()),
            _ => fields.and_then(|f| f.get(key)?.as_str()),
        })
        .map_err(|e| format!("SMS template: {e}"))
}

/// The JSON a webhook receiver gets (see `docs/api.md`).
fn webhook_body(action: &ActionRow, campaign_name: &str, contact: &ContactRow) -> Value {
    json!({
        "id": action.id,
        "event": CONTACT_FINISHED,
        "created_at": action.created_at,
        "outcome": action.outcome,
        "campaign": { "id": action.campaign_id, "name": campaign_name },
        "contact": {
            "id": contact.id,
            "phone": contact.phone,
            "name": contact.name,
            "fields": contact.fields,
            "status": contact.status,
            "label": contact.label,
            "answer": contact.answer,
            "attempts": contact.attempts,
            "last_result": contact.last_result,
        },
    })
}
