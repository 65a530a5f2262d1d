//! `{base}/ws/{room}`: the WebSocket upgrade. The room name and the Origin are checked
//! before the upgrade (400, 403), admission decides the rest (`crate::admission`: a refusal
//! after the upgrade is a close code the browser can read), and the connection is served by
//! its own task (`crate::connection`), tracked by the relay's lifecycle.

use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::check_room_name;
use crate::handshake::Handshake;
use crate::state::AppState;
use crate::{admission, connection};

/// Query parameters of the WebSocket endpoint.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ConnectParams {
    /// `acks=1`: send durable acknowledgements (see `shared::protocol::MSG_DURABLE_ACK`).
    #[serde(default)]
    pub acks: Option<String>,
    /// A room token (when the relay requires them).
    #[serde(default)]
    pub token: Option<String>,
    /// `access=1`: tell the client its role first (see `shared::protocol::MSG_ACCESS`).
    #[serde(default)]
    pub access: Option<String>,
}

pub async fn upgrade(
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
    if state.lifecycle.is_stopping() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    if !admission::origin_allowed(&state.config, &headers) {
        tracing::warn!(%peer, origin = ?headers.get("origin"), "WebSocket from a foreign origin refused");
        return (StatusCode::FORBIDDEN, "origin not allowed\n").into_response();
    }
    let ip = admission::client_ip(&state.config, peer, &headers);
    let admitted = admission::admit(
        &state.config,
        &state.access,
        &state.address_counts,
        &room,
        params.token.as_deref(),
        &headers,
        ip,
    )
    .await;
    let protocol = admitted.subprotocol.clone();
    let joining = connection::Joining {
        room,
        wants_acks: matches!(params.acks.as_deref(), Some("1" | "true")),
        wants_access: matches!(params.access.as_deref(), Some("1" | "true")),
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
    let lifecycle = state.lifecycle.clone();
    handshake.accept(protocol.as_deref(), config, move |socket| lifecycle.track_connection(connection::serve(socket, joining, state)))
}
