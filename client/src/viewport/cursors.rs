//! Other people over the viewport: a dot in their colour with their name where their pointer
//! touches the scene (the world point they publish, so it marks the same spot whatever each
//! of us looks from), and their name beside their camera (whose frustum the renderer
//! draws). HTML rather than canvas, so the labels are crisp and the browser tests can read
//! them (`.remote-cursor[data-client]`, `.remote-camera[data-client]`).

use leptos::prelude::*;

use crate::editor::Editor;
use crate::presence::Peer;

#[component]
pub fn Cursors(editor: Editor, peers: RwSignal<Vec<Peer>>) -> impl IntoView {
    let with_cursor = move || {
        peers.with(|ps| ps.iter().filter(|p| p.cursor.is_some()).map(|p| (p.client, p.name.clone(), p.color.clone())).collect::<Vec<_>>())
    };
    let with_camera = move || {
        peers.with(|ps| ps.iter().filter(|p| p.camera.is_some()).map(|p| (p.client, p.name.clone(), p.color.clone())).collect::<Vec<_>>())
    };
    view! {
        <div class="cursor-layer" aria-hidden="true">
            <For
                each=with_cursor
                key=|entry| entry.clone()
                children=move |(client, name, color)| {
                    let place = move || {
                        let cursor = peers.with(|ps| ps.iter().find(|p| p.client == client).and_then(|p| p.cursor))?;
                        on_screen(editor, cursor)
                    };
                    let world = move || {
                        peers.with(|ps| ps.iter().find(|p| p.client == client).and_then(|p| p.cursor))
                            .map(|c| format!("{:.3},{:.3},{:.3}", c[0], c[1], c[2]))
                            .unwrap_or_default()
                    };
                    // The ids of a move in progress, for tests and styling.
                    let drag = move || {
                        peers.with(|ps| ps.iter().find(|p| p.client == client).and_then(|p| p.drag.as_ref().map(|d| d.ids().iter().map(|id| id.as_str()).collect::<Vec<_>>().join(" "))))
                            .unwrap_or_default()
                    };
                    view! {
                        <div class="remote-cursor"
                            data-client=client.to_string()
                            data-world=world
                            data-drag=drag
                            style:display=move || if place().is_some() { "block" } else { "none" }
                            style:transform=move || place().map(|(x, y)| format!("translate({x:.1}px, {y:.1}px)")).unwrap_or_default()
                            style:--peer=color.clone()
                        >
                            <span class="remote-cursor-dot" style:background=color.clone()></span>
                            <span class="remote-cursor-name" style:background=color.clone()>{name.clone()}</span>
                        </div>
                    }
                }
            />
            <For
                each=with_camera
                key=|entry| entry.clone()
                children=move |(client, name, color)| {
                    let place = move || {
                        let eye = peers.with(|ps| ps.iter().find(|p| p.client == client).and_then(|p| p.camera.map(|c| c.eye())))?;
                        (editor.follow.get() != Some(client)).then_some(())?;
                        on_screen(editor, eye)
                    };
                    view! {
                        <div class="remote-camera"
                            data-client=client.to_string()
                            style:display=move || if place().is_some() { "block" } else { "none" }
                            style:transform=move || place().map(|(x, y)| format!("translate({x:.1}px, {y:.1}px)")).unwrap_or_default()
                        >
                            <span class="remote-camera-name" style:border-color=color.clone()>{name.clone()}</span>
                        </div>
                    }
                }
            />
        </div>
    }
}

/// Where a world point shows on my canvas, if in front of me and near the canvas.
fn on_screen(editor: Editor, p: shared::scene::Vec3) -> Option<(f64, f64)> {
    let (w, h) = editor.ui.canvas_size.get();
    let (x, y, _) = editor.camera.get().screen_position(p, w, h)?;
    (x >= -20.0 && y >= -20.0 && x <= w + 20.0 && y <= h + 20.0).then_some((x, y))
}
