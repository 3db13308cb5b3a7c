//! A campaign's stored settings and their conversion into the engine's `CampaignSetup`.
//! Validation happens here and names the offending field (`settings.abandon_cap`).

use chrono::NaiveTime;
use std::collections::BTreeMap;

use domain::campaign::{CampaignId, ContactStatus};
use domain::{PhoneNumber, QueueId};
use engine::dialer::{
    ready_template, standard_menu, AbandonRule, CallingWindow, LocalRange, PacingLimits,
    RetryDelays, RetryRules, RetrySpec, Template, WindowSpec, NO_ANSWER_TIMEOUT_MS_MAX,
    NO_ANSWER_TIMEOUT_MS_MIN,
};
use engine::{CampaignSetup, DialMode, FinalActions, MachinePolicy, LABEL_BYTES_MAX};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Lines per campaign the API accepts.
pub const CAMPAIGN_LINES_MAX: u64 = 1_000;
/// Longest custom message or agent script.
pub const CAMPAIGN_TEXT_BYTES_MAX: usize = 4_096;
/// Longest SMS template (ten concatenated parts of plain text).
pub const SMS_TEXT_BYTES_MAX: usize = 1_600;
/// Longest webhook URL or secret.
pub const WEBHOOK_FIELD_BYTES_MAX: usize = 2_048;
/// What a stored webhook secret reads as in the API; sending it back keeps the secret.
pub const SECRET_MASK: &str = "********";
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn d_lines() -> u64 {
    10
}
fn d_no_answer() -> u64 {
    25
}
fn d_attempts() -> u32 {
    3
}
fn d_cap() -> f64 {
    0.03
}
fn d_rule() -> String {
    "us".into()
}
fn d_region() -> String {
    "GB".into()
}
fn d_message_s() -> u64 {
    30
}
fn d_on_machine() -> String {
    "retry".into()
}

/// What a campaign does when a contact reaches one final status.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeActions {
    /// A status label stored with the contact (1 to 64 bytes), e.g. "unreachable".
    #[serde(default)]
    pub label: Option<String>,
    /// An SMS to the contact: a template with `{field}` placeholders from the contact's row
    /// (`{name}` and `{phone}` too).
    #[serde(default)]
    pub sms: Option<String>,
    /// POST the contact and its outcome to the campaign's signed webhook.
    #[serde(default)]
    pub webhook: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryDelaysSettings {
    pub no_answer_s: u64,
    pub busy_s: u64,
    pub machine_s: u64,
    pub failed_s: u64,
    pub abandoned_s: u64,
}

impl Default for RetryDelaysSettings {
    fn default() -> Self {
        RetryDelaysSettings {
            no_answer_s: 3_600,
            busy_s: 600,
            machine_s: 3_600,
            failed_s: 1_800,
            abandoned_s: 3_600,
        }
    }
}

/// Calling hours in each contact's local time.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowSettings {
    /// "HH:MM".
    pub from: String,
    /// "HH:MM", after `from`.
    pub to: String,
    /// Weekdays "mon".."sun".
    pub days: Vec<String>,
}

impl Default for WindowSettings {
    fn default() -> Self {
        WindowSettings {
            from: "09:00".into(),
            to: "21:00".into(),
            days: DAYS.iter().map(|d| d.to_string()).collect(),
        }
    }
}

/// A campaign as supervisors configure it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignSettings {
    /// preview, progressive, predictive or robocall.
    pub mode: String,
    /// The queue whose agents take the calls (robocalls too need one, for their numbering).
    pub queue_id: i64,
    #[serde(default)]
    pub caller_id: Option<String>,
    /// Calls in progress at most.
    #[serde(default = "d_lines")]
    pub lines_max: u64,
    /// How long a number rings, 15 to 120 s.
    #[serde(default = "d_no_answer")]
    pub no_answer_timeout_s: u64,
    #[serde(default = "d_attempts")]
    pub attempts_max: u32,
    #[serde(default)]
    pub retry_delays: RetryDelaysSettings,
    #[serde(default)]
    pub window: WindowSettings,
    /// us (30 days) or uk (24 h, and no call back to an abandoned number for 72 h).
    #[serde(default = "d_rule")]
    pub abandon_rule: String,
    /// Abandon-rate cap, 0 to 0.1.
    #[serde(default = "d_cap")]
    pub abandon_cap: f64,
    /// A ready template id (`parcel_waiting`, ...) for the message and the required columns.
    #[serde(default)]
    pub template: Option<String>,
    /// A custom message with `{field}` placeholders, instead of a ready template.
    #[serde(default)]
    pub message: Option<String>,
    /// What the agent reads on the screen pop.
    #[serde(default)]
    pub script: Option<String>,
    /// Region for numbers written without a country code (ISO 3166, e.g. GB).
    #[serde(default = "d_region")]
    pub default_region: String,
    /// Robocall: how long the answered call is held for the message.
    #[serde(default = "d_message_s")]
    pub message_s: u64,
    /// An answering machine: "retry" (after retry_delays.machine_s) or "leave_message"
    /// (play the message, then the contact is final as message_left).
    #[serde(default = "d_on_machine")]
    pub on_machine: String,
    /// Tell answering machines from people on SIP calls by listening to the first words after
    /// the answer (a machine's greeting is long, a person's "Hello?" short), so `on_machine`
    /// applies. Absent: on for robocalls, off for campaigns with agents (detection delays
    /// the answer by up to about 2.5 s, too long for a person waiting for an agent).
    #[serde(default)]
    pub detect_machine: Option<bool>,
    /// Actions per final status (reached, delivered, confirmed, survey_answered, opted_out,
    /// wrong_number, message_left, no_answer, failed, dnc, skipped, no_window).
    #[serde(default)]
    pub actions: BTreeMap<String, OutcomeActions>,
    /// Where webhook actions POST (http or https).
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// The HMAC-SHA256 key of this campaign's webhooks; absent: the server's
    /// `notify.webhook_secret`. Reads back as "********".
    #[serde(default)]
    pub webhook_secret: Option<String>,
}

fn field(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::field(&format!("settings.{name}"), message)
}

fn hm(name: &str, v: &str) -> Result<u16, ApiError> {
    let t = NaiveTime::parse_from_str(v, "%H:%M").map_err(|_| field(name, "use HH:MM"))?;
    use chrono::Timelike;
    Ok((t.hour() * 60 + t.minute()) as u16)
}

impl CampaignSettings {
    pub fn dial_mode(&self) -> Result<DialMode, ApiError> {
        DialMode::parse(&self.mode)
            .ok_or_else(|| field("mode", "use preview, progressive, predictive or robocall"))
    }

    /// The template text (message) and the columns every row must fill.
    pub fn template(&self) -> Result<Option<(String, Vec<String>)>, ApiError> {
        if let Some(text) = &self.message {
            let t = Template::parse(text).map_err(|e| field("message", e.to_string()))?;
            let fields = t.placeholders().into_iter().map(String::from).collect();
            return Ok(Some((text.clone(), fields)));
        }
        match &self.template {
            None => Ok(None),
            Some(id) => {
                let spec =
                    ready_template(id).ok_or_else(|| field("template", "unknown template"))?;
                let fields = spec.required_fields.iter().map(|f| f.to_string()).collect();
                Ok(Some((spec.text_en.to_string(), fields)))
            }
        }
    }

    /// Validates every field and builds the engine's setup.
    pub fn to_setup(&self, id: i64) -> Result<CampaignSetup, ApiError> {
        let mode = self.dial_mode()?;
        if self.queue_id <= 0 {
            return Err(field("queue_id", "a queue id"));
        }
        let caller_id = match self.caller_id.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                PhoneNumber::parse(s, "US")
                    .map_err(|_| field("caller_id", "an E.164 number such as +442079460958"))?,
            ),
        };
        if !(1..=CAMPAIGN_LINES_MAX).contains(&self.lines_max) {
            return Err(field("lines_max", format!("1 to {CAMPAIGN_LINES_MAX}")));
        }
        let no_answer_ms = self.no_answer_timeout_s.saturating_mul(1_000);
        if !(NO_ANSWER_TIMEOUT_MS_MIN..=NO_ANSWER_TIMEOUT_MS_MAX).contains(&no_answer_ms) {
            return Err(field("no_answer_timeout_s", "15 to 120 seconds"));
        }
        let limits = PacingLimits::new(self.lines_max, no_answer_ms)
            .map_err(|e| field("lines_max", e.to_string()))?;
        let rule = match self.abandon_rule.as_str() {
            "us" => AbandonRule::Us,
            "uk" => AbandonRule::Uk,
            _ => return Err(field("abandon_rule", "use us or uk")),
        };
        if !(0.0..=0.1).contains(&self.abandon_cap) {
            return Err(field("abandon_cap", "0 to 0.1 (10%)"));
        }
        let d = &self.retry_delays;
        let ms = |s: u64| s.saturating_mul(1_000);
        let spec = RetrySpec {
            attempts_max: self.attempts_max,
            delays: RetryDelays {
                no_answer_ms: ms(d.no_answer_s),
                busy_ms: ms(d.busy_s),
                machine_ms: ms(d.machine_s),
                failed_ms: ms(d.failed_s),
                abandoned_ms: ms(d.abandoned_s),
            },
            final_outcomes: Vec::new(),
            uk_abandon_hold: rule == AbandonRule::Uk,
        };
        let retry = RetryRules::new(spec).map_err(|e| match e {
            engine::dialer::RetryError::Attempts(_) => field("attempts_max", e.to_string()),
            engine::dialer::RetryError::Delay { field: f, .. } => {
                let name = format!("retry_delays.{}", f.replace("_ms", "_s"));
                field(&name, "60 s to 30 days")
            }
        })?;
        let window = self.window()?;
        if self.message.as_ref().is_some_and(|m| m.len() > CAMPAIGN_TEXT_BYTES_MAX) {
            return Err(field("message", format!("at most {CAMPAIGN_TEXT_BYTES_MAX} bytes")));
        }
        if self.script.as_ref().is_some_and(|m| m.len() > CAMPAIGN_TEXT_BYTES_MAX) {
            return Err(field("script", format!("at most {CAMPAIGN_TEXT_BYTES_MAX} bytes")));
        }
        if self.default_region.len() != 2
            || !self.default_region.chars().all(|c| c.is_ascii_alphabetic())
        {
            return Err(field("default_region", "a two-letter region such as GB"));
        }
        if mode == DialMode::Robocall && self.template()?.is_none() {
            return Err(field("template", "a robocall needs a template or a message"));
        }
        self.template()?;
        if !(5..=300).contains(&self.message_s) {
            return Err(field("message_s", "5 to 300 seconds"));
        }
        let on_machine = match self.on_machine.as_str() {
            "retry" => MachinePolicy::Retry,
            "leave_message" if self.template()?.is_none() => {
                return Err(field("on_machine", "leaving a message needs a template or message"))
            }
            "leave_message" => MachinePolicy::LeaveMessage,
            _ => return Err(field("on_machine", "use retry or leave_message")),
        };
        let menu = match (&self.message, &self.template) {
            (None, Some(id)) => ready_template(id).map_or(standard_menu(), |t| t.menu),
            _ => standard_menu(),
        };
        let actions = self.final_actions()?;
        Ok(CampaignSetup {
            id: CampaignId(id as u64),
            queue: QueueId(self.queue_id as u64),
            mode,
            priority: 0,
            caller_id,
            limits,
            retry,
            window,
            abandon_rule: rule,
            cap: self.abandon_cap,
            message_ms: self.message_s * 1_000,
            menu: menu.to_vec(),
            on_machine,
            detect_machine: self.detect_machine.unwrap_or(mode == DialMode::Robocall),
            actions,
        })
    }

    fn final_actions(&self) -> Result<Vec<(ContactStatus, FinalActions)>, ApiError> {
        let url = self.webhook_url.as_deref().filter(|u| !u.is_empty());
        if let Some(url) = url {
            let scheme = url.starts_with("http://") || url.starts_with("https://");
            if !scheme || url.len() > WEBHOOK_FIELD_BYTES_MAX || url.contains(char::is_whitespace) {
                return Err(field("webhook_url", "an http:// or https:// URL"));
            }
        }
        if let Some(secret) = &self.webhook_secret {
            if !(16..=WEBHOOK_FIELD_BYTES_MAX).contains(&secret.len()) {
                return Err(field("webhook_secret", "16 to 2048 characters"));
            }
        }
        let mut out = Vec::new();
        for (name, a) in &self.actions {
            let at = |f: &str| format!("actions.{name}.{f}");
            let status = ContactStatus::parse(name)
                .filter(|s| s.is_final())
                .ok_or_else(|| field(&format!("actions.{name}"), "not a final contact status"))?;
            if let Some(label) = &a.label {
                if label.trim().is_empty() || label.len() > LABEL_BYTES_MAX {
                    return Err(field(&at("label"), format!("1 to {LABEL_BYTES_MAX} bytes")));
                }
            }
            if let Some(sms) = &a.sms {
                if sms.trim().is_empty() || sms.len() > SMS_TEXT_BYTES_MAX {
                    return Err(field(&at("sms"), format!("1 to {SMS_TEXT_BYTES_MAX} bytes")));
                }
                Template::parse(sms).map_err(|e| field(&at("sms"), e.to_string()))?;
            }
            if a.webhook && url.is_none() {
                return Err(field("webhook_url", "a webhook action needs the URL"));
            }
            let actions =
                FinalActions { label: a.label.clone(), sms: a.sms.is_some(), webhook: a.webhook };
            out.push((status, actions));
        }
        Ok(out)
    }

    /// The settings as the API shows them: a webhook secret reads as [`SECRET_MASK`].
    pub fn public(value: &serde_json::Value) -> serde_json::Value {
        let mut value = value.clone();
        if let Some(secret) = value.get_mut("webhook_secret").filter(|s| s.is_string()) {
            *secret = serde_json::Value::String(SECRET_MASK.into());
        }
        value
    }

    /// On an update that sends the mask back, the stored secret stays.
    pub fn keep_secret(&mut self, stored: &serde_json::Value) {
        if self.webhook_secret.as_deref() == Some(SECRET_MASK) {
            self.webhook_secret =
                stored.get("webhook_secret").and_then(|s| s.as_str()).map(str::to_string);
        }
    }

    fn window(&self) -> Result<CallingWindow, ApiError> {
        let (from, to) = (hm("window.from", &self.window.from)?, hm("window.to", &self.window.to)?);
        if from >= to {
            return Err(field("window.to", "after window.from"));
        }
        let mut week: [Vec<LocalRange>; 7] = Default::default();
        if self.window.days.is_empty() || self.window.days.len() > 7 {
            return Err(field("window.days", "1 to 7 weekdays"));
        }
        for day in &self.window.days {
            let i = DAYS
                .iter()
                .position(|d| d == day)
                .ok_or_else(|| field("window.days", "use mon, tue, wed, thu, fri, sat, sun"))?;
            week[i] = vec![LocalRange { start_min: from, end_min: to }];
        }
        CallingWindow::new(WindowSpec { week, holidays: Vec::new() })
            .map_err(|e| field("window", e.to_string()))
    }
}
