//! What this page may do in its room (edit, or only view) and who the relay says we are,
//! known before the first write.
//!
//! Three sources, the later one winning:
//!
//! 1. the role this browser last heard from the relay for the room (remembered in
//!    `localStorage`), for pages whose access is a cookie the relay's auth webhook checks;
//! 2. the room token in the address (`#token=…`), whose claims the page reads itself (it
//!    cannot check the signature and need not: the relay enforces, the page only avoids
//!    offering what would be refused);
//! 3. the relay's own word: the first frame of every session (message `104`, asked for
//!    with `?access=1`), `{"role", "id"?, "name"?}`; and the y-protocols permission-denied
//!    message, which only a viewer gets.
//!
//! A leaf: the editor's writers, the connection, the header and the panels read it.

use leptos::prelude::*;
use serde_json::Value;

pub use shared::role::Role;

/// Where the page's idea of its role comes from, for the badge's explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Nothing said otherwise (an open relay, or not heard yet).
    Default,
    Remembered,
    Token,
    Relay,
}

/// The page's access to its room. All signals, so `Copy`.
#[derive(Clone, Copy)]
pub struct Access {
    pub role: RwSignal<Role>,
    pub source: RwSignal<Source>,
    /// The person's id as the relay knows it (a token's `sub`, the webhook's `id`).
    pub id: RwSignal<Option<String>>,
    /// The person's name as the relay's auth webhook gave it.
    pub name: RwSignal<Option<String>>,
    room: StoredValue<String>,
}

impl Access {
    /// The page's access at load: the token's claims, else what the relay said last time.
    pub fn new(room: &str, token: Option<&str>) -> Access {
        let (mut role, mut source, mut id) = (Role::Editor, Source::Default, None);
        if let Some(remembered) = recall(room) {
            (role, source) = (remembered, Source::Remembered);
        }
        if let Some(claims) = token.and_then(TokenClaims::read) {
            (role, source, id) = (claims.role, Source::Token, claims.sub);
        }
        Access {
            role: RwSignal::new(role),
            source: RwSignal::new(source),
            id: RwSignal::new(id),
            name: RwSignal::new(None),
            room: StoredValue::new(room.to_owned()),
        }
    }

    /// Whether the page may change the document (tracked: disables controls).
    pub fn can_edit(&self) -> bool {
        self.role.get() == Role::Editor
    }

    /// The same, for writers deciding now (not tracked).
    pub fn can_edit_now(&self) -> bool {
        self.role.try_get_untracked() == Some(Role::Editor)
    }

    /// The relay's `104` payload: `{"role", "id"?, "name"?}`. Remembered for this room.
    pub fn learn(&self, payload: &[u8]) {
        let Ok(value) = serde_json::from_slice::<Value>(payload) else { return };
        let Some(role) = value.get("role").and_then(Value::as_str).and_then(Role::parse) else { return };
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(|s| s.chars().take(200).collect::<String>());
        self.settle(role);
        self.id.set(text("id"));
        self.name.set(text("name"));
    }

    /// The relay refused a write (permission denied): this page is a viewer.
    pub fn denied(&self) {
        self.settle(Role::Viewer);
    }

    fn settle(&self, role: Role) {
        if self.role.get_untracked() != role {
            self.role.set(role);
        }
        self.source.set(Source::Relay);
        remember(&self.room.get_value(), role);
    }
}

/// What the page reads from its own token.
#[derive(Debug, PartialEq, Eq)]
struct TokenClaims {
    role: Role,
    sub: Option<String>,
}

impl TokenClaims {
    /// The claims of a JWT (`header.claims.signature`, base64url), unverified.
    fn read(token: &str) -> Option<TokenClaims> {
        let mut parts = token.split('.');
        let (_, claims, _) = (parts.next()?, parts.next()?, parts.next()?);
        let json = base64url(claims)?;
        let value: Value = serde_json::from_slice(&json).ok()?;
        let role = Role::parse(value.get("role")?.as_str()?)?;
        let sub = value.get("sub").and_then(Value::as_str).map(|s| s.chars().take(200).collect());
        Some(TokenClaims { role, sub })
    }
}

/// Decodes unpadded base64url (what JWTs use) through the browser's `atob`.
fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut standard: String = text.chars().map(|c| match c {
        '-' => '+',
        '_' => '/',
        c => c,
    }).collect();
    while !standard.len().is_multiple_of(4) {
        standard.push('=');
    }
    let binary = web_sys::window()?.atob(&standard).ok()?;
    // `atob` gives one char per byte.
    binary.chars().map(|c| u8::try_from(c as u32).ok()).collect()
}

fn key(room: &str) -> String {
    format!("scene-editor:role:{room}")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn recall(room: &str) -> Option<Role> {
    Role::parse(&storage()?.get_item(&key(room)).ok()??)
}

fn remember(room: &str, role: Role) {
    if let Some(storage) = storage() {
        // Best effort: a full or blocked storage only costs the next load's first guess.
        let _ = storage.set_item(&key(room), role.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    // {"alg":"HS256"} . {"room":"r","role":"viewer","sub":"ada","exp":1} . (any signature)
    const VIEWER: &str = "eyJhbGciOiJIUzI1NiJ9.eyJyb29tIjoiciIsInJvbGUiOiJ2aWV3ZXIiLCJzdWIiOiJhZGEiLCJleHAiOjF9.c2ln";

    #[wasm_bindgen_test]
    fn a_tokens_claims_tell_the_role_and_subject() {
        assert_eq!(TokenClaims::read(VIEWER), Some(TokenClaims { role: Role::Viewer, sub: Some("ada".into()) }));
        assert_eq!(TokenClaims::read("not-a-jwt"), None);
        assert_eq!(TokenClaims::read("a.b"), None, "the old two-part format says nothing");
    }

    #[wasm_bindgen_test]
    fn the_relays_word_wins_and_is_remembered() {
        let room = format!("access-test-{}", js_sys::Math::random());
        let access = Access::new(&room, Some(VIEWER));
        assert_eq!((access.role.get_untracked(), access.source.get_untracked()), (Role::Viewer, Source::Token));
        access.learn(br#"{"role":"editor","id":"ada","name":"Ada Lovelace"}"#);
        assert!(access.can_edit_now());
        assert_eq!(access.name.get_untracked().as_deref(), Some("Ada Lovelace"));
        access.denied();
        assert!(!access.can_edit_now());
        let later = Access::new(&room, None);
        assert_eq!((later.role.get_untracked(), later.source.get_untracked()), (Role::Viewer, Source::Remembered));
        access.learn(b"nonsense");
        assert!(!access.can_edit_now(), "nonsense changes nothing");
    }
}
