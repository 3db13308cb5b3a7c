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
