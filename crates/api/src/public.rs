//! Public endpoints the widget calls from customers' browsers: widget settings, callback
//! intake and the request's status page. Validated field by field; CORS per widget.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::limits::{
    CUSTOM_FIELDS_MAX, PUBLIC_BODY_BYTES_MAX, TEXT_FIELD_BYTES_MAX, URL_BYTES_MAX,
};
use domain::{CallbackId, PhoneNumber, QueueId, Timestamp};
use engine::{CallbackSpec, Input};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use store::{CallbackRow, InsertOutcome, NewCallback, SettingsTable};

use crate::auth::{random_token, ClientIp};
use crate::error::{ApiError, ApiResult};
use crate::metrics::inc;
use crate::settings::{QueueSettings, WidgetSettings};
use crate::state::AppState;
use crate::time::{now, parse_rfc3339, rfc3339};

/// How far ahead a preferred time may be.
const PREFERRED_AHEAD_MS_MAX: i64 = 30 * 86_400_000;
/// Slack for clocks: a preferred time up to this far in the past counts as "now".
const PREFERRED_PAST_SLACK_MS: i64 = 60_000;
const IDEMPOTENCY_KEY_BYTES_MAX: usize = 100;

#[derive(Serialize, utoipa::ToSchema)]
pub struct WidgetField {
    pub name: String,
    pub label: String,
    pub required: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WidgetPublic {
    pub key: String,
    pub title: String,
    pub button_text: String,
    pub default_region: String,
    pub open_now: bool,
    pub next_open_at: Option<String>,
    pub fields: Vec<WidgetField>,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallbackAccepted {
    pub id: i64,
    pub status_token: String,
    pub status: String,
    pub status_url: String,
    pub scheduled_for: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CallbackStatusDto {
    pub id: i64,
    pub status: String,
    pub attempts: i64,
    pub updated_at: String,
}

/// The fields of a callback request, as the widget posts them.
#[derive(Deserialize, utoipa::ToSchema)]
#[allow(dead_code)] // Documents the body for OpenAPI; parsing is field by field below.
pub struct CallbackRequest {
    widget_key: String,
    name: String,
    phone: String,
    topic: String,
    page_url: String,
    preferred_at: Option<String>,
    custom_fields: Option<BTreeMap<String, String>>,
    consent: bool,
}

fn allowed(origin: &str, settings: &WidgetSettings) -> bool {
    settings.allowed_origins.iter().any(|o| o == origin)
}

fn with_cors(mut response: Response, origin: Option<&str>) -> Response {
    if let Some(v) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        response.headers_mut().insert(ACCESS_CONTROL_ALLOW_ORIGIN, v);
        response.headers_mut().insert(VARY, HeaderValue::from_static("Origin"));
    }
    response
}

fn origin_of(headers: &HeaderMap) -> Option<String> {
    headers.get(ORIGIN).and_then(|v| v.to_str().ok()).map(String::from)
}

async fn widget(state: &AppState, key: &str) -> ApiResult<(store::WidgetRow, WidgetSettings)> {
    if key.len() > 100 {
        return Err(ApiError::field("widget_key", "unknown widget key"));
    }
    let row = state
        .store
        .widget_by_key(key)
        .await?
        .ok_or_else(|| ApiError::field("widget_key", "unknown widget key"))?;
    let settings: WidgetSettings = serde_json::from_value(row.settings.clone())
        .map_err(|e| ApiError::Internal(format!("widget settings: {e}")))?;
    Ok((row, settings))
}

/// The origin check: a browser request from a page not on the widget's allow-list is refused.
fn check_origin(origin: Option<&str>, settings: &WidgetSettings) -> ApiResult<()> {
    match origin {
        Some(o) if !allowed(o, settings) => {
            Err(ApiError::Forbidden(format!("origin {o} is not allowed for this widget")))
        }
        _ => Ok(()),
    }
}

async fn queue_settings(state: &AppState, queue_id: i64) -> ApiResult<QueueSettings> {
    let row = state
        .store
        .settings(SettingsTable::Queues, queue_id)
        .await?
        .ok_or(ApiError::NotFound("queue"))?;
    serde_json::from_value(row.settings)
        .map_err(|e| ApiError::Internal(format!("queue settings: {e}")))
}

/// When the queue will next dial at or after `at`, by its business hours.
fn next_open(
    settings: &QueueSettings,
    state: &AppState,
    queue_id: i64,
    at: Timestamp,
) -> ApiResult<Timestamp> {
    let setup = settings.to_setup(queue_id, &state.skills)?;
    Ok(match setup.callback.hours {
        Some(h) => h.next_open(at).unwrap_or(at),
        None => at,
    })
}

#[utoipa::path(get, path = "/api/v1/public/widgets/{key}", params(("key" = String, Path)),
    responses((status = 200, body = WidgetPublic), (status = 422, description = "unknown widget key")))]
pub(crate) async fn widget_settings(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let origin = origin_of(&headers);
    let (row, settings) = widget(&state, &key).await?;
    check_origin(origin.as_deref(), &settings)?;
    let queue = queue_settings(&state, row.queue_id).await?;
    let t = now();
    let open = next_open(&queue, &state, row.queue_id, t)?;
    let field = |name: &str, label: &str, required| WidgetField {
        name: name.into(),
        label: label.into(),
        required,
    };
    let body = WidgetPublic {
        key: row.key,
        title: settings.title.clone(),
        button_text: settings.button_text.clone(),
        default_region: settings.default_region.clone(),
        open_now: open == t,
        next_open_at: (open != t).then(|| rfc3339(open.as_millis())),
        fields: vec![
            field("name", "Name", true),
            field("phone", "Phone", true),
            field("topic", "Topic", false),
        ],
    };
    Ok(with_cors(Json(body).into_response(), origin.as_deref()))
}

fn text(body: &Map<String, Value>, name: &str, required: bool, max: usize) -> ApiResult<String> {
    match body.get(name) {
        None | Some(Value::Null) if required => Err(ApiError::field(name, "is required")),
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) if s.len() > max => {
            Err(ApiError::field(name, format!("is longer than {max} bytes")))
        }
        Some(Value::String(s)) if required && s.trim().is_empty() => {
            Err(ApiError::field(name, "is required"))
        }
        Some(Value::String(s)) if s.chars().any(|c| c.is_control()) => {
            Err(ApiError::field(name, "contains control characters"))
        }
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(_) => Err(ApiError::field(name, "must be a string")),
    }
}

fn custom_fields(body: &Map<String, Value>) -> ApiResult<Value> {
    let Some(v) = body.get("custom_fields").filter(|v| !v.is_null()) else {
        return Ok(Value::Object(Map::new()));
    };
    let Value::Object(map) = v else {
        return Err(ApiError::field("custom_fields", "must be an object of strings"));
    };
    if map.len() > CUSTOM_FIELDS_MAX {
        return Err(ApiError::field(
            "custom_fields",
            format!("at most {CUSTOM_FIELDS_MAX} fields"),
        ));
    }
    for (k, v) in map {
        if k.is_empty() || k.len() > 64 {
            return Err(ApiError::field("custom_fields", "field names are 1 to 64 bytes"));
        }
        match v {
            Value::String(s) if s.len() <= TEXT_FIELD_BYTES_MAX => {}
            Value::String(_) => {
                return Err(ApiError::field(
                    &format!("custom_fields.{k}"),
                    format!("is longer than {TEXT_FIELD_BYTES_MAX} bytes"),
                ))
            }
            _ => return Err(ApiError::field(&format!("custom_fields.{k}"), "must be a string")),
        }
    }
    Ok(v.clone())
}

fn accepted(row: &CallbackRow) -> CallbackAccepted {
    CallbackAccepted {
        id: row.id,
        status_token: row.status_token.clone(),
        status: row.status.clone(),
        status_url: format!("/api/v1/public/callbacks/{}?token={}", row.id, row.status_token),
        scheduled_for: (row.status == "scheduled").then(|| rfc3339(row.due_at)),
    }
}

#[utoipa::path(post, path = "/api/v1/public/callbacks", request_body = CallbackRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays return the original request")),
    responses((status = 202, body = CallbackAccepted, description = "committed; dialing follows"),
        (status = 200, body = CallbackAccepted, description = "an open request for this phone already exists"),
        (status = 422, description = "a field is invalid (named in error.field)"),
        (status = 403, description = "origin not allowed"), (status = 429, description = "rate limited")))]
pub(crate) async fn create_callback(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let origin = origin_of(&headers);
    let result = intake(&state, &ip, &headers, &body).await;
    if result.is_err() {
        inc(&state.metrics.counters().callbacks_rejected);
    }
    let (status, body) = result?;
    Ok(with_cors((status, Json(body)).into_response(), origin.as_deref()))
}

async fn intake(
    state: &AppState,
    ip: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<(StatusCode, CallbackAccepted)> {
    if body.len() > PUBLIC_BODY_BYTES_MAX {
        return Err(ApiError::BadRequest(format!(
            "body is larger than {PUBLIC_BODY_BYTES_MAX} bytes"
        )));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("body is not JSON: {e}")))?;
    let Value::Object(body) = value else {
        return Err(ApiError::BadRequest("body must be a JSON object".into()));
    };
    const KNOWN: [&str; 8] = [
        "widget_key",
        "name",
        "phone",
        "topic",
        "page_url",
        "preferred_at",
        "custom_fields",
        "consent",
    ];
    if let Some(k) = body.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::field(k, "unknown field"));
    }
    let key = text(&body, "widget_key", true, 100)?;
    let (widget, settings) = widget(state, &key).await?;
    check_origin(origin_of(headers).as_deref(), &settings)?;
    state.limits.check_ip(ip)?;
    let name = text(&body, "name", true, TEXT_FIELD_BYTES_MAX)?;
    let raw_phone = text(&body, "phone", true, 64)?;
    let phone = PhoneNumber::parse(&raw_phone, &settings.default_region)
        .map_err(|e| ApiError::field("phone", e.to_string()))?;
    let topic = text(&body, "topic", false, TEXT_FIELD_BYTES_MAX)?;
    let page_url = text(&body, "page_url", false, URL_BYTES_MAX)?;
    let is_http = page_url.starts_with("http://") || page_url.starts_with("https://");
    if !page_url.is_empty() && !is_http {
        return Err(ApiError::field("page_url", "must be an http(s) URL"));
    }
    let custom = custom_fields(&body)?;
    match body.get("consent") {
        Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) | None | Some(Value::Null) => {
            return Err(ApiError::field("consent", "the customer must agree to be called"))
        }
        Some(_) => return Err(ApiError::field("consent", "must be a boolean")),
    }
    let t = now();
    let preferred = match text(&body, "preferred_at", false, 64)? {
        s if s.is_empty() => None,
        s => {
            let at = parse_rfc3339(&s).ok_or_else(|| {
                ApiError::field("preferred_at", "must be an RFC 3339 time with an offset")
            })?;
            if at < t.as_millis() - PREFERRED_PAST_SLACK_MS {
                return Err(ApiError::field("preferred_at", "is in the past"));
            }
            if at > t.as_millis() + PREFERRED_AHEAD_MS_MAX {
                return Err(ApiError::field("preferred_at", "is more than 30 days ahead"));
            }
            Some(at)
        }
    };
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let k = v.to_str().map_err(|_| ApiError::field("Idempotency-Key", "must be ASCII"))?;
            if k.is_empty() || k.len() > IDEMPOTENCY_KEY_BYTES_MAX {
                return Err(ApiError::field(
                    "Idempotency-Key",
                    format!("1 to {IDEMPOTENCY_KEY_BYTES_MAX} bytes"),
                ));
            }
            Some(k.to_string())
        }
    };
    state.limits.check_phone(phone.as_str())?;
    let queue = queue_settings(state, widget.queue_id).await?;
    let wanted = Timestamp::from_millis(preferred.unwrap_or(t.as_millis()).max(t.as_millis()));
    let due = next_open(&queue, state, widget.queue_id, wanted)?;
    let new = NewCallback {
        widget_id: widget.id,
        queue_id: widget.queue_id,
        name,
        phone: phone.as_str().to_string(),
        topic,
        page_url,
        custom_fields: custom,
        preferred_at: preferred,
        consent: true,
        status_token: random_token(16),
        status: if due > t { "scheduled" } else { "waiting" }.into(),
        due_at: due.as_millis(),
        idempotency_key,
        client_ip: ip.to_string(),
        now: t.as_millis(),
    };
    // Committed here, before the engine hears of it and before the client is answered.
    match state.store.insert_callback(&new).await? {
        InsertOutcome::Created(row) => {
            inc(&state.metrics.counters().callbacks_accepted);
            let spec = CallbackSpec {
                id: CallbackId(row.id as u64),
                queue: QueueId(row.queue_id as u64),
                phone,
                due_at: Timestamp::from_millis(row.due_at),
                attempts: 0,
            };
            if let Err(e) = state.engine.input(Input::CallbackAccepted(spec)).await {
                // Durable already: a restart rebuilds it from the store.
                tracing::warn!(error = %e, id = row.id, "engine did not take a committed callback");
            }
            Ok((StatusCode::ACCEPTED, accepted(&row)))
        }
        InsertOutcome::Replayed(row) => Ok((StatusCode::ACCEPTED, accepted(&row))),
        InsertOutcome::Duplicate(row) => {
            inc(&state.metrics.counters().callbacks_deduplicated);
            Ok((StatusCode::OK, accepted(&row)))
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct TokenQuery {
    token: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/public/callbacks/{id}", params(("id" = i64, Path), ("token" = String, Query)),
    responses((status = 200, body = CallbackStatusDto), (status = 404, description = "unknown id or wrong token")))]
pub(crate) async fn callback_status(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let row = state.store.callback(id).await?.ok_or(ApiError::NotFound("callback"))?;
    let token = q.token.unwrap_or_default();
    // Same answer for a wrong token and a missing id: ids are guessable, tokens are not.
    if token.len() != row.status_token.len()
        || token.bytes().zip(row.status_token.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) != 0
    {
        return Err(ApiError::NotFound("callback"));
    }
    let body = CallbackStatusDto {
        id: row.id,
        status: row.status.clone(),
        attempts: row.attempts,
        updated_at: rfc3339(row.updated_at),
    };
    let origin = origin_of(&headers);
    let widgets = state.store.list_widgets().await?;
    let ok_origin = origin.filter(|o| {
        widgets.iter().filter(|w| w.id == row.widget_id).any(|w| {
            serde_json::from_value::<WidgetSettings>(w.settings.clone())
                .is_ok_and(|s| allowed(o, &s))
        })
    });
    Ok(with_cors(Json(body).into_response(), ok_origin.as_deref()))
}

/// CORS preflight: allowed when the origin is on any widget's allow-list; the real request
/// then checks the widget it names.
async fn preflight(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let Some(origin) = origin_of(&headers) else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let widgets = state.store.list_widgets().await?;
    let known = widgets.iter().any(|w| {
        serde_json::from_value::<WidgetSettings>(w.settings.clone())
            .is_ok_and(|s| allowed(&origin, &s))
    });
    if !known {
        return Err(ApiError::Forbidden(format!("origin {origin} is not allowed")));
    }
    let mut response = with_cors(StatusCode::NO_CONTENT.into_response(), Some(&origin));
    let h = response.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
    h.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, idempotency-key"),
    );
    h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    Ok(response)
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/public/widgets/{key}", get(widget_settings).options(preflight))
        .route("/api/v1/public/callbacks", post(create_callback).options(preflight))
        .route("/api/v1/public/callbacks/{id}", get(callback_status).options(preflight))
}
