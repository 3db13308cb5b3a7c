//! The append-only event log and the tables it keeps current.

use domain::event::{AgentState, CallbackStatus, Event, EventKind, Outcome};
use serde_json::{json, Value};
use sqlx::{Any, Row, Transaction};

use crate::{parse_json, EventRow, Result, Store};

/// Events appended in one transaction at most; larger batches are split.
pub const APPEND_BATCH_MAX: usize = 1_000;

struct Refs {
    interaction: Option<i64>,
    callback: Option<i64>,
    agent: Option<i64>,
    data: Value,
}

fn refs(kind: &EventKind) -> Refs {
    let (mut interaction, mut callback, mut agent, mut data) = (None, None, None, json!({}));
    match kind {
        EventKind::CallbackScheduled { callback: c, due_at, attempts } => {
            callback = Some(c.0 as i64);
            data = json!({ "due_at": due_at.as_millis(), "attempts": attempts });
        }
        EventKind::InteractionQueued { interaction: i, callback: c, queue } => {
            interaction = Some(i.0 as i64);
            callback = Some(c.0 as i64);
            data = json!({ "queue_id": queue.0 });
        }
        EventKind::InboundQueued { interaction: i, queue, caller } => {
            interaction = Some(i.0 as i64);
            data = json!({ "queue_id": queue.0, "caller": caller });
        }
        EventKind::AgentReserved { interaction: i, agent: a }
        | EventKind::AgentConnected { interaction: i, agent: a } => {
            interaction = Some(i.0 as i64);
            agent = Some(a.0 as i64);
        }
        EventKind::CustomerDialed { interaction: i, callback: c, attempt } => {
            interaction = Some(i.0 as i64);
            callback = Some(c.0 as i64);
            data = json!({ "attempt": attempt });
        }
        EventKind::CustomerAnswered { interaction: i } | EventKind::Bridged { interaction: i } => {
            interaction = Some(i.0 as i64);
        }
        EventKind::InteractionEnded { interaction: i, outcome } => {
            interaction = Some(i.0 as i64);
            data = json!({ "outcome": outcome.as_str() });
        }
        EventKind::CallbackFinished { callback: c, status } => {
            callback = Some(c.0 as i64);
            data = json!({ "status": status.as_str() });
        }
        EventKind::AgentStatusChanged { agent: a, state } => {
            agent = Some(a.0 as i64);
            data = match state {
                AgentState::Break { reason } => json!({ "status": state.name(), "reason": reason }),
                AgentState::WrapUp { until } => {
                    json!({ "status": state.name(), "until": until.as_millis() })
                }
                _ => json!({ "status": state.name() }),
            };
        }
        EventKind::Campaign(e) => (interaction, data) = crate::campaigns::refs(e),
    }
    Refs { interaction, callback, agent, data }
}

async fn exec(
    tx: &mut Transaction<'static, Any>,
    sql: &str,
    binds: &[Option<i64>],
    text: Option<&str>,
) -> Result<()> {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    if let Some(t) = text {
        q = q.bind(t.to_string());
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// Updates the state tables for one event, inside the append transaction.
async fn project(tx: &mut Transaction<'static, Any>, event: &Event) -> Result<()> {
    let at = Some(event.at.as_millis());
    let id = |v: u64| Some(v as i64);
    match &event.kind {
        EventKind::CallbackScheduled { callback, due_at, attempts } => {
            let status = if *due_at > event.at { "scheduled" } else { "waiting" };
            exec(
                tx,
                "UPDATE callbacks SET due_at = $1, attempts = $2, updated_at = $3, status = $5 WHERE id = $4",
                &[Some(due_at.as_millis()), Some(i64::from(*attempts)), at, id(callback.0)],
                Some(status),
            )
            .await
        }
        EventKind::InteractionQueued { interaction, callback, queue } => {
            exec(
                tx,
                "INSERT INTO interactions (id, callback_id, queue_id, queued_at) VALUES ($1, $2, $3, $4)",
                &[id(interaction.0), id(callback.0), id(queue.0), at],
                None,
            )
            .await?;
            exec(
                tx,
                "UPDATE callbacks SET status = 'waiting', updated_at = $1 WHERE id = $2",
                &[at, id(callback.0)],
                None,
            )
            .await
        }
        // Inbound calls live in the event log only for now; the interaction updates that follow
        // match no row and change nothing.
        EventKind::InboundQueued { .. } => Ok(()),
        EventKind::AgentReserved { interaction, agent } => {
            exec(
                tx,
                "UPDATE interactions SET agent_id = $1, reserved_at = $2 WHERE id = $3",
                &[id(agent.0), at, id(interaction.0)],
                None,
            )
            .await
        }
        EventKind::AgentConnected { interaction, .. } => {
            exec(
                tx,
                "UPDATE interactions SET agent_connected_at = $1 WHERE id = $2",
                &[at, id(interaction.0)],
                None,
            )
            .await
        }
        EventKind::CustomerDialed { interaction, callback, attempt } => {
            exec(
                tx,
                "UPDATE interactions SET dialed_at = $1, attempt = $2 WHERE id = $3",
                &[at, Some(i64::from(*attempt)), id(interaction.0)],
                None,
            )
            .await?;
            exec(
                tx,
                "UPDATE callbacks SET status = 'calling', attempts = $1, updated_at = $2, \
                 first_dial_at = COALESCE(first_dial_at, $2) WHERE id = $3",
                &[Some(i64::from(*attempt)), at, id(callback.0)],
                None,
            )
            .await
        }
        EventKind::CustomerAnswered { interaction } => {
            exec(
                tx,
                "UPDATE interactions SET answered_at = $1 WHERE id = $2",
                &[at, id(interaction.0)],
                None,
            )
            .await
        }
        EventKind::Bridged { interaction } => {
            exec(
                tx,
                "UPDATE interactions SET bridged_at = $1 WHERE id = $2",
                &[at, id(interaction.0)],
                None,
            )
            .await
        }
        EventKind::InteractionEnded { interaction, outcome } => {
            exec(
                tx,
                "UPDATE interactions SET ended_at = $1, outcome = $3 WHERE id = $2",
                &[at, id(interaction.0)],
                Some(outcome.as_str()),
            )
            .await
        }
        EventKind::CallbackFinished { callback, status } => {
            exec(
                tx,
                "UPDATE callbacks SET status = $3, finished_at = $1, updated_at = $1 WHERE id = $2",
                &[at, id(callback.0)],
                Some(status.as_str()),
            )
            .await
        }
        EventKind::AgentStatusChanged { agent, state } => {
            let reason = match state {
                AgentState::Break { reason } => Some(reason.clone()),
                _ => None,
            };
            sqlx::query(
                "UPDATE users SET status = $1, status_reason = $2, status_since = $3 WHERE id = $4",
            )
            .bind(state.name())
            .bind(reason)
            .bind(event.at.as_millis())
            .bind(agent.0 as i64)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }
        EventKind::Campaign(e) => crate::campaigns::project(tx, event.at.as_millis(), e).await,
    }
}

async fn insert_event(tx: &mut Transaction<'static, Any>, event: &Event) -> Result<()> {
    let r = refs(&event.kind);
    sqlx::query(
        "INSERT INTO events (at, kind, interaction_id, callback_id, agent_id, data) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(event.at.as_millis())
    .bind(event.kind.name())
    .bind(r.interaction)
    .bind(r.callback)
    .bind(r.agent)
    .bind(r.data.to_string())
    .execute(&mut **tx)
    .await?;
    project(tx, event).await
}

impl Store {
    /// Appends events and applies them to the state tables, atomically per batch.
    pub async fn append(&self, events: &[Event]) -> Result<()> {
        for chunk in events.chunks(APPEND_BATCH_MAX) {
            let mut tx = self.begin_write().await?;
            for event in chunk {
                insert_event(&mut tx, event).await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// After an unclean stop: ends every open interaction as interrupted. A callback whose
    /// customer had been bridged is done (the conversation happened); the others stay open and
    /// are rebuilt. Returns how many interactions were closed.
    pub async fn recover_interrupted(&self, now: domain::Timestamp) -> Result<usize> {
        let open = sqlx::query(
            "SELECT id, callback_id, bridged_at FROM interactions WHERE ended_at IS NULL ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut events = Vec::new();
        for row in &open {
            let ix: i64 = row.try_get("id")?;
            let cb: i64 = row.try_get("callback_id")?;
            let bridged: Option<i64> = row.try_get("bridged_at")?;
            events.push(Event {
                at: now,
                kind: EventKind::InteractionEnded {
                    interaction: domain::InteractionId(ix as u64),
                    outcome: Outcome::Interrupted,
                },
            });
            if bridged.is_some() {
                events.push(Event {
                    at: now,
                    kind: EventKind::CallbackFinished {
                        callback: domain::CallbackId(cb as u64),
                        status: CallbackStatus::Done,
                    },
                });
            }
        }
        self.append(&events).await?;
        Ok(open.len())
    }

    /// Events in log order from `after_seq` (exclusive), at most `limit`.
    pub async fn events_after(&self, after_seq: i64, limit: i64) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(
            "SELECT seq, at, kind, interaction_id, callback_id, agent_id, data FROM events \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EventRow {
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    kind: r.try_get("kind")?,
                    interaction_id: r.try_get("interaction_id")?,
                    callback_id: r.try_get("callback_id")?,
                    agent_id: r.try_get("agent_id")?,
                    data: parse_json("events.data", &r.try_get::<String, _>("data")?)?,
                })
            })
            .collect()
    }
}
