//! A robocall campaign's message as an uploaded recording instead of TTS. The WAV (any rate,
//! 8/16-bit PCM, mono or stereo) is checked as the player would load it, then stored in the
//! SIP prompts directory as `campaign-<id>-<digest>.wav`: the digest in the name keeps a
//! replaced recording from being served from the player's cache under the old name.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::{Json, Router};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Largest recording accepted (about 30 min of 16-bit 8 kHz mono).
pub const RECORDING_UPLOAD_BYTES_MAX: usize = 32 * 1024 * 1024;

/// The stored recording's file name for `campaign`, if it has one.
pub async fn recording_name(dir: &std::path::Path, campaign: i64) -> Option<String> {
    let prefix = format!("campaign-{campaign}-");
    let mut entries = tokio::fs::read_dir(dir).await.ok()?;
    while let Ok(Some(entry)) = entries.next_entry().await {
        let Ok(name) = entry.file_name().into_string() else { continue };
        if name.starts_with(&prefix) && name.ends_with(".wav") {
            return Some(name);
        }
    }
    None
}

fn prompts_dir(state: &AppState) -> ApiResult<&std::path::Path> {
    state.prompts_dir.as_deref().ok_or_else(|| {
        ApiError::Conflict("no prompts directory: set telephony.sip.prompts_dir".into())
    })
}

#[utoipa::path(put, path = "/api/v1/campaigns/{id}/recording", tag = "campaigns", params(("id" = i64, Path, description = "campaign id")), request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "a PCM WAV file (any sample rate, up to 15 min); any content type is accepted"), responses((status = 200, description = "stored; robocalls of this campaign play it instead of TTS"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no such campaign"), (status = 409, description = "no prompts directory configured"), (status = 413, description = "larger than 32 MiB"), (status = 422, description = "not a usable WAV (error.field = body)")))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Supervisor)?;
    state.store.campaign(id).await?.ok_or(ApiError::NotFound("campaign"))?;
    let dir = prompts_dir(&state)?.to_path_buf();
    let prompt = media::prompt::Prompt::from_wav(&body, &media::wav::WavLimits::PROMPT)
        .map_err(|e| ApiError::field("body", format!("not a usable WAV recording: {e}")))?;
    let digest = hex::encode(&Sha256::digest(&body)[..6]);
    let name = format!("campaign-{id}-{digest}.wav");
    let old = recording_name(&dir, id).await;
    // Written whole under a temporary name, then renamed: a robocall never reads half a file.
    let io = |e: std::io::Error| ApiError::Internal(format!("storing the recording: {e}"));
    tokio::fs::create_dir_all(&dir).await.map_err(io)?;
    let partial = dir.join(format!(".{name}.part"));
    tokio::fs::write(&partial, &body).await.map_err(io)?;
    tokio::fs::rename(&partial, dir.join(&name)).await.map_err(io)?;
    if let Some(old) = old.filter(|o| *o != name) {
        let _ = tokio::fs::remove_file(dir.join(old)).await;
    }
    Ok(Json(json!({ "ok": true, "prompt": name, "duration_ms": prompt.duration_ms() })))
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}/recording", tag = "campaigns", params(("id" = i64, Path, description = "campaign id")), responses((status = 200, description = "the campaign's recorded message", content_type = "audio/wav"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no such campaign, or no recording")))]
pub(crate) async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    caller.require(Role::Supervisor)?;
    let dir = state.prompts_dir.as_deref().ok_or(ApiError::NotFound("recording"))?;
    let name = recording_name(dir, id).await.ok_or(ApiError::NotFound("recording"))?;
    let bytes =
        tokio::fs::read(dir.join(name)).await.map_err(|_| ApiError::NotFound("recording"))?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], bytes).into_response())
}

#[utoipa::path(delete, path = "/api/v1/campaigns/{id}/recording", tag = "campaigns", params(("id" = i64, Path, description = "campaign id")), responses((status = 200, description = "removed; robocalls speak the message by TTS again"), (status = 401, description = "not signed in"), (status = 403, description = "requires the supervisor role"), (status = 404, description = "no recording")))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Supervisor)?;
    let dir = state.prompts_dir.as_deref().ok_or(ApiError::NotFound("recording"))?;
    let name = recording_name(dir, id).await.ok_or(ApiError::NotFound("recording"))?;
    tokio::fs::remove_file(dir.join(name))
        .await
        .map_err(|e| ApiError::Internal(format!("removing the recording: {e}")))?;
    Ok(Json(json!({ "ok": true })))
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/campaigns/{id}/recording", put(upload).get(download).delete(remove))
        .layer(DefaultBodyLimit::max(RECORDING_UPLOAD_BYTES_MAX))
}
