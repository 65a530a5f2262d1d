//! Who gets in: the checks made on a WebSocket request before it joins a room.
//!
//! In order: the Origin (against cross-site WebSocket hijacking; refused before the
//! upgrade with 403), the room token (when an auth key is configured), and the number of
//! connections from the client's address. Token and address refusals happen after the
//! upgrade, as a close code with a reason, because a browser cannot read an HTTP status of
//! a failed WebSocket handshake.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::http::HeaderMap;
use parking_lot::Mutex;
use shared::close;

use crate::auth::{self, AuthError, Role, TokenKey, SUBPROTOCOL_PREFIX};
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
    pub role: Role,
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

/// Decides the role and address slot of a request for `room`.
pub fn admit(
    config: &Config,
    key: Option<&TokenKey>,
    counts: &Arc<AddressCounts>,
    room: &str,
    query_token: Option<&str>,
    headers: &HeaderMap,
    ip: IpAddr,
) -> Admission {
    let offered_token = headers
        .get_all(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find(|p| p.starts_with(SUBPROTOCOL_PREFIX))
        .map(str::to_owned);
    let mut admission = Admission { role: Role::Editor, ip, subprotocol: offered_token.clone(), refusal: None, slot: None };
    if let Some(key) = key {
        let token = query_token.or_else(|| offered_token.as_deref().and_then(|p| p.strip_prefix(SUBPROTOCOL_PREFIX)));
        let verdict = match token {
            None => Err(AuthError::Missing),
            Some(token) => key.verify(token, room, auth::unix_now()),
        };
        match verdict {
            Ok(role) => admission.role = role,
            Err(error) => {
                let code = if error == AuthError::WrongRoom { close::FORBIDDEN } else { close::UNAUTHORIZED };
                admission.refusal = Some(CloseReason::new(code, error.to_string()));
                return admission;
            }
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

/// `?token=` on requests for a room's resources over HTTP (restore points, blobs); the token
/// may come as `Authorization: Bearer` instead.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    pub token: Option<String>,
}

/// Why an HTTP request may not touch a room's resources (restore points, blobs).
#[derive(Debug, thiserror::Error)]
pub enum HttpRefusal {
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unauthorized(AuthError),
}

/// The role an HTTP request has in `room`, by the rules for joining it: a browser request
/// from a foreign Origin is refused; with an auth key a room token is required, given as
/// `?token=` (`query_token`) or `Authorization: Bearer`; without one everybody is an editor.
pub fn http_role(config: &Config, key: Option<&TokenKey>, room: &str, headers: &HeaderMap, query_token: Option<&str>) -> Result<Role, HttpRefusal> {
    if !origin_allowed(config, headers) {
        return Err(HttpRefusal::Forbidden("origin not allowed".into()));
    }
    let Some(key) = key else { return Ok(Role::Editor) };
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let token = query_token.or(bearer).ok_or(HttpRefusal::Unauthorized(AuthError::Missing))?;
    key.verify(token, room, auth::unix_now()).map_err(|error| match error {
        AuthError::WrongRoom => HttpRefusal::Forbidden(error.to_string()),
        other => HttpRefusal::Unauthorized(other),
    })
}
