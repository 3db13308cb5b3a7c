//! Callback statistics, grouped by queue, agent or day. Computed from the same interaction
//! records as every other report, so callbacks are measured exactly like calls.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use store::{CallbackRow, SettingsTable, StatsInteraction};

use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::time::{now, parse_rfc3339};

/// Longest range one report may cover.
const RANGE_MS_MAX: i64 = 366 * 86_400_000;

#[derive(Deserialize)]
pub(crate) struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
}

#[derive(Serialize, Default, Clone, PartialEq, Debug, utoipa::ToSchema)]
pub struct StatsRow {
    pub key: String,
    pub label: String,
    pub requests: usize,
    pub dialed: usize,
    pub connected: usize,
    pub connect_rate: Option<f64>,
    pub attempts_per_request: Option<f64>,
    pub first_dial_p50_s: Option<f64>,
    pub first_dial_p90_s: Option<f64>,
    pub asr: Option<f64>,
    pub acd_s: Option<f64>,
    pub aht_s: Option<f64>,
    pub failed: usize,
    pub abandoned: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatsReport {
    pub group_by: String,
    pub rows: Vec<StatsRow>,
    pub totals: StatsRow,
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Nearest-rank percentile.
fn percentile(xs: &mut [f64], p: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let rank = ((p * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
    Some(xs[rank - 1])
}

/// Figures over one group: its callbacks and its interactions.
pub(crate) fn figures(
    key: String,
    label: String,
    callbacks: &[&CallbackRow],
    interactions: &[&StatsInteraction],
) -> StatsRow {
    let ix: Vec<_> = interactions.iter().map(|s| &s.interaction).collect();
    let dialed = ix.iter().filter(|i| i.dialed_at.is_some()).count();
    let answered = ix.iter().filter(|i| i.answered_at.is_some()).count();
    let connected_cbs: BTreeSet<i64> =
        ix.iter().filter(|i| i.bridged_at.is_some()).map(|i| i.callback_id).collect();
    let mut first: Vec<f64> = callbacks
        .iter()
        .filter_map(|c| c.first_dial_at.map(|f| (f - c.created_at).max(0) as f64 / 1000.0))
        .collect();
    let talk: Vec<f64> = ix
        .iter()
        .filter_map(|i| Some((i.ended_at? - i.bridged_at?).max(0) as f64 / 1000.0))
        .collect();
    let handle: Vec<f64> = ix
        .iter()
        .filter(|i| i.bridged_at.is_some())
        .filter_map(|i| {
            Some((i.ended_at? - i.agent_connected_at.or(i.reserved_at)?).max(0) as f64 / 1000.0)
        })
        .collect();
    StatsRow {
        key,
        label,
        requests: callbacks.len(),
        dialed,
        connected: ix.iter().filter(|i| i.bridged_at.is_some()).count(),
        connect_rate: ratio(connected_cbs.len(), callbacks.len()),
        attempts_per_request: ratio(dialed, callbacks.len()),
        first_dial_p50_s: percentile(&mut first, 0.5),
        first_dial_p90_s: percentile(&mut first, 0.9),
        asr: ratio(answered, dialed),
        acd_s: mean(&talk),
        aht_s: mean(&handle),
        failed: callbacks.iter().filter(|c| c.status == "failed").count(),
        abandoned: ix.iter().filter(|i| i.answered_at.is_some() && i.bridged_at.is_none()).count(),
    }
}

#[utoipa::path(get, path = "/api/v1/stats/callbacks", tag = "supervisor", params(("from" = Option<String>, Query, description = "RFC 3339, default 7 days before `to`"), ("to" = Option<String>, Query, description = "RFC 3339, default now"), ("group_by" = Option<String>, Query, description = "queue, agent or day")), responses((status = 200, body = StatsReport), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn callbacks(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<StatsQuery>,
) -> ApiResult<Json<StatsReport>> {
    caller.require(Role::Supervisor)?;
    let to = match &q.to {
        Some(s) => {
            parse_rfc3339(s).ok_or_else(|| ApiError::field("to", "must be an RFC 3339 time"))?
        }
        None => now().as_millis() + 1,
    };
    let from = match &q.from {
        Some(s) => {
            parse_rfc3339(s).ok_or_else(|| ApiError::field("from", "must be an RFC 3339 time"))?
        }
        None => to - 7 * 86_400_000,
    };
    if from >= to || to - from > RANGE_MS_MAX {
        return Err(ApiError::field("from", "must be before `to` and within 366 days of it"));
    }
    let group_by = q.group_by.unwrap_or_else(|| "queue".into());
    let cbs = state.store.callbacks_created_between(from, to).await?;
    let ixs = state.store.stats_interactions(from, to).await?;
    let by_id: HashMap<i64, &CallbackRow> = cbs.iter().map(|c| (c.id, c)).collect();
    let day = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    // Group key of each callback and of each interaction.
    let mut groups: BTreeMap<String, (Vec<&CallbackRow>, Vec<&StatsInteraction>)> = BTreeMap::new();
    match group_by.as_str() {
        "queue" | "day" => {
            let key = |c: &CallbackRow| {
                if group_by == "queue" {
                    c.queue_id.to_string()
                } else {
                    day(c.created_at)
                }
            };
            for c in &cbs {
                groups.entry(key(c)).or_default().0.push(c);
            }
            for s in &ixs {
                if let Some(c) = by_id.get(&s.interaction.callback_id) {
                    groups.entry(key(c)).or_default().1.push(s);
                }
            }
        }
        "agent" => {
            for s in ixs.iter().filter(|s| s.interaction.agent_id.is_some()) {
                let key = s.interaction.agent_id.unwrap_or_default().to_string();
                let g = groups.entry(key).or_default();
                g.1.push(s);
                if let Some(c) = by_id.get(&s.interaction.callback_id) {
                    if !g.0.iter().any(|x| x.id == c.id) {
                        g.0.push(c);
                    }
                }
            }
        }
        _ => return Err(ApiError::field("group_by", "use queue, agent or day")),
    }
    let labels: HashMap<String, String> = match group_by.as_str() {
        "queue" => state
            .store
            .list_settings(SettingsTable::Queues)
            .await?
            .into_iter()
            .map(|q| (q.id.to_string(), q.name))
            .collect(),
        "agent" => state
            .store
            .list_users()
            .await?
            .into_iter()
            .map(|u| (u.id.to_string(), u.name))
            .collect(),
        _ => HashMap::new(),
    };
    let rows = groups
        .into_iter()
        .map(|(k, (c, i))| {
            let label = labels.get(&k).cloned().unwrap_or_else(|| k.clone());
            figures(k, label, &c, &i)
        })
        .collect();
    let totals = figures(
        "total".into(),
        "Total".into(),
        &cbs.iter().collect::<Vec<_>>(),
        &ixs.iter().collect::<Vec<_>>(),
    );
    Ok(Json(StatsReport { group_by, rows, totals }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut xs = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&mut xs, 0.5), Some(3.0));
        assert_eq!(percentile(&mut xs, 0.9), Some(5.0));
        assert_eq!(percentile(&mut [], 0.5), None);
    }
}
