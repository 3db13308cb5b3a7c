//! Supervisor endpoints: the live overview and moving agents between states.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::AgentId;
use engine::Input;
use serde_json::{json, Value};

use crate::agent::{requested_state, StatusRequest};
use crate::auth::{Caller, Role};
use crate::body::ApiJson;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::{self, Overview};

#[utoipa::path(get, path = "/api/v1/supervisor/overview", tag = "supervisor", responses((status = 200, body = Overview), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn overview(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Overview>> {
    caller.require(Role::Supervisor)?;
    Ok(Json(views::overview(&state).await?))
}

#[utoipa::path(post, path = "/api/v1/supervisor/agents/{id}/status", tag = "supervisor", params(("id" = u64, Path, description = "agent (user) id")), request_body = StatusRequest, responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn set_agent_status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<u64>,
    ApiJson(req): ApiJson<StatusRequest>,
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
