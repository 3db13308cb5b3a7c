//! The OpenAPI document, served at `/api/v1/openapi.json`.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard API",
        description = "Contact center REST API. See docs/api.md for the overview."
    ),
    paths(
        crate::public::widget_settings,
        crate::public::create_callback,
        crate::public::callback_status,
        crate::auth::login,
        crate::agent::state_of,
        crate::agent::set_status,
        crate::agent::accept,
        crate::agent::reject,
        crate::agent::hangup,
        crate::agent::wrap_up,
        crate::agent::get_card,
        crate::agent::history,
        crate::supervisor::overview,
        crate::supervisor::set_agent_status,
        crate::stats::callbacks,
        crate::admin::list_users,
        crate::admin::create_user,
        crate::admin::update_user,
        crate::admin::list_departments,
        crate::admin::create_department,
        crate::admin::update_department,
        crate::admin::list_queues,
        crate::admin::create_queue,
        crate::admin::update_queue,
        crate::admin::list_scripts,
        crate::admin::create_script,
        crate::admin::update_script,
        crate::admin::list_widgets,
        crate::admin::create_widget,
        crate::admin::update_widget,
        crate::admin::create_token,
        crate::admin::list_tokens,
        crate::admin::revoke_token,
        crate::auth::logout,
        crate::auth::me,
        crate::ws::upgrade,
    ),
    components(schemas(
        crate::public::WidgetPublic,
        crate::public::CallbackAccepted,
        crate::public::CallbackStatusDto,
        crate::public::CallbackRequest,
        crate::auth::LoginRequest,
        crate::auth::SessionResponse,
        crate::views::AgentStateDto,
        crate::views::Card,
        crate::views::Overview,
        crate::stats::StatsReport,
        crate::settings::QueueSettings,
        crate::script::ScriptDef,
        crate::agent::StatusRequest,
        crate::agent::WrapUpRequest,
        crate::views::HistoryItem,
        crate::admin::UserInput,
        crate::admin::UserOut,
        crate::admin::NameInput,
        crate::admin::QueueInput,
        crate::admin::ScriptInput,
        crate::admin::WidgetInput,
        crate::admin::TokenInput,
        crate::stats::StatsRow,
    ))
)]
pub struct ApiDoc;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
