//! Who I am in this browser: a display name and a colour, editable, remembered in
//! localStorage so the next visit (any room) shows the same person. What is stored is
//! read tolerantly: anything malformed is replaced by a fresh random identity.

use serde_json::{json, Value};

use crate::awareness_state::is_hex_color;
use crate::presence::User;

/// The localStorage key.
const KEY: &str = "scene-editor.user";
/// Longest display name accepted (characters).
pub const MAX_NAME: usize = 40;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The remembered identity, or a new random one (remembered from now on).
pub fn load() -> User {
    let stored = storage().and_then(|s| s.get_item(KEY).ok().flatten()).and_then(|text| parse(&text));
    match stored {
        Some(user) => user,
        None => {
            let user = User::random();
            save(&user);
            user
        }
    }
}

/// Remembers `user` (best effort: private modes may refuse).
pub fn save(user: &User) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(KEY, &json!({ "name": user.name, "color": user.color }).to_string());
    }
}

/// A cleaned-up display name: trimmed, bounded, never empty.
pub fn clean_name(name: &str) -> Option<String> {
    let name: String = name.trim().chars().filter(|c| !c.is_control()).take(MAX_NAME).collect();
    (!name.is_empty()).then_some(name)
}

fn parse(text: &str) -> Option<User> {
    let value: Value = serde_json::from_str(text).ok()?;
    let name = clean_name(value.get("name")?.as_str()?)?;
    let color = value.get("color")?.as_str().filter(|c| is_hex_color(c))?.to_ascii_lowercase();
    Some(User { name, color })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn stored_identities_parse_tolerantly() {
        assert_eq!(parse(r##"{"name":" Ada ","color":"#ABCDEF"}"##), Some(User { name: "Ada".into(), color: "#abcdef".into() }));
        assert_eq!(parse(r##"{"name":"","color":"#abcdef"}"##), None);
        assert_eq!(parse(r#"{"name":"Ada","color":"red"}"#), None);
        assert_eq!(parse("[]"), None);
        assert_eq!(parse("{"), None);
        assert_eq!(clean_name(&"x".repeat(100)).map(|n| n.len()), Some(MAX_NAME));
    }
}
