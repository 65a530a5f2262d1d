//! Keeps a field the user is typing in out of the way of remote edits: an `<input>` shows
//! its node's current value, except between the user's first keystroke and the moment the
//! value is committed (`change`: Enter, or a released slider) or the field is left (`blur`).
//! Then it shows the value as merged in the document (the user's own, or a peer's that came
//! later).

use leptos::html::Input;
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Guard {
    pub input: NodeRef<Input>,
    /// The user changed the text and has not committed or left yet.
    typing: StoredValue<bool>,
    shown: Signal<String>,
}

impl Guard {
    /// A guard for an input showing `shown` (a reactive read of the node's value).
    pub fn new(shown: impl Fn() -> String + Send + Sync + 'static) -> Guard {
        let guard = Guard { input: NodeRef::new(), typing: StoredValue::new(false), shown: Signal::derive(shown) };
        Effect::new(move |_| {
            let value = guard.shown.get();
            if !guard.typing.get_value() {
                guard.show(&value);
            }
        });
        guard
    }

    /// On `input`: the user is typing; remote values wait.
    pub fn typing(&self) {
        self.typing.set_value(true);
    }

    /// On `change` (after committing) and `blur`: show the document's value again.
    pub fn settled(&self) {
        self.typing.set_value(false);
        self.show(&self.shown.get_untracked());
    }

    fn show(&self, value: &str) {
        if let Some(input) = self.input.get_untracked() {
            if input.value() != value {
                input.set_value(value);
            }
        }
    }
}
