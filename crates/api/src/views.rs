//! What consoles see: the agent's state with screen-pop cards, and the supervisor overview.
//! Built from an engine snapshot plus the stored request, history and script.

use std::collections::HashMap;

use domain::event::AgentState;
use domain::AgentId;
use engine::AgentSnapshot;
use serde::Serialize;
use serde_json::Value;
use store::{AgentCallRow, CallbackRow, InteractionRow, SettingsTable};

use crate::error::{ApiError, ApiResult};
use crate::settings::QueueSettings;
use crate::state::AppState;
use crate::time::rfc3339;

/// The wallboard's service level covers the last day.
const SERVICE_LEVEL_WINDOW_MS: u64 = 24 * 3_600_000;
/// Earlier contacts shown on a card.
const CARD_HISTORY_MAX: i64 = 10;

#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct OfferDto {
    pub offer_id: u64,
    pub interaction_id: u64,
    pub offered_at: String,
    pub expires_at: String,
    pub kind: String,
    pub queue_name: String,
    pub customer_name: String,
    pub phone: String,
    pub topic: String,
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct CustomerDto {
    pub name: String,
    pub phone: String,
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct HistoryItem {
    /// The interaction's id; for kind `campaign`, the campaign call's (they share numbering).
    pub interaction_id: i64,
    /// callback, inbound or campaign.
    pub kind: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub outcome: String,
    pub disposition: Option<String>,
    pub agent_name: Option<String>,
    pub topic: Option<String>,
    #[schema(value_type = Object)]
    pub answers: Value,
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct Card {
    pub interaction_id: i64,
    pub callback_id: i64,
    pub queue_name: String,
    pub customer: CustomerDto,
    pub topic: String,
    pub page_url: String,
    #[schema(value_type = Object)]
    pub custom_fields: Value,
    pub requested_at: String,
    pub preferred_at: Option<String>,
    pub attempt: i64,
    pub history: Vec<HistoryItem>,
    #[schema(value_type = Object)]
    pub script: Option<Value>,
    pub dispositions: Vec<String>,
    /// Where to download the call's recording (SIP calls), once the call has ended.
    pub recording_url: Option<String>,
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct InteractionDto {
    pub id: u64,
    pub kind: String,
    pub state: String,
    pub state_since: String,
    pub card: Card,
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct AgentStateDto {
    pub agent_id: i64,
    pub name: String,
    /// The agent's phone: `simulated`, `registered` or `unregistered` (SIP).
    pub phone: String,
    pub status: String,
    pub reason: Option<String>,
    pub status_since: String,
    pub wrap_up_until: Option<String>,
    pub offers: Vec<OfferDto>,
    pub interactions: Vec<InteractionDto>,
    /// The phase of the agent's campaign call (preview, dialing, answered, bridged), if any.
    pub campaign_phase: Option<String>,
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct QueueTile {
    pub id: i64,
    pub name: String,
    pub waiting: usize,
    pub longest_wait_s: f64,
    pub offered: usize,
    pub assigned: usize,
    pub agents_free: usize,
    pub service_level: Option<f64>,
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct AgentRow {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub reason: Option<String>,
    pub status_since: String,
    pub interaction_id: Option<u64>,
    pub load_voice: usize,
}

#[derive(Serialize, Clone, utoipa::ToSchema)]
pub struct Overview {
    pub queues: Vec<QueueTile>,
    pub agents: Vec<AgentRow>,
}

pub(crate) fn status_fields(state: &AgentState) -> (String, Option<String>, Option<String>) {
    match state {
        AgentState::Break { reason } => ("break".into(), Some(reason.clone()), None),
        AgentState::WrapUp { until } => ("wrap_up".into(), None, Some(rfc3339(until.as_millis()))),
        other => (other.name().into(), None, None),
    }
}

fn history_item(
    cb: &CallbackRow,
    ix: &InteractionRow,
    names: &HashMap<i64, String>,
) -> HistoryItem {
    HistoryItem {
        interaction_id: ix.id,
        kind: "callback".into(),
        started_at: rfc3339(ix.queued_at),
        ended_at: ix.ended_at.map(rfc3339),
        outcome: ix.outcome.clone().unwrap_or_else(|| "in_progress".into()),
        disposition: ix.disposition.clone(),
        agent_name: ix.agent_id.and_then(|a| names.get(&a).cloned()),
        topic: Some(cb.topic.clone()),
        answers: ix.answers.clone().unwrap_or(Value::Object(Default::default())),
    }
}

async fn user_names(state: &AppState) -> ApiResult<HashMap<i64, String>> {
    Ok(state.store.list_users().await?.into_iter().map(|u| (u.id, u.name)).collect())
}

pub(crate) fn history(
    rows: &[(CallbackRow, InteractionRow)],
    names: &HashMap<i64, String>,
) -> Vec<HistoryItem> {
    rows.iter().map(|(cb, ix)| history_item(cb, ix, names)).collect()
}

/// A campaign call in the agent's history; the topic names the campaign and the contact.
pub(crate) fn campaign_history_item(row: &AgentCallRow, agent_name: Option<String>) -> HistoryItem {
    let contact = row.contact_name.as_deref().unwrap_or(&row.phone);
    HistoryItem {
        interaction_id: row.id,
        kind: "campaign".into(),
        started_at: rfc3339(row.dialed_at),
        ended_at: Some(rfc3339(row.ended_at)),
        outcome: row.result.clone().unwrap_or_else(|| "in_progress".into()),
        disposition: row.disposition.clone(),
        agent_name,
        topic: Some(format!("{} · {contact}", row.campaign_name)),
        answers: Value::Object(Default::default()),
    }
}

/// The screen-pop card of an inbound call, from what the engine knows: the caller's number,
/// the queue's script and dispositions, and earlier contacts from that number.
async fn inbound_card(state: &AppState, info: &engine::InteractionInfo) -> ApiResult<Card> {
    let caller = info.caller.clone().unwrap_or_default();
    let queue = state.store.settings(SettingsTable::Queues, info.queue.0 as i64).await?;
    let (queue_name, settings) = match queue {
        Some(q) => (q.name, serde_json::from_value::<QueueSettings>(q.settings).ok()),
        None => (String::new(), None),
    };
    let script = match settings.as_ref().and_then(|s| s.script_id) {
        Some(id) => state.store.settings(SettingsTable::Scripts, id).await?.map(|s| s.settings),
        None => None,
    };
    let names = user_names(state).await?;
    let earlier = state.store.history_by_phone(&caller, CARD_HISTORY_MAX).await?;
    let id = info.id.0 as i64;
    Ok(Card {
        interaction_id: id,
        callback_id: 0,
        queue_name,
        customer: CustomerDto { name: String::new(), phone: caller },
        topic: "Inbound call".into(),
        page_url: String::new(),
        custom_fields: Value::Object(Default::default()),
        requested_at: rfc3339(info.since.as_millis()),
        preferred_at: None,
        attempt: 1,
        history: history(&earlier, &names),
        script,
        dispositions: settings.map(|s| s.dispositions).unwrap_or_default(),
        recording_url: state
            .recording_path(id)
            .map(|_| format!("/api/v1/interactions/{id}/recording")),
    })
}

/// The screen-pop card of one interaction.
pub(crate) async fn card(state: &AppState, interaction_id: i64, attempt: i64) -> ApiResult<Card> {
    let ix =
        state.store.interaction(interaction_id).await?.ok_or(ApiError::NotFound("interaction"))?;
    let cb = state.store.callback(ix.callback_id).await?.ok_or(ApiError::NotFound("callback"))?;
    let queue = state.store.settings(SettingsTable::Queues, ix.queue_id).await?;
    let (queue_name, settings) = match queue {
        Some(q) => (q.name, serde_json::from_value::<QueueSettings>(q.settings).ok()),
        None => (String::new(), None),
    };
    let script = match settings.as_ref().and_then(|s| s.script_id) {
        Some(id) => state.store.settings(SettingsTable::Scripts, id).await?.map(|s| {
            let mut v = s.settings;
            if let Value::Object(m) = &mut v {
                m.insert("id".into(), id.into());
                m.insert("name".into(), s.name.into());
            }
            v
        }),
        None => None,
    };
    let names = user_names(state).await?;
    let earlier: Vec<_> = state
        .store
        .history_by_phone(&cb.phone, CARD_HISTORY_MAX + 1)
        .await?
        .into_iter()
        .filter(|(_, i)| i.id != ix.id)
        .take(CARD_HISTORY_MAX as usize)
        .collect();
    Ok(Card {
        interaction_id: ix.id,
        callback_id: cb.id,
        queue_name,
        customer: CustomerDto { name: cb.name.clone(), phone: cb.phone.clone() },
        topic: cb.topic.clone(),
        page_url: cb.page_url.clone(),
        custom_fields: cb.custom_fields.clone(),
        requested_at: rfc3339(cb.created_at),
        preferred_at: cb.preferred_at.map(rfc3339),
        attempt: attempt.max(ix.attempt),
        history: history(&earlier, &names),
        script,
        dispositions: settings.map(|s| s.dispositions).unwrap_or_default(),
        recording_url: state
            .recording_path(ix.id)
            .map(|_| format!("/api/v1/interactions/{}/recording", ix.id)),
    })
}

pub(crate) async fn agent_state(state: &AppState, agent_id: i64) -> ApiResult<AgentStateDto> {
    let snapshot: Option<AgentSnapshot> =
        state.engine.call(move |c, _| c.agent_snapshot(AgentId(agent_id as u64))).await?;
    let user = state.store.user(agent_id).await?.ok_or(ApiError::NotFound("agent"))?;
    let Some(snap) = snapshot else {
        return Ok(AgentStateDto {
            agent_id,
            name: user.name,
            phone: state.phone_status(AgentId(agent_id as u64)).into(),
            status: "offline".into(),
            reason: None,
            status_since: rfc3339(user.status_since),
            wrap_up_until: None,
            offers: vec![],
            interactions: vec![],
            campaign_phase: None,
        });
    };
    let (status, reason, wrap_up_until) = status_fields(&snap.state);
    let agent = AgentId(agent_id as u64);
    let campaign_phase = state
        .engine
        .call(move |c, _| c.campaign_call_of(agent).map(|x| x.phase.as_str().to_string()))
        .await?;
    let mut offers = Vec::new();
    for o in &snap.offers {
        let ix = state.store.interaction(o.interaction.0 as i64).await?;
        let cb = match &ix {
            Some(ix) => state.store.callback(ix.callback_id).await?,
            None => None,
        };
        let queue_name = match &ix {
            Some(ix) => state
                .store
                .settings(SettingsTable::Queues, ix.queue_id)
                .await?
                .map(|q| q.name)
                .unwrap_or_default(),
            None => String::new(),
        };
        offers.push(OfferDto {
            offer_id: o.offer.0,
            interaction_id: o.interaction.0,
            offered_at: rfc3339(o.offered_at.as_millis()),
            expires_at: rfc3339(o.expires_at.as_millis()),
            kind: "callback".into(),
            queue_name,
            customer_name: cb.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
            phone: cb.as_ref().map(|c| c.phone.clone()).unwrap_or_default(),
            topic: cb.as_ref().map(|c| c.topic.clone()).unwrap_or_default(),
        });
    }
    let mut interactions = Vec::new();
    for i in &snap.interactions {
        // An interaction the store has not seen yet (its events are still being committed)
        // appears on the next push.
        let card = match i.callback {
            Some(_) => card(state, i.id.0 as i64, i64::from(i.attempt)).await,
            None => inbound_card(state, i).await,
        };
        let Ok(card) = card else { continue };
        interactions.push(InteractionDto {
            id: i.id.0,
            kind: if i.callback.is_some() { "callback" } else { "inbound" }.into(),
            state: match i.phase {
                engine::Phase::Queued | engine::Phase::Offered => "dialing_agent".into(),
                other => other.as_str().into(),
            },
            state_since: rfc3339(i.since.as_millis()),
            card,
        });
    }
    Ok(AgentStateDto {
        agent_id,
        name: user.name,
        phone: state.phone_status(AgentId(agent_id as u64)).into(),
        status,
        reason,
        status_since: rfc3339(snap.since.as_millis()),
        wrap_up_until,
        offers,
        interactions,
        campaign_phase,
    })
}

pub(crate) async fn overview(state: &AppState) -> ApiResult<Overview> {
    let (queues, agents, now) = state
        .engine
        .call(|c, now| {
            let queues: Vec<_> = c
                .queue_ids()
                .into_iter()
                .filter_map(|q| c.queue_snapshot(q).map(|s| (q, s)))
                .collect();
            let agents: Vec<_> =
                c.agent_ids().into_iter().filter_map(|a| c.agent_snapshot(a)).collect();
            // Campaign calls are not in the agent's snapshot; the wallboard shows them too.
            let campaign: HashMap<u64, u64> = agents
                .iter()
                .filter_map(|a| c.campaign_call_of(a.id).map(|x| (a.id.0, x.call.0)))
                .collect();
            (queues, (agents, campaign), now)
        })
        .await?;
    let (agents, campaign) = agents;
    let stored = state.store.list_settings(SettingsTable::Queues).await?;
    let mut queue_names: HashMap<i64, String> = HashMap::new();
    let mut service_levels: HashMap<i64, f64> = HashMap::new();
    let since = now.minus_ms(SERVICE_LEVEL_WINDOW_MS).as_millis();
    for q in stored {
        let target_s =
            serde_json::from_value::<QueueSettings>(q.settings).map_or(20, |s| s.service_level_s);
        let target_ms = i64::try_from(target_s.saturating_mul(1000)).unwrap_or(i64::MAX);
        let (total, within) = state.store.service_level(q.id, since, target_ms).await?;
        if total > 0 {
            service_levels.insert(q.id, within as f64 / total as f64);
        }
        queue_names.insert(q.id, q.name);
    }
    let names = user_names(state).await?;
    Ok(Overview {
        queues: queues
            .into_iter()
            .map(|(id, s)| QueueTile {
                id: id.0 as i64,
                name: queue_names.get(&(id.0 as i64)).cloned().unwrap_or_default(),
                waiting: s.waiting,
                longest_wait_s: s
                    .oldest_waiting_since
                    .map_or(0.0, |t| now.ms_since(t) as f64 / 1000.0),
                offered: s.offered,
                assigned: s.assigned,
                agents_free: s.agents_free,
                service_level: service_levels.get(&(id.0 as i64)).copied(),
            })
            .collect(),
        agents: agents
            .into_iter()
            .map(|a| {
                let (status, reason, _) = status_fields(&a.state);
                let active = a.interactions.iter().find(|i| i.phase != engine::Phase::Ended);
                AgentRow {
                    id: a.id.0 as i64,
                    name: names.get(&(a.id.0 as i64)).cloned().unwrap_or_default(),
                    status,
                    reason,
                    status_since: rfc3339(a.since.as_millis()),
                    interaction_id: active.map(|i| i.id.0).or(campaign.get(&a.id.0).copied()),
                    load_voice: a
                        .interactions
                        .iter()
                        .filter(|i| i.phase != engine::Phase::Ended)
                        .count()
                        + usize::from(campaign.contains_key(&a.id.0)),
                }
            })
            .collect(),
    })
}
