//! Who gets in: the checks made on a WebSocket request before it joins a room.
//!
//! In order: the Origin (against cross-site WebSocket hijacking; refused before the
//! upgrade with 403), the room's access (`crate::auth::Access`: a room token, or the auth
//! webhook's answer, when the relay is not open), and the number of connections from the
//! client's address. Access and address refusals happen after the upgrade, as a close code
//! with a reason, because a browser cannot read an HTTP status of a failed WebSocket
//! handshake.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::http::{header, HeaderMap};
use parking_lot::Mutex;
use shared::close;

use crate::auth::{Access, AuthError, Credentials, Grant, SUBPROTOCOL_PREFIX};
use crate::cli::Config;
use crate::close_reason::CloseReason;

/// Connections held per client address.
#[derive(Default)]
pub struct AddressCounts(Mutex<HashMap<IpAddr, usize>>);

/// One connection's place in its address's count, given back on drop.
pub struct AddressSlot {
    counts: Arc<AddressCounts>,
    ip: IpAddr,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock();
        if let Some(n) = counts.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// The outcome for one request that may upgrade.
pub struct Admission {
    /// What the connection may do, and who it is.
    pub grant: Grant,
    pub ip: IpAddr,
    /// The subprotocol to echo, when the token came that way.
    pub subprotocol: Option<String>,
    /// Set when the connection must be closed right after the upgrade.
    pub refusal: Option<CloseReason>,
    pub slot: Option<AddressSlot>,
}

/// Whether a browser page from this Origin may open a WebSocket.
pub fn origin_allowed(config: &Config, headers: &HeaderMap) -> bool {
    if config.allowed_origins.is_empty() {
        return true;
    }
    match headers.get(axum::http::header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => config.allowed_origins.iter().any(|allowed| allowed.trim_end_matches('/') == origin),
    }
}

/// The client's address: the socket's peer, or X-Forwarded-For's rightmost entry when the
/// relay trusts its proxy.
pub fn client_ip(config: &Config, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if config.trust_proxy {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|part| part.trim().parse::<IpAddr>().ok())
            .next_back();
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.ip()
}

/// The `token.…` subprotocol a WebSocket request offers, if any.
fn offered_subprotocol(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find(|p| p.starts_with(SUBPROTOCOL_PREFIX))
        .map(str::to_owned)
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Decides the grant and address slot of a WebSocket request for `room`. The token comes
/// as `?token=` (`query_token`) or the subprotocol `token.…`.
pub async fn admit(
    config: &Config,
    access: &Access,
    counts: &Arc<AddressCounts>,
    room: &str,
    query_token: Option<&str>,
    headers: &HeaderMap,
    ip: IpAddr,
) -> Admission {
    let offered = offered_subprotocol(headers);
    let mut admission = Admission { grant: Grant::open(), ip, subprotocol: offered.clone(), refusal: None, slot: None };
    let credentials = Credentials {
        token: query_token.or_else(|| offered.as_deref().and_then(|p| p.strip_prefix(SUBPROTOCOL_PREFIX))),
        cookie: header_text(headers, header::COOKIE),
        origin: header_text(headers, header::ORIGIN),
    };
    match access.authorize(room, &credentials).await {
        Ok(grant) => admission.grant = grant,
        Err(error) => {
            admission.refusal = Some(CloseReason::new(error.close_code(), error.to_string()));
            return admission;
        }
    }
    let mut held = counts.0.lock();
    let count = held.entry(ip).or_insert(0);
    if *count >= config.max_conns_per_ip {
        admission.refusal = Some(CloseReason::new(close::TRY_AGAIN_LATER, "too many connections from your address"));
        return admission;
    }
    *count += 1;
    admission.slot = Some(AddressSlot { counts: counts.clone(), ip });
    admission
}

/// `?token=` on requests for a room's resources over HTTP (restore points, blobs, share
/// links); the token may come as `Authorization: Bearer` instead.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    pub token: Option<String>,
}

/// Why an HTTP request may not touch a room's resources.
#[derive(Debug, thiserror::Error)]
pub enum HttpRefusal {
    /// A foreign Origin.
    #[error("{0}")]
    Forbidden(String),
    /// What access said.
    #[error("{0}")]
    Auth(AuthError),
}

impl HttpRefusal {
    /// The HTTP status it is answered with.
    pub fn status(&self) -> u16 {
        match self {
            HttpRefusal::Forbidden(_) => 403,
            HttpRefusal::Auth(error) => error.http_status(),
        }
    }
}

/// What an HTTP request may do in `room`, by the rules for joining it: a browser request
/// from a foreign Origin is refused; otherwise access decides, with the token given as
/// `?token=` (`query_token`) or `Authorization: Bearer`, and the cookie.
pub async fn http_grant(config: &Config, access: &Access, room: &str, headers: &HeaderMap, query_token: Option<&str>) -> Result<Grant, HttpRefusal> {
    if !origin_allowed(config, headers) {
        return Err(HttpRefusal::Forbidden("origin not allowed".into()));
    }
    let bearer = header_text(headers, header::AUTHORIZATION).and_then(|v| v.strip_prefix("Bearer "));
    let credentials = Credentials {
        token: query_token.or(bearer),
        cookie: header_text(headers, header::COOKIE),
        origin: header_text(headers, header::ORIGIN),
    };
    access.authorize(room, &credentials).await.map_err(HttpRefusal::Auth)
}
