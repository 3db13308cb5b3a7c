//! The console's live stream: the user's agent state, and the overview for supervisors.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use domain::AgentId;
use engine::Notice;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::{Caller, Role};
use crate::error::ApiResult;
use crate::metrics::inc;
use crate::state::AppState;
use crate::views;

/// Overview pushes at most this often.
const OVERVIEW_INTERVAL_MS: u64 = 250;
/// Client frames larger than this close the socket.
const CLIENT_FRAME_BYTES_MAX: usize = 4_096;

#[utoipa::path(get, path = "/api/v1/ws", tag = "agent", responses((status = 101, description = "WebSocket; see docs/api.md for the messages"), (status = 401, description = "not signed in"), (status = 403, description = "requires the agent role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn upgrade(
    State(state): State<AppState>,
    caller: Caller,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    caller.require(Role::Agent)?;
    inc(&state.metrics.counters().ws_connections);
    let agent = caller.agent_id()?;
    let supervisor = caller.role >= Role::Supervisor;
    Ok(ws
        .max_message_size(CLIENT_FRAME_BYTES_MAX)
        .on_upgrade(move |socket| run(state, socket, agent, supervisor)))
}

async fn send_agent(state: &AppState, socket: &mut WebSocket, agent: i64) -> bool {
    match views::agent_state(state, agent).await {
        Ok(s) => socket
            .send(Message::Text(json!({ "type": "agent_state", "state": s }).to_string().into()))
            .await
            .is_ok(),
        Err(_) => true,
    }
}

async fn send_overview(state: &AppState, socket: &mut WebSocket) -> bool {
    match views::overview(state).await {
        Ok(o) => socket
            .send(Message::Text(json!({ "type": "overview", "overview": o }).to_string().into()))
            .await
            .is_ok(),
        Err(_) => true,
    }
}

async fn run(state: AppState, mut socket: WebSocket, agent: i64, supervisor: bool) {
    let mut notices = state.notices.subscribe();
    if !send_agent(&state, &mut socket, agent).await {
        return;
    }
    if supervisor && !send_overview(&state, &mut socket).await {
        return;
    }
    let mut overview_due = false;
    let mut ticker = tokio::time::interval(Duration::from_millis(OVERVIEW_INTERVAL_MS));
    loop {
        tokio::select! {
            notice = notices.recv() => {
                let mine = match notice {
                    Ok(Notice::Agent(a)) => a == AgentId(agent as u64),
                    Ok(_) => false,
                    // Missed notices: resend everything.
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return,
                };
                overview_due |= supervisor;
                if mine && !send_agent(&state, &mut socket, agent).await {
                    return;
                }
            }
            _ = ticker.tick() => {
                if overview_due {
                    overview_due = false;
                    if !send_overview(&state, &mut socket).await {
                        return;
                    }
                }
            }
            frame = socket.recv() => {
                match frame {
                    Some(Ok(Message::Text(t))) if t.as_str().contains("\"ping\"") => {
                        if socket.send(Message::Text(json!({ "type": "pong" }).to_string().into())).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                }
            }
        }
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/ws", get(upgrade))
}
