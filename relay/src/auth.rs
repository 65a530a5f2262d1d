//! Room tokens: who may join which room, as editor or viewer, until when.
//!
//! A token is `base64url(claims JSON) "." base64url(HMAC-SHA256(key, first part))`, minted
//! by `relay token` with the same key file the relay verifies with. Claims: `room` (a room
//! name, or a prefix ending in `*`), `role` (`editor` | `viewer`) and `exp` (Unix seconds).
//! The signature is checked in constant time before the claims are even parsed.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Editor,
    Viewer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub room: String,
    pub role: Role,
    pub exp: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("a token is required")]
    Missing,
    #[error("malformed token")]
    Malformed,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token is for another room")]
    WrongRoom,
    #[error("auth key: {0}")]
    Key(String),
}

/// The secret tokens are signed with.
#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(…)")
    }
}

impl TokenKey {
    pub fn new(bytes: Vec<u8>) -> Result<Self, AuthError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(AuthError::Key(format!("must be at least {MIN_KEY_BYTES} bytes, got {}", bytes.len())));
        }
        Ok(TokenKey(bytes))
    }

    /// Reads a key file (surrounding whitespace ignored).
    pub fn from_file(path: &Path) -> Result<Self, AuthError> {
        let raw = std::fs::read(path).map_err(|e| AuthError::Key(format!("reading {}: {e}", path.display())))?;
        let text = String::from_utf8_lossy(&raw);
        Self::new(text.trim().as_bytes().to_vec())
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length; this cannot fail.
        <HmacSha256 as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }

    pub fn mint(&self, claims: &Claims) -> String {
        let json = serde_json::to_vec(claims).unwrap_or_default();
        let payload = URL_SAFE_NO_PAD.encode(json);
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{payload}.{signature}")
    }

    /// Checks `token` for `room` at time `now` (Unix seconds); returns the granted role.
    pub fn verify(&self, token: &str, room: &str, now: u64) -> Result<Role, AuthError> {
        let (payload, signature) = token.split_once('.').ok_or(AuthError::Malformed)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| AuthError::Malformed)?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).map_err(|_| AuthError::BadSignature)?;
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| AuthError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&json).map_err(|_| AuthError::Malformed)?;
        if claims.exp <= now {
            return Err(AuthError::Expired);
        }
        if !room_matches(&claims.room, room) {
            return Err(AuthError::WrongRoom);
        }
        Ok(claims.role)
    }
}

/// `pattern` is a room name, or a prefix followed by `*`.
fn room_matches(pattern: &str, room: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => room.starts_with(prefix),
        None => pattern == room,
    }
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The subprotocol prefix that carries a token (browsers cannot set headers on a WebSocket).
pub const SUBPROTOCOL_PREFIX: &str = "token.";

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TokenKey {
        TokenKey::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap()
    }

    #[test]
    fn minted_tokens_verify_for_their_room_and_role() {
        let t = key().mint(&Claims { room: "a".into(), role: Role::Viewer, exp: 2000 });
        assert_eq!(key().verify(&t, "a", 1000), Ok(Role::Viewer));
        assert_eq!(key().verify(&t, "b", 1000), Err(AuthError::WrongRoom));
        assert_eq!(key().verify(&t, "a", 2000), Err(AuthError::Expired));
    }

    #[test]
    fn prefixes_cover_their_rooms() {
        let t = key().mint(&Claims { room: "team/*".into(), role: Role::Editor, exp: u64::MAX });
        assert_eq!(key().verify(&t, "team/scene-1", 0), Ok(Role::Editor));
        assert_eq!(key().verify(&t, "other", 0), Err(AuthError::WrongRoom));
    }

    #[test]
    fn forged_and_garbled_tokens_are_refused() {
        let t = key().mint(&Claims { room: "a".into(), role: Role::Viewer, exp: u64::MAX });
        let (payload, signature) = t.split_once('.').unwrap();
        // claims changed to editor, signature kept
        let forged_claims = URL_SAFE_NO_PAD.encode(br#"{"room":"a","role":"editor","exp":18446744073709551615}"#);
        assert_eq!(key().verify(&format!("{forged_claims}.{signature}"), "a", 0), Err(AuthError::BadSignature));
        let other = TokenKey::new(vec![7; 32]).unwrap();
        assert_eq!(other.verify(&t, "a", 0), Err(AuthError::BadSignature));
        assert_eq!(key().verify(payload, "a", 0), Err(AuthError::Malformed));
        assert_eq!(key().verify("x.!!!", "a", 0), Err(AuthError::Malformed));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(TokenKey::new(b"short".to_vec()).is_err());
    }
}
