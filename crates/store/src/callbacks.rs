//! Callback requests and the interactions (dial attempts) made for them.

use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{parse_json, CallbackRow, InteractionRow, Result, Store, StoreError};

#[derive(Clone, Debug, PartialEq)]
pub struct NewCallback {
    pub widget_id: i64,
    pub queue_id: i64,
    pub name: String,
    pub phone: String,
    pub topic: String,
    pub page_url: String,
    pub custom_fields: Value,
    pub preferred_at: Option<i64>,
    pub consent: bool,
    pub status_token: String,
    /// "waiting" or "scheduled".
    pub status: String,
    pub due_at: i64,
    pub idempotency_key: Option<String>,
    pub client_ip: String,
    pub now: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum InsertOutcome {
    Created(CallbackRow),
    /// The same `Idempotency-Key` was seen before: the original request.
    Replayed(CallbackRow),
    /// An open request for this phone on this widget exists: that one.
    Duplicate(CallbackRow),
}

const CALLBACK_COLUMNS: &str = "id, widget_id, queue_id, name, phone, topic, page_url, \
    custom_fields, preferred_at, consent, status, status_token, attempts, due_at, created_at, \
    updated_at, first_dial_at, finished_at";

const INTERACTION_COLUMNS: &str = "id, callback_id, queue_id, agent_id, attempt, queued_at, \
    reserved_at, agent_connected_at, dialed_at, answered_at, bridged_at, ended_at, outcome, \
    disposition, notes, answers";

/// Statuses of a request that is still being worked on.
pub(crate) const OPEN_STATUSES: &str = "('waiting', 'scheduled', 'calling')";

pub(crate) fn callback(row: &AnyRow) -> Result<CallbackRow> {
    Ok(CallbackRow {
        id: row.try_get("id")?,
        widget_id: row.try_get("widget_id")?,
        queue_id: row.try_get("queue_id")?,
        name: row.try_get("name")?,
        phone: row.try_get("phone")?,
        topic: row.try_get("topic")?,
        page_url: row.try_get("page_url")?,
        custom_fields: parse_json(
            "callbacks.custom_fields",
            &row.try_get::<String, _>("custom_fields")?,
        )?,
        preferred_at: row.try_get("preferred_at")?,
        consent: row.try_get::<i64, _>("consent")? != 0,
        status: row.try_get("status")?,
        status_token: row.try_get("status_token")?,
        attempts: row.try_get("attempts")?,
        due_at: row.try_get("due_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        first_dial_at: row.try_get("first_dial_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

pub(crate) fn interaction(row: &AnyRow) -> Result<InteractionRow> {
    let answers: Option<String> = row.try_get("answers")?;
    Ok(InteractionRow {
        id: row.try_get("id")?,
        callback_id: row.try_get("callback_id")?,
        queue_id: row.try_get("queue_id")?,
        agent_id: row.try_get("agent_id")?,
        attempt: row.try_get("attempt")?,
        queued_at: row.try_get("queued_at")?,
        reserved_at: row.try_get("reserved_at")?,
        agent_connected_at: row.try_get("agent_connected_at")?,
        dialed_at: row.try_get("dialed_at")?,
        answered_at: row.try_get("answered_at")?,
        bridged_at: row.try_get("bridged_at")?,
        ended_at: row.try_get("ended_at")?,
        outcome: row.try_get("outcome")?,
        disposition: row.try_get("disposition")?,
        notes: row.try_get("notes")?,
        answers: answers.map(|a| parse_json("interactions.answers", &a)).transpose()?,
    })
}

impl Store {
    /// Commits a new request, unless it replays an idempotency key or duplicates an open
    /// request for the same phone on the same widget. One transaction, so two racing requests
    /// cannot both be created.
    pub async fn insert_callback(&self, new: &NewCallback) -> Result<InsertOutcome> {
        let mut tx = self.begin_write().await?;
        if let Some(key) = &new.idempotency_key {
            let row = sqlx::query(&format!(
                "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE widget_id = $1 AND idempotency_key = $2"
            ))
            .bind(new.widget_id)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                return Ok(InsertOutcome::Replayed(callback(&row)?));
            }
        }
        let open = sqlx::query(&format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE widget_id = $1 AND phone = $2 \
             AND status IN {OPEN_STATUSES} ORDER BY id LIMIT 1"
        ))
        .bind(new.widget_id)
        .bind(&new.phone)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = open {
            return Ok(InsertOutcome::Duplicate(callback(&row)?));
        }
        let row = sqlx::query(&format!(
            "INSERT INTO callbacks (widget_id, queue_id, name, phone, topic, page_url, \
             custom_fields, preferred_at, consent, status, status_token, due_at, \
             idempotency_key, client_ip, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) \
             RETURNING {CALLBACK_COLUMNS}"
        ))
        .bind(new.widget_id)
        .bind(new.queue_id)
        .bind(&new.name)
        .bind(&new.phone)
        .bind(&new.topic)
        .bind(&new.page_url)
        .bind(new.custom_fields.to_string())
        .bind(new.preferred_at)
        .bind(i64::from(new.consent))
        .bind(&new.status)
        .bind(&new.status_token)
        .bind(new.due_at)
        .bind(new.idempotency_key.as_deref())
        .bind(&new.client_ip)
        .bind(new.now)
        .fetch_one(&mut *tx)
        .await?;
        let created = callback(&row)?;
        tx.commit().await?;
        Ok(InsertOutcome::Created(created))
    }

    pub async fn callback(&self, id: i64) -> Result<Option<CallbackRow>> {
        let row = sqlx::query(&format!("SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(callback).transpose()
    }

    /// Requests not yet done or failed, oldest first: what the engine is rebuilt from.
    pub async fn open_callbacks(&self) -> Result<Vec<CallbackRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE status IN {OPEN_STATUSES} ORDER BY id"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(callback).collect()
    }

    pub async fn callbacks_created_between(&self, from: i64, to: i64) -> Result<Vec<CallbackRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE created_at >= $1 AND created_at < $2 \
             ORDER BY id"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(callback).collect()
    }

    pub async fn interaction(&self, id: i64) -> Result<Option<InteractionRow>> {
        let row =
            sqlx::query(&format!("SELECT {INTERACTION_COLUMNS} FROM interactions WHERE id = $1"))
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(interaction).transpose()
    }

    pub async fn interactions_of_callback(&self, callback_id: i64) -> Result<Vec<InteractionRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE callback_id = $1 ORDER BY id"
        ))
        .bind(callback_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(interaction).collect()
    }

    /// Earlier contacts with this phone, newest first (across callbacks).
    pub async fn history_by_phone(
        &self,
        phone: &str,
        limit: i64,
    ) -> Result<Vec<(CallbackRow, InteractionRow)>> {
        let rows = sqlx::query(
            "SELECT i.id FROM interactions i JOIN callbacks c ON c.id = i.callback_id \
             WHERE c.phone = $1 ORDER BY i.id DESC LIMIT $2",
        )
        .bind(phone)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        self.pairs(rows).await
    }

    /// The agent's recent interactions, newest first.
    pub async fn agent_history(
        &self,
        agent_id: i64,
        limit: i64,
    ) -> Result<Vec<(CallbackRow, InteractionRow)>> {
        let rows = sqlx::query(
            "SELECT id FROM interactions WHERE agent_id = $1 AND ended_at IS NOT NULL \
             ORDER BY id DESC LIMIT $2",
        )
        .bind(agent_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        self.pairs(rows).await
    }

    async fn pairs(&self, id_rows: Vec<AnyRow>) -> Result<Vec<(CallbackRow, InteractionRow)>> {
        let mut out = Vec::with_capacity(id_rows.len());
        for row in id_rows {
            let id: i64 = row.try_get(0)?;
            let ix = self.interaction(id).await?.ok_or(StoreError::NotFound("interaction"))?;
            let cb =
                self.callback(ix.callback_id).await?.ok_or(StoreError::NotFound("callback"))?;
            out.push((cb, ix));
        }
        Ok(out)
    }

    /// Stores the agent's disposition and script answers (committed before the agent is told).
    pub async fn save_wrap_up(
        &self,
        interaction_id: i64,
        agent_id: i64,
        disposition: &str,
        notes: &str,
        answers: &Value,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE interactions SET disposition = $1, notes = $2, answers = $3 \
             WHERE id = $4 AND agent_id = $5",
        )
        .bind(disposition)
        .bind(notes)
        .bind(answers.to_string())
        .bind(interaction_id)
        .bind(agent_id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("interaction"));
        }
        Ok(())
    }

    pub async fn max_interaction_id(&self) -> Result<i64> {
        // Campaign calls share the interaction numbering (they are router tasks too).
        let row = sqlx::query(
            "SELECT CAST(MAX(m) AS BIGINT) FROM (SELECT COALESCE(MAX(id), 0) AS m FROM \
             interactions UNION ALL SELECT COALESCE(MAX(id), 0) FROM campaign_calls) AS t",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get(0)?)
    }
}
