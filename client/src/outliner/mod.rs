//! The outliner: the scene's hierarchy as an indented list (`#node-list`, one `<li>` per
//! node in depth-first order, in a scroll container `#outliner-scroll`). Click selects
//! (shift adds), double-click renames inline, the eye and lock toggle visibility and
//! locking, and HTML5 drag and drop reparents: drop onto a node to put the dragged node
//! under it, onto the list's empty space to move it to the scene root (a drag resting near
//! the top or bottom edge scrolls the list). Other people's selections show as dots in their
//! colour.
//!
//! The list is virtualised: rows have one fixed height, and only those in the scroll
//! container's visible part (plus a few either side) are built ([`window`]); the list keeps
//! the height of all of them, so the scrollbar stands for the whole scene. With 5,000 nodes
//! that is ~40 rows instead of 5,000 at first render and after every hierarchy change. When
//! the selection changes from elsewhere (the viewport, a scene-check finding, a shortcut), the
//! first selected node's row is scrolled into view.
//!
//! The list follows [`Editor::outline`] (it changes only with the hierarchy); each row reads
//! its own node's signal ([`Editor::node`]), so an edit of one node re-renders one row.

mod drag;
mod row;
mod scroll;
mod window;

use std::collections::HashMap;

use leptos::prelude::*;
use shared::scene::NodeId;

use crate::editor::Editor;
use crate::presence::Peer;
use drag::Drag;
use row::{Dots, OutlinerRow};
use scroll::Scroll;
use window::{list_height, ROW_HEIGHT};

#[component]
pub fn Outliner(editor: Editor, peers: RwSignal<Vec<Peer>>) -> impl IntoView {
    let count = move || editor.outline.with(Vec::len);
    let scroller = NodeRef::<leptos::html::Div>::new();
    let scroll = Scroll::follow(scroller);
    let drag = Drag::new(editor, scroller);
    // A row click changed the selection: its row shows already, nothing to scroll to.
    let clicked = StoredValue::new(false);
    follow_selection(editor, scroll, clicked);

    // The rows to build: recomputed when the list is scrolled or resized or the hierarchy
    // changes, passed on only when the window or the rows in it changed. Keyed by node and
    // depth: a peer's edit of one node updates that row alone (it reads its node's signal).
    let window = Memo::new(move |_| scroll.window(count()));
    let rows = Memo::new(move |_| {
        let w = window.get();
        editor.outline.with(|o| {
            let end = w.end.min(o.len());
            o[w.start.min(end)..end].to_vec()
        })
    });
    let dots = peer_dots(peers);

    view! {
        <section class="panel outliner">
            <div class="panel-head">
                <h2>"Scene"</h2>
                <span class="muted">
                    <span id="node-count" class="count">{count}</span>
                    {move || if count() == 1 { " node" } else { " nodes" }}
                </span>
            </div>
            <Show when=move || count() == 0>
                <p class="empty">"The scene is empty. Add something from the toolbar, or share the link."</p>
            </Show>
            <div id="outliner-scroll" class="tree-scroll" node_ref=scroller
                class:drop-root=move || drag.target.get() == Some(None)
                on:dragover=move |ev| {
                    if drag.over(&ev).is_some() {
                        ev.prevent_default();
                        drag.target.set(Some(None));
                    }
                }
                on:dragleave=move |_| drag.target.set(None)
                on:drop=move |ev| {
                    ev.prevent_default();
                    if drag.over(&ev).is_some() {
                        drag.drop_onto(None);
                    }
                }
            >
                <ul id="node-list" class="tree"
                    style:height=move || format!("{}px", list_height(count()))
                    style:padding-top=move || format!("{}px", window.get().start as f64 * ROW_HEIGHT)
                >
                    <For each=move || rows.get() key=|row| row.clone() let:row>
                        <OutlinerRow editor=editor dots=dots id=row.0 depth=row.1 drag=drag clicked=clicked />
                    </For>
                </ul>
            </div>
        </section>
    }
}

/// Who selected what: recomputed on every awareness change (cursor moves among them), but
/// passed on to the rows only when somebody's selection changed.
fn peer_dots(peers: RwSignal<Vec<Peer>>) -> Dots {
    Memo::new(move |_| {
        peers.with(|ps| {
            let mut by_node: HashMap<String, Vec<(String, String)>> = HashMap::new();
            for p in ps {
                for id in &p.selection {
                    by_node.entry(id.0.clone()).or_default().push((p.color.clone(), p.name.clone()));
                }
            }
            by_node
        })
    })
}

/// Scrolls the first selected node's row into view when it changes, unless a click on a row
/// changed it (`clicked`): not when a node is added to or dropped from the selection behind
/// it (a shift-click, a peer deleting one), which would pull the list away from where the
/// user is. A node selected before the outline lists it (just added) is revealed once it is.
fn follow_selection(editor: Editor, scroll: Scroll, clicked: StoredValue<bool>) {
    let wanted = RwSignal::new(None::<NodeId>);
    Effect::new(move |last: Option<Option<NodeId>>| {
        let first = editor.selection.with(|s| s.first().cloned());
        let by_click = clicked.try_update_value(std::mem::take).unwrap_or(false);
        if last.as_ref() != Some(&first) {
            wanted.set(if by_click { None } else { first.clone() });
        }
        first
    });
    Effect::new(move |_| {
        let Some(id) = wanted.get() else { return };
        let Some(index) = editor.outline.with(|o| o.iter().position(|(n, _)| *n == id)) else { return };
        wanted.update_untracked(|w| *w = None);
        scroll.reveal(index);
    });
}
