//! Writing a finished pointer gesture on the selection (move, rotate, scale): the field
//! writes [`Preview::writes`] computes, in one transaction (within the gesture, one undo
//! step).

use leptos::prelude::*;

use super::{Editor, Preview};

impl Editor {
    /// Writes a finished gesture: one transaction (inside the gesture: one undo step).
    pub fn commit(&self, preview: &Preview) {
        if preview.is_noop() {
            return;
        }
        let writes = self.tree.with_untracked(|tree| preview.writes(tree));
        if writes.is_empty() {
            return;
        }
        self.write(|scene, txn| {
            for (id, key, value) in &writes {
                let _ = scene.set_number(txn, id, *key, *value);
            }
        });
    }
}
