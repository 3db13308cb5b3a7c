//! JSON request bodies whose errors name the field, in the API's error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// Like `axum::Json`, but a body that does not fit is a 422 naming the field path
/// (`callback.max_attempts`), or a 400 when it is not JSON at all.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("cannot read the body: {e}")))?;
        parse(&bytes).map(ApiJson)
    }
}

/// A body made of a few top-level keys (`H`, such as `name`) and settings (`T`). The keys are
/// split off before `T` is parsed, so errors inside `T` keep their full path (parsing through
/// `#[serde(flatten)]` would lose it).
pub struct SplitJson<H, T>(pub H, pub T);

/// The top-level keys of a [`SplitJson`] body.
pub trait Head: DeserializeOwned {
    const KEYS: &'static [&'static str];
}

impl<S: Send + Sync, H: Head, T: DeserializeOwned> FromRequest<S> for SplitJson<H, T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("cannot read the body: {e}")))?;
        let Value::Object(mut rest) = parse::<Value>(&bytes)? else {
            return Err(ApiError::BadRequest("body must be a JSON object".into()));
        };
        let head: serde_json::Map<String, Value> =
            H::KEYS.iter().filter_map(|k| rest.remove(*k).map(|v| (k.to_string(), v))).collect();
        let head = parse_value::<H>(Value::Object(head))?;
        let rest = parse_value::<T>(Value::Object(rest))?;
        Ok(SplitJson(head, rest))
    }
}

fn parse_value<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    let raw = value.to_string();
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        field_error(path, e.into_inner().to_string(), raw.as_bytes())
    })
}

pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::BadRequest(format!("body is not JSON: {inner}"));
        }
        field_error(path, inner.to_string(), bytes)
    })
}

fn field_error(path: String, message: String, bytes: &[u8]) -> ApiError {
    {
        // The path already ends at an unknown field; a missing one is named only in the message.
        let missing = message
            .split_once("missing field `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(name, _)| name.to_string());
        let unknown = message
            .split_once("unknown field `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(name, _)| name.to_string());
        let field = match (path.as_str(), missing, unknown) {
            (".", Some(n), _) => n,
            (p, Some(n), _) => format!("{p}.{n}"),
            // Through `#[serde(flatten)]` the path is lost; find the key in the body instead.
            (".", None, Some(n)) => serde_json::from_slice::<Value>(bytes)
                .ok()
                .and_then(|v| key_path(&v, &n, ""))
                .unwrap_or(n),
            (p, _, _) => p.to_string(),
        };
        let message = message.split(" at line ").next().unwrap_or_default().to_string();
        ApiError::field(&field, message)
    }
}

/// Dotted path of the first object key named `key`, depth first.
fn key_path(value: &Value, key: &str, prefix: &str) -> Option<String> {
    let Value::Object(map) = value else { return None };
    let here = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
    if map.contains_key(key) {
        return Some(here(key));
    }
    map.iter().find_map(|(k, v)| key_path(v, key, &here(k)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // Fields exist to be parsed.
    struct Inner {
        max: u32,
    }

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Inner,
    }

    fn field_of(body: &str) -> String {
        match parse::<Outer>(body.as_bytes()) {
            Err(ApiError::Field { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field_path() {
        assert_eq!(field_of(r#"{"name": 1, "inner": {"max": 1}}"#), "name");
        assert_eq!(field_of(r#"{"name": "a", "inner": {"max": -1}}"#), "inner.max");
        assert_eq!(field_of(r#"{"name": "a", "inner": {"max": 1, "colour": 2}}"#), "inner.colour");
        assert_eq!(field_of(r#"{"inner": {"max": 1}}"#), "name");
        assert!(matches!(parse::<Outer>(b"{nope"), Err(ApiError::BadRequest(_))));
        assert_eq!(
            key_path(&serde_json::json!({"a": {"b": {"c": 1}}}), "c", ""),
            Some("a.b.c".into())
        );
    }
}
