//! Plain records read from and written to the store.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct UserRow {
    pub id: i64,
    pub login: String,
    pub name: String,
    /// "agent", "supervisor" or "admin".
    pub role: String,
    pub password_hash: String,
    /// Routing profile (skills, departments, queues, capacity) as the API defines it.
    pub profile: Value,
    pub status: String,
    pub status_reason: Option<String>,
    pub status_since: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewUser {
    pub login: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub profile: Value,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepartmentRow {
    pub id: i64,
    pub name: String,
}

/// A named record whose body is JSON settings (queues, scripts).
#[derive(Clone, Debug, PartialEq)]
pub struct SettingsRow {
    pub id: i64,
    pub name: String,
    pub settings: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WidgetRow {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub queue_id: i64,
    pub settings: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CallbackRow {
    pub id: i64,
    pub widget_id: i64,
    pub queue_id: i64,
    pub name: String,
    pub phone: String,
    pub topic: String,
    pub page_url: String,
    pub custom_fields: Value,
    pub preferred_at: Option<i64>,
    pub consent: bool,
    pub status: String,
    pub status_token: String,
    pub attempts: i64,
    pub due_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub first_dial_at: Option<i64>,
    pub finished_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InteractionRow {
    pub id: i64,
    pub callback_id: i64,
    pub queue_id: i64,
    pub agent_id: Option<i64>,
    pub attempt: i64,
    pub queued_at: i64,
    pub reserved_at: Option<i64>,
    pub agent_connected_at: Option<i64>,
    pub dialed_at: Option<i64>,
    pub answered_at: Option<i64>,
    pub bridged_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub outcome: Option<String>,
    pub disposition: Option<String>,
    pub notes: Option<String>,
    pub answers: Option<Value>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    pub seq: i64,
    pub at: i64,
    pub kind: String,
    pub interaction_id: Option<i64>,
    pub callback_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub data: Value,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub user_id: i64,
    pub csrf: String,
    pub expires_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub created_at: i64,
}
