//! Every route the web app serves, in one table: the router is built from it, and a test
//! checks it against the OpenAPI file (`docs/openapi.json`), so the documentation cannot
//! drift from the code.

use super::api::{self, AppState};
use super::pages;
use axum::Router;
use axum::routing::{MethodRouter, delete, get, post, put};

/// One route.
pub struct Route {
    /// Upper-case HTTP method.
    pub method: &'static str,
    /// Path with `{name}` parameters, as in OpenAPI.
    pub path: &'static str,
    /// Whether it needs a paired phone's token.
    pub paired: bool,
    pub handler: fn() -> MethodRouter<AppState>,
}

const fn route(
    method: &'static str,
    path: &'static str,
    paired: bool,
    handler: fn() -> MethodRouter<AppState>,
) -> Route {
    Route {
        method,
        path,
        paired,
        handler,
    }
}

/// The pages and the API.
pub const ROUTES: &[Route] = &[
    route("GET", "/", false, || get(pages::index)),
    route("GET", "/app.js", false, || get(pages::script)),
    route("GET", "/app.css", false, || get(pages::style)),
    route("POST", "/api/pair/start", false, || post(api::pair_start)),
    route("POST", "/api/pair", false, || post(api::pair)),
    route("GET", "/api/tokens", true, || get(api::tokens)),
    route("DELETE", "/api/tokens/{id}", true, || delete(api::revoke)),
    route("GET", "/api/garments", true, || get(api::list)),
    route("POST", "/api/garments", true, || post(api::add_garment)),
    route("POST", "/api/garments/capture", true, || post(api::capture)),
    route("GET", "/api/garments/{id}", true, || get(api::garment)),
    route("DELETE", "/api/garments/{id}", true, || delete(api::remove)),
    route("PUT", "/api/garments/{id}/name", true, || put(api::rename)),
    route("PUT", "/api/garments/{id}/status", true, || {
        put(api::set_status)
    }),
    route("POST", "/api/garments/{id}/views", true, || {
        post(api::add_view)
    }),
    route("GET", "/api/garments/{id}/thumbnail", true, || {
        get(api::thumbnail)
    }),
    route("GET", "/api/garments/{id}/outfits", true, || {
        get(api::outfits)
    }),
    route("POST", "/api/feedback", true, || post(api::feedback)),
    route("GET", "/api/system", true, || get(api::system)),
    route("POST", "/api/system/rollback", true, || post(api::rollback)),
    route("GET", "/api/live.jpg", true, || get(api::live_still)),
    route("GET", "/api/live.mjpeg", true, || get(api::live_stream)),
];

/// The router over [`ROUTES`].
pub fn router(state: AppState) -> Router {
    ROUTES
        .iter()
        .fold(Router::new(), |router, r| {
            router.route(r.path, (r.handler)())
        })
        .fallback(pages::not_found)
        .with_state(state)
}
