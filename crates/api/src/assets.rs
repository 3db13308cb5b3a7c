//! The console, widget and demo shop, built by Vite into `web/dist` and embedded at compile
//! time. Unknown non-API paths get the console's index.html (hash routing).

use axum::extract::Request;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::ApiError;

#[derive(RustEmbed)]
#[folder = "../../web/dist/"]
#[allow_missing = true]
struct Dist;

fn file(path: &str) -> Option<Response> {
    let asset = Dist::get(path)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Some(
        (
            [
                (header::CONTENT_TYPE, mime.as_ref().to_string()),
                (header::CACHE_CONTROL, cache.to_string()),
            ],
            asset.data,
        )
            .into_response(),
    )
}

/// The embedded demo shop page with the widget's origin filled in.
pub fn shop_page(widget_origin: &str) -> Option<String> {
    let asset = Dist::get("shop/index.html")?;
    Some(String::from_utf8_lossy(&asset.data).replace("__SWITCHBOARD_ORIGIN__", widget_origin))
}

pub(crate) async fn serve(uri: Uri, _req: Request) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path.starts_with("api/") {
        return ApiError::NotFound("endpoint").into_response();
    }
    if let Some(r) = file(if path.is_empty() { "index.html" } else { path }) {
        return r;
    }
    match file("index.html") {
        Some(r) if !path.contains('.') => r,
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
