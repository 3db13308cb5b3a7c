//! The OpenAPI document, served at `/api/v1/openapi.json`.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::openapi::{Content, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    modifiers(&CommonErrors),
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
        crate::agent::recording,
        crate::agent::dtmf,
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
        crate::campaign_recording::upload,
        crate::campaign_recording::download,
        crate::campaign_recording::remove,
        crate::campaigns::list,
        crate::campaigns::create,
        crate::campaigns::get_one,
        crate::campaigns::update,
        crate::campaigns::delete,
        crate::campaigns::import,
        crate::campaigns::start,
        crate::campaigns::pause,
        crate::campaigns::resume,
        crate::campaigns::stop,
        crate::campaigns::progress,
        crate::campaigns::contacts,
        crate::campaigns::calls,
        crate::campaigns::actions,
        crate::campaigns::dnc_list_h,
        crate::campaigns::dnc_add,
        crate::campaigns::dnc_remove,
        crate::campaigns::card,
        crate::campaigns::preview_dial,
        crate::campaigns::preview_skip,
        crate::campaigns::card_hangup,
        crate::campaigns::card_wrap_up,
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
        crate::agent::DtmfRequest,
        crate::views::HistoryItem,
        crate::admin::UserInput,
        crate::admin::UserOut,
        crate::admin::NameInput,
        crate::admin::QueueInput,
        crate::admin::ScriptInput,
        crate::admin::WidgetInput,
        crate::admin::TokenInput,
        crate::stats::StatsRow,
        crate::campaigns::CampaignBody,
        crate::campaigns::CampaignOut,
        crate::campaigns::ImportReport,
        crate::campaigns::RowErrorDto,
        crate::campaigns::Progress,
        crate::campaigns::Kpis,
        crate::campaigns::SeriesPoint,
        crate::campaigns::DncBody,
        crate::campaigns::CampaignCard,
        crate::campaigns::ContactOut,
        crate::campaigns::CampaignWrapUp,
        crate::campaigns::CallOut,
        crate::campaigns::ActionOut,
        crate::campaign_settings::OutcomeActions,
        crate::campaign_settings::CampaignSettings,
        crate::campaign_settings::RetryDelaysSettings,
        crate::campaign_settings::WindowSettings,
        ErrorBody,
        ErrorDetail,
    ))
)]
pub struct ApiDoc;

/// The error body every failing request gets (see `error.rs`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Exists for the OpenAPI schema.
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    code: String,
    message: String,
    /// The input field at fault, when there is one.
    field: Option<String>,
}

/// Adds the error statuses any operation may answer with, unless it documents them itself.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let statuses = [
            ("400", "the body is not JSON, or a request cannot be read"),
            ("401", "not signed in, or an unknown token"),
            ("403", "the caller's role does not allow it, or a missing X-CSRF-Token"),
            ("404", "no such resource"),
            ("409", "conflicts with the current state"),
            ("422", "a field is invalid; error.field names it"),
            ("429", "rate limited; see Retry-After"),
            ("503", "the engine is busy or a queue is full"),
        ];
        for item in openapi.paths.paths.values_mut() {
            let operations =
                [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.options];
            for op in operations.into_iter().flatten() {
                for (code, text) in statuses {
                    op.responses.responses.entry(code.to_string()).or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(text)
                            .content(
                                "application/json",
                                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
                            )
                            .build()
                            .into()
                    });
                }
            }
        }
    }
}

/// The schema of a body made of head keys plus flattened settings, as one object. Deriving it
/// with `#[serde(flatten)]` gives `allOf` with a closed settings object, which no body can
/// satisfy; this merges the head's properties into the settings' object instead.
pub(crate) fn merged_schema(
    settings: RefOr<Schema>,
    head: &[(&str, Type, bool)],
    description: &str,
) -> RefOr<Schema> {
    let RefOr::T(Schema::Object(mut object)) = settings else {
        return settings;
    };
    for (name, ty, required) in head {
        let property = ObjectBuilder::new().schema_type(SchemaType::Type(ty.clone())).build();
        object.properties.insert(name.to_string(), RefOr::T(Schema::Object(property)));
        if *required {
            object.required.push(name.to_string());
        }
    }
    object.description = Some(description.to_string());
    RefOr::T(Schema::Object(object))
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
