//! What a room token says, and what the relay grants a connection.
//!
//! The claims are a standard JWT's (RFC 7519) plus two of ours: `room` (a room name, or a
//! prefix ending in `*` such as `project-42/*`) and `role` (`editor` | `viewer`). `exp`,
//! `nbf` and `iat` are Unix seconds; `sub`, when present, is the person's id, which the
//! relay stamps into the awareness states of that connection as `user.id`.
//!
//! A [`Grant`] is the outcome of any way in (a token, the auth webhook, an open relay):
//! the role, and who the person is when the relay knows. [`Credentials`] are what a request
//! offers to get one.

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use shared::role::Role;

/// `editor` or `viewer` (`relay token --role`).
pub fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("{text:?} is not a role (editor or viewer)"))
}

/// The claims of a room token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub room: String,
    pub role: Role,
    /// Expiry; absent only in links minted "never expiring" (see `--share-max-ttl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// The person's id, shown to the others in the room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

impl Claims {
    /// A token's claims for `room` (or a prefix ending in `*`) and `role`, valid until `exp`.
    pub fn new(room: impl Into<String>, role: Role, exp: u64) -> Claims {
        Claims { room: room.into(), role, exp: Some(exp), nbf: None, iat: None, sub: None }
    }
}

/// What the relay lets a connection (or an HTTP request) do, and who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    /// The person's id (a token's `sub`, or the webhook's `id`), when known.
    pub id: Option<String>,
    /// The person's name (from the webhook), when known.
    pub name: Option<String>,
}

impl Grant {
    /// Anyone on an open relay: an editor nobody knows.
    pub fn open() -> Grant {
        Grant { role: Role::Editor, id: None, name: None }
    }

    pub fn role(role: Role) -> Grant {
        Grant { role, id: None, name: None }
    }

    /// Whether the relay knows anything about who this is.
    pub fn has_identity(&self) -> bool {
        self.id.is_some() || self.name.is_some()
    }
}

/// What a request offers to prove who it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credentials<'a> {
    /// A room token (`?token=`, the `token.…` subprotocol, or `Authorization: Bearer`).
    pub token: Option<&'a str>,
    /// The `Cookie` header, for the webhook.
    pub cookie: Option<&'a str>,
    /// The `Origin` header, for the webhook.
    pub origin: Option<&'a str>,
}

/// How long a token or link stays valid: a duration, or for ever (no `exp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    For(Duration),
    Never,
}

/// Written as `parse_lifetime` reads it (`never`, or a duration such as `7days`), so
/// `--print-config` prints a config file that reads back the same.
impl Serialize for Lifetime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Lifetime::Never => serializer.serialize_str("never"),
            Lifetime::For(duration) => serializer.serialize_str(&humantime::format_duration(*duration).to_string()),
        }
    }
}

/// `never`, or a duration such as `1h` or `7d` (`--ttl`, `--share-max-ttl`, a share link's
/// `expires`).
pub fn parse_lifetime(raw: &str) -> Result<Lifetime, String> {
    if raw.trim().eq_ignore_ascii_case("never") {
        return Ok(Lifetime::Never);
    }
    humantime::parse_duration(raw.trim()).map(Lifetime::For).map_err(|e| format!("{e} (or 'never')"))
}

/// `pattern` is a room name, or a prefix followed by `*`.
pub fn room_matches(pattern: &str, room: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => room.starts_with(prefix),
        None => pattern == room,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_cover_their_rooms_and_names_only_themselves() {
        assert!(room_matches("project-42/*", "project-42/scene"));
        assert!(!room_matches("project-42/*", "project-4/scene"));
        assert!(room_matches("a", "a"));
        assert!(!room_matches("a", "ab"));
        assert!(room_matches("*", "anything"));
    }

    #[test]
    fn lifetimes_are_durations_or_never() {
        assert_eq!(parse_lifetime("1h"), Ok(Lifetime::For(Duration::from_secs(3600))));
        assert_eq!(parse_lifetime("Never"), Ok(Lifetime::Never));
        assert!(parse_lifetime("soon").is_err());
        for lifetime in [Lifetime::Never, Lifetime::For(Duration::from_secs(7 * 86400)), Lifetime::For(Duration::from_secs(90))] {
            let written = serde_json::to_value(lifetime).unwrap();
            assert_eq!(parse_lifetime(written.as_str().unwrap()), Ok(lifetime), "{written} reads back");
        }
    }

}
