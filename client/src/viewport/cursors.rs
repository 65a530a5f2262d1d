//! Other people's pointers over the viewport: an arrow in their colour with their name,
//! placed from the world position they publish, so it points at the same spot in the scene
//! whatever each of us has panned or zoomed to. HTML rather than canvas, so the labels are
//! crisp and the browser tests can read them (`.remote-cursor[data-client]`).

use leptos::prelude::*;

use crate::editor::Editor;
use crate::presence::Peer;

#[component]
pub fn Cursors(editor: Editor, peers: RwSignal<Vec<Peer>>) -> impl IntoView {
    let with_cursor = move || {
        peers.with(|ps| ps.iter().filter(|p| p.cursor.is_some()).map(|p| (p.client, p.name.clone(), p.color.clone())).collect::<Vec<_>>())
    };
    view! {
        <div class="cursor-layer" aria-hidden="true">
            <For
                each=with_cursor
                key=|entry| entry.clone()
                children=move |(client, name, color)| {
                    let place = move || {
                        let cursor = peers.with(|ps| ps.iter().find(|p| p.client == client).and_then(|p| p.cursor))?;
                        let (w, h) = editor.canvas_size.get();
                        let (x, y) = editor.view.get().to_screen(cursor, w, h);
                        (x >= -20.0 && y >= -20.0 && x <= w + 20.0 && y <= h + 20.0).then_some((x, y))
                    };
                    let world = move || {
                        peers.with(|ps| ps.iter().find(|p| p.client == client).and_then(|p| p.cursor))
                            .map(|c| format!("{:.3},{:.3},{:.3}", c[0], c[1], c[2]))
                            .unwrap_or_default()
                    };
                    // The ids of a move in progress, for tests and styling.
                    let drag = move || {
                        peers.with(|ps| ps.iter().find(|p| p.client == client).and_then(|p| p.drag.as_ref().map(|d| d.ids.join(" "))))
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
                            <svg width="16" height="16" viewBox="0 0 16 16">
                                <path d="M1 1 L1 13 L4.5 9.5 L7 15 L9 14 L6.5 8.5 L11.5 8.5 Z" fill=color.clone() stroke="white" stroke-width="1" />
                            </svg>
                            <span class="remote-cursor-name" style:background=color.clone()>{name.clone()}</span>
                        </div>
                    }
                }
            />
        </div>
    }
}
