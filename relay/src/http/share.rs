//! Share links: room tokens the relay mints for people to hand out, authorised by the
//! caller's own access to the room.
//!
//! - `GET  {base}/api/rooms/{room}/share`: what the caller may share here: `{"open",
//!   "canMint", "role" (the caller's), "roles" (those it may hand out), "expiries" (the
//!   choices within the relay's limit), "maxTtlSecs"}`.
//! - `POST {base}/api/rooms/{room}/share` `{"role": "editor"|"viewer", "expires": "1h" |
//!   "1d" | "7d" | any duration | "never"}`: `201 {"token", "room", "role", "expiresAt"}`,
//!   an HS256 JWT for exactly this room, signed with the key file's key.
//!
//! Nobody mints a role above their own (a viewer hands out view links only: 403) nor a
//! link that outlives `--share-max-ttl` (403; "never" only when it is `never`). An open
//! relay has nothing to sign (409: anyone with the room's address can edit); a relay
//! without `--auth-key-file` cannot sign (501).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::check_room_name;
use crate::admission::{self, HttpRefusal, TokenQuery};
use crate::auth::{unix_now, Claims, Grant, Role};
use crate::auth::claims::{parse_lifetime, Lifetime};
use crate::state::AppState;

/// The expiries the page offers, when the relay's limit allows them.
const CHOICES: [(&str, u64); 3] = [("1h", 3600), ("1d", 86_400), ("7d", 7 * 86_400)];

#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Access(HttpRefusal),
    #[error("{0}")]
    NotAllowed(String),
    #[error("this relay is open: anyone with the room's address can edit, so there is nothing to sign")]
    Open,
    #[error("this relay has no key to sign links with (--auth-key-file)")]
    NoKey,
    #[error("signing failed: {0}")]
    Signing(String),
}

impl IntoResponse for ShareError {
    fn into_response(self) -> Response {
        let status = match &self {
            ShareError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ShareError::Access(refusal) => StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::FORBIDDEN),
            ShareError::NotAllowed(_) => StatusCode::FORBIDDEN,
            ShareError::Open => StatusCode::CONFLICT,
            ShareError::NoKey => StatusCode::NOT_IMPLEMENTED,
            ShareError::Signing(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}

pub fn routes(state: &AppState) -> Router<Arc<AppState>> {
    let base = &state.config.base_path;
    Router::new().route(&format!("{base}/api/rooms/{{room}}/share"), get(options).post(mint))
}

/// The caller's grant in `room`, by the rules for joining it.
async fn caller(state: &AppState, room: &str, headers: &HeaderMap, query: &TokenQuery) -> Result<Grant, ShareError> {
    check_room_name(room).map_err(|e| ShareError::BadRequest(e.trim().to_owned()))?;
    admission::http_grant(&state.config, &state.access, room, headers, query.token.as_deref()).await.map_err(ShareError::Access)
}

async fn options(State(state): State<Arc<AppState>>, Path(room): Path<String>, Query(query): Query<TokenQuery>, headers: HeaderMap) -> Result<Json<serde_json::Value>, ShareError> {
    let grant = caller(&state, &room, &headers, &query).await?;
    let max = state.access.link_max_ttl();
    let mut expiries: Vec<&str> = CHOICES.iter().filter(|(_, secs)| max.is_none_or(|max| *secs <= max.as_secs())).map(|(name, _)| *name).collect();
    if max.is_none() {
        expiries.push("never");
    }
    let roles: Vec<&str> = [Role::Editor, Role::Viewer].into_iter().filter(|r| grant.role.may_grant(*r)).map(Role::as_str).collect();
    let can_mint = !state.access.is_open() && state.access.keys().is_some_and(|keys| keys.signer().is_some());
    Ok(Json(json!({
        "open": state.access.is_open(),
        "canMint": can_mint,
        "role": grant.role.as_str(),
        "roles": roles,
        "expiries": expiries,
        "maxTtlSecs": max.map(|max| max.as_secs()),
    })))
}

#[derive(Deserialize)]
struct Wanted {
    role: Role,
    expires: String,
}

async fn mint(
    State(state): State<Arc<AppState>>,
    Path(room): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ShareError> {
    let grant = caller(&state, &room, &headers, &query).await?;
    let wanted: Wanted = serde_json::from_slice(&body)
        .map_err(|e| ShareError::BadRequest(format!("expected {{\"role\": \"editor\"|\"viewer\", \"expires\": \"1h\"|\"1d\"|\"7d\"|\"never\"}}: {e}")))?;
    let lifetime = parse_lifetime(&wanted.expires).map_err(ShareError::BadRequest)?;
    if state.access.is_open() {
        return Err(ShareError::Open);
    }
    if !grant.role.may_grant(wanted.role) {
        return Err(ShareError::NotAllowed(format!("a {} cannot hand out {} links", grant.role.as_str(), wanted.role.as_str())));
    }
    let exp = within_limit(lifetime, state.access.link_max_ttl())?;
    let keys = state.access.keys().ok_or(ShareError::NoKey)?;
    let signer = keys.signer().ok_or(ShareError::NoKey)?;
    let now = unix_now();
    let exp = exp.map(|ttl| now.saturating_add(ttl.as_secs()));
    let claims = Claims { room: room.clone(), role: wanted.role, exp, nbf: None, iat: Some(now), sub: None };
    let token = signer.mint(&claims).map_err(|e| ShareError::Signing(e.to_string()))?;
    tracing::info!(room, role = wanted.role.as_str(), expires = ?exp, by = ?grant.id, "share link minted");
    Ok((StatusCode::CREATED, Json(json!({ "token": token, "room": room, "role": wanted.role.as_str(), "expiresAt": exp }))))
}

/// The link's lifetime, if the relay allows it (`None`: it never expires).
fn within_limit(wanted: Lifetime, max: Option<Duration>) -> Result<Option<Duration>, ShareError> {
    match (wanted, max) {
        (Lifetime::For(ttl), _) if ttl.is_zero() => Err(ShareError::BadRequest("a link must last a while".into())),
        (Lifetime::For(ttl), Some(max)) if ttl > max => Err(ShareError::NotAllowed(format!("links may last at most {} on this relay", humantime::format_duration(max)))),
        (Lifetime::For(ttl), _) => Ok(Some(ttl)),
        (Lifetime::Never, None) => Ok(None),
        (Lifetime::Never, Some(max)) => Err(ShareError::NotAllowed(format!("links may last at most {} on this relay", humantime::format_duration(max)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_stay_within_the_relays_limit() {
        let week = Some(Duration::from_secs(7 * 86_400));
        let hour = Duration::from_secs(3600);
        assert_eq!(within_limit(Lifetime::For(hour), week).unwrap(), Some(hour));
        assert!(matches!(within_limit(Lifetime::For(hour * 24 * 8), week), Err(ShareError::NotAllowed(_))));
        assert!(matches!(within_limit(Lifetime::Never, week), Err(ShareError::NotAllowed(_))));
        assert_eq!(within_limit(Lifetime::Never, None).unwrap(), None);
        assert!(matches!(within_limit(Lifetime::For(Duration::ZERO), None), Err(ShareError::BadRequest(_))));
    }
}
