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
        crate::auth::login
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
    ))
)]
pub struct ApiDoc;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
