//! Who a member is, as the relay knows it (a token's `sub`; the auth webhook's `id` and
//! `name`), written into every awareness state the member publishes, so the others see an
//! id nobody can claim for themselves.
//!
//! Stock Yjs editors keep the person under `user` (`{"user": {"name", "color"}}`): the
//! relay sets `user.id` (and `user.name` when the webhook named the person) and leaves
//! everything else as the client sent it. `null` states (a client leaving) are untouched.

use serde_json::{Map, Value};
use shared::protocol::AwarenessUpdate;

/// What the relay knows of a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: Option<String>,
    pub name: Option<String>,
}

impl Identity {
    /// `None` when the relay knows nothing.
    pub fn new(id: Option<String>, name: Option<String>) -> Option<Identity> {
        (id.is_some() || name.is_some()).then_some(Identity { id, name })
    }
}

/// Stamps `identity` into every state of `update`; whether any state changed.
pub fn stamp(update: &mut AwarenessUpdate, identity: &Identity) -> bool {
    let mut changed = false;
    for entry in update.clients.values_mut() {
        if let Some(json) = stamped(&entry.json, identity) {
            entry.json = json.into();
            changed = true;
        }
    }
    changed
}

/// The state with the identity in `user`; `None` if it already was, or is `null` (or not an
/// object, which no client sends: it is left as it is).
fn stamped(json: &str, identity: &Identity) -> Option<String> {
    let Ok(Value::Object(mut state)) = serde_json::from_str::<Value>(json) else { return None };
    let user = state.entry("user").or_insert_with(|| Value::Object(Map::new()));
    if !user.is_object() {
        *user = Value::Object(Map::new());
    }
    let Value::Object(user) = user else { return None };
    let mut changed = false;
    for (key, value) in [("id", &identity.id), ("name", &identity.name)] {
        if let Some(value) = value {
            if user.get(key).and_then(Value::as_str) != Some(value.as_str()) {
                user.insert(key.to_owned(), Value::String(value.clone()));
                changed = true;
            }
        }
    }
    changed.then(|| Value::Object(state).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ada() -> Identity {
        Identity { id: Some("ada@example.com".into()), name: None }
    }

    #[test]
    fn the_id_goes_into_user_and_nothing_else_changes() {
        let out = stamped(r#"{"user":{"name":"Swift Otter","id":"mallory"},"cursor":[1,2,3]}"#, &ada()).unwrap();
        let value: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["user"]["id"], "ada@example.com", "a claimed id is overwritten");
        assert_eq!(value["user"]["name"], "Swift Otter");
        assert_eq!(value["cursor"], serde_json::json!([1, 2, 3]));
        assert_eq!(stamped(&out, &ada()), None, "already stamped");
    }

    #[test]
    fn a_name_from_the_webhook_replaces_the_chosen_one() {
        let named = Identity { id: None, name: Some("Ada Lovelace".into()) };
        let out = stamped(r#"{"user":{"name":"Swift Otter"}}"#, &named).unwrap();
        assert!(out.contains("Ada Lovelace") && !out.contains("Otter"), "{out}");
        let out = stamped(r#"{"cursor":null}"#, &named).unwrap();
        assert!(out.contains(r#""user":{"name":"Ada Lovelace"}"#), "{out}");
    }

    #[test]
    fn leaving_clients_are_left_alone() {
        assert_eq!(stamped("null", &ada()), None);
        assert_eq!(stamped("[1]", &ada()), None);
        assert_eq!(Identity::new(None, None), None);
    }
}
