//! The one mapping from errors to HTTP statuses and JSON bodies.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// One input field is wrong.
    #[error("{field}: {message}")]
    Field { field: String, message: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("not signed in")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("too many requests")]
    RateLimited { retry_after_s: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Field { field: field.to_string(), message: message.into() }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Field { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let field = match &self {
            ApiError::Field { field, .. } => Some(field.clone()),
            _ => None,
        };
        let body =
            json!({ "error": { "code": code, "message": self.to_string(), "field": field } });
        let mut response = (status, Json(body)).into_response();
        if let ApiError::RateLimited { retry_after_s } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_s.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> Self {
        match e {
            store::StoreError::Conflict(what) => {
                ApiError::Conflict(format!("{what} already exists"))
            }
            store::StoreError::NotFound(what) => ApiError::NotFound(what),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<engine::EngineError> for ApiError {
    fn from(e: engine::EngineError) -> Self {
        use engine::EngineError as E;
        match e {
            E::TooManyCallbacks => ApiError::Unavailable(e.to_string()),
            E::Routing(routing::RoutingError::QueueFull(_)) => ApiError::Unavailable(e.to_string()),
            E::NotYourOffer(_) | E::NotYourInteraction(_) | E::NotWrappingUp(_) => {
                ApiError::Conflict(e.to_string())
            }
            E::UnknownAgent(_) => ApiError::NotFound("agent"),
            E::Campaign(engine::CampaignError::Unknown(_)) => ApiError::NotFound("campaign"),
            E::Campaign(engine::CampaignError::TooMany | engine::CampaignError::DncFull) => {
                ApiError::Unavailable(e.to_string())
            }
            E::Campaign(engine::CampaignError::TooManyContacts) => {
                ApiError::field("body", e.to_string())
            }
            E::Campaign(_) => ApiError::Conflict(e.to_string()),
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
