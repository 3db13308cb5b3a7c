//! The HTTP and WebSocket face of Switchboard: DTOs, validation at the edge, authentication
//! and roles, the OpenAPI document, and the one mapping from errors to HTTP statuses.
//!
//! API Boundary: only this crate knows HTTP and JSON. Domain types are not `Serialize`; DTOs
//! convert explicitly. The engine is reached through [`EngineHandle`], never directly.

mod admin;
mod agent;
pub mod assets;
mod auth;
mod body;
pub mod campaign_recording;
mod campaign_settings;
mod campaigns;
mod error;
mod handle;
mod metrics;
mod openapi;
mod public;
mod ratelimit;
mod script;
mod settings;
mod state;
mod stats;
mod supervisor;
mod time;
mod views;
mod ws;

pub use admin::{
    create_widget_row, save_queue, save_script, save_user, ScriptInput, UserInput, WidgetInput,
};
pub use auth::hash_password;
pub use campaign_settings::{CampaignSettings, OutcomeActions, SECRET_MASK};
pub use campaigns::{rebuild_campaigns, seed_campaign};
pub use error::ApiError;
pub use handle::{EngineHandle, EngineReply, EngineRequest};
pub use metrics::Metrics;
pub use ratelimit::RateLimitConfig;
pub use script::{validate_script, ScriptDef};
pub use settings::{QueueSettings, Skills, UserProfile, WidgetSettings};
pub use state::{AppState, SkillNames};

use axum::Router;

/// The API router (without the metrics listener, see [`metrics_router`]).
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(public::routes())
        .merge(auth::routes())
        .merge(agent::routes())
        .merge(supervisor::routes())
        .merge(admin::routes())
        .merge(campaigns::routes())
        .merge(ws::routes())
        .merge(openapi::routes())
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .fallback(assets::serve)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(256 * 1024))
        // After the general limit: a contact upload is larger and bounded on its own.
        .merge(campaigns::upload_routes())
        .merge(campaign_recording::routes())
        .with_state(state)
}

/// Prometheus `/metrics`, served on its own listener.
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", axum::routing::get(metrics::render)).with_state(state)
}
