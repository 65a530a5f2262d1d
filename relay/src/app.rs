//! The HTTP surface: routes under the base path, and the state every handler shares.
//!
//! `{base}/ws/{room}` upgrades to the y-websocket protocol; `{base}/healthz` says the process
//! is up; `{base}/readyz` says it accepts new connections (it turns 503 while shutting
//! down); `{base}/api/stats`, `{base}/api/stats/stream` and `{base}/metrics` are the
//! relay's figures (see `telemetry`); everything else under `{base}/` is the built browser
//! client.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::services::{ServeDir, ServeFile};

use crate::cli::Config;
use crate::handshake::Handshake;
use crate::{admission, connection};
use crate::rooms::Rooms;

/// Frames larger than this wait for the send budget.
const LARGE_FRAME: usize = 1 << 20;

fn send_budget_permits(config: &Config) -> usize {
    ((config.send_budget_bytes / 1024) as usize).clamp(LARGE_FRAME / 1024, tokio::sync::Semaphore::MAX_PERMITS)
}


pub struct AppState {
    pub config: Config,
    pub rooms: Rooms,
    /// Cancelled when the relay starts shutting down.
    pub shutdown: CancellationToken,
    /// Every live WebSocket connection, so shutdown can wait for them.
    pub connections: TaskTracker,
    pub counters: crate::stats::Counters,
    /// Samples, history, live stream and Prometheus registry (see `telemetry`).
    pub telemetry: crate::telemetry::Telemetry,
    /// Bounds the bytes of large frames being written at once (in KiB permits).
    pub large_sends: Arc<tokio::sync::Semaphore>,
    /// The key room tokens are verified with; `None` runs the relay open.
    pub token_key: Option<crate::auth::TokenKey>,
    pub address_counts: Arc<crate::admission::AddressCounts>,
    next_conn: AtomicU64,
    shutting_down: AtomicBool,
}

impl AppState {
    pub fn new(config: Config, rooms: Rooms) -> Self {
        let send_budget = send_budget_permits(&config);
        AppState {
            config,
            rooms,
            shutdown: CancellationToken::new(),
            connections: TaskTracker::new(),
            counters: crate::stats::Counters::default(),
            telemetry: crate::telemetry::Telemetry::default(),
            large_sends: Arc::new(tokio::sync::Semaphore::new(send_budget)),
            token_key: None,
            address_counts: Arc::default(),
            next_conn: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
        }
    }

    /// Waits until a frame of `len` bytes may be written, if it is large; the permit is
    /// held until the write completes.
    pub async fn admit_send(&self, len: usize) -> Option<tokio::sync::SemaphorePermit<'_>> {
        if len <= LARGE_FRAME {
            return None;
        }
        let wanted = (len.div_ceil(1024) as u32).min(send_budget_permits(&self.config) as u32);
        self.large_sends.acquire_many(wanted).await.ok()
    }

    pub fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.shutdown.cancel();
    }
}

/// The relay's routes, nested under the configured base path.
pub fn router(state: Arc<AppState>) -> Router {
    let base = state.config.base_path.clone();
    let mut router = Router::new()
        .route(&format!("{base}/ws/{{room}}"), get(upgrade))
        .route(&format!("{base}/healthz"), get(|| async { "ok\n" }))
        .route(&format!("{base}/readyz"), get(readyz))
        .route(&format!("{base}/api/stats"), get(stats))
        .route(&format!("{base}/api/stats/stream"), get(crate::telemetry::routes::stats_stream))
        .route(&format!("{base}/metrics"), get(crate::telemetry::routes::metrics))
        .merge(crate::api::routes(&state))
        .merge(crate::blobs::routes(&state));
    if let Some(dir) = &state.config.static_dir {
        let index = dir.join("index.html");
        // scripts/build-client.sh writes a gzip copy beside each file (`.gz`): served to
        // browsers that accept it (the wasm goes out at ~40 % of its size), at no CPU cost.
        let client = ServeDir::new(dir).precompressed_gzip().fallback(ServeFile::new(index).precompressed_gzip());
        router = if base.is_empty() {
            router.fallback_service(client)
        } else {
            let slash = format!("{base}/");
            router
                .route(&base, get(move || async move { Redirect::permanent(&slash) }))
                .nest_service(&format!("{base}/"), client)
        };
    }
    router.with_state(state)
}

/// A JSON snapshot of the relay's counters, cache, store and memory.
async fn stats(State(state): State<Arc<AppState>>) -> axum::Json<serde_json::Value> {
    use std::sync::atomic::Ordering::Relaxed;
    let (rss, peak_rss) = crate::stats::memory();
    let c = &state.counters;
    axum::Json(serde_json::json!({
        "connections": c.connections_open.load(Relaxed),
        "connections_total": c.connections_total.load(Relaxed),
        "frames_in": c.frames_in.load(Relaxed),
        "bytes_in": c.bytes_in.load(Relaxed),
        "frames_out": c.frames_out.load(Relaxed),
        "bytes_out": c.bytes_out.load(Relaxed),
        "latest": state.telemetry.history().last().cloned(),
        "closed_for_bad_input": c.closed_for_bad_input.load(Relaxed),
        "cache": state.rooms.cache_stats(),
        "durability": state.rooms.backend().durability(),
        "rss_bytes": rss,
        "peak_rss_bytes": peak_rss,
        "disk_bytes_written": crate::stats::disk_bytes_written(),
    }))
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.shutting_down.load(Ordering::SeqCst) {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response()
    } else {
        "ready\n".into_response()
    }
}

/// Query parameters of the WebSocket endpoint.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ConnectParams {
    /// `acks=1`: send durable acknowledgements (see `shared::protocol::MSG_DURABLE_ACK`).
    #[serde(default)]
    pub acks: Option<String>,
    /// A room token (when the relay requires them).
    #[serde(default)]
    pub token: Option<String>,
}

async fn upgrade(
    handshake: Handshake,
    Path(room): Path<String>,
    Query(params): Query<ConnectParams>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    State(state): State<Arc<AppState>>,
) -> Response {
    if let Err(problem) = check_room_name(&room) {
        return (StatusCode::BAD_REQUEST, problem).into_response();
    }
    if state.shutting_down.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    if !admission::origin_allowed(&state.config, &headers) {
        tracing::warn!(%peer, origin = ?headers.get("origin"), "WebSocket from a foreign origin refused");
        return (StatusCode::FORBIDDEN, "origin not allowed\n").into_response();
    }
    let ip = admission::client_ip(&state.config, peer, &headers);
    let admitted = admission::admit(
        &state.config,
        state.token_key.as_ref(),
        &state.address_counts,
        &room,
        params.token.as_deref(),
        &headers,
        ip,
    );
    let protocol = admitted.subprotocol.clone();
    let joining = connection::Joining {
        room,
        wants_acks: matches!(params.acks.as_deref(), Some("1" | "true")),
        admission: admitted,
    };
    let max = state.config.max_frame_bytes;
    let config = WebSocketConfig::default()
        .max_message_size(Some(max))
        .max_frame_size(Some(max))
        // tungstenite's default 128 KiB read buffer is touched on the first read: it was
        // 136 KiB of RSS per idle connection; 1 KiB (the default) leaves ~5 KiB (BENCHMARKS.md,
        // idle capacity)
        .read_buffer_size(usize::try_from(state.config.read_buffer_bytes).unwrap_or(1024));
    let tracker = state.connections.clone();
    handshake.accept(protocol.as_deref(), config, move |socket| tracker.track_future(connection::serve(socket, joining, state)))
}

/// The shared room-name rule, with the reason as a response body.
pub fn check_room_name(room: &str) -> Result<(), String> {
    shared::room_name::check(room).map_err(|e| format!("{e}\n"))
}
