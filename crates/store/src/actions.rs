//! Actions a campaign runs when a contact reaches a final status (an SMS, a webhook). They are
//! queued by the engine's `ActionQueued` events in the same transaction as the status, so a
//! restart never loses one; the shell sends each and marks it done, so a restart does not send
//! one again (only a crash between the send and the mark can repeat it: receivers dedupe on
//! the action's id).

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{Result, Store, StoreError};

/// Actions one call of [`Store::due_actions`] returns at most.
pub const DUE_ACTIONS_MAX: i64 = 1_000;

/// Where an action stands.
pub const ACTION_PENDING: &str = "pending";
pub const ACTION_SENT: &str = "sent";
/// Given up: attempts exhausted, or an error that a retry cannot fix.
pub const ACTION_FAILED: &str = "failed";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionRow {
    pub id: i64,
    pub campaign_id: i64,
    pub contact_id: i64,
    /// `sms` or `webhook`.
    pub kind: String,
    /// The contact's final status that queued it.
    pub outcome: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    /// Not tried again before this time.
    pub next_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub done_at: Option<i64>,
}

const COLUMNS: &str = "id, campaign_id, contact_id, kind, outcome, status, attempts, next_at, \
    last_error, created_at, done_at";

fn action(row: &AnyRow) -> Result<ActionRow> {
    Ok(ActionRow {
        id: row.try_get("id")?,
        campaign_id: row.try_get("campaign_id")?,
        contact_id: row.try_get("contact_id")?,
        kind: row.try_get("kind")?,
        outcome: row.try_get("outcome")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        next_at: row.try_get("next_at")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        done_at: row.try_get("done_at")?,
    })
}

impl Store {
    /// Pending actions due at `now`, oldest due first, at most `limit` (and
    /// [`DUE_ACTIONS_MAX`]).
    pub async fn due_actions(&self, now: i64, limit: i64) -> Result<Vec<ActionRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM campaign_actions WHERE status = $1 AND next_at <= $2 \
             ORDER BY next_at, id LIMIT $3"
        ))
        .bind(ACTION_PENDING)
        .bind(now)
        .bind(limit.clamp(0, DUE_ACTIONS_MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(action).collect()
    }

    /// The earliest `next_at` of a pending action, if any.
    pub async fn next_action_at(&self) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT MIN(next_at) FROM campaign_actions WHERE status = $1")
            .bind(ACTION_PENDING)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn action(&self, id: i64) -> Result<Option<ActionRow>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM campaign_actions WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(action).transpose()
    }

    /// Actions of a campaign in id order after `after_id`, at most `limit`.
    pub async fn list_actions(
        &self,
        campaign_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<ActionRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM campaign_actions WHERE campaign_id = $1 AND id > $2 \
             ORDER BY id LIMIT $3"
        ))
        .bind(campaign_id)
        .bind(after_id)
        .bind(limit.clamp(0, crate::campaigns::LIST_ROWS_MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(action).collect()
    }

    /// Marks a pending action sent (counting the attempt). `NotFound` if it was not pending.
    pub async fn action_sent(&self, id: i64, now: i64) -> Result<()> {
        self.finish_action(id, ACTION_SENT, now, None).await
    }

    /// Gives a pending action up with the error that decided it.
    pub async fn action_failed(&self, id: i64, now: i64, error: &str) -> Result<()> {
        self.finish_action(id, ACTION_FAILED, now, Some(error)).await
    }

    async fn finish_action(
        &self,
        id: i64,
        status: &str,
        now: i64,
        error: Option<&str>,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE campaign_actions SET status = $1, attempts = attempts + 1, done_at = $2, \
             last_error = COALESCE($3, last_error) WHERE id = $4 AND status = $5",
        )
        .bind(status)
        .bind(now)
        .bind(error.map(str::to_string))
        .bind(id)
        .bind(ACTION_PENDING)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("pending action"));
        }
        Ok(())
    }

    /// A failed attempt of a pending action: tried again at `next_at`.
    pub async fn action_retry(&self, id: i64, next_at: i64, error: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE campaign_actions SET attempts = attempts + 1, next_at = $1, last_error = $2 \
             WHERE id = $3 AND status = $4",
        )
        .bind(next_at)
        .bind(error)
        .bind(id)
        .bind(ACTION_PENDING)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("pending action"));
        }
        Ok(())
    }
}
