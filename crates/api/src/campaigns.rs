//! Outbound campaigns: CRUD, streamed CSV contact import with a per-row report, controls,
//! progress and KPIs, do-not-call lists, and the agent's campaign card. Supervisor role,
//! except the agent's card.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::campaign::{CampaignId, CampaignState, ContactId};
use domain::{AgentId, InteractionId, PhoneNumber, Timestamp};
use engine::dialer::{ColumnMapping, DncList, DncRegistry, ImportConfig, Importer, RowResult};
use engine::{dnc_list, CampaignContact, CampaignInput, Center, Input};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use store::{NewContact, Store};

use crate::auth::{Caller, Role};
use crate::body::ApiJson;
use crate::campaign_settings::CampaignSettings;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::time::now;

/// Bytes of CSV one upload may carry.
pub const CSV_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Rows one upload may carry (all are held until the whole file has been read).
pub const CSV_ROWS_MAX: u64 = 100_000;
/// Row errors listed in the report; the counts cover all of them.
pub const REPORT_ERRORS_MAX: usize = 1_000;
/// Contacts sent to the engine per request.
const ENGINE_BATCH_MAX: usize = 10_000;
/// Width of one bucket of the progress series.
const SERIES_BUCKET_MS: i64 = 60_000;
/// Buckets in the progress series (the last hour).
const SERIES_BUCKETS: i64 = 60;
/// Do-not-call numbers loaded to check an import against.
const DNC_CHECK_ROWS_MAX: i64 = 10_000;

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignBody {
    pub name: String,
    pub settings: CampaignSettings,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CampaignOut {
    pub id: i64,
    pub name: String,
    /// paused, running, stopped or finished.
    pub status: String,
    pub settings: Value,
    /// Contacts per status.
    pub counts: BTreeMap<String, i64>,
}

fn name_field(v: &str) -> ApiResult<()> {
    if v.trim().is_empty() || v.len() > 100 {
        return Err(ApiError::field("name", "1 to 100 characters"));
    }
    Ok(())
}

fn settings_of(row: &store::CampaignRow) -> ApiResult<CampaignSettings> {
    serde_json::from_value(row.settings.clone())
        .map_err(|e| ApiError::Internal(format!("campaign {} settings: {e}", row.id)))
}

async fn campaign_row(state: &AppState, id: i64) -> ApiResult<store::CampaignRow> {
    state.store.campaign(id).await?.ok_or(ApiError::NotFound("campaign"))
}

async fn check_queue(state: &AppState, settings: &CampaignSettings) -> ApiResult<()> {
    let queues = state.store.list_settings(store::SettingsTable::Queues).await?;
    if !queues.iter().any(|q| q.id == settings.queue_id) {
        return Err(ApiError::field("settings.queue_id", "no such queue"));
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", responses((status = 200, body = [CampaignOut]), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<CampaignOut>>> {
    caller.require(Role::Supervisor)?;
    let mut out = Vec::new();
    for row in state.store.list_campaigns().await? {
        let counts = state.store.contact_counts(row.id).await?;
        out.push(CampaignOut {
            id: row.id,
            name: row.name,
            status: row.status,
            settings: CampaignSettings::public(&row.settings),
            counts,
        });
    }
    Ok(Json(out))
}

#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = CampaignBody, responses((status = 201, description = "created, paused; body has the new id"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 409, description = "the name is taken"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CampaignBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(Role::Supervisor)?;
    name_field(&body.name)?;
    body.settings.to_setup(1)?;
    check_queue(&state, &body.settings).await?;
    let settings =
        serde_json::to_value(&body.settings).map_err(|e| ApiError::Internal(e.to_string()))?;
    let id = state.store.create_campaign(body.name.trim(), &settings, now().as_millis()).await?;
    let setup = body.settings.to_setup(id)?;
    let upsert = CampaignInput::Upsert { setup: Box::new(setup), state: CampaignState::Paused };
    state.engine.input(Input::Campaign(upsert)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = i64, Path, description = "campaign id")), responses((status = 200, body = CampaignOut), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no such campaign")))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<CampaignOut>> {
    caller.require(Role::Supervisor)?;
    let row = campaign_row(&state, id).await?;
    let counts = state.store.contact_counts(id).await?;
    let settings = CampaignSettings::public(&row.settings);
    Ok(Json(CampaignOut { id, name: row.name, status: row.status, settings, counts }))
}

#[utoipa::path(put, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = i64, Path, description = "campaign id")), request_body = CampaignBody, responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no such campaign"), (status = 409, description = "the campaign is running (pause it first), or the name is taken"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(mut body): ApiJson<CampaignBody>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Supervisor)?;
    name_field(&body.name)?;
    let row = campaign_row(&state, id).await?;
    body.settings.keep_secret(&row.settings);
    let setup = body.settings.to_setup(id)?;
    if row.status == "running" {
        return Err(ApiError::Conflict("pause the campaign before changing it".into()));
    }
    check_queue(&state, &body.settings).await?;
    let settings =
        serde_json::to_value(&body.settings).map_err(|e| ApiError::Internal(e.to_string()))?;
    state.store.update_campaign(id, body.name.trim(), &settings, now().as_millis()).await?;
    let stored = CampaignState::parse(&row.status).unwrap_or(CampaignState::Paused);
    let upsert = CampaignInput::Upsert { setup: Box::new(setup), state: stored };
    state.engine.input(Input::Campaign(upsert)).await?;
    Ok(Json(json!({ "id": id })))
}

#[utoipa::path(delete, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = i64, Path, description = "campaign id")), responses((status = 200, description = "deleted with its contacts"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no such campaign"), (status = 409, description = "the campaign is running or still has calls in progress")))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Supervisor)?;
    campaign_row(&state, id).await?;
    let cid = CampaignId(id as u64);
    match state.engine.input(Input::Campaign(CampaignInput::Remove(cid))).await {
        // Not in the engine (never pushed, or already removed): nothing to stop.
        Ok(()) | Err(ApiError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    state.store.delete_campaign(id).await?;
    Ok(Json(json!({ "ok": true })))
}

/// Column mapping of an upload, in the query string.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Header of the phone column (default `phone`).
    #[serde(default)]
    pub phone: Option<String>,
    /// Header of the name column.
    #[serde(default)]
    pub name: Option<String>,
    /// Header of an IANA time-zone column; the zone comes from the number otherwise.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Header of a language column (`en`, `ru`).
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RowErrorDto {
    /// Line of the file (the header is line 1).
    pub row: u64,
    pub column: Option<String>,
    /// bad_phone, duplicate, on_dnc, missing, bad_time_zone, ...
    pub kind: String,
    pub message: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: u64,
    pub imported: u64,
    pub rejected: u64,
    /// Rejected rows per reason.
    pub by_reason: BTreeMap<String, u64>,
    /// The first rejected rows, at most 1000.
    pub errors: Vec<RowErrorDto>,
    /// Set when the file could not be imported at all; nothing was stored then.
    pub aborted: Option<String>,
}

fn kind_name(kind: engine::dialer::RowErrorKind) -> String {
    // The Debug name in snake case: BadPhone -> bad_phone.
    let mut out = String::new();
    for (i, c) in format!("{kind:?}").chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

async fn dnc_registry(store: &Store, campaign: i64) -> ApiResult<DncRegistry> {
    let mut dnc = DncRegistry::new();
    for list in [None, Some(campaign)] {
        for row in store.dnc_list(Some(list), 0, DNC_CHECK_ROWS_MAX).await? {
            let Ok(phone) = PhoneNumber::from_e164_trusted(&row.phone) else { continue };
            let target = match list {
                None => DncList::Global,
                Some(c) => DncList::Campaign(engine::dialer::CampaignId(c as u64)),
            };
            let _ = dnc.add(target, &phone);
        }
    }
    Ok(dnc)
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/contacts", tag = "campaigns", params(("id" = i64, Path, description = "campaign id"), ImportQuery), request_body(content = String, content_type = "text/csv", description = "CSV with a header row; UTF-8; at most 32 MiB and 100000 rows"), responses((status = 200, body = ImportReport, description = "the per-row report; rows without errors were stored, unless `aborted` is set"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no such campaign"), (status = 409, description = "the campaign is stopped"), (status = 422, description = "the file is too large (error.field is body)")))]
pub(crate) async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<ImportQuery>,
    body: Body,
) -> ApiResult<Json<ImportReport>> {
    caller.require(Role::Supervisor)?;
    import_body(&state, id, &q, body).await.map(Json)
}

/// Imports a CSV body into a campaign, streaming it chunk by chunk.
async fn import_body(
    state: &AppState,
    id: i64,
    q: &ImportQuery,
    body: Body,
) -> ApiResult<ImportReport> {
    let row = campaign_row(state, id).await?;
    if row.status == CampaignState::Stopped.as_str() {
        return Err(ApiError::Conflict("the campaign is stopped".into()));
    }
    let settings = settings_of(&row)?;
    let required = settings.template()?.map(|(_, fields)| fields).unwrap_or_default();
    let mapping = ColumnMapping {
        phone: q.phone.clone().unwrap_or_else(|| "phone".into()),
        name: q.name.clone().filter(|s| !s.is_empty()),
        time_zone: q.time_zone.clone().filter(|s| !s.is_empty()),
        language: q.language.clone().filter(|s| !s.is_empty()),
        required,
    };
    for (name, v) in [("phone", Some(&mapping.phone)), ("name", mapping.name.as_ref())] {
        if v.is_some_and(|v| v.len() > 100) {
            return Err(ApiError::field(name, "at most 100 characters"));
        }
    }
    let dnc = dnc_registry(&state.store, id).await?;
    let mut importer = Importer::new(ImportConfig {
        campaign: engine::dialer::CampaignId(id as u64),
        default_region: settings.default_region.clone(),
        rows_max: CSV_ROWS_MAX,
        mapping,
    });
    // Streamed: each chunk is parsed as it arrives; only the parsed contacts are kept.
    let mut results: Vec<RowResult> = Vec::new();
    let mut stream = body.into_data_stream();
    let mut bytes = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("cannot read the body: {e}")))?;
        bytes = bytes.saturating_add(chunk.len());
        if bytes > CSV_BYTES_MAX {
            return Err(ApiError::field("body", "the file is larger than 32 MiB"));
        }
        importer.feed(&chunk, &dnc, &mut results);
    }
    let summary = importer.finish(&dnc, &mut results);
    let mut report = ImportReport {
        rows: summary.rows,
        imported: 0,
        rejected: summary.rejected,
        by_reason: summary.by_reason.iter().map(|(k, n)| (kind_name(*k), *n)).collect(),
        errors: Vec::new(),
        aborted: summary.aborted.as_ref().map(|e| e.to_string()),
    };
    let mut contacts = Vec::new();
    let mut phones = Vec::new();
    for r in results {
        match r {
            Ok(c) => {
                let fields: serde_json::Map<String, Value> =
                    c.fields.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
                phones.push((c.phone.clone(), c.tz));
                contacts.push(NewContact {
                    row_number: c.row as i64,
                    phone: c.phone.as_str().to_string(),
                    name: c.name.clone(),
                    time_zone: c.tz.name().to_string(),
                    language: c.language.clone(),
                    fields: Value::Object(fields),
                });
            }
            Err(e) if report.errors.len() < REPORT_ERRORS_MAX => report.errors.push(RowErrorDto {
                row: e.row,
                column: e.column.clone(),
                kind: kind_name(e.reason.kind()),
                message: e.to_string(),
            }),
            Err(_) => {}
        }
    }
    if report.aborted.is_some() {
        // All or nothing: a file that could not be read to its end leaves nothing behind.
        return Ok(report);
    }
    let t = now();
    let ids = state.store.insert_contacts(id, &contacts, t.as_millis()).await?;
    let mut fresh = Vec::new();
    for ((new, (phone, tz)), stored) in contacts.iter().zip(phones).zip(ids) {
        match stored {
            Some(cid) => fresh.push(CampaignContact {
                id: ContactId(cid as u64),
                phone,
                tz,
                attempts: 0,
                due_at: t,
            }),
            None => {
                report.rejected += 1;
                *report.by_reason.entry("duplicate".into()).or_default() += 1;
                if report.errors.len() < REPORT_ERRORS_MAX {
                    report.errors.push(RowErrorDto {
                        row: new.row_number as u64,
                        column: None,
                        kind: "duplicate".into(),
                        message: format!(
                            "row {}: the campaign already has this number",
                            new.row_number
                        ),
                    });
                }
            }
        }
    }
    report.imported = fresh.len() as u64;
    let cid = CampaignId(id as u64);
    while !fresh.is_empty() {
        let rest = fresh.split_off(fresh.len().min(ENGINE_BATCH_MAX));
        let batch = std::mem::replace(&mut fresh, rest);
        let add = CampaignInput::AddContacts { campaign: cid, contacts: batch };
        state.engine.input(Input::Campaign(add)).await?;
    }
    Ok(report)
}

/// Creates a paused campaign and imports `csv` into it (the demo's seed). Returns its id.
pub async fn seed_campaign(
    state: &AppState,
    name: &str,
    settings: CampaignSettings,
    csv: &'static str,
) -> ApiResult<(i64, u64)> {
    settings.to_setup(1)?;
    let value = serde_json::to_value(&settings).map_err(|e| ApiError::Internal(e.to_string()))?;
    let id = state.store.create_campaign(name, &value, now().as_millis()).await?;
    let setup = settings.to_setup(id)?;
    let upsert = CampaignInput::Upsert { setup: Box::new(setup), state: CampaignState::Paused };
    state.engine.input(Input::Campaign(upsert)).await?;
    let q = ImportQuery {
        phone: None,
        name: Some("name".into()),
        time_zone: Some("time_zone".into()),
        language: None,
    };
    let report = import_body(state, id, &q, Body::from(csv)).await?;
    Ok((id, report.imported))
}

async fn control(
    state: &AppState,
    id: i64,
    input: fn(CampaignId) -> CampaignInput,
) -> ApiResult<Json<Value>> {
    campaign_row(state, id).await?;
    state.engine.input(Input::Campaign(input(CampaignId(id as u64)))).await?;
    let row = campaign_row(state, id).await?;
    // The engine's state event may still be on its way to the store; its answer is current.
    let status = state
        .engine
        .call(move |c: &mut Center, _| c.campaign_live(CampaignId(id as u64)).map(|l| l.state))
        .await?
        .map_or(row.status, |s| s.as_str().to_string());
    Ok(Json(json!({ "id": id, "status": status })))
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/start", tag = "campaigns", params(("id" = i64, Path, description = "campaign id")), responses((status = 200, description = "running"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no such campaign"), (status = 409, description = "stopped, finished, or no contacts to call")))]
pub(crate) async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Supervisor)?;
    control(&state, id, CampaignInput::Resume).await
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/resume", tag = "campaigns", params(("id" = i64, Path, description = "campaign id")), responses((status = 200, description = "running"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no such campaign"), (status = 409, description = "stopped, finished, or no contacts to call")))]
pub(crate) async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Supervisor)?;
    control(&state, id, CampaignInput::Resume).await
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/pause", tag = "campaigns", params(("id" = i64, Path, description = "campaign id")), responses((status = 200, description = "paused; calls in progress finish"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no such campaign"), (status = 409, description = "stopped or finished")))]
pub(crate) async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Supervisor)?;
    control(&state, id, CampaignInput::Pause).await
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/stop", tag = "campaigns", params(("id" = i64, Path, description = "campaign id")), responses((status = 200, description = "stopped for good"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no such campaign")))]
pub(crate) async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Supervisor)?;
    control(&state, id, CampaignInput::Stop).await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Kpis {
    /// Abandon rate: abandoned / live-answered.
    pub acr: Option<f64>,
    /// Average answer delay: mean ms from the person's answer to the agent.
    pub aad_ms: Option<f64>,
    /// Answer-seizure ratio: answered / dialed.
    pub asr: Option<f64>,
    /// Average conversation duration in ms.
    pub acd_ms: Option<f64>,
    /// Agents of the queue talking on this campaign / (talking + free), now.
    pub occupancy: Option<f64>,
    /// Contacts reached (or messages delivered) in the last hour.
    pub contacts_per_hour: u64,
    /// Dials per minute over the last 5 minutes.
    pub dial_rate_per_min: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SeriesPoint {
    /// Start of the minute, ms since the epoch.
    pub at: i64,
    pub dials: u64,
    pub answered: u64,
    pub abandoned: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub id: i64,
    pub status: String,
    pub total: i64,
    /// Contacts per status.
    pub counts: BTreeMap<String, i64>,
    pub dials: i64,
    pub outstanding: u64,
    pub waiting: u64,
    pub talking: u64,
    pub agents_free: u64,
    pub kpis: Kpis,
    /// The last hour, one point per minute.
    pub series: Vec<SeriesPoint>,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}/progress", tag = "campaigns", params(("id" = i64, Path, description = "campaign id")), responses((status = 200, body = Progress), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no such campaign")))]
pub(crate) async fn progress(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Progress>> {
    caller.require(Role::Supervisor)?;
    let row = campaign_row(&state, id).await?;
    let counts = state.store.contact_counts(id).await?;
    let figures = state.store.call_figures(id, 0).await?;
    let t = now().as_millis();
    let start = (t / SERIES_BUCKET_MS - (SERIES_BUCKETS - 1)) * SERIES_BUCKET_MS;
    let calls = state.store.call_series(id, start).await?;
    let mut series: Vec<SeriesPoint> = (0..SERIES_BUCKETS)
        .map(|i| SeriesPoint {
            at: start + i * SERIES_BUCKET_MS,
            dials: 0,
            answered: 0,
            abandoned: 0,
        })
        .collect();
    let (mut reached_hour, mut dials_5min) = (0u64, 0u64);
    for (at, result) in &calls {
        let i = ((at - start) / SERIES_BUCKET_MS).clamp(0, SERIES_BUCKETS - 1) as usize;
        series[i].dials += 1;
        match result.as_deref() {
            Some("answered") | Some("delivered") => {
                series[i].answered += 1;
                reached_hour += 1;
            }
            Some("abandoned") => series[i].abandoned += 1,
            _ => {}
        }
        if *at >= t - 5 * SERIES_BUCKET_MS {
            dials_5min += 1;
        }
    }
    let live =
        state.engine.call(move |c: &mut Center, _| c.campaign_live(CampaignId(id as u64))).await?;
    let (outstanding, waiting, talking, free) = live
        .map(|l| (l.outstanding as u64, l.waiting as u64, l.talking as u64, l.agents_free as u64))
        .unwrap_or_default();
    let robocall = settings_of(&row).is_ok_and(|s| s.mode == "robocall");
    let status = live.map_or(row.status, |l| l.state.as_str().to_string());
    let occupancy =
        (!robocall && talking + free > 0).then(|| talking as f64 / (talking + free) as f64);
    Ok(Json(Progress {
        id,
        status,
        total: counts.values().sum(),
        counts,
        dials: figures.dials,
        outstanding,
        waiting,
        talking,
        agents_free: free,
        kpis: Kpis {
            acr: ratio(figures.abandoned, figures.answered),
            aad_ms: ratio(figures.answer_delay_ms_sum, figures.bridged),
            asr: ratio(figures.answered, figures.dials),
            acd_ms: ratio(figures.talk_ms_sum, figures.talks_ended),
            occupancy,
            contacts_per_hour: reached_hour,
            dial_rate_per_min: dials_5min as f64 / 5.0,
        },
        series,
    }))
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DncBody {
    /// E.164, or national with the campaign's region.
    pub phone: String,
    /// The campaign's own list; absent for the global list.
    #[serde(default)]
    pub campaign_id: Option<i64>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DncQuery {
    /// One campaign's list; the global list when absent (`all=true`: every list).
    #[serde(default)]
    pub campaign_id: Option<i64>,
    #[serde(default)]
    pub all: Option<bool>,
    #[serde(default)]
    pub offset: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
}

fn dnc_phone(body: &DncBody) -> ApiResult<PhoneNumber> {
    if body.phone.len() > 40 {
        return Err(ApiError::field("phone", "at most 40 characters"));
    }
    PhoneNumber::parse(&body.phone, "GB")
        .map_err(|_| ApiError::field("phone", "an E.164 number such as +447700900123"))
}

async fn dnc_campaign(state: &AppState, campaign: Option<i64>) -> ApiResult<()> {
    if let Some(c) = campaign {
        if state.store.campaign(c).await?.is_none() {
            return Err(ApiError::field("campaign_id", "no such campaign"));
        }
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/dnc", tag = "campaigns", params(DncQuery), responses((status = 200, description = "numbers: [{phone, campaign_id, created_at}]"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 422, description = "invalid query")))]
pub(crate) async fn dnc_list_h(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<DncQuery>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Supervisor)?;
    let list = if q.all == Some(true) { None } else { Some(q.campaign_id) };
    let rows = state
        .store
        .dnc_list(list, q.offset.unwrap_or(0), q.limit.unwrap_or(100).clamp(0, 1_000))
        .await?;
    Ok(Json(json!(rows
        .into_iter()
        .map(|r| {
            json!({ "phone": r.phone, "campaign_id": r.campaign_id, "created_at": r.created_at })
        })
        .collect::<Vec<_>>())))
}

#[utoipa::path(post, path = "/api/v1/dnc", tag = "campaigns", request_body = DncBody, responses((status = 200, description = "listed (added is false if it already was)"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn dnc_add(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<DncBody>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Supervisor)?;
    let phone = dnc_phone(&body)?;
    dnc_campaign(&state, body.campaign_id).await?;
    let added = state.store.dnc_add(body.campaign_id, phone.as_str(), now().as_millis()).await?;
    let list = dnc_list(body.campaign_id.map(|c| CampaignId(c as u64)));
    state.engine.input(Input::Campaign(CampaignInput::DncAdd { list, number: phone })).await?;
    Ok(Json(json!({ "added": added })))
}

#[utoipa::path(post, path = "/api/v1/dnc/remove", tag = "campaigns", request_body = DncBody, responses((status = 200, description = "removed is false if it was not listed"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn dnc_remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<DncBody>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Supervisor)?;
    let phone = dnc_phone(&body)?;
    dnc_campaign(&state, body.campaign_id).await?;
    let removed = state.store.dnc_remove(body.campaign_id, phone.as_str()).await?;
    let list = dnc_list(body.campaign_id.map(|c| CampaignId(c as u64)));
    state.engine.input(Input::Campaign(CampaignInput::DncRemove { list, number: phone })).await?;
    Ok(Json(json!({ "removed": removed })))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CampaignCard {
    pub call: u64,
    pub campaign_id: i64,
    pub campaign_name: String,
    /// preview, dialing, answered, bridged or message.
    pub phase: String,
    pub attempt: u32,
    pub phone: String,
    pub name: Option<String>,
    /// Every column of the contact's CSV row.
    pub fields: Value,
    /// The campaign's script, with the contact's fields filled in where they fit.
    pub script: Option<String>,
    /// The robocall message (or template text), for reference.
    pub message: Option<String>,
    /// What the agent may record once the call ended (phase `wrap_up`): the dispositions of
    /// the campaign's queue.
    pub dispositions: Vec<String>,
}

/// The agent's disposition of an ended campaign call.
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignWrapUp {
    /// One of the card's `dispositions`.
    pub disposition: String,
    #[serde(default)]
    pub notes: String,
}

/// The dispositions of the campaign's queue.
async fn queue_dispositions(
    state: &AppState,
    settings: &CampaignSettings,
) -> ApiResult<Vec<String>> {
    let row = state.store.settings(store::SettingsTable::Queues, settings.queue_id).await?;
    Ok(row
        .and_then(|q| serde_json::from_value::<crate::settings::QueueSettings>(q.settings).ok())
        .map(|q| q.dispositions)
        .unwrap_or_default())
}

fn fill(text: &str, fields: &Value) -> String {
    let mut out = text.to_string();
    if let Value::Object(map) = fields {
        for (k, v) in map {
            if let Some(v) = v.as_str() {
                out = out.replace(&format!("{{{k}}}"), v);
            }
        }
    }
    out
}

#[utoipa::path(get, path = "/api/v1/agent/campaign-card", tag = "agent", responses((status = 200, description = "the agent's campaign card (CampaignCard), or null"), (status = 401, description = "not signed in"), (status = 403, description = "an API token is not an agent")))]
pub(crate) async fn card(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Option<CampaignCard>>> {
    caller.require(Role::Agent)?;
    let agent = AgentId(caller.agent_id()? as u64);
    let info = state
        .engine
        .call(move |c: &mut Center, _| {
            c.campaign_call_of(agent).or_else(|| c.campaign_wrap_up_of(agent))
        })
        .await?;
    let Some(info) = info else { return Ok(Json(None)) };
    let Some(contact) = state.store.contact(info.contact.0 as i64).await? else {
        return Ok(Json(None));
    };
    let row = campaign_row(&state, info.campaign.0 as i64).await?;
    let settings = settings_of(&row).ok();
    // Mapped columns (name, phone) fill placeholders too.
    let mut all = contact.fields.clone();
    if let Value::Object(map) = &mut all {
        map.entry("phone").or_insert_with(|| Value::String(contact.phone.clone()));
        if let Some(name) = &contact.name {
            map.entry("name").or_insert_with(|| Value::String(name.clone()));
        }
    }
    let script = settings.as_ref().and_then(|s| s.script.as_deref()).map(|s| fill(s, &all));
    let message = settings
        .as_ref()
        .and_then(|s| s.template().ok().flatten())
        .map(|(text, _)| fill(&text, &all));
    let dispositions = match &settings {
        Some(s) => queue_dispositions(&state, s).await?,
        None => Vec::new(),
    };
    Ok(Json(Some(CampaignCard {
        call: info.call.0,
        campaign_id: row.id,
        campaign_name: row.name,
        phase: info.phase.as_str().to_string(),
        attempt: info.attempt,
        phone: contact.phone,
        name: contact.name,
        fields: contact.fields,
        script,
        message,
        dispositions,
    })))
}

#[utoipa::path(post, path = "/api/v1/agent/campaign-card/{call}/wrapup", tag = "agent", params(("call" = u64, Path, description = "the ended call's id")), request_body = CampaignWrapUp, responses((status = 200, description = "stored; after-call work ends"), (status = 401, description = "not signed in"), (status = 403, description = "an API token is not an agent"), (status = 409, description = "not a conversation of this agent that has ended"), (status = 422, description = "invalid field (named in error.field)")))]
pub(crate) async fn card_wrap_up(
    State(state): State<AppState>,
    caller: Caller,
    Path(call): Path<u64>,
    ApiJson(body): ApiJson<CampaignWrapUp>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Agent)?;
    let agent = caller.agent_id()?;
    if body.notes.len() > 4_000 {
        return Err(ApiError::field("notes", "at most 4000 bytes"));
    }
    let id = i64::try_from(call).map_err(|_| ApiError::NotFound("campaign call"))?;
    let Some(campaign) = state.store.campaign_call_wrappable(id, agent).await? else {
        return Err(ApiError::Conflict("not an ended conversation of yours".into()));
    };
    let settings = settings_of(&campaign_row(&state, campaign).await?)?;
    let dispositions = queue_dispositions(&state, &settings).await?;
    if !dispositions.contains(&body.disposition) {
        return Err(ApiError::field(
            "disposition",
            format!("use one of {}", dispositions.join(", ")),
        ));
    }
    // Committed before the agent is told, and before after-call work ends in the engine.
    state.store.save_campaign_wrap_up(id, agent, &body.disposition, &body.notes).await?;
    let done =
        CampaignInput::WrapUpDone { agent: AgentId(agent as u64), call: InteractionId(call) };
    if let Err(e) = state.engine.input(Input::Campaign(done)).await {
        // A second disposition of the same call updates the stored one only.
        tracing::debug!(error = %e, "campaign wrap-up after the engine moved on");
    }
    Ok(Json(json!({ "ok": true })))
}

#[derive(Clone, Copy)]
enum CardAction {
    Dial,
    Skip,
    Hangup,
}

async fn preview(
    state: &AppState,
    caller: &Caller,
    call: u64,
    action: CardAction,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Agent)?;
    let agent = AgentId(caller.agent_id()? as u64);
    let call = InteractionId(call);
    let input = match action {
        CardAction::Dial => CampaignInput::PreviewDial { agent, call },
        CardAction::Skip => CampaignInput::PreviewSkip { agent, call },
        CardAction::Hangup => CampaignInput::Hangup { agent, call },
    };
    state.engine.input(Input::Campaign(input)).await?;
    Ok(Json(json!({ "ok": true })))
}

#[utoipa::path(post, path = "/api/v1/agent/campaign-card/{call}/dial", tag = "agent", params(("call" = u64, Path, description = "the card's call id")), responses((status = 200, description = "dialing"), (status = 401, description = "not signed in"), (status = 403, description = "an API token is not an agent"), (status = 409, description = "not this agent's preview card")))]
pub(crate) async fn preview_dial(
    State(state): State<AppState>,
    caller: Caller,
    Path(call): Path<u64>,
) -> ApiResult<Json<Value>> {
    preview(&state, &caller, call, CardAction::Dial).await
}

#[utoipa::path(post, path = "/api/v1/agent/campaign-card/{call}/skip", tag = "agent", params(("call" = u64, Path, description = "the card's call id")), responses((status = 200, description = "skipped"), (status = 401, description = "not signed in"), (status = 403, description = "an API token is not an agent"), (status = 409, description = "not this agent's preview card")))]
pub(crate) async fn preview_skip(
    State(state): State<AppState>,
    caller: Caller,
    Path(call): Path<u64>,
) -> ApiResult<Json<Value>> {
    preview(&state, &caller, call, CardAction::Skip).await
}

#[utoipa::path(post, path = "/api/v1/agent/campaign-card/{call}/hangup", tag = "agent", params(("call" = u64, Path, description = "the card's call id")), responses((status = 200, description = "ended"), (status = 401, description = "not signed in"), (status = 403, description = "an API token is not an agent"), (status = 409, description = "not this agent's call")))]
pub(crate) async fn card_hangup(
    State(state): State<AppState>,
    caller: Caller,
    Path(call): Path<u64>,
) -> ApiResult<Json<Value>> {
    preview(&state, &caller, call, CardAction::Hangup).await
}

/// Paging of the contact, call and action views.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Rows with an id above this one (0: from the start).
    #[serde(default)]
    pub after: Option<i64>,
    /// Rows at most (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Calls: only this contact's.
    #[serde(default)]
    pub contact: Option<i64>,
}

impl PageQuery {
    fn limit(&self) -> i64 {
        self.limit.unwrap_or(100).clamp(0, 1_000)
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ContactOut {
    pub id: i64,
    /// Line of the uploaded file.
    pub row: i64,
    pub phone: String,
    pub name: Option<String>,
    pub time_zone: String,
    pub language: Option<String>,
    /// The CSV row's columns.
    pub fields: Value,
    /// pending, calling, reached, delivered, confirmed, survey_answered, opted_out,
    /// wrong_number, message_left, no_answer, failed, dnc, skipped or no_window.
    pub status: String,
    /// The campaign's label for the final status, if its actions set one.
    pub label: Option<String>,
    /// The robocall answer by key: confirm, opt_out, wrong_number, agent, or a survey score.
    pub answer: Option<String>,
    pub attempts: i64,
    /// Next dial, ms since the epoch (pending contacts).
    pub next_at: i64,
    pub last_result: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CallOut {
    pub id: i64,
    pub contact_id: i64,
    pub attempt: i64,
    pub agent_id: Option<i64>,
    pub dialed_at: i64,
    /// A person answered.
    pub answered_at: Option<i64>,
    /// An answering machine answered.
    pub machine_at: Option<i64>,
    pub bridged_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// answered, delivered, message_left, machine, abandoned, busy, no_answer, hung_up_early
    /// (hung up while machine detection listened), failed, agent_failed or cancelled.
    pub result: Option<String>,
    /// Robocall keys pressed, in order ("21").
    pub keys: Option<String>,
    /// The deciding answer of those keys.
    pub answer: Option<String>,
    /// The agent's disposition and notes (agent-handled calls).
    pub disposition: Option<String>,
    pub notes: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ActionOut {
    pub id: i64,
    pub contact_id: i64,
    /// sms or webhook.
    pub kind: String,
    /// The contact's final status that queued it.
    pub outcome: String,
    /// pending, sent or failed.
    pub status: String,
    pub attempts: i64,
    pub next_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub done_at: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}/contacts", tag = "campaigns", params(("id" = i64, Path, description = "campaign id"), PageQuery), responses((status = 200, body = [ContactOut]), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no such campaign"), (status = 422, description = "invalid query")))]
pub(crate) async fn contacts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Vec<ContactOut>>> {
    caller.require(Role::Supervisor)?;
    campaign_row(&state, id).await?;
    let rows = state.store.list_contacts(id, q.after.unwrap_or(0), q.limit()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| ContactOut {
                id: c.id,
                row: c.row_number,
                phone: c.phone,
                name: c.name,
                time_zone: c.time_zone,
                language: c.language,
                fields: c.fields,
                status: c.status,
                label: c.label,
                answer: c.answer,
                attempts: c.attempts,
                next_at: c.next_at,
                last_result: c.last_result,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}/calls", tag = "campaigns", params(("id" = i64, Path, description = "campaign id"), PageQuery), responses((status = 200, body = [CallOut]), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no such campaign"), (status = 422, description = "invalid query")))]
pub(crate) async fn calls(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Vec<CallOut>>> {
    caller.require(Role::Supervisor)?;
    campaign_row(&state, id).await?;
    let rows = state.store.list_calls(id, q.contact, q.after.unwrap_or(0), q.limit()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| CallOut {
                id: c.id,
                contact_id: c.contact_id,
                attempt: c.attempt,
                agent_id: c.agent_id,
                dialed_at: c.dialed_at,
                answered_at: c.answered_at,
                machine_at: c.machine_at,
                bridged_at: c.bridged_at,
                ended_at: c.ended_at,
                result: c.result,
                keys: c.key_presses,
                answer: c.answer,
                disposition: c.disposition,
                notes: c.notes,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}/actions", tag = "campaigns", params(("id" = i64, Path, description = "campaign id"), PageQuery), responses((status = 200, body = [ActionOut]), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no such campaign"), (status = 422, description = "invalid query")))]
pub(crate) async fn actions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Vec<ActionOut>>> {
    caller.require(Role::Supervisor)?;
    campaign_row(&state, id).await?;
    let rows = state.store.list_actions(id, q.after.unwrap_or(0), q.limit()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|a| ActionOut {
                id: a.id,
                contact_id: a.contact_id,
                kind: a.kind,
                outcome: a.outcome,
                status: a.status,
                attempts: a.attempts,
                next_at: a.next_at,
                last_error: a.last_error,
                created_at: a.created_at,
                done_at: a.done_at,
            })
            .collect(),
    ))
}

/// Every route but the upload (which has its own body limit, see [`upload_routes`]).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/campaigns", get(list).post(create))
        .route("/api/v1/campaigns/{id}", get(get_one).put(update).delete(delete))
        .route("/api/v1/campaigns/{id}/start", post(start))
        .route("/api/v1/campaigns/{id}/pause", post(pause))
        .route("/api/v1/campaigns/{id}/resume", post(resume))
        .route("/api/v1/campaigns/{id}/stop", post(stop))
        .route("/api/v1/campaigns/{id}/progress", get(progress))
        .route("/api/v1/campaigns/{id}/calls", get(calls))
        .route("/api/v1/campaigns/{id}/actions", get(actions))
        .route("/api/v1/dnc", get(dnc_list_h).post(dnc_add))
        .route("/api/v1/dnc/remove", post(dnc_remove))
        .route("/api/v1/agent/campaign-card", get(card))
        .route("/api/v1/agent/campaign-card/{call}/dial", post(preview_dial))
        .route("/api/v1/agent/campaign-card/{call}/skip", post(preview_skip))
        .route("/api/v1/agent/campaign-card/{call}/hangup", post(card_hangup))
        .route("/api/v1/agent/campaign-card/{call}/wrapup", post(card_wrap_up))
}

/// The CSV upload: bounded by [`CSV_BYTES_MAX`], counted while streaming.
pub(crate) fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/campaigns/{id}/contacts", get(contacts).post(import))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(CSV_BYTES_MAX + 1))
}

/// Feeds the engine every campaign the store knows, with its open contacts and the
/// do-not-call lists. Runs before the API accepts requests.
pub async fn rebuild_campaigns(
    center: &mut Center,
    store: &Store,
    now: Timestamp,
) -> Result<usize, ApiError> {
    store.recover_campaign_calls(now.as_millis()).await?;
    let mut offset = 0;
    loop {
        let rows = store.dnc_list(None, offset, DNC_CHECK_ROWS_MAX).await?;
        if rows.is_empty() {
            break;
        }
        offset += rows.len() as i64;
        for r in rows {
            let Ok(number) = PhoneNumber::from_e164_trusted(&r.phone) else { continue };
            let list = dnc_list(r.campaign_id.map(|c| CampaignId(c as u64)));
            center.handle_input(now, Input::Campaign(CampaignInput::DncAdd { list, number }))?;
        }
    }
    let mut contacts_total = 0;
    for row in store.list_campaigns().await? {
        let Some(state) = CampaignState::parse(&row.status) else { continue };
        // A finished campaign is kept: new contacts can make it run again.
        if state == CampaignState::Stopped {
            continue;
        }
        let setup = match settings_of(&row).and_then(|s| s.to_setup(row.id)) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(id = row.id, error = %e, "stored campaign is invalid; skipped");
                continue;
            }
        };
        // Paused until its contacts are in: a running campaign without contacts finishes.
        let upsert = CampaignInput::Upsert { setup: Box::new(setup), state: CampaignState::Paused };
        if let Err(e) = center.handle_input(now, Input::Campaign(upsert)) {
            tracing::error!(id = row.id, error = %e, "could not rebuild campaign");
            continue;
        }
        let open = store.open_contacts(row.id, engine::CAMPAIGN_CONTACTS_MAX as i64).await?;
        contacts_total += open.len();
        let contacts = open
            .into_iter()
            .filter_map(|c| {
                let phone = PhoneNumber::from_e164_trusted(&c.phone).ok()?;
                let tz = c.time_zone.parse().ok()?;
                Some(CampaignContact {
                    id: ContactId(c.id as u64),
                    phone,
                    tz,
                    attempts: u32::try_from(c.attempts).unwrap_or(u32::MAX),
                    due_at: Timestamp::from_millis(c.next_at).max(now),
                })
            })
            .collect();
        let cid = CampaignId(row.id as u64);
        let add = CampaignInput::AddContacts { campaign: cid, contacts };
        center.handle_input(now, Input::Campaign(add))?;
        if state == CampaignState::Running {
            let resume = Input::Campaign(CampaignInput::Resume(cid));
            if let Err(e) = center.handle_input(now, resume) {
                tracing::warn!(id = row.id, error = %e, "campaign left paused");
            }
        }
    }
    Ok(contacts_total)
}
