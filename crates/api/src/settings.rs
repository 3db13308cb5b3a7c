//! Stored settings (JSON in the store) and their conversion into engine configuration.
//! Validation happens here, at the edge, and names the offending field.

use std::collections::BTreeMap;

use domain::limits::{
    CALLBACK_ATTEMPTS_MAX, CAPACITY_PER_CHANNEL_MAX, OFFER_MS_MAX, RING_MS_MAX,
    SKILLS_PER_ENTITY_MAX,
};
use domain::{AgentId, Channel, DepartmentId, PhoneNumber, QueueId, SkillId, SkillLevel};
use engine::{AcceptMode, BusinessHours, CallOrder, CallbackPolicy, QueueSetup};
use routing::{AgentProfile, OverflowAction, OverflowRule, QueueConfig, Strategy};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::state::SkillNames;

/// Skill name to level 1..10.
pub type Skills = BTreeMap<String, i64>;

fn d_strategy() -> String {
    "longest_idle".into()
}
fn d_priority() -> i32 {
    80
}
fn d_offer() -> u64 {
    20
}
fn d_wrap() -> u64 {
    30
}
fn d_aging() -> u64 {
    30
}
fn d_dispositions() -> Vec<String> {
    ["resolved", "call_back_later", "not_interested", "wrong_number"].map(String::from).to_vec()
}
fn d_order() -> String {
    "agent_first".into()
}
fn d_accept() -> String {
    "auto".into()
}
fn d_attempts() -> u32 {
    3
}
fn d_delays() -> Vec<u64> {
    vec![120, 600]
}
fn d_ring() -> u64 {
    30
}
fn d_sl() -> u64 {
    20
}
fn d_chat() -> u32 {
    2
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverflowSettings {
    pub after_s: u64,
    #[serde(default)]
    pub move_to_queue_id: Option<i64>,
    #[serde(default)]
    pub relax_skills: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackSettings {
    #[serde(default = "d_order")]
    pub order: String,
    #[serde(default = "d_accept")]
    pub accept: String,
    #[serde(default = "d_attempts")]
    pub max_attempts: u32,
    #[serde(default = "d_delays")]
    pub retry_delays_s: Vec<u64>,
    #[serde(default = "d_ring")]
    pub ring_s: u64,
    #[serde(default)]
    pub caller_id: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Weekday ("mon".."sun") to ["HH:MM", "HH:MM"].
    #[serde(default)]
    pub hours: BTreeMap<String, [String; 2]>,
}

impl Default for CallbackSettings {
    fn default() -> Self {
        CallbackSettings {
            order: d_order(),
            accept: d_accept(),
            max_attempts: d_attempts(),
            retry_delays_s: d_delays(),
            ring_s: d_ring(),
            caller_id: None,
            time_zone: None,
            hours: BTreeMap::new(),
        }
    }
}

/// A queue as administrators configure it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    #[serde(default)]
    pub department_id: Option<i64>,
    #[serde(default = "d_strategy")]
    pub strategy: String,
    #[serde(default)]
    pub skills: Skills,
    #[serde(default = "d_priority")]
    pub priority: i32,
    #[serde(default = "d_offer")]
    pub offer_timeout_s: u64,
    #[serde(default = "d_wrap")]
    pub wrap_up_s: u64,
    #[serde(default = "d_aging")]
    pub aging_s_per_level: u64,
    /// Service level: the share of contacts that get an agent within this many seconds.
    #[serde(default = "d_sl")]
    pub service_level_s: u64,
    #[serde(default)]
    pub script_id: Option<i64>,
    #[serde(default = "d_dispositions")]
    pub dispositions: Vec<String>,
    #[serde(default)]
    pub overflow: Vec<OverflowSettings>,
    #[serde(default)]
    pub callback: CallbackSettings,
}

fn skills(
    names: &SkillNames,
    field: &str,
    skills: &Skills,
) -> Result<Vec<(SkillId, SkillLevel)>, ApiError> {
    if skills.len() > SKILLS_PER_ENTITY_MAX {
        return Err(ApiError::field(field, format!("at most {SKILLS_PER_ENTITY_MAX} skills")));
    }
    skills
        .iter()
        .map(|(name, level)| {
            if name.trim().is_empty() || name.len() > 64 {
                return Err(ApiError::field(field, "skill names are 1 to 64 characters"));
            }
            let level = SkillLevel::new(*level)
                .map_err(|e| ApiError::field(&format!("{field}.{name}"), e.to_string()))?;
            let id =
                names.id(name).ok_or_else(|| ApiError::field(field, "too many distinct skills"))?;
            Ok((id, level))
        })
        .collect()
}

impl QueueSettings {
    /// Validates and converts into engine configuration.
    pub fn to_setup(&self, id: i64, names: &SkillNames) -> Result<QueueSetup, ApiError> {
        let strategy = match self.strategy.as_str() {
            "longest_idle" => Strategy::LongestIdle,
            "best_skill" => Strategy::BestSkill,
            _ => return Err(ApiError::field("strategy", "use longest_idle or best_skill")),
        };
        let offer_ms = self.offer_timeout_s.saturating_mul(1000);
        if offer_ms == 0 || offer_ms > OFFER_MS_MAX {
            return Err(ApiError::field(
                "offer_timeout_s",
                format!("between 1 and {}", OFFER_MS_MAX / 1000),
            ));
        }
        if self.service_level_s == 0 || self.service_level_s > 3_600 {
            return Err(ApiError::field("service_level_s", "between 1 and 3600"));
        }
        if self.wrap_up_s > 3_600 {
            return Err(ApiError::field("wrap_up_s", "at most 3600"));
        }
        if !(-1000..=1000).contains(&self.priority) {
            return Err(ApiError::field("priority", "between -1000 and 1000"));
        }
        if self.dispositions.is_empty() || self.dispositions.len() > 50 {
            return Err(ApiError::field("dispositions", "between 1 and 50 entries"));
        }
        let mut overflow = Vec::new();
        for (i, o) in self.overflow.iter().enumerate() {
            let action = match (o.move_to_queue_id, o.relax_skills) {
                (Some(q), false) if q > 0 => OverflowAction::MoveTo(QueueId(q as u64)),
                (None, true) => OverflowAction::RelaxSkills,
                _ => {
                    return Err(ApiError::field(
                        &format!("overflow[{i}]"),
                        "set either move_to_queue_id or relax_skills",
                    ))
                }
            };
            overflow.push(OverflowRule { after_ms: o.after_s.saturating_mul(1000), action });
        }
        let cb = &self.callback;
        let order = match cb.order.as_str() {
            "agent_first" => CallOrder::AgentFirst,
            "customer_first" => CallOrder::CustomerFirst,
            _ => {
                return Err(ApiError::field("callback.order", "use agent_first or customer_first"))
            }
        };
        let accept = match cb.accept.as_str() {
            "auto" => AcceptMode::Auto,
            "console" => AcceptMode::Console,
            _ => return Err(ApiError::field("callback.accept", "use auto or console")),
        };
        if cb.max_attempts == 0 || cb.max_attempts > CALLBACK_ATTEMPTS_MAX {
            return Err(ApiError::field(
                "callback.max_attempts",
                format!("between 1 and {CALLBACK_ATTEMPTS_MAX}"),
            ));
        }
        if cb.retry_delays_s.len() > CALLBACK_ATTEMPTS_MAX as usize
            || cb.retry_delays_s.iter().any(|d| *d > 7 * 86_400)
        {
            return Err(ApiError::field(
                "callback.retry_delays_s",
                "at most 10 delays of at most 7 days",
            ));
        }
        let ring_ms = cb.ring_s.saturating_mul(1000);
        if !(15_000..=RING_MS_MAX).contains(&ring_ms) {
            return Err(ApiError::field(
                "callback.ring_s",
                format!("between 15 and {}", RING_MS_MAX / 1000),
            ));
        }
        let caller_id = match &cb.caller_id {
            Some(c) if !c.is_empty() => Some(
                PhoneNumber::parse(c, "US")
                    .map_err(|e| ApiError::field("callback.caller_id", e.to_string()))?,
            ),
            _ => None,
        };
        let hours = match (&cb.time_zone, cb.hours.is_empty()) {
            (_, true) => None,
            (None, false) => {
                return Err(ApiError::field("callback.time_zone", "required with hours"))
            }
            (Some(tz), false) => {
                let windows: Vec<_> =
                    cb.hours.iter().map(|(d, [o, c])| (d.clone(), o.clone(), c.clone())).collect();
                Some(
                    BusinessHours::parse(tz, &windows)
                        .map_err(|e| ApiError::field("callback.hours", e.to_string()))?,
                )
            }
        };
        Ok(QueueSetup {
            routing: QueueConfig {
                id: QueueId(id as u64),
                channel: Channel::Voice,
                strategy,
                skills: skills(names, "skills", &self.skills)?,
                department: self.department_id.map(|d| DepartmentId(d as u64)),
                offer_ms,
                aging_ms_per_level: self.aging_s_per_level.saturating_mul(1000),
                overflow,
                wrap_up_ms: self.wrap_up_s * 1000,
                depth_max: domain::limits::QUEUE_DEPTH_MAX,
            },
            callback: CallbackPolicy {
                order,
                accept,
                priority: self.priority,
                max_attempts: cb.max_attempts,
                retry_delays_ms: cb.retry_delays_s.iter().map(|s| s * 1000).collect(),
                customer_ring_ms: ring_ms,
                caller_id,
                hours,
            },
        })
    }
}

/// An agent's routing profile as stored with the user.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserProfile {
    #[serde(default)]
    pub skills: Skills,
    #[serde(default)]
    pub department_ids: Vec<i64>,
    #[serde(default)]
    pub queue_ids: Vec<i64>,
    #[serde(default = "d_chat")]
    pub chat_capacity: u32,
}

impl UserProfile {
    pub fn to_agent(&self, id: i64, names: &SkillNames) -> Result<AgentProfile, ApiError> {
        if self.chat_capacity > CAPACITY_PER_CHANNEL_MAX {
            return Err(ApiError::field(
                "chat_capacity",
                format!("at most {CAPACITY_PER_CHANNEL_MAX}"),
            ));
        }
        if self.queue_ids.len() > 200 || self.department_ids.len() > 50 {
            return Err(ApiError::field("queue_ids", "at most 200 queues and 50 departments"));
        }
        Ok(AgentProfile {
            id: AgentId(id as u64),
            skills: skills(names, "skills", &self.skills)?,
            departments: self.department_ids.iter().map(|d| DepartmentId(*d as u64)).collect(),
            queues: self.queue_ids.iter().map(|q| QueueId(*q as u64)).collect(),
            capacity: [1, self.chat_capacity],
        })
    }
}

/// A widget's public settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetSettings {
    pub title: String,
    pub button_text: String,
    /// ISO region used for phone numbers typed without a country code.
    pub default_region: String,
    /// Origins allowed to post from a browser (`https://shop.example`).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

impl WidgetSettings {
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.title.is_empty() || self.title.len() > 100 {
            return Err(ApiError::field("title", "1 to 100 characters"));
        }
        if self.button_text.is_empty() || self.button_text.len() > 60 {
            return Err(ApiError::field("button_text", "1 to 60 characters"));
        }
        if matches!(
            PhoneNumber::parse("1", &self.default_region),
            Err(domain::PhoneError::UnknownRegion(_))
        ) {
            return Err(ApiError::field("default_region", "unknown region code"));
        }
        if self.allowed_origins.len() > 50 {
            return Err(ApiError::field("allowed_origins", "at most 50"));
        }
        for o in &self.allowed_origins {
            let ok = (o.starts_with("http://") || o.starts_with("https://"))
                && !o.ends_with('/')
                && o.len() <= 200;
            if !ok {
                return Err(ApiError::field(
                    "allowed_origins",
                    format!("{o:?} is not an origin like https://shop.example"),
                ));
            }
        }
        Ok(())
    }
}
