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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// (method, path, paired) of every operation in `docs/openapi.json`.
    fn documented() -> BTreeSet<(String, String, bool)> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
        let text = std::fs::read_to_string(path).unwrap();
        let spec: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut operations = BTreeSet::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let paired = operation
                    .get("security")
                    .and_then(|s| s.as_array())
                    .is_some_and(|s| !s.is_empty());
                operations.insert((method.to_uppercase(), path.clone(), paired));
            }
        }
        operations
    }

    #[test]
    fn the_openapi_file_documents_every_api_route_and_no_other() {
        let served: BTreeSet<(String, String, bool)> = ROUTES
            .iter()
            .filter(|r| r.path.starts_with("/api/"))
            .map(|r| (r.method.to_string(), r.path.to_string(), r.paired))
            .collect();
        let documented = documented();
        let undocumented: Vec<_> = served.difference(&documented).collect();
        let unserved: Vec<_> = documented.difference(&served).collect();
        assert!(
            undocumented.is_empty() && unserved.is_empty(),
            "served but not documented (or documented with another security): \
             {undocumented:?}; documented but not served: {unserved:?}"
        );
        // Only pairing itself is open: everything else under /api/ needs a token.
        let open: Vec<&str> = ROUTES
            .iter()
            .filter(|r| r.path.starts_with("/api/") && !r.paired)
            .map(|r| r.path)
            .collect();
        assert_eq!(open, ["/api/pair/start", "/api/pair"]);
    }

    #[test]
    fn every_route_builds_into_one_router() {
        // axum panics on a path given twice with the same method.
        let (jobs, _) = tokio::sync::mpsc::channel(1);
        let live = super::super::live::LiveView::default();
        let dir = tempfile::tempdir().unwrap();
        let pairing = std::sync::Arc::new(super::super::pairing::Pairing::new(dir.path()));
        let _router = router(AppState::new(jobs, pairing, live.subscriber()));
    }
}
