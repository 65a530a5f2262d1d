//! The relay's figures over HTTP: `{base}/api/stats` (a JSON snapshot of the counters,
//! cache, store and memory), `{base}/metrics` (Prometheus text format) and
//! `{base}/api/stats/stream` (Server-Sent Events: an `history` event with the last five
//! minutes of samples on connect, then a `sample` event every second, from
//! `crate::telemetry`), and `{base}/readyz` (shutting down, a store that cannot commit,
//! Redis out of reach). All read-only and open.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use crate::state::AppState;
use crate::telemetry::exposition::Format;

/// A JSON snapshot of the relay's counters, cache, store and memory.
pub async fn stats(State(state): State<Arc<AppState>>) -> axum::Json<serde_json::Value> {
    use std::sync::atomic::Ordering::Relaxed;
    let (rss, peak_rss) = crate::stats::memory();
    let c = &state.counters;
    axum::Json(serde_json::json!({
        "connections": c.connections_open.load(Relaxed),
        "connections_total": c.connections_total.load(Relaxed),
        "frames_in": c.frames_in.load(Relaxed),
        "bytes_in": c.bytes_in.load(Relaxed),
        "frames_out": c.frames_out.load(Relaxed),
        "frames_out_direct": c.frames_out_direct.load(Relaxed),
        "bytes_out": c.bytes_out.load(Relaxed),
        "latest": state.telemetry.history().last().cloned(),
        "closed_for_bad_input": c.closed_for_bad_input.load(Relaxed),
        "viewer_writes_refused": c.viewer_writes_refused.load(Relaxed),
        "cache": state.rooms.cache_stats(),
        "durability": state.rooms.backend().durability(),
        "rss_bytes": rss,
        "peak_rss_bytes": peak_rss,
        "disk_bytes_written": crate::stats::disk_bytes_written(),
    }))
}

/// Longest `/readyz` waits for the store's commit round (and Redis's PING) before it says
/// the relay is not ready.
const READY_WITHIN: Duration = Duration::from_secs(2);

/// Whether the relay should get new connections: 503 while shutting down, while the store
/// cannot commit (its writer fails or hangs), and in cluster mode while Redis cannot be
/// reached; 200 otherwise. (`/healthz` only says the process is up.)
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.lifecycle.is_stopping() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    let problem = match tokio::time::timeout(READY_WITHIN, state.rooms.backend().ready()).await {
        Ok(Ok(())) => return "ready\n".into_response(),
        Ok(Err(error)) => error.to_string(),
        Err(_) => format!("no answer from the store within {READY_WITHIN:?}"),
    };
    tracing::warn!(%problem, "not ready");
    (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {problem}\n")).into_response()
}

/// The Prometheus metrics, in the text format the scraper asks for (`exposition`).
pub async fn metrics(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::negotiate(accept);
    match app.telemetry.metrics.render_as(format) {
        Ok(text) => ([(header::CONTENT_TYPE, format.content_type())], text).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "could not encode the metrics\n").into_response(),
    }
}

pub async fn stats_stream(State(app): State<Arc<AppState>>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribe before reading the history, so no sample falls between the two.
    let live = app.telemetry.subscribe();
    let history = app.telemetry.history();
    let first = Event::default().event("history").json_data(&history).unwrap_or_else(|_| Event::default().comment("history unavailable"));
    let lifecycle = app.lifecycle.clone();
    let samples = stream::unfold((live, lifecycle), |(mut live, lifecycle)| async move {
        loop {
            let next = tokio::select! {
                _ = lifecycle.stopping() => return None,
                next = live.recv() => next,
            };
            match next {
                Ok(sample) => {
                    let event = Event::default().event("sample").json_data(&*sample).unwrap_or_else(|_| Event::default().comment("sample unavailable"));
                    return Some((Ok(event), (live, lifecycle)));
                }
                // A subscriber that fell behind skips what it missed; the next sample carries on.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream::once(async move { Ok(first) }).chain(samples)).keep_alive(KeepAlive::default())
}
