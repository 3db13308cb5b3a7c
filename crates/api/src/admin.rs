//! Administration: users, departments, queues, scripts, widgets and API tokens. Every change
//! is validated, stored, then pushed to the engine.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, put};
use axum::{Json, Router};
use engine::Input;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use store::{NewUser, SettingsTable};

use crate::auth::{hash_password, random_token, sha256_hex, Caller, Role};
use crate::body::{ApiJson, Head, SplitJson};
use crate::error::{ApiError, ApiResult};
use crate::script::{validate_script, ScriptDef};
use crate::settings::{QueueSettings, UserProfile, WidgetSettings};
use crate::state::AppState;
use crate::time::now;

fn name_field(field: &str, v: &str) -> ApiResult<()> {
    if v.trim().is_empty() || v.len() > 100 {
        return Err(ApiError::field(field, "1 to 100 characters"));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub login: String,
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(flatten)]
    pub profile: UserProfile,
}

/// The top-level keys of a user body; the rest is the [`UserProfile`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserHead {
    pub login: String,
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub password: Option<String>,
}

impl Head for UserHead {
    const KEYS: &'static [&'static str] = &["login", "name", "role", "password"];
}

impl UserInput {
    fn from_parts(head: UserHead, profile: UserProfile) -> UserInput {
        UserInput {
            login: head.login,
            name: head.name,
            role: head.role,
            password: head.password,
            profile,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub role: String,
    pub status: String,
    #[serde(flatten)]
    pub profile: UserProfile,
}

async fn push_agent(state: &AppState, id: i64, profile: &UserProfile) -> ApiResult<()> {
    let agent = profile.to_agent(id, &state.skills)?;
    state.engine.input(Input::UpsertAgent(agent)).await
}

pub async fn save_user(state: &AppState, id: Option<i64>, input: UserInput) -> ApiResult<i64> {
    name_field("login", &input.login)?;
    name_field("name", &input.name)?;
    Role::parse(&input.role)
        .ok_or_else(|| ApiError::field("role", "use agent, supervisor or admin"))?;
    input.profile.to_agent(0, &state.skills)?;
    let password_hash = match &input.password {
        Some(p) if p.len() < 8 || p.len() > 200 => {
            return Err(ApiError::field("password", "8 to 200 characters"))
        }
        Some(p) => hash_password(p)?,
        None if id.is_none() => return Err(ApiError::field("password", "is required")),
        None => String::new(),
    };
    let new = NewUser {
        login: input.login,
        name: input.name,
        role: input.role,
        password_hash,
        profile: serde_json::to_value(&input.profile)
            .map_err(|e| ApiError::Internal(e.to_string()))?,
    };
    let id = match id {
        Some(id) => {
            state.store.update_user(id, &new, input.password.is_some()).await?;
            id
        }
        None => state.store.create_user(&new).await?,
    };
    push_agent(state, id, &input.profile).await?;
    Ok(id)
}

#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", responses((status = 200, body = [UserOut]), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<UserOut>>> {
    caller.require(Role::Admin)?;
    let rows = state.store.list_users().await?;
    Ok(Json(
        rows.into_iter()
            .map(|u| UserOut {
                id: u.id,
                login: u.login,
                name: u.name,
                role: u.role,
                status: u.status,
                profile: serde_json::from_value(u.profile).unwrap_or_default(),
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = UserInput, responses((status = 201, description = "created; body has the new id"), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    SplitJson(head, profile): SplitJson<UserHead, UserProfile>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Admin)?;
    let id = save_user(&state, None, UserInput::from_parts(head, profile)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

#[utoipa::path(put, path = "/api/v1/admin/users/{id}", tag = "admin", params(("id" = i64, Path, description = "user id")), request_body = UserInput, responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    SplitJson(head, profile): SplitJson<UserHead, UserProfile>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    save_user(&state, Some(id), UserInput::from_parts(head, profile)).await?;
    Ok(Json(json!({ "id": id })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameInput {
    pub name: String,
}

#[utoipa::path(get, path = "/api/v1/admin/departments", tag = "admin", responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn list_departments(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    let rows = state.store.list_departments().await?;
    Ok(Json(json!(rows
        .into_iter()
        .map(|d| json!({"id": d.id, "name": d.name}))
        .collect::<Vec<_>>())))
}

#[utoipa::path(post, path = "/api/v1/admin/departments", tag = "admin", request_body = NameInput, responses((status = 201, description = "created; body has the new id"), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn create_department(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NameInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Admin)?;
    name_field("name", &input.name)?;
    let id = state.store.create_department(input.name.trim()).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

#[utoipa::path(put, path = "/api/v1/admin/departments/{id}", tag = "admin", params(("id" = i64, Path, description = "department id")), request_body = NameInput, responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn update_department(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<NameInput>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    name_field("name", &input.name)?;
    state.store.update_department(id, input.name.trim()).await?;
    Ok(Json(json!({ "id": id })))
}

/// The top-level key of a queue or a script body besides its settings.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameHead {
    pub name: String,
}

impl Head for NameHead {
    const KEYS: &'static [&'static str] = &["name"];
}

/// The queue body as documented; handlers parse it as [`NameHead`] + [`QueueSettings`].
pub struct QueueInput;

/// Stores a queue and hands it to the engine. Used by the admin API and the demo seeder.
pub async fn save_queue(
    state: &AppState,
    id: Option<i64>,
    name: &str,
    settings: &QueueSettings,
) -> ApiResult<i64> {
    name_field("name", name)?;
    settings.to_setup(id.unwrap_or(1), &state.skills)?;
    if let Some(script) = settings.script_id {
        state
            .store
            .settings(SettingsTable::Scripts, script)
            .await?
            .ok_or_else(|| ApiError::field("script_id", "unknown script"))?;
    }
    let body = serde_json::to_value(settings).map_err(|e| ApiError::Internal(e.to_string()))?;
    let id = match id {
        Some(id) => {
            state.store.update_settings(SettingsTable::Queues, id, name, &body).await?;
            id
        }
        None => state.store.create_settings(SettingsTable::Queues, name, &body).await?,
    };
    let setup = settings.to_setup(id, &state.skills)?;
    state.engine.input(Input::UpsertQueue(Box::new(setup))).await?;
    Ok(id)
}

async fn list_settings(
    state: &AppState,
    table: SettingsTable,
    body_key: &str,
) -> ApiResult<Json<Value>> {
    let rows = state.store.list_settings(table).await?;
    Ok(Json(json!(rows
        .into_iter()
        .map(|r| {
            let mut v =
                if body_key.is_empty() { r.settings } else { json!({ body_key: r.settings }) };
            if let Value::Object(m) = &mut v {
                m.insert("id".into(), r.id.into());
                m.insert("name".into(), r.name.into());
            }
            v
        })
        .collect::<Vec<_>>())))
}

#[utoipa::path(get, path = "/api/v1/admin/queues", tag = "supervisor", responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn list_queues(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Supervisor)?;
    list_settings(&state, SettingsTable::Queues, "").await
}

#[utoipa::path(post, path = "/api/v1/admin/queues", tag = "admin", request_body = QueueInput, responses((status = 201, description = "created; body has the new id"), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn create_queue(
    State(state): State<AppState>,
    caller: Caller,
    SplitJson(head, settings): SplitJson<NameHead, QueueSettings>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Admin)?;
    let id = save_queue(&state, None, &head.name, &settings).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

#[utoipa::path(put, path = "/api/v1/admin/queues/{id}", tag = "admin", params(("id" = i64, Path, description = "queue id")), request_body = QueueInput, responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn update_queue(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    SplitJson(head, settings): SplitJson<NameHead, QueueSettings>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    save_queue(&state, Some(id), &head.name, &settings).await?;
    Ok(Json(json!({ "id": id })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptInput {
    pub name: String,
    pub definition: ScriptDef,
}

#[utoipa::path(get, path = "/api/v1/admin/scripts", tag = "admin", responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn list_scripts(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    list_settings(&state, SettingsTable::Scripts, "definition").await
}

pub async fn save_script(state: &AppState, id: Option<i64>, input: &ScriptInput) -> ApiResult<i64> {
    name_field("name", &input.name)?;
    validate_script(&input.definition)?;
    let body =
        serde_json::to_value(&input.definition).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(match id {
        Some(id) => {
            state.store.update_settings(SettingsTable::Scripts, id, &input.name, &body).await?;
            id
        }
        None => state.store.create_settings(SettingsTable::Scripts, &input.name, &body).await?,
    })
}

#[utoipa::path(post, path = "/api/v1/admin/scripts", tag = "admin", request_body = ScriptInput, responses((status = 201, description = "created; body has the new id"), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn create_script(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ScriptInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Admin)?;
    let id = save_script(&state, None, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

#[utoipa::path(put, path = "/api/v1/admin/scripts/{id}", tag = "admin", params(("id" = i64, Path, description = "script id")), request_body = ScriptInput, responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn update_script(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ScriptInput>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    save_script(&state, Some(id), &input).await?;
    Ok(Json(json!({ "id": id })))
}

/// The top-level keys of a widget body; the rest is the [`WidgetSettings`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidgetHead {
    pub name: String,
    pub queue_id: i64,
    #[serde(default)]
    pub key: Option<String>,
}

impl Head for WidgetHead {
    const KEYS: &'static [&'static str] = &["name", "queue_id", "key"];
}

impl WidgetInput {
    fn from_parts(head: WidgetHead, settings: WidgetSettings) -> WidgetInput {
        WidgetInput { name: head.name, queue_id: head.queue_id, key: head.key, settings }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidgetInput {
    pub name: String,
    pub queue_id: i64,
    /// Chosen by the server when absent on create.
    #[serde(default)]
    pub key: Option<String>,
    #[serde(flatten)]
    pub settings: WidgetSettings,
}

#[utoipa::path(get, path = "/api/v1/admin/widgets", tag = "admin", responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn list_widgets(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    let rows = state.store.list_widgets().await?;
    Ok(Json(json!(rows
        .into_iter()
        .map(|w| {
            let mut v = w.settings;
            if let Value::Object(m) = &mut v {
                m.insert("id".into(), w.id.into());
                m.insert("key".into(), w.key.into());
                m.insert("name".into(), w.name.into());
                m.insert("queue_id".into(), w.queue_id.into());
            }
            v
        })
        .collect::<Vec<_>>())))
}

async fn check_widget(state: &AppState, input: &WidgetInput) -> ApiResult<Value> {
    name_field("name", &input.name)?;
    input.settings.validate()?;
    state
        .store
        .settings(SettingsTable::Queues, input.queue_id)
        .await?
        .ok_or_else(|| ApiError::field("queue_id", "unknown queue"))?;
    serde_json::to_value(&input.settings).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Stores a new widget; used by the admin API and the demo seeder.
pub async fn create_widget_row(state: &AppState, input: &WidgetInput) -> ApiResult<(i64, String)> {
    let body = check_widget(state, input).await?;
    let key = match &input.key {
        Some(k)
            if k.len() < 3
                || k.len() > 64
                || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            return Err(ApiError::field("key", "3 to 64 letters, digits or dashes"))
        }
        Some(k) => k.clone(),
        None => random_token(8),
    };
    let id = state.store.create_widget(&key, &input.name, input.queue_id, &body).await?;
    Ok((id, key))
}

#[utoipa::path(post, path = "/api/v1/admin/widgets", tag = "admin", request_body = WidgetInput, responses((status = 201, description = "created; body has the new id"), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn create_widget(
    State(state): State<AppState>,
    caller: Caller,
    SplitJson(head, settings): SplitJson<WidgetHead, WidgetSettings>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Admin)?;
    let (id, key) = create_widget_row(&state, &WidgetInput::from_parts(head, settings)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "key": key }))))
}

#[utoipa::path(put, path = "/api/v1/admin/widgets/{id}", tag = "admin", params(("id" = i64, Path, description = "widget id")), request_body = WidgetInput, responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn update_widget(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    SplitJson(head, settings): SplitJson<WidgetHead, WidgetSettings>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    let input = WidgetInput::from_parts(head, settings);
    let body = check_widget(&state, &input).await?;
    state.store.update_widget(id, &input.name, input.queue_id, &body).await?;
    Ok(Json(json!({ "id": id })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub name: String,
    pub role: String,
}

#[utoipa::path(post, path = "/api/v1/admin/tokens", tag = "admin", request_body = TokenInput, responses((status = 201, description = "created; body has the new id"), (status = 401, description = "not signed in"), (status = 403, description = "requires the admin role, or a missing X-CSRF-Token on a cookie write"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<TokenInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Admin)?;
    name_field("name", &input.name)?;
    Role::parse(&input.role)
        .ok_or_else(|| ApiError::field("role", "use agent, supervisor or admin"))?;
    let token = format!("sbk_{}", random_token(24));
    let id = state
        .store
        .create_token(&input.name, &sha256_hex(&token), &input.role, now().as_millis())
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id, "token": token }))))
}

#[utoipa::path(get, path = "/api/v1/admin/tokens", tag = "admin",
    responses((status = 200, description = "tokens without their secrets"), (status = 403, description = "requires the admin role")))]
pub(crate) async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    let rows = state.store.list_tokens().await?;
    Ok(Json(json!(rows
        .into_iter()
        .map(|t| json!({ "id": t.id, "name": t.name, "role": t.role, "created_at": crate::time::rfc3339(t.created_at) }))
        .collect::<Vec<_>>())))
}

#[utoipa::path(delete, path = "/api/v1/admin/tokens/{id}", tag = "admin", params(("id" = i64, Path, description = "token id")),
    responses((status = 200, description = "revoked"), (status = 404, description = "no such token"), (status = 403, description = "requires the admin role")))]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    state.store.delete_token(id).await?;
    Ok(Json(json!({ "ok": true })))
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/users", get(list_users).post(create_user))
        .route("/api/v1/admin/users/{id}", put(update_user))
        .route("/api/v1/admin/departments", get(list_departments).post(create_department))
        .route("/api/v1/admin/departments/{id}", put(update_department))
        .route("/api/v1/admin/queues", get(list_queues).post(create_queue))
        .route("/api/v1/admin/queues/{id}", put(update_queue))
        .route("/api/v1/admin/scripts", get(list_scripts).post(create_script))
        .route("/api/v1/admin/scripts/{id}", put(update_script))
        .route("/api/v1/admin/widgets", get(list_widgets).post(create_widget))
        .route("/api/v1/admin/widgets/{id}", put(update_widget))
        .route("/api/v1/admin/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/admin/tokens/{id}", delete(revoke_token))
}

mod schemas {
    //! OpenAPI schemas of the bodies parsed as head keys plus settings.

    use utoipa::openapi::schema::{Schema, Type};
    use utoipa::openapi::RefOr;
    use utoipa::{PartialSchema, ToSchema};

    use super::{QueueInput, UserInput, WidgetInput};
    use crate::openapi::merged_schema;
    use crate::settings::{QueueSettings, UserProfile, WidgetSettings};

    impl PartialSchema for UserInput {
        fn schema() -> RefOr<Schema> {
            let head = [
                ("login", Type::String, true),
                ("name", Type::String, true),
                ("role", Type::String, true),
                ("password", Type::String, false),
            ];
            merged_schema(UserProfile::schema(), &head, "A user: login, name, role (agent, supervisor or admin), password (required on create) and the routing profile.")
        }
    }
    impl ToSchema for UserInput {}

    impl PartialSchema for QueueInput {
        fn schema() -> RefOr<Schema> {
            merged_schema(
                QueueSettings::schema(),
                &[("name", Type::String, true)],
                "A queue: its name and settings.",
            )
        }
    }
    impl ToSchema for QueueInput {}

    impl PartialSchema for WidgetInput {
        fn schema() -> RefOr<Schema> {
            let head = [
                ("name", Type::String, true),
                ("queue_id", Type::Integer, true),
                ("key", Type::String, false),
            ];
            merged_schema(
                WidgetSettings::schema(),
                &head,
                "A widget: name, queue, optional key, and its public settings.",
            )
        }
    }
    impl ToSchema for WidgetInput {}
}
