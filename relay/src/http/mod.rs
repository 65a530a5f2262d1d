//! The HTTP surface: the routes under the base path, each family of handlers in its own
//! module, all on the shared [`AppState`].
//!
//! `{base}/ws/{room}` upgrades to the y-websocket protocol ([`ws`]); `{base}/healthz` says the
//! process is up; `{base}/readyz` says it accepts new connections (it turns 503 while
//! shutting down); `{base}/api/stats`, `{base}/api/stats/stream` and `{base}/metrics` are
//! the relay's figures ([`telemetry`]); `{base}/api/rooms/…` are restore points and
//! administration ([`api`]), scene job blobs ([`blobs`]) and share links ([`share`]);
//! everything else under `{base}/` is the built browser client ([`client_files`]:
//! precompressed copies, content-hashed files cached for good). Every request is logged once
//! ([`access_log`]).

pub mod access_log;
pub mod api;
pub mod blobs;
pub mod client_files;
pub mod share;
pub mod telemetry;
pub mod ws;

use std::sync::Arc;

use axum::response::Redirect;
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// The relay's routes, nested under the configured base path.
pub fn router(state: Arc<AppState>) -> Router {
    let base = state.config.base_path.clone();
    let mut router = Router::new()
        .route(&format!("{base}/ws/{{room}}"), get(ws::upgrade))
        .route(&format!("{base}/healthz"), get(|| async { "ok\n" }))
        .route(&format!("{base}/readyz"), get(telemetry::readyz))
        .route(&format!("{base}/api/stats"), get(telemetry::stats))
        .route(&format!("{base}/api/stats/stream"), get(telemetry::stats_stream))
        .route(&format!("{base}/metrics"), get(telemetry::metrics))
        .merge(api::routes(&state))
        .merge(blobs::routes(&state))
        .merge(share::routes(&state));
    if let Some(dir) = &state.config.static_dir {
        let client = client_files::service(dir);
        router = if base.is_empty() {
            router.fallback_service(client)
        } else {
            let slash = format!("{base}/");
            router
                .route(&base, get(move || async move { Redirect::permanent(&slash) }))
                .nest_service(&format!("{base}/"), client)
        };
    }
    let access_log = access_log::layer(state.clone());
    router.with_state(state).layer(access_log)
}

/// The shared room-name rule, with the reason as a response body.
pub fn check_room_name(room: &str) -> Result<(), String> {
    shared::room_name::check(room).map_err(|e| format!("{e}\n"))
}
