//! Outbound campaigns: the campaign, its contact list, the calls made, and do-not-call numbers.
//! Contact status and call times are kept current by the campaign events (`events.rs`).

use std::collections::BTreeMap;

use domain::campaign::{CallResult, CampaignEvent, ContactStatus, KeyAnswer};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::{conflict, parse_json, Result, Store, StoreError};

/// Contacts inserted per statement batch (one transaction per call of `insert_contacts`).
pub const CONTACTS_INSERT_MAX: usize = 10_000;
/// Rows a list call returns at most.
pub const LIST_ROWS_MAX: i64 = 10_000;
/// The `campaign_id` of a number on the global do-not-call list.
const GLOBAL_DNC: i64 = 0;

#[derive(Clone, Debug, PartialEq)]
pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    /// `paused`, `running`, `stopped` or `finished`.
    pub status: String,
    /// Mode, queue, window, retries, cap, template: as the API defines them.
    pub settings: Value,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewContact {
    /// Line of the source file (for the import report).
    pub row_number: i64,
    /// E.164.
    pub phone: String,
    pub name: Option<String>,
    /// IANA zone name.
    pub time_zone: String,
    pub language: Option<String>,
    /// Every CSV column of the row, as a JSON object of strings.
    pub fields: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ContactRow {
    pub id: i64,
    pub campaign_id: i64,
    pub row_number: i64,
    pub phone: String,
    pub name: Option<String>,
    pub time_zone: String,
    pub language: Option<String>,
    pub fields: Value,
    pub status: String,
    pub attempts: i64,
    pub next_at: i64,
    pub last_result: Option<String>,
    /// The campaign's label for the contact's final status, if it sets one.
    pub label: Option<String>,
    /// The robocall answer by key (`confirm`, `opt_out`, a survey score, ...).
    pub answer: Option<String>,
}

/// One campaign call as the API's call view shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRow {
    pub id: i64,
    pub contact_id: i64,
    pub attempt: i64,
    pub agent_id: Option<i64>,
    pub dialed_at: i64,
    pub answered_at: Option<i64>,
    /// When an answering machine answered instead of a person.
    pub machine_at: Option<i64>,
    pub bridged_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub result: Option<String>,
    /// Robocall keys pressed, in order.
    pub key_presses: Option<String>,
    pub answer: Option<String>,
    /// The agent's disposition and notes after the conversation.
    pub disposition: Option<String>,
    pub notes: Option<String>,
}

/// A campaign call an agent handled, for the agent's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentCallRow {
    pub id: i64,
    pub campaign_id: i64,
    pub campaign_name: String,
    pub phone: String,
    pub contact_name: Option<String>,
    pub dialed_at: i64,
    pub bridged_at: Option<i64>,
    pub ended_at: i64,
    pub result: Option<String>,
    pub disposition: Option<String>,
}

/// Raw call figures of a campaign since a time, from which the API derives its KPIs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallFigures {
    pub dials: i64,
    /// Calls a person (or machine) answered.
    pub answered: i64,
    /// Answered calls that reached an agent.
    pub bridged: i64,
    pub abandoned: i64,
    /// Robocalls whose message was played.
    pub delivered: i64,
    /// Sum over bridged calls of answer-to-bridge time.
    pub answer_delay_ms_sum: i64,
    /// Sum over bridged and ended calls of bridge-to-end time.
    pub talk_ms_sum: i64,
    /// Bridged calls that have ended (the denominator of the mean talk time).
    pub talks_ended: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DncRow {
    /// `None`: the global list.
    pub campaign_id: Option<i64>,
    pub phone: String,
    pub created_at: i64,
}

const CONTACT_COLUMNS: &str = "id, campaign_id, row_number, phone, name, time_zone, language, \
    fields, status, attempts, next_at, last_result, label, answer";

fn campaign(row: &AnyRow) -> Result<CampaignRow> {
    Ok(CampaignRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        status: row.try_get("status")?,
        settings: parse_json("campaigns.settings", &row.try_get::<String, _>("settings")?)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn contact(row: &AnyRow) -> Result<ContactRow> {
    Ok(ContactRow {
        id: row.try_get("id")?,
        campaign_id: row.try_get("campaign_id")?,
        row_number: row.try_get("row_number")?,
        phone: row.try_get("phone")?,
        name: row.try_get("name")?,
        time_zone: row.try_get("time_zone")?,
        language: row.try_get("language")?,
        fields: parse_json("campaign_contacts.fields", &row.try_get::<String, _>("fields")?)?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        next_at: row.try_get("next_at")?,
        last_result: row.try_get("last_result")?,
        label: row.try_get("label")?,
        answer: row.try_get("answer")?,
    })
}

fn call(row: &AnyRow) -> Result<CallRow> {
    Ok(CallRow {
        id: row.try_get("id")?,
        contact_id: row.try_get("contact_id")?,
        attempt: row.try_get("attempt")?,
        agent_id: row.try_get("agent_id")?,
        dialed_at: row.try_get("dialed_at")?,
        answered_at: row.try_get("answered_at")?,
        machine_at: row.try_get("machine_at")?,
        bridged_at: row.try_get("bridged_at")?,
        ended_at: row.try_get("ended_at")?,
        result: row.try_get("result")?,
        key_presses: row.try_get("key_presses")?,
        answer: row.try_get("answer")?,
        disposition: row.try_get("disposition")?,
        notes: row.try_get("notes")?,
    })
}

fn dnc_key(campaign: Option<i64>) -> i64 {
    campaign.unwrap_or(GLOBAL_DNC)
}

impl Store {
    pub async fn create_campaign(&self, name: &str, settings: &Value, now: i64) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO campaigns (name, status, settings, created_at, updated_at) \
             VALUES ($1, 'paused', $2, $3, $3) RETURNING id",
        )
        .bind(name)
        .bind(settings.to_string())
        .bind(now)
        .fetch_one(self.pool())
        .await
        .map_err(conflict("campaign"))?;
        Ok(row.try_get(0)?)
    }

    pub async fn update_campaign(
        &self,
        id: i64,
        name: &str,
        settings: &Value,
        now: i64,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE campaigns SET name = $1, settings = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(name)
        .bind(settings.to_string())
        .bind(now)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(conflict("campaign"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("campaign"));
        }
        Ok(())
    }

    /// Deletes a campaign with its contacts, calls and campaign do-not-call list.
    pub async fn delete_campaign(&self, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for sql in [
            "DELETE FROM campaign_actions WHERE campaign_id = $1",
            "DELETE FROM campaign_calls WHERE campaign_id = $1",
            "DELETE FROM campaign_contacts WHERE campaign_id = $1",
            "DELETE FROM dnc_numbers WHERE campaign_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        let done =
            sqlx::query("DELETE FROM campaigns WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("campaign"));
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn campaign(&self, id: i64) -> Result<Option<CampaignRow>> {
        let row = sqlx::query(
            "SELECT id, name, status, settings, created_at, updated_at FROM campaigns WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(campaign).transpose()
    }

    pub async fn list_campaigns(&self) -> Result<Vec<CampaignRow>> {
        let rows = sqlx::query(
            "SELECT id, name, status, settings, created_at, updated_at FROM campaigns \
             ORDER BY id LIMIT $1",
        )
        .bind(LIST_ROWS_MAX)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(campaign).collect()
    }

    /// Sets the run state directly (the engine's `StateChanged` events do the same).
    pub async fn set_campaign_status(&self, id: i64, status: &str, now: i64) -> Result<()> {
        let done = sqlx::query("UPDATE campaigns SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("campaign"));
        }
        Ok(())
    }

    /// Inserts contacts in one transaction, all or none. Returns each contact's new id, or
    /// `None` where the campaign already has that phone (a duplicate across uploads).
    pub async fn insert_contacts(
        &self,
        campaign_id: i64,
        contacts: &[NewContact],
        now: i64,
    ) -> Result<Vec<Option<i64>>> {
        let mut ids = Vec::with_capacity(contacts.len());
        let mut tx = self.begin_write().await?;
        for chunk in contacts.chunks(CONTACTS_INSERT_MAX) {
            for c in chunk {
                ids.push(insert_contact(&mut tx, campaign_id, c, now).await?);
            }
        }
        tx.commit().await?;
        Ok(ids)
    }

    pub async fn contact(&self, id: i64) -> Result<Option<ContactRow>> {
        let row =
            sqlx::query(&format!("SELECT {CONTACT_COLUMNS} FROM campaign_contacts WHERE id = $1"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(contact).transpose()
    }

    /// Contacts not yet final (pending or calling), in id order, at most `limit`.
    pub async fn open_contacts(&self, campaign_id: i64, limit: i64) -> Result<Vec<ContactRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {CONTACT_COLUMNS} FROM campaign_contacts WHERE campaign_id = $1 \
             AND status IN ('pending', 'calling') ORDER BY id LIMIT $2"
        ))
        .bind(campaign_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(contact).collect()
    }

    /// Contacts of a campaign in id order after `after_id`, at most `limit` (paging).
    pub async fn list_contacts(
        &self,
        campaign_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<ContactRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {CONTACT_COLUMNS} FROM campaign_contacts WHERE campaign_id = $1 AND id > $2 \
             ORDER BY id LIMIT $3"
        ))
        .bind(campaign_id)
        .bind(after_id)
        .bind(limit.clamp(0, LIST_ROWS_MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(contact).collect()
    }

    /// Calls of a campaign in id order after `after_id`, at most `limit`; with `contact`, only
    /// that contact's.
    pub async fn list_calls(
        &self,
        campaign_id: i64,
        contact: Option<i64>,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<CallRow>> {
        let rows = sqlx::query(
            "SELECT id, contact_id, attempt, agent_id, dialed_at, answered_at, machine_at, \
             bridged_at, ended_at, result, key_presses, answer, disposition, notes \
             FROM campaign_calls \
             WHERE campaign_id = $1 AND ($2 = 0 OR contact_id = $2) AND id > $3 \
             ORDER BY id LIMIT $4",
        )
        .bind(campaign_id)
        .bind(contact.unwrap_or(0))
        .bind(after_id)
        .bind(limit.clamp(0, LIST_ROWS_MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(call).collect()
    }

    /// The ended campaign calls dialed for or bridged to `agent`, newest first.
    pub async fn agent_campaign_calls(&self, agent: i64, limit: i64) -> Result<Vec<AgentCallRow>> {
        let rows = sqlx::query(
            "SELECT c.id, c.campaign_id, k.name AS campaign_name, t.phone, \
             t.name AS contact_name, c.dialed_at, c.bridged_at, c.ended_at, c.result, \
             c.disposition \
             FROM campaign_calls c \
             JOIN campaigns k ON k.id = c.campaign_id \
             JOIN campaign_contacts t ON t.id = c.contact_id \
             WHERE c.agent_id = $1 AND c.ended_at IS NOT NULL \
             ORDER BY c.id DESC LIMIT $2",
        )
        .bind(agent)
        .bind(limit.clamp(0, LIST_ROWS_MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AgentCallRow {
                    id: row.try_get("id")?,
                    campaign_id: row.try_get("campaign_id")?,
                    campaign_name: row.try_get("campaign_name")?,
                    phone: row.try_get("phone")?,
                    contact_name: row.try_get("contact_name")?,
                    dialed_at: row.try_get("dialed_at")?,
                    bridged_at: row.try_get("bridged_at")?,
                    ended_at: row.try_get("ended_at")?,
                    result: row.try_get("result")?,
                    disposition: row.try_get("disposition")?,
                })
            })
            .collect()
    }

    /// The call's campaign, if the call ended after a conversation with `agent`.
    pub async fn campaign_call_wrappable(&self, call: i64, agent: i64) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT campaign_id FROM campaign_calls WHERE id = $1 AND agent_id = $2 \
             AND bridged_at IS NOT NULL AND ended_at IS NOT NULL",
        )
        .bind(call)
        .bind(agent)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Stores the agent's disposition of a campaign call (committed before the agent is told).
    pub async fn save_campaign_wrap_up(
        &self,
        call: i64,
        agent: i64,
        disposition: &str,
        notes: &str,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE campaign_calls SET disposition = $1, notes = $2 WHERE id = $3 \
             AND agent_id = $4",
        )
        .bind(disposition)
        .bind(notes)
        .bind(call)
        .bind(agent)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("campaign call"));
        }
        Ok(())
    }

    /// Contacts per status.
    pub async fn contact_counts(&self, campaign_id: i64) -> Result<BTreeMap<String, i64>> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM campaign_contacts WHERE campaign_id = $1 \
             GROUP BY status",
        )
        .bind(campaign_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>("status")?, r.try_get::<i64, _>("n")?)))
            .collect()
    }

    /// Call figures of calls dialed at or after `since`.
    pub async fn call_figures(&self, campaign_id: i64, since: i64) -> Result<CallFigures> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS dials, \
             COUNT(answered_at) AS answered, \
             COUNT(bridged_at) AS bridged, \
             CAST(COALESCE(SUM(CASE WHEN result = 'abandoned' THEN 1 ELSE 0 END), 0) AS BIGINT) AS abandoned, \
             CAST(COALESCE(SUM(CASE WHEN result = 'delivered' THEN 1 ELSE 0 END), 0) AS BIGINT) AS delivered, \
             CAST(COALESCE(SUM(bridged_at - answered_at), 0) AS BIGINT) AS delay_sum, \
             CAST(COALESCE(SUM(CASE WHEN bridged_at IS NOT NULL AND ended_at IS NOT NULL \
                 THEN ended_at - bridged_at ELSE 0 END), 0) AS BIGINT) AS talk_sum, \
             CAST(COALESCE(SUM(CASE WHEN bridged_at IS NOT NULL AND ended_at IS NOT NULL \
                 THEN 1 ELSE 0 END), 0) AS BIGINT) AS talks \
             FROM campaign_calls WHERE campaign_id = $1 AND dialed_at >= $2",
        )
        .bind(campaign_id)
        .bind(since)
        .fetch_one(self.pool())
        .await?;
        Ok(CallFigures {
            dials: row.try_get("dials")?,
            answered: row.try_get("answered")?,
            bridged: row.try_get("bridged")?,
            abandoned: row.try_get("abandoned")?,
            delivered: row.try_get("delivered")?,
            answer_delay_ms_sum: row.try_get("delay_sum")?,
            talk_ms_sum: row.try_get("talk_sum")?,
            talks_ended: row.try_get("talks")?,
        })
    }

    /// `(dialed_at, result)` of calls dialed at or after `since`, oldest first, at most
    /// [`LIST_ROWS_MAX`]: the series behind the console's dial and abandon chart.
    pub async fn call_series(
        &self,
        campaign_id: i64,
        since: i64,
    ) -> Result<Vec<(i64, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT dialed_at, result FROM campaign_calls WHERE campaign_id = $1 \
             AND dialed_at >= $2 ORDER BY dialed_at LIMIT $3",
        )
        .bind(campaign_id)
        .bind(since)
        .bind(LIST_ROWS_MAX)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok((r.try_get("dialed_at")?, r.try_get("result")?))).collect()
    }

    /// Adds a number to a do-not-call list (`None`: global). `false` if it was there.
    pub async fn dnc_add(&self, campaign: Option<i64>, phone: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO dnc_numbers (campaign_id, phone, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (campaign_id, phone) DO NOTHING",
        )
        .bind(dnc_key(campaign))
        .bind(phone)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// `false` if the number was not on the list.
    pub async fn dnc_remove(&self, campaign: Option<i64>, phone: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM dnc_numbers WHERE campaign_id = $1 AND phone = $2")
            .bind(dnc_key(campaign))
            .bind(phone)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Numbers of one list (`Some(None)`: global), or of every list (`None`), in insertion
    /// order after `after` (a row count offset), at most `limit`.
    pub async fn dnc_list(
        &self,
        list: Option<Option<i64>>,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<DncRow>> {
        let limit = limit.clamp(0, LIST_ROWS_MAX);
        let offset = offset.max(0);
        let rows = match list {
            Some(c) => sqlx::query(
                "SELECT campaign_id, phone, created_at FROM dnc_numbers WHERE campaign_id = $1 \
                     ORDER BY id LIMIT $2 OFFSET $3",
            )
            .bind(dnc_key(c))
            .bind(limit)
            .bind(offset)
            .fetch_all(self.pool())
            .await?,
            None => {
                sqlx::query(
                    "SELECT campaign_id, phone, created_at FROM dnc_numbers ORDER BY id \
                     LIMIT $1 OFFSET $2",
                )
                .bind(limit)
                .bind(offset)
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter()
            .map(|r| {
                let c: i64 = r.try_get("campaign_id")?;
                Ok(DncRow {
                    campaign_id: (c != GLOBAL_DNC).then_some(c),
                    phone: r.try_get("phone")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }
}

async fn insert_contact(
    tx: &mut Transaction<'static, Any>,
    campaign_id: i64,
    c: &NewContact,
    now: i64,
) -> Result<Option<i64>> {
    let row = sqlx::query(
        "INSERT INTO campaign_contacts (campaign_id, row_number, phone, name, time_zone, \
         language, fields, status, attempts, next_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8) \
         ON CONFLICT (campaign_id, phone) DO NOTHING RETURNING id",
    )
    .bind(campaign_id)
    .bind(c.row_number)
    .bind(&c.phone)
    .bind(c.name.clone())
    .bind(&c.time_zone)
    .bind(c.language.clone())
    .bind(c.fields.to_string())
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// The event-log fields of a campaign event: `(interaction, data)`.
pub(crate) fn refs(e: &CampaignEvent) -> (Option<i64>, Value) {
    use serde_json::json;
    match e {
        CampaignEvent::StateChanged { campaign, state } => {
            (None, json!({ "campaign_id": campaign.0, "state": state.as_str() }))
        }
        CampaignEvent::ContactScheduled { campaign, contact, due_at, attempts } => (
            None,
            json!({ "campaign_id": campaign.0, "contact_id": contact.0,
                    "due_at": due_at.as_millis(), "attempts": attempts }),
        ),
        CampaignEvent::Dialed { campaign, contact, call, attempt, agent } => (
            Some(call.0 as i64),
            json!({ "campaign_id": campaign.0, "contact_id": contact.0, "attempt": attempt,
                    "agent_id": agent.map(|a| a.0) }),
        ),
        CampaignEvent::Answered { call } => (Some(call.0 as i64), json!({})),
        CampaignEvent::Bridged { call, agent } => {
            (Some(call.0 as i64), json!({ "agent_id": agent.0 }))
        }
        CampaignEvent::CallEnded { call, result } => {
            (Some(call.0 as i64), json!({ "result": result.as_str() }))
        }
        CampaignEvent::ContactFinished { campaign, contact, status } => (
            None,
            json!({ "campaign_id": campaign.0, "contact_id": contact.0,
                    "status": status.as_str() }),
        ),
        CampaignEvent::KeyPressed { campaign, contact, call, digit, answer } => (
            Some(call.0 as i64),
            json!({ "campaign_id": campaign.0, "contact_id": contact.0,
                    "digit": digit.to_string(), "answer": answer.map(|a| a.label()) }),
        ),
        CampaignEvent::MachineAnswered { call } => (Some(call.0 as i64), json!({})),
        CampaignEvent::ContactLabeled { campaign, contact, label } => {
            (None, json!({ "campaign_id": campaign.0, "contact_id": contact.0, "label": label }))
        }
        CampaignEvent::ActionQueued { campaign, contact, action, status } => (
            None,
            json!({ "campaign_id": campaign.0, "contact_id": contact.0,
                    "action": action.as_str(), "status": status.as_str() }),
        ),
    }
}

/// Updates the campaign tables for one event, inside the append transaction.
pub(crate) async fn project(
    tx: &mut Transaction<'static, Any>,
    at: i64,
    e: &CampaignEvent,
) -> Result<()> {
    match e {
        CampaignEvent::StateChanged { campaign, state } => {
            sqlx::query("UPDATE campaigns SET status = $1, updated_at = $2 WHERE id = $3")
                .bind(state.as_str())
                .bind(at)
                .bind(campaign.0 as i64)
                .execute(&mut **tx)
                .await?;
        }
        CampaignEvent::ContactScheduled { contact, due_at, attempts, .. } => {
            sqlx::query(
                "UPDATE campaign_contacts SET status = $1, next_at = $2, attempts = $3, \
                 updated_at = $4 WHERE id = $5",
            )
            .bind(ContactStatus::Pending.as_str())
            .bind(due_at.as_millis())
            .bind(i64::from(*attempts))
            .bind(at)
            .bind(contact.0 as i64)
            .execute(&mut **tx)
            .await?;
        }
        CampaignEvent::Dialed { campaign, contact, call, attempt, agent } => {
            sqlx::query(
                "INSERT INTO campaign_calls (id, campaign_id, contact_id, attempt, agent_id, \
                 dialed_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(call.0 as i64)
            .bind(campaign.0 as i64)
            .bind(contact.0 as i64)
            .bind(i64::from(*attempt))
            .bind(agent.map(|a| a.0 as i64))
            .bind(at)
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "UPDATE campaign_contacts SET status = $1, attempts = $2, updated_at = $3 \
                 WHERE id = $4",
            )
            .bind(ContactStatus::Calling.as_str())
            .bind(i64::from(*attempt))
            .bind(at)
            .bind(contact.0 as i64)
            .execute(&mut **tx)
            .await?;
        }
        CampaignEvent::Answered { call } => {
            sqlx::query("UPDATE campaign_calls SET answered_at = $1 WHERE id = $2")
                .bind(at)
                .bind(call.0 as i64)
                .execute(&mut **tx)
                .await?;
        }
        CampaignEvent::Bridged { call, agent } => {
            sqlx::query("UPDATE campaign_calls SET bridged_at = $1, agent_id = $2 WHERE id = $3")
                .bind(at)
                .bind(agent.0 as i64)
                .bind(call.0 as i64)
                .execute(&mut **tx)
                .await?;
        }
        CampaignEvent::CallEnded { call, result } => {
            sqlx::query(
                "UPDATE campaign_calls SET ended_at = $1, result = $2 WHERE id = $3 \
                 AND ended_at IS NULL",
            )
            .bind(at)
            .bind(result.as_str())
            .bind(call.0 as i64)
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "UPDATE campaign_contacts SET last_result = $1, updated_at = $2 WHERE id = \
                 (SELECT contact_id FROM campaign_calls WHERE id = $3)",
            )
            .bind(result.as_str())
            .bind(at)
            .bind(call.0 as i64)
            .execute(&mut **tx)
            .await?;
        }
        CampaignEvent::ContactFinished { contact, status, .. } => {
            sqlx::query("UPDATE campaign_contacts SET status = $1, updated_at = $2 WHERE id = $3")
                .bind(status.as_str())
                .bind(at)
                .bind(contact.0 as i64)
                .execute(&mut **tx)
                .await?;
        }
        CampaignEvent::KeyPressed { contact, call, digit, answer, .. } => {
            let opted_out = *answer == Some(KeyAnswer::OptOut);
            // A repeat is a key, not an answer.
            let answer = answer.filter(|a| *a != KeyAnswer::Repeat).map(|a| a.label());
            sqlx::query(
                "UPDATE campaign_calls SET key_presses = COALESCE(key_presses, '') || $1, \
                 answer = COALESCE($2, answer) WHERE id = $3",
            )
            .bind(digit.to_string())
            .bind(answer.clone())
            .bind(call.0 as i64)
            .execute(&mut **tx)
            .await?;
            if let Some(answer) = answer {
                sqlx::query(
                    "UPDATE campaign_contacts SET answer = $1, updated_at = $2 WHERE id = $3",
                )
                .bind(answer)
                .bind(at)
                .bind(contact.0 as i64)
                .execute(&mut **tx)
                .await?;
            }
            if opted_out {
                // The opt-out is as durable as the key: on the campaign's own list.
                sqlx::query(
                    "INSERT INTO dnc_numbers (campaign_id, phone, created_at) \
                     SELECT campaign_id, phone, $1 FROM campaign_contacts WHERE id = $2 \
                     ON CONFLICT (campaign_id, phone) DO NOTHING",
                )
                .bind(at)
                .bind(contact.0 as i64)
                .execute(&mut **tx)
                .await?;
            }
        }
        CampaignEvent::MachineAnswered { call } => {
            sqlx::query("UPDATE campaign_calls SET machine_at = $1 WHERE id = $2")
                .bind(at)
                .bind(call.0 as i64)
                .execute(&mut **tx)
                .await?;
        }
        CampaignEvent::ContactLabeled { contact, label, .. } => {
            sqlx::query("UPDATE campaign_contacts SET label = $1, updated_at = $2 WHERE id = $3")
                .bind(label)
                .bind(at)
                .bind(contact.0 as i64)
                .execute(&mut **tx)
                .await?;
        }
        CampaignEvent::ActionQueued { campaign, contact, action, status } => {
            // Once per contact and kind, whatever replays the event.
            sqlx::query(
                "INSERT INTO campaign_actions (campaign_id, contact_id, kind, outcome, status, \
                 attempts, next_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) \
                 ON CONFLICT (contact_id, kind) DO NOTHING",
            )
            .bind(campaign.0 as i64)
            .bind(contact.0 as i64)
            .bind(action.as_str())
            .bind(status.as_str())
            .bind(at)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

impl Store {
    /// After an unclean stop: ends campaign calls left open (as cancelled) and puts contacts
    /// left `calling` back to `pending`, so the rebuilt engine dials them again by its rules.
    pub async fn recover_campaign_calls(&self, now: i64) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE campaign_calls SET ended_at = $1, result = $2 WHERE ended_at IS NULL",
        )
        .bind(now)
        .bind(CallResult::Cancelled.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE campaign_contacts SET status = 'pending', updated_at = $1 \
             WHERE status = 'calling'",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
