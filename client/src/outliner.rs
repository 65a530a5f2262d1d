//! The outliner: the scene's hierarchy as an indented list (`#node-list`, one `<li>` per
//! node in depth-first order). Click selects (shift adds), double-click renames inline,
//! the eye and lock toggle visibility and locking, and HTML5 drag and drop reparents: drop
//! onto a node to put the dragged node under it, onto the list's empty space to move it to
//! the scene root. Other people's selections show as dots in their colour.
//!
//! The list follows [`Editor::outline`] (it changes only with the hierarchy); each row reads
//! its own node's signal ([`Editor::node`]), so an edit of one node re-renders one row.

use std::collections::HashMap;

use leptos::either::Either;
use leptos::prelude::*;
use shared::scene::{NodeId, NodeKind};

use crate::editor::Editor;
use crate::presence::Peer;

#[component]
pub fn Outliner(editor: Editor, peers: RwSignal<Vec<Peer>>) -> impl IntoView {
    // Rows are keyed by node and depth: a peer's edit of one node updates that row alone (it
    // reads its node's signal); the list itself changes only with the hierarchy.
    let count = move || editor.outline.with(Vec::len);
    // Who selected what: recomputed on every awareness change (cursor moves among them), but
    // passed on to the rows only when somebody's selection changed.
    let dots = Memo::new(move |_| {
        peers.with(|ps| {
            let mut by_node: HashMap<String, Vec<(String, String)>> = HashMap::new();
            for p in ps {
                for id in &p.selection {
                    by_node.entry(id.clone()).or_default().push((p.color.clone(), p.name.clone()));
                }
            }
            by_node
        })
    });
    let dragging = RwSignal::new(None::<NodeId>);
    // Where a drop would go: Some(None) is the scene root.
    let target = RwSignal::new(None::<Option<NodeId>>);

    let reparent = move |parent: Option<NodeId>| {
        let Some(id) = dragging.get_untracked() else { return };
        dragging.set(None);
        target.set(None);
        let allowed = editor.tree.with_untracked(|t| parent.as_ref().is_none_or(|p| !t.is_ancestor_or_self(&id, p)));
        if allowed {
            editor.edit(|scene, txn| {
                let _ = scene.reparent(txn, &id, parent.as_ref());
            });
        }
    };

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
            <ul id="node-list" class="tree"
                class:drop-root=move || target.get() == Some(None)
                on:dragover=move |ev| {
                    if dragging.with_untracked(Option::is_some) {
                        ev.prevent_default();
                        target.set(Some(None));
                    }
                }
                on:dragleave=move |_| target.set(None)
                on:drop=move |ev| {
                    ev.prevent_default();
                    reparent(None);
                }
            >
                <For each=move || editor.outline.get() key=|row| row.clone() let:row>
                    <OutlinerRow editor=editor dots=dots id=row.0 depth=row.1 dragging=dragging target=target reparent=reparent />
                </For>
            </ul>
        </section>
    }
}

#[component]
fn OutlinerRow(
    editor: Editor,
    dots: Memo<HashMap<String, Vec<(String, String)>>>,
    id: NodeId,
    depth: usize,
    dragging: RwSignal<Option<NodeId>>,
    target: RwSignal<Option<Option<NodeId>>>,
    reparent: impl Fn(Option<NodeId>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let node = RwSignal::from(editor.node(&id));
    let name = move || node.with(|n| n.as_ref().map(|n| n.name.clone()).unwrap_or_default());
    let kind = move || node.with(|n| n.as_ref().map_or(NodeKind::Group, |n| n.kind));
    let label = move || node.with(|n| n.as_ref().map_or("", |n| n.primitive.map_or(n.kind.as_str(), |p| p.kind().as_str())));
    let visible = move || node.with(|n| n.as_ref().is_none_or(|n| n.visible));
    let locked = move || node.with(|n| n.as_ref().is_some_and(|n| n.locked));
    let selected = {
        let id = id.clone();
        move || editor.selection.with(|s| s.contains(&id))
    };
    let renaming = {
        let id = id.clone();
        move || editor.renaming.with(|r| r.as_ref() == Some(&id))
    };
    let is_target = {
        let id = id.clone();
        move || target.with(|t| matches!(t, Some(Some(x)) if *x == id))
    };
    let peer_dots = {
        let id = id.clone();
        move || {
            dots.with(|d| d.get(&id.0).cloned().unwrap_or_default())
                .into_iter()
                .map(|(color, name)| view! { <span class="peer-dot" style:background=color title=name></span> })
                .collect::<Vec<_>>()
        }
    };
    let on_click = {
        let id = id.clone();
        move |ev: leptos::ev::MouseEvent| {
            if ev.shift_key() {
                editor.toggle_selected(&id);
            } else {
                editor.select(vec![id.clone()]);
            }
        }
    };
    let id_for = |id: &NodeId| id.clone();
    let (start_id, over_id, drop_id, rename_id, commit_id, vis_id, lock_id) =
        (id_for(&id), id_for(&id), id_for(&id), id_for(&id), id_for(&id), id_for(&id), id_for(&id));

    let commit_name = move |value: String| {
        if !editor.renaming.with_untracked(|r| r.as_ref() == Some(&commit_id)) {
            return;
        }
        editor.renaming.set(None);
        let name = value.trim().to_owned();
        if !name.is_empty() {
            editor.edit(|scene, txn| scene.rename(txn, &commit_id, &name));
        }
    };

    view! {
        <li data-node-id=id.0.clone() data-depth=depth.to_string()
            class:selected=selected
            class:hidden-node=move || !visible()
            class:locked-node=locked
            class:drop-target=is_target
            style:padding-left=format!("{}px", 8 + depth * 16)
            draggable="true"
            on:click=on_click
            on:dragstart=move |ev| {
                dragging.set(Some(start_id.clone()));
                if let Some(dt) = ev.data_transfer() {
                    let _ = dt.set_data("text/plain", &start_id.0);
                    dt.set_effect_allowed("move");
                }
            }
            on:dragend=move |_| {
                dragging.set(None);
                target.set(None);
            }
            on:dragover=move |ev| {
                ev.stop_propagation();
                let ok = dragging.with_untracked(|d| {
                    d.as_ref().is_some_and(|d| editor.tree.with_untracked(|t| !t.is_ancestor_or_self(d, &over_id)))
                });
                if ok {
                    ev.prevent_default();
                    target.set(Some(Some(over_id.clone())));
                }
            }
            on:drop=move |ev| {
                ev.prevent_default();
                ev.stop_propagation();
                reparent(Some(drop_id.clone()));
            }
        >
            <span class="kind" data-kind=move || kind().as_str() title=move || kind().as_str()>{label}</span>
            {move || {
                if renaming() {
                    let (keys, blur) = (commit_name.clone(), commit_name.clone());
                    // Only a row being renamed pays for this (not 5,000 rows at first render).
                    let input_ref = NodeRef::<leptos::html::Input>::new();
                    input_ref.on_load(|input| {
                        let _ = input.focus();
                        input.select();
                    });
                    Either::Left(view! {
                        <input class="rename" node_ref=input_ref type="text" value=name()
                            on:click=|ev| ev.stop_propagation()
                            on:keydown=move |ev| match ev.key().as_str() {
                                "Enter" => keys(event_target_value(&ev)),
                                "Escape" => editor.renaming.set(None),
                                _ => {}
                            }
                            on:blur=move |ev| blur(event_target_value(&ev))
                        />
                    })
                } else {
                    let rename_id = rename_id.clone();
                    Either::Right(view! {
                        <span class="name" on:dblclick=move |_| editor.renaming.set(Some(rename_id.clone()))>{name}</span>
                    })
                }
            }}
            <span class="peer-dots">{peer_dots}</span>
            <button class="icon toggle-visible" class:off=move || !visible() title=move || if visible() { "Hide" } else { "Show" }
                on:click=move |ev| {
                    ev.stop_propagation();
                    let show = !node.with_untracked(|n| n.as_ref().is_none_or(|n| n.visible));
                    editor.edit(|scene, txn| scene.set_visible(txn, &vis_id, show)).ok();
                }
            >{move || icon(if visible() { EYE } else { EYE_OFF })}</button>
            <button class="icon toggle-lock" class:on=locked title=move || if locked() { "Unlock" } else { "Lock" }
                on:click=move |ev| {
                    ev.stop_propagation();
                    let lock = !node.with_untracked(|n| n.as_ref().is_some_and(|n| n.locked));
                    editor.edit(|scene, txn| scene.set_locked(txn, &lock_id, lock)).ok();
                }
            >{move || icon(if locked() { LOCK } else { UNLOCK })}</button>
        </li>
    }
}

/// Outline icons (16×16, stroked): an eye, a struck-out eye, a closed and an open padlock.
const EYE: &str = "M1.5 8s2.5-4.5 6.5-4.5S14.5 8 14.5 8 12 12.5 8 12.5 1.5 8 1.5 8z M8 6a2 2 0 1 0 0 4 2 2 0 0 0 0-4z";
const EYE_OFF: &str = "M1.5 8s2.5-4.5 6.5-4.5S14.5 8 14.5 8 12 12.5 8 12.5 1.5 8 1.5 8z M2.5 13.5l11-11";
const LOCK: &str = "M3.5 7.5h9v6.5h-9z M5.5 7.5V5a2.5 2.5 0 0 1 5 0v2.5";
const UNLOCK: &str = "M3.5 7.5h9v6.5h-9z M5.5 7.5V5a2.5 2.5 0 0 1 5 0";

fn icon(path: &'static str) -> impl IntoView {
    view! {
        <svg width="14" height="14" viewBox="0 0 16 16" fill="none" stroke="currentColor" stroke-width="1.4" aria-hidden="true">
            <path d=path />
        </svg>
    }
}
