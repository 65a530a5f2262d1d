//! `{base}/metrics` (Prometheus text format) and `{base}/api/stats/stream` (Server-Sent
//! Events: an `history` event with the last five minutes of samples on connect, then a
//! `sample` event every second). Both are read-only and as open as `{base}/api/stats`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;

pub async fn metrics(State(app): State<Arc<AppState>>) -> Response {
    match app.telemetry.metrics.render() {
        Ok(text) => ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "could not encode the metrics\n").into_response(),
    }
}

pub async fn stats_stream(State(app): State<Arc<AppState>>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // Subscribe before reading the history, so no sample falls between the two.
    let live = app.telemetry.subscribe();
    let history = app.telemetry.history();
    let first = Event::default().event("history").json_data(&history).unwrap_or_else(|_| Event::default().comment("history unavailable"));
    let shutdown = app.shutdown.clone();
    let samples = stream::unfold((live, shutdown), |(mut live, shutdown)| async move {
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => return None,
                next = live.recv() => next,
            };
            match next {
                Ok(sample) => {
                    let event = Event::default().event("sample").json_data(&*sample).unwrap_or_else(|_| Event::default().comment("sample unavailable"));
                    return Some((Ok(event), (live, shutdown)));
                }
                // A subscriber that fell behind skips what it missed; the next sample carries on.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream::once(async move { Ok(first) }).chain(samples)).keep_alive(KeepAlive::default())
}
