//! Keyboard shortcuts, listened for on the window, and the list the `?` overlay shows.
//! Nothing fires while the user is typing in a field; Ctrl and ⌘ are the same.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::{Editor, Mode};
use crate::view::ViewKind;

/// (keys, what they do), in the order the overlay lists them.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Click / Shift+click", "Select / add to selection"),
    ("Drag on empty space", "Box select"),
    ("Middle or right drag, Space+drag", "Pan"),
    ("Wheel", "Zoom"),
    ("G", "Move mode"),
    ("R", "Rotate mode"),
    ("S", "Scale mode"),
    ("1 / 2 / 3", "Top / front / side view"),
    ("F", "Frame the selection"),
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
        let lower = key.to_lowercase();
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
            (false, "1" | "2" | "3") => {
                let kind = match lower.as_str() {
                    "1" => ViewKind::Top,
                    "2" => ViewKind::Front,
                    _ => ViewKind::Side,
                };
                editor.follow.set(None);
                editor.view.update(|v| *v = v.switched_to(kind));
                true
            }
            (false, "p") => {
                editor.perf.update(|p| *p = !*p);
                true
            }
            (false, "?") => {
                editor.help.update(|h| *h = !*h);
                true
            }
            (false, "escape") => {
                if editor.help.get_untracked() {
                    editor.help.set(false);
                } else {
                    editor.select(Vec::new());
                }
                true
            }
            (false, " ") => {
                editor.space_held.set(true);
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
            editor.space_held.set(false);
        }
    });
    // A window that loses focus never sees the key go up.
    let blur = window_event_listener(leptos::ev::blur, move |_| editor.space_held.set(false));
    on_cleanup(move || {
        down.remove();
        up.remove();
        blur.remove();
    });
}

fn set_mode(editor: Editor, mode: Mode) -> bool {
    editor.mode.set(mode);
    true
}
