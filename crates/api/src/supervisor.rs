//! Supervisor endpoints: the live overview and moving agents between states.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::AgentId;
use engine::Input;
use serde_json::{json, Value};

use crate::agent::{requested_state, StatusRequest};
use crate::auth::{Caller, Role};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::{self, Overview};

async fn overview(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Overview>> {
    caller.require(Role::Supervisor)?;
    Ok(Json(views::overview(&state).await?))
}

async fn set_agent_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
    Json(req): Json<StatusRequest>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Supervisor)?;
    let status = requested_state(&req)?;
    state.engine.input(Input::SetAgentStatus { agent: AgentId(id), status }).await?;
    Ok(Json(json!({ "ok": true })))
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/supervisor/overview", get(overview))
        .route("/api/v1/supervisor/agents/{id}/status", post(set_agent_status))
        .route("/api/v1/stats/callbacks", get(crate::stats::callbacks))
}
