//! Raw material for statistics: interactions joined with their callback, in a time range.

use sqlx::Row;

use crate::callbacks::interaction;
use crate::{InteractionRow, Result, Store};

/// One interaction with what reports group by.
#[derive(Clone, Debug, PartialEq)]
pub struct StatsInteraction {
    pub interaction: InteractionRow,
    pub callback_created_at: i64,
}

impl Store {
    /// Interactions of a queue that entered it since `since`, and how many of them got an agent
    /// within `target_ms`: the service level's denominator and numerator.
    pub async fn service_level(
        &self,
        queue_id: i64,
        since: i64,
        target_ms: i64,
    ) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN reserved_at IS NOT NULL \
             AND reserved_at - queued_at <= $3 THEN 1 ELSE 0 END), 0) AS within \
             FROM interactions WHERE queue_id = $1 AND queued_at >= $2",
        )
        .bind(queue_id)
        .bind(since)
        .bind(target_ms)
        .fetch_one(self.pool())
        .await?;
        Ok((row.try_get("total")?, row.try_get("within")?))
    }

    /// Interactions of callbacks created in `[from, to)`.
    pub async fn stats_interactions(&self, from: i64, to: i64) -> Result<Vec<StatsInteraction>> {
        let rows = sqlx::query(
            "SELECT i.id, i.callback_id, i.queue_id, i.agent_id, i.attempt, i.queued_at, \
             i.reserved_at, i.agent_connected_at, i.dialed_at, i.answered_at, i.bridged_at, \
             i.ended_at, i.outcome, i.disposition, i.notes, i.answers, c.created_at AS cb_created \
             FROM interactions i JOIN callbacks c ON c.id = i.callback_id \
             WHERE c.created_at >= $1 AND c.created_at < $2 ORDER BY i.id",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StatsInteraction {
                    interaction: interaction(r)?,
                    callback_created_at: r.try_get("cb_created")?,
                })
            })
            .collect()
    }
}
