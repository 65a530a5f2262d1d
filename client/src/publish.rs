//! Publishing my awareness state: name and colour, cursor, selection, camera, and a gesture
//! in progress. Any change schedules one send, on an animation frame, at most once per interval
//! of the adaptive streaming rate (`quality`, in Hz: 60 is every frame, 5 is every 200 ms),
//! so a drag or a moving pointer sends what the link can carry (and nothing while nothing
//! changes). The latest state is always the one sent.

use std::time::Duration;

use futures_channel::mpsc::UnboundedSender;
use leptos::prelude::*;

use crate::awareness_state::LocalState;
use crate::editor::Editor;
use crate::presence::User;

/// Sends this much early, so a 60 Hz stream is not pushed to every second frame by jitter.
const SLACK_MS: f64 = 4.0;

/// My current state.
pub fn local_state(editor: Editor, user: RwSignal<User>) -> LocalState {
    let (name, color) = user.with(|u| (u.name.clone(), u.color.clone()));
    LocalState {
        name,
        color,
        cursor: editor.cursor.get(),
        selection: editor.selection.with(|s| s.iter().map(|id| id.0.clone()).collect()),
        camera: editor.camera.get(),
        drag: editor.preview.get(),
    }
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}

/// Sends my state to the connection whenever it changes, at most `quality` times a second.
pub fn start(editor: Editor, user: RwSignal<User>, tx: UnboundedSender<String>, quality: RwSignal<u32>) {
    let latest = StoredValue::new(String::new());
    let sent = StoredValue::new(String::new());
    let sent_at = StoredValue::new(f64::NEG_INFINITY);
    let scheduled = StoredValue::new(false);
    let tx = StoredValue::new(tx);
    let send = move || {
        scheduled.set_value(false);
        let state = latest.get_value();
        if state != sent.get_value() {
            tx.with_value(|tx| {
                let _ = tx.unbounded_send(state.clone());
            });
            sent.set_value(state);
            sent_at.set_value(now_ms());
        }
    };
    Effect::new(move |_| {
        latest.set_value(local_state(editor, user).to_json());
        if scheduled.get_value() {
            return;
        }
        scheduled.set_value(true);
        let interval = 1000.0 / quality.get_untracked().max(1) as f64;
        let wait = sent_at.get_value() + interval - SLACK_MS - now_ms();
        if wait > 0.0 {
            set_timeout(move || request_animation_frame(send), Duration::from_millis(wait.ceil() as u64));
        } else {
            request_animation_frame(send);
        }
    });
}
