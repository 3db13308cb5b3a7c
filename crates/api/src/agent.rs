//! The agent's own endpoints: status, offers, the call, wrap-up, card and history.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::event::AgentState;
use domain::{AgentId, InteractionId, OfferId};
use engine::Input;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{Caller, Role};
use crate::body::ApiJson;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views::{self, AgentStateDto, Card, HistoryItem};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// available, break or offline.
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
}

pub(crate) fn requested_state(req: &StatusRequest) -> ApiResult<AgentState> {
    match req.status.as_str() {
        "available" => Ok(AgentState::Available),
        "offline" => Ok(AgentState::Offline),
        "break" => {
            let reason = req.reason.clone().unwrap_or_else(|| "break".into());
            if reason.is_empty() || reason.len() > 60 {
                return Err(ApiError::field("reason", "1 to 60 characters"));
            }
            Ok(AgentState::Break { reason })
        }
        _ => Err(ApiError::field("status", "use available, break or offline")),
    }
}

#[utoipa::path(get, path = "/api/v1/agent/state", tag = "agent", responses((status = 200, body = AgentStateDto), (status = 401, description = "not signed in"), (status = 403, description = "requires the agent role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn state_of(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<AgentStateDto>> {
    caller.require(Role::Agent)?;
    Ok(Json(views::agent_state(&state, caller.agent_id()?).await?))
}

#[utoipa::path(post, path = "/api/v1/agent/status", tag = "agent", request_body = StatusRequest, responses((status = 200, body = AgentStateDto), (status = 401, description = "not signed in"), (status = 403, description = "requires the agent role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn set_status(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<StatusRequest>,
) -> ApiResult<Json<AgentStateDto>> {
    caller.require(Role::Agent)?;
    let agent = caller.agent_id()?;
    let status = requested_state(&req)?;
    state.engine.input(Input::SetAgentStatus { agent: AgentId(agent as u64), status }).await?;
    Ok(Json(views::agent_state(&state, agent).await?))
}

/// Feeds the engine an input on behalf of the calling agent.
async fn agent_input(
    state: &AppState,
    caller: &Caller,
    input: impl FnOnce(AgentId) -> Input,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Agent)?;
    let agent = AgentId(caller.agent_id()? as u64);
    state.engine.input(input(agent)).await?;
    Ok(Json(json!({ "ok": true })))
}

#[utoipa::path(post, path = "/api/v1/agent/offers/{id}/accept", tag = "agent", params(("id" = u64, Path, description = "offer id")), responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the agent role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(offer): Path<u64>,
) -> ApiResult<Json<Value>> {
    agent_input(&state, &caller, |agent| Input::AcceptOffer { agent, offer: OfferId(offer) }).await
}

#[utoipa::path(post, path = "/api/v1/agent/offers/{id}/reject", tag = "agent", params(("id" = u64, Path, description = "offer id")), responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the agent role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(offer): Path<u64>,
) -> ApiResult<Json<Value>> {
    agent_input(&state, &caller, |agent| Input::RejectOffer { agent, offer: OfferId(offer) }).await
}

#[utoipa::path(post, path = "/api/v1/interactions/{id}/hangup", tag = "agent", params(("id" = u64, Path, description = "interaction id")), responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the agent role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn hangup(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> ApiResult<Json<Value>> {
    agent_input(&state, &caller, |agent| Input::Hangup { agent, interaction: InteractionId(id) })
        .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DtmfRequest {
    /// Keys to press, 1 to 32 of `0-9 * # A-D`.
    pub digits: String,
}

#[utoipa::path(post, path = "/api/v1/interactions/{id}/dtmf", tag = "agent", params(("id" = u64, Path, description = "interaction id")), request_body = DtmfRequest, responses((status = 200, description = "sent to the customer's leg"), (status = 401, description = "not signed in"), (status = 403, description = "requires the agent role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn dtmf(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
    ApiJson(req): ApiJson<DtmfRequest>,
) -> ApiResult<Json<Value>> {
    let valid = (1..=domain::telephony::DTMF_DIGITS_MAX).contains(&req.digits.len())
        && req.digits.chars().all(|c| "0123456789*#ABCD".contains(c));
    if !valid {
        return Err(ApiError::field("digits", "1 to 32 of 0-9, *, #, A-D"));
    }
    agent_input(&state, &caller, |agent| Input::SendDtmf {
        agent,
        interaction: InteractionId(id),
        digits: req.digits,
    })
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WrapUpRequest {
    pub disposition: String,
    #[serde(default)]
    pub notes: String,
    /// Script step id to answer.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, Value>,
}

#[utoipa::path(post, path = "/api/v1/interactions/{id}/wrapup", tag = "agent", params(("id" = i64, Path, description = "interaction id")), request_body = WrapUpRequest, responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the agent role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn wrap_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<WrapUpRequest>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Agent)?;
    let agent = caller.agent_id()?;
    let card = views::card(&state, id, 0).await?;
    if !card.dispositions.contains(&req.disposition) {
        return Err(ApiError::field(
            "disposition",
            format!("use one of {}", card.dispositions.join(", ")),
        ));
    }
    if req.notes.len() > 4_000 {
        return Err(ApiError::field("notes", "at most 4000 bytes"));
    }
    if req.answers.len() > 200
        || req
            .answers
            .values()
            .any(|v| !v.is_string() || v.as_str().is_some_and(|s| s.len() > 1_000))
    {
        return Err(ApiError::field("answers", "at most 200 string answers of at most 1000 bytes"));
    }
    let ix = state.store.interaction(id).await?.ok_or(ApiError::NotFound("interaction"))?;
    if ix.agent_id != Some(agent) {
        return Err(ApiError::Forbidden("this interaction was handled by another agent".into()));
    }
    if ix.ended_at.is_none() {
        return Err(ApiError::Conflict("the call is still in progress; hang up first".into()));
    }
    // Committed before the agent is told, and before wrap-up ends in the engine.
    state
        .store
        .save_wrap_up(id, agent, &req.disposition, &req.notes, &Value::Object(req.answers))
        .await?;
    let done = state
        .engine
        .input(Input::WrapUpDone {
            agent: AgentId(agent as u64),
            interaction: InteractionId(id as u64),
        })
        .await;
    if let Err(e) = done {
        // A second wrap-up of the same call updates the stored disposition only.
        tracing::debug!(error = %e, "wrap-up after the engine forgot the interaction");
    }
    Ok(Json(json!({ "ok": true })))
}

#[utoipa::path(get, path = "/api/v1/interactions/{id}", tag = "agent", params(("id" = i64, Path, description = "interaction id")), responses((status = 200, body = Card), (status = 401, description = "not signed in"), (status = 403, description = "requires the agent role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn get_card(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Card>> {
    caller.require(Role::Agent)?;
    let ix = state.store.interaction(id).await?.ok_or(ApiError::NotFound("interaction"))?;
    if caller.role == Role::Agent && ix.agent_id != Some(caller.agent_id()?) {
        return Err(ApiError::Forbidden("this interaction was handled by another agent".into()));
    }
    Ok(Json(views::card(&state, id, 0).await?))
}

/// Recordings are read whole; a longer file is refused rather than loaded.
const RECORDING_BYTES_MAX: u64 = 512 * 1024 * 1024;

#[utoipa::path(get, path = "/api/v1/interactions/{id}/recording", tag = "agent", params(("id" = i64, Path, description = "interaction id")), responses((status = 200, description = "the call recording: stereo WAV, customer left, agent right", content_type = "audio/wav"), (status = 401, description = "not signed in"), (status = 403, description = "requires the agent role (the agent who took the call) or supervisor"), (status = 404, description = "no such interaction, or it has no recording")))]
pub(crate) async fn recording(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    caller.require(Role::Agent)?;
    let ix = state.store.interaction(id).await?.ok_or(ApiError::NotFound("interaction"))?;
    if caller.role == Role::Agent && ix.agent_id != Some(caller.agent_id()?) {
        return Err(ApiError::Forbidden("this interaction was handled by another agent".into()));
    }
    let path = state.recording_path(id).ok_or(ApiError::NotFound("recording"))?;
    let too_big = tokio::fs::metadata(&path).await.map(|m| m.len() > RECORDING_BYTES_MAX);
    if too_big.unwrap_or(true) {
        return Err(ApiError::NotFound("recording"));
    }
    let bytes = tokio::fs::read(&path).await.map_err(|_| ApiError::NotFound("recording"))?;
    let disposition = format!("attachment; filename=\"interaction-{id}.wav\"");
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "audio/wav".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct Limit {
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/agent/history", tag = "agent", params(("limit" = Option<i64>, Query, description = "1 to 200, default 20")), responses((status = 200, body = [HistoryItem]), (status = 401, description = "not signed in"), (status = 403, description = "requires the agent role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<Limit>,
) -> ApiResult<Json<Vec<HistoryItem>>> {
    caller.require(Role::Agent)?;
    let limit = q.limit.unwrap_or(20).clamp(1, 200);
    let agent = caller.agent_id()?;
    let rows = state.store.agent_history(agent, limit).await?;
    let calls = state.store.agent_campaign_calls(agent, limit).await?;
    let names: HashMap<i64, String> =
        state.store.list_users().await?.into_iter().map(|u| (u.id, u.name)).collect();
    let mut items = views::history(&rows, &names);
    let me = names.get(&agent).cloned();
    items.extend(calls.iter().map(|c| views::campaign_history_item(c, me.clone())));
    // Interactions and campaign calls share one increasing numbering: newest first.
    items.sort_by_key(|h| std::cmp::Reverse(h.interaction_id));
    items.truncate(usize::try_from(limit).unwrap_or(20));
    Ok(Json(items))
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/agent/state", get(state_of))
        .route("/api/v1/agent/status", post(set_status))
        .route("/api/v1/agent/offers/{id}/accept", post(accept))
        .route("/api/v1/agent/offers/{id}/reject", post(reject))
        .route("/api/v1/agent/history", get(history))
        .route("/api/v1/interactions/{id}", get(get_card))
        .route("/api/v1/interactions/{id}/recording", get(recording))
        .route("/api/v1/interactions/{id}/hangup", post(hangup))
        .route("/api/v1/interactions/{id}/dtmf", post(dtmf))
        .route("/api/v1/interactions/{id}/wrapup", post(wrap_up))
}
