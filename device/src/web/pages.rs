//! The static pages: plain HTML, CSS and JavaScript from `device/web/`, built into the
//! binary (no build step, nothing fetched from elsewhere), each served with a strict
//! content security policy.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../../web/index.html");
const SCRIPT: &str = include_str!("../../web/app.js");
const STYLE: &str = include_str!("../../web/app.css");

/// Only this origin's own files; no inline script, no framing by other sites.
const POLICY: &str = "default-src 'self'; img-src 'self' blob:; style-src 'self'; \
                      script-src 'self'; frame-ancestors 'none'; base-uri 'none'";

fn page(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

pub async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX)
}

pub async fn script() -> Response {
    page("text/javascript; charset=utf-8", SCRIPT)
}

pub async fn style() -> Response {
    page("text/css; charset=utf-8", STYLE)
}

/// Anything else: 404, as JSON under `/api/`, plain text elsewhere.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        let body = serde_json::json!({ "error": format!("no such API route: {}", uri.path()) });
        (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
    } else {
        (StatusCode::NOT_FOUND, "not found").into_response()
    }
}
