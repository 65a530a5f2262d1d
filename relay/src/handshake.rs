//! The WebSocket opening handshake (RFC 6455, HTTP/1.1), done here rather than by axum's
//! `WebSocketUpgrade` so that a connection holds tokio-tungstenite's stream itself.
//!
//! Why: axum's wrapper only sends whole messages through tungstenite, which copies each one
//! into a write buffer of its own connection first. In a join storm that copy of the shared
//! 20 MB room state, once per joiner, was most of the relay's CPU (BENCHMARKS.md, join
//! storm). With the stream itself, the connection task (`connection.rs`) writes large
//! messages from the shared frame straight to the socket.

use std::future::Future;

use axum::extract::FromRequestParts;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

/// A server-side WebSocket on an upgraded HTTP connection.
pub type WebSocket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// A request that asks to become a WebSocket, checked; [`Handshake::accept`] answers it.
pub struct Handshake {
    key: HeaderValue,
    on_upgrade: hyper::upgrade::OnUpgrade,
    /// Subprotocols the client offered (`Sec-WebSocket-Protocol`), in its order.
    pub offered_protocols: Vec<String>,
}

/// Why a request cannot become a WebSocket.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HandshakeError {
    #[error("a WebSocket upgrade must be an HTTP/1.1 GET")]
    NotGet,
    #[error("missing `Connection: upgrade` or `Upgrade: websocket`")]
    NotAnUpgrade,
    #[error("only WebSocket version 13 is supported")]
    UnsupportedVersion,
    #[error("missing Sec-WebSocket-Key")]
    MissingKey,
    #[error("this connection cannot be upgraded")]
    NotUpgradable,
}

impl IntoResponse for HandshakeError {
    fn into_response(self) -> Response {
        let status = match self {
            HandshakeError::UnsupportedVersion => StatusCode::UPGRADE_REQUIRED,
            HandshakeError::NotUpgradable => StatusCode::UPGRADE_REQUIRED,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut response = (status, format!("{self}\n")).into_response();
        if status == StatusCode::UPGRADE_REQUIRED {
            response.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        }
        response
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Handshake {
    type Rejection = HandshakeError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if parts.method != Method::GET || parts.version > Version::HTTP_11 {
            return Err(HandshakeError::NotGet);
        }
        if !has_token(&parts.headers, header::CONNECTION, "upgrade") || !has_token(&parts.headers, header::UPGRADE, "websocket") {
            return Err(HandshakeError::NotAnUpgrade);
        }
        if parts.headers.get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
            return Err(HandshakeError::UnsupportedVersion);
        }
        let key = parts.headers.get(header::SEC_WEBSOCKET_KEY).cloned().ok_or(HandshakeError::MissingKey)?;
        let on_upgrade = parts.extensions.remove::<hyper::upgrade::OnUpgrade>().ok_or(HandshakeError::NotUpgradable)?;
        let offered_protocols = parts
            .headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|protocol| protocol.trim().to_owned())
            .filter(|protocol| !protocol.is_empty())
            .collect();
        Ok(Handshake { key, on_upgrade, offered_protocols })
    }
}

impl Handshake {
    /// Answers 101 Switching Protocols (selecting `protocol`, which must be one the client
    /// offered) and runs `serve` with the WebSocket once the connection is upgraded.
    pub fn accept<F, Fut>(self, protocol: Option<&str>, config: WebSocketConfig, serve: F) -> Response
    where
        F: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let socket = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
                    // A task of its own: this one (the closure, the config) ends here instead
                    // of living, and holding memory, as long as the connection.
                    tokio::spawn(serve(socket));
                }
                Err(error) => tracing::debug!(%error, "WebSocket upgrade failed"),
            }
        });
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(self.key.as_bytes());
        let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(accept) = HeaderValue::from_str(&accept) {
            headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
        }
        if let Some(protocol) = protocol.filter(|p| self.offered_protocols.iter().any(|o| o == p)) {
            if let Ok(value) = HeaderValue::from_str(protocol) {
                headers.insert(header::SEC_WEBSOCKET_PROTOCOL, value);
            }
        }
        response
    }
}

/// Whether the comma-separated header `name` holds `token` (case-insensitive).
fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_tokens_are_matched_case_insensitively_in_lists() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("keep-alive, Upgrade"));
        assert!(has_token(&headers, header::CONNECTION, "upgrade"));
        assert!(!has_token(&headers, header::UPGRADE, "websocket"));
    }

    #[test]
    fn the_accept_key_is_the_one_from_the_rfc() {
        // RFC 6455 section 1.3's example.
        let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }
}
