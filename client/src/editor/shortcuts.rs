//! Keyboard shortcuts, listened for on the window, and the list the `?` overlay shows.
//! Nothing fires while the user is typing in a field; Ctrl and ⌘ are the same. On a
//! view-only page the editing keys do nothing.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::{Editor, Mode, Space};
use crate::camera::ViewKind;

/// (keys, what they do), in the order the overlay lists them.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Click / Shift+click", "Select / add to selection"),
    ("Ctrl+drag / Ctrl+Shift+drag", "Box select / add to selection"),
    ("Drag on empty space, Alt+drag", "Orbit"),
    ("Middle or right drag, Shift+drag, Space+drag", "Pan"),
    ("Wheel, pinch", "Zoom to the pointer"),
    ("Drag an axis, ring or handle", "Move, turn or scale along it"),
    ("G", "Move mode"),
    ("R", "Rotate mode"),
    ("S", "Scale mode"),
    ("L", "World / local axes"),
    ("0", "Perspective view"),
    ("1 / 2 / 3", "Top / front / side view"),
    ("F", "Frame the selection"),
    ("Home", "Frame everything"),
    ("Ctrl+D", "Duplicate"),
    ("Delete / Backspace", "Delete"),
    ("Ctrl+G", "Group"),
    ("Ctrl+Shift+G", "Ungroup"),
    ("Ctrl+Z", "Undo (your own edits)"),
    ("Ctrl+Shift+Z / Ctrl+Y", "Redo"),
    ("Double-click a name", "Rename"),
    ("Esc", "Clear selection / close this"),
    ("P", "Show or hide the performance panel"),
    ("?", "Show or hide this list"),
];

/// Whether the event comes from somewhere the user types.
fn typing(ev: &web_sys::KeyboardEvent) -> bool {
    let Some(target) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return false };
    matches!(target.tag_name().to_ascii_lowercase().as_str(), "input" | "textarea" | "select")
        || target.get_attribute("contenteditable").is_some_and(|v| v != "false")
}

/// Installs the window listeners for the page's lifetime.
pub fn install(editor: Editor) {
    let down = window_event_listener(leptos::ev::keydown, move |ev| {
        if typing(&ev) {
            return;
        }
        let key = ev.key();
        let ctrl = ev.ctrl_key() || ev.meta_key();
        let shift = ev.shift_key();
        // Shortcut keys are ASCII letters; ASCII case folding keeps Unicode's case tables (~30 KB)
        // out of the editor's wasm.
        let lower = key.to_ascii_lowercase();
        // A viewer's page: the keys that edit (or pick an editing tool) do nothing; viewing
        // keys (views, framing, perf, help, Esc) still work.
        if !editor.can_edit() && writes(ctrl, &lower) {
            return;
        }
        let handled = match (ctrl, lower.as_str()) {
            (true, "z") if shift => {
                editor.redo();
                true
            }
            (true, "z") => {
                editor.undo();
                true
            }
            (true, "y") => {
                editor.redo();
                true
            }
            (true, "d") => {
                editor.duplicate();
                true
            }
            (true, "g") if shift => {
                editor.ungroup_selection();
                true
            }
            (true, "g") => {
                editor.group_selection();
                true
            }
            (true, _) => false,
            (false, "delete" | "backspace") => {
                editor.delete_selection();
                true
            }
            (false, "g") => set_mode(editor, Mode::Move),
            (false, "r") => set_mode(editor, Mode::Rotate),
            (false, "s") => set_mode(editor, Mode::Scale),
            (false, "f") => {
                editor.frame_selection();
                true
            }
            (false, "home") => {
                editor.frame_all();
                true
            }
            (false, "l") => {
                editor.space.update(|s| *s = if *s == Space::World { Space::Local } else { Space::World });
                true
            }
            (false, "0" | "1" | "2" | "3") => {
                let kind = ViewKind::CHOICES.iter().find(|(_, k)| *k == lower).map_or(ViewKind::Perspective, |(kind, _)| *kind);
                editor.switch_view(kind);
                true
            }
            (false, "p") => {
                editor.ui.perf.update(|p| *p = !*p);
                true
            }
            (false, "?") => {
                editor.ui.help.update(|h| *h = !*h);
                true
            }
            (false, "escape") => {
                if editor.ui.help.get_untracked() {
                    editor.ui.help.set(false);
                } else {
                    editor.select(Vec::new());
                }
                true
            }
            (false, " ") => {
                editor.ui.space_held.set(true);
                true
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
    });
    let up = window_event_listener(leptos::ev::keyup, move |ev| {
        if ev.key() == " " {
            editor.ui.space_held.set(false);
        }
    });
    // A window that loses focus never sees the key go up.
    let blur = window_event_listener(leptos::ev::blur, move |_| editor.ui.space_held.set(false));
    on_cleanup(move || {
        down.remove();
        up.remove();
        blur.remove();
    });
}

/// Whether a key edits the document or picks an editing tool.
fn writes(ctrl: bool, key: &str) -> bool {
    matches!((ctrl, key), (true, "z" | "y" | "d" | "g") | (false, "delete" | "backspace" | "g" | "r" | "s" | "l"))
}

fn set_mode(editor: Editor, mode: Mode) -> bool {
    editor.mode.set(mode);
    true
}
