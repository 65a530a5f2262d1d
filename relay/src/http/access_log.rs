//! The access log: one line per HTTP request (WebSocket upgrades included), through
//! tower-http's `TraceLayer`: method, path, client address, status, latency and response
//! bytes, as a tracing event at target `relay::access` (so `RUST_LOG=info,relay::access=off`
//! silences it, and `--log-format json` ships it like every other line).
//!
//! Room tokens travel in query strings (`?token=…`), so the logged path has the value of
//! every parameter that may hold a secret replaced by `REDACTED`: a log shipped elsewhere
//! must not hand out access to rooms. Headers (`Authorization`, the `token.…`
//! subprotocol) are never logged.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::{header, Request, Response, Uri};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::Span;

use crate::state::AppState;

/// What replaces a secret parameter's value.
pub const REDACTED: &str = "REDACTED";

/// Whether a query parameter may carry a secret (tokens, keys, passwords). The name is
/// read as the relay's query parser reads it: `%74oken` is `token`.
fn is_secret(name: &str) -> bool {
    let name = percent_decoded(name).to_ascii_lowercase();
    ["token", "key", "secret", "password", "auth", "signature"].iter().any(|word| name.contains(word))
}

/// `text` with `+` as a space and `%XX` escapes decoded (invalid escapes kept as they are).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The request's path and query, with the values of secret parameters redacted.
pub fn redacted(uri: &Uri) -> String {
    let path = uri.path();
    let Some(query) = uri.query() else { return path.to_owned() };
    let parameters: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret(name) => format!("{name}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", parameters.join("&"))
}

/// tower-http's trace layer as the access log uses it: a span per request, one event per
/// response, nothing else.
pub type AccessLog = TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan, (), ResponseLine, (), (), ()>;

/// The layer that writes the access log for `state`'s router.
pub fn layer(state: Arc<AppState>) -> AccessLog {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan { state })
        .on_request(())
        .on_response(ResponseLine)
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
}

/// The span of a request: method, path (secrets redacted) and client address.
#[derive(Clone)]
pub struct RequestSpan {
    state: Arc<AppState>,
}

impl MakeSpan<Body> for RequestSpan {
    fn make_span(&mut self, request: &Request<Body>) -> Span {
        let client = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| crate::admission::client_ip(&self.state.config, *peer, request.headers()).to_string());
        tracing::info_span!(
            target: "relay::access",
            "http",
            method = %request.method(),
            path = %redacted(request.uri()),
            client = %client.as_deref().unwrap_or("-"),
        )
    }
}

/// The access log line, written when the response starts: status, latency and bytes.
#[derive(Clone, Copy)]
pub struct ResponseLine;

impl OnResponse<Body> for ResponseLine {
    fn on_response(self, response: &Response<Body>, latency: Duration, _span: &Span) {
        let bytes = response
            .body()
            .size_hint()
            .exact()
            .or_else(|| response.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok());
        tracing::info!(
            target: "relay::access",
            status = response.status().as_u16(),
            latency_ms = latency.as_secs_f64() * 1000.0,
            // Streamed responses (the stats stream, WebSocket upgrades) have no length.
            bytes = %bytes.map_or_else(|| "-".to_owned(), |b| b.to_string()),
            "request"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_parameters_are_redacted_and_the_rest_kept() {
        let uri: Uri = "/collab/ws/room%201?acks=1&token=eyJyb29tIjoiYSJ9.c2ln&x=2".parse().unwrap();
        assert_eq!(redacted(&uri), "/collab/ws/room%201?acks=1&token=REDACTED&x=2");
        let uri: Uri = "/api/rooms/a/blobs/b?access_token=s3cr3t&API_KEY=k".parse().unwrap();
        assert_eq!(redacted(&uri), "/api/rooms/a/blobs/b?access_token=REDACTED&API_KEY=REDACTED");
        let uri: Uri = "/readyz".parse().unwrap();
        assert_eq!(redacted(&uri), "/readyz");
        let uri: Uri = "/ws/r?token".parse().unwrap();
        assert_eq!(redacted(&uri), "/ws/r?token", "a name without a value holds no secret");
        let uri: Uri = "/ws/r?%74oken=abc&to%6Ben=def".parse().unwrap();
        assert_eq!(redacted(&uri), "/ws/r?%74oken=REDACTED&to%6Ben=REDACTED", "names are read decoded");
    }
}
