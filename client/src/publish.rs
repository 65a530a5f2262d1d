//! Publishing my awareness state: name and colour, cursor, selection, view, and a move in
//! progress. Any change schedules one send on the next animation frame, so a drag or a
//! moving pointer sends at most one state per frame (and nothing while nothing changes).

use futures_channel::mpsc::UnboundedSender;
use leptos::prelude::*;

use crate::awareness_state::{DragInfo, LocalState};
use crate::editor::{Editor, Preview};
use crate::presence::User;

/// My current state.
pub fn local_state(editor: Editor, user: RwSignal<User>) -> LocalState {
    let (name, color) = user.with(|u| (u.name.clone(), u.color.clone()));
    LocalState {
        name,
        color,
        cursor: editor.cursor.get(),
        selection: editor.selection.with(|s| s.iter().map(|id| id.0.clone()).collect()),
        view: editor.view.get(),
        drag: editor.preview.with(|p| match p {
            Some(Preview::Move { ids, offset }) => Some(DragInfo { ids: ids.iter().map(|id| id.0.clone()).collect(), offset: *offset }),
            _ => None,
        }),
    }
}

/// Sends my state to the connection whenever it changes, at most once per frame.
pub fn start(editor: Editor, user: RwSignal<User>, tx: UnboundedSender<String>) {
    let latest = StoredValue::new(String::new());
    let sent = StoredValue::new(String::new());
    let scheduled = StoredValue::new(false);
    let tx = StoredValue::new(tx);
    Effect::new(move |_| {
        latest.set_value(local_state(editor, user).to_json());
        if scheduled.get_value() {
            return;
        }
        scheduled.set_value(true);
        request_animation_frame(move || {
            scheduled.set_value(false);
            let state = latest.get_value();
            if state != sent.get_value() {
                tx.with_value(|tx| {
                    let _ = tx.unbounded_send(state.clone());
                });
                sent.set_value(state);
            }
        });
    });
}
