//! Authentication (argon2id passwords, session cookies, bearer tokens), roles and CSRF.

use std::net::SocketAddr;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::body::ApiJson;
use crate::error::{ApiError, ApiResult};
use crate::metrics::inc;
use crate::state::AppState;
use crate::time::now;

const SESSION_COOKIE: &str = "sb_session";
const CSRF_COOKIE: &str = "sb_csrf";
const CSRF_HEADER: &str = "x-csrf-token";
/// Sessions last a working day and a bit.
const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "agent" => Some(Role::Agent),
            "supervisor" => Some(Role::Supervisor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing failed: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

pub(crate) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UserDto {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub role: String,
}

/// Who is calling: a signed-in user (cookie) or an integration (bearer token).
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: Option<UserDto>,
    pub role: Role,
}

impl Caller {
    pub fn require(&self, role: Role) -> ApiResult<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("requires the {} role", role.as_str())))
        }
    }

    /// The caller as an agent: signed in with at least the agent role.
    pub fn agent_id(&self) -> ApiResult<i64> {
        self.user
            .as_ref()
            .map(|u| u.id)
            .ok_or_else(|| ApiError::Forbidden("an API token is not an agent".into()))
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then(|| v.to_string())
        })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(auth) = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
            let token = auth.strip_prefix("Bearer ").ok_or(ApiError::Unauthenticated)?;
            let row = state
                .store
                .token_by_hash(&sha256_hex(token.trim()))
                .await?
                .ok_or(ApiError::Unauthenticated)?;
            let role = Role::parse(&row.role).ok_or(ApiError::Unauthenticated)?;
            return Ok(Caller { user: None, role });
        }
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(ApiError::Unauthenticated)?;
        let session = state
            .store
            .session(&sha256_hex(&token), now().as_millis())
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if parts.method != Method::GET && parts.method != Method::HEAD {
            // Cookie-authenticated writes must prove they come from our own pages.
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if sent != session.csrf {
                return Err(ApiError::Forbidden("missing or wrong X-CSRF-Token header".into()));
            }
        }
        let user = state.store.user(session.user_id).await?.ok_or(ApiError::Unauthenticated)?;
        let role = Role::parse(&user.role).ok_or(ApiError::Unauthenticated)?;
        Ok(Caller {
            user: Some(UserDto {
                id: user.id,
                login: user.login,
                name: user.name,
                role: user.role,
            }),
            role,
        })
    }
}

/// The client's address, when the server was started with connect info.
pub(crate) struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientIp(ip))
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionResponse {
    pub user: UserDto,
    pub csrf_token: String,
}

fn set_cookie(response: &mut Response, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().append(SET_COOKIE, v);
    }
}

/// Signs in and sets the session and CSRF cookies.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginRequest,
    responses((status = 200, body = SessionResponse), (status = 401, description = "wrong login or password")))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    state.limits.check_login(&ip)?;
    if req.login.len() > 100 || req.password.len() > 200 {
        return Err(ApiError::field("login", "too long"));
    }
    let user = state.store.user_by_login(&req.login).await?;
    let Some(user) = user.filter(|u| verify_password(&req.password, &u.password_hash)) else {
        inc(&state.metrics.counters().logins_failed);
        return Err(ApiError::Unauthenticated);
    };
    let token = random_token(32);
    let csrf = random_token(16);
    let expires = now().as_millis() + SESSION_TTL_MS;
    state.store.create_session(&sha256_hex(&token), user.id, &csrf, expires).await?;
    let body = SessionResponse {
        user: UserDto { id: user.id, login: user.login, name: user.name, role: user.role },
        csrf_token: csrf.clone(),
    };
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let max_age = SESSION_TTL_MS / 1000;
    let mut response = Json(body).into_response();
    set_cookie(&mut response, format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"));
    set_cookie(
        &mut response,
        format!("{CSRF_COOKIE}={csrf}; Path=/; SameSite=Strict; Max-Age={max_age}{secure}"),
    );
    Ok(response)
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "session", responses((status = 200, description = "done"), (status = 401, description = "not signed in"), (status = 403, description = "requires the signed-in user role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let _ = caller;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.store.delete_session(&sha256_hex(&token)).await?;
    }
    let mut response = Json(serde_json::json!({ "ok": true })).into_response();
    set_cookie(
        &mut response,
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    set_cookie(&mut response, format!("{CSRF_COOKIE}=; Path=/; SameSite=Strict; Max-Age=0"));
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "session", responses((status = 200, body = SessionResponse), (status = 401, description = "not signed in"), (status = 403, description = "requires the signed-in user role, or a missing X-CSRF-Token on a cookie write")))]
pub(crate) async fn me(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Json<SessionResponse>> {
    let user =
        caller.user.ok_or_else(|| ApiError::Forbidden("an API token has no session".into()))?;
    let token = cookie(&headers, SESSION_COOKIE).ok_or(ApiError::Unauthenticated)?;
    let session = state
        .store
        .session(&sha256_hex(&token), now().as_millis())
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    Ok(Json(SessionResponse { user, csrf_token: session.csrf }))
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
}
