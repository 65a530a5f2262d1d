//! Which room this page edits: `?room=NAME` from the address, or a fresh random name that is
//! written back into the address bar (without a reload), so the address is always the link
//! to share with collaborators.

use web_sys::{Url, Window};

/// The room this page is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// The room name as the relay sees it (before URL encoding).
    pub name: String,
    /// The full address of this page in this room: the link to share (never the token).
    pub link: String,
    /// A room token from the address's fragment (`#token=…`), for relays that require one.
    /// The fragment never reaches a server's logs and is left out of the share link.
    pub token: Option<String>,
}


/// Letters that are easy to read aloud and to type: no 0/o, 1/l/i.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// Reads the room from the page address; when it is absent or unusable, picks a random one
/// and replaces it into the address with `history.replaceState`.
pub fn resolve(window: &Window) -> Room {
    let href = window.location().href().unwrap_or_default();
    let Ok(url) = Url::new(&href) else {
        // Cannot happen for a page the browser loaded; still, stay usable.
        let name = random_name(window);
        return Room { link: href, name, token: None };
    };
    let token = token_from_fragment(&url.hash());
    let params = url.search_params();
    let named = params.get("room").filter(|name| is_valid(name));
    let name = named.clone().unwrap_or_else(|| random_name(window));
    if named.is_none() {
        params.set("room", &name);
        if let Ok(history) = window.history() {
            // Best effort: if it fails the link shown is still right.
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url.href()));
        }
    }
    if token.is_some() {
        url.set_hash("");
    }
    Room { name, link: url.href(), token }
}

/// The relay's rule for room names (shared with it).
fn is_valid(name: &str) -> bool {
    shared::room_name::check(name).is_ok()
}

/// `#token=…` (the fragment may carry other parameters too).
fn token_from_fragment(hash: &str) -> Option<String> {
    let fragment = hash.strip_prefix('#').unwrap_or(hash);
    web_sys::UrlSearchParams::new_with_str(fragment).ok()?.get("token").filter(|t| !t.is_empty())
}

/// Ten letters from the browser's cryptographic random source (about 50 bits): hard to guess,
/// short enough to read out.
fn random_name(window: &Window) -> String {
    let mut bytes = [0u8; 10];
    let filled = window.crypto().and_then(|crypto| crypto.get_random_values_with_u8_array(&mut bytes)).is_ok();
    if !filled {
        for byte in &mut bytes {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn room_names_follow_the_relays_rule() {
        assert!(is_valid("a"));
        assert!(is_valid("with space/and ü"));
        assert!(is_valid(&"x".repeat(shared::room_name::MAX_ROOM_NAME)));
        assert!(!is_valid(""));
        assert!(!is_valid(&"x".repeat(shared::room_name::MAX_ROOM_NAME + 1)));
        assert!(!is_valid("tab\there"));
    }
}
