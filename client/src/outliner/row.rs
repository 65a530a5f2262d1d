//! One outliner row: a node's kind, name (double-click renames it inline), other people's
//! selection dots, and its eye and lock toggles; click selects (shift adds), and the row is
//! a drag source and a drop target for reparenting. On a view-only page a row selects and
//! nothing else (no rename, no toggles, no drag).
//!
//! A row reads its own node's signal ([`Editor::node`]), so an edit of one node re-renders
//! one row. Rows exist only while they are in the outliner's window ([`super::window`]):
//! scrolling builds and drops them, so a row does no work when it is built beyond reading
//! its node.

use std::collections::HashMap;

use leptos::either::Either;
use leptos::prelude::*;
use shared::scene::{NodeId, NodeKind};

use super::drag::Drag;
use crate::editor::Editor;

/// Who selected which node: node id → (colour, name) of each peer.
pub type Dots = Memo<HashMap<String, Vec<(String, String)>>>;

#[component]
pub fn OutlinerRow(
    editor: Editor,
    dots: Dots,
    id: NodeId,
    depth: usize,
    drag: Drag,
    /// Set when a click here changes the selection (the outliner does not scroll to it then).
    clicked: StoredValue<bool>,
) -> impl IntoView {
    let node = RwSignal::from(editor.node(&id));
    let name = move || node.with(|n| n.as_ref().map(|n| n.name.clone()).unwrap_or_default());
    let kind = move || node.with(|n| n.as_ref().map_or(NodeKind::Group, |n| n.kind));
    let label = move || {
        node.with(|n| n.as_ref().map_or("", |n| if n.mesh.is_some() { "mesh" } else { n.primitive.map_or(n.kind.as_str(), |p| p.kind().as_str()) }))
    };
    let visible = move || node.with(|n| n.as_ref().is_none_or(|n| n.visible));
    let locked = move || node.with(|n| n.as_ref().is_some_and(|n| n.locked));
    // The id, shared by the closures below (`Copy`, freed with the row).
    let me = StoredValue::new(id.clone());
    let selected = move || editor.selection.with(|s| me.with_value(|id| s.contains(id)));
    let renaming = move || editor.ui.renaming.with(|r| me.with_value(|id| r.as_ref() == Some(id)));
    let is_target = move || drag.target.with(|t| me.with_value(|id| matches!(t, Some(Some(x)) if x == id)));
    let peer_dots = move || {
        dots.with(|d| me.with_value(|id| d.get(&id.0).cloned().unwrap_or_default()))
            .into_iter()
            .map(|(color, name)| view! { <span class="peer-dot" style:background=color title=name></span> })
            .collect::<Vec<_>>()
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        clicked.set_value(true);
        let id = me.get_value();
        if ev.shift_key() {
            editor.toggle_selected(&id);
        } else {
            editor.select(vec![id]);
        }
    };
    let commit_name = move |value: String| {
        // `try_`: a field scrolled out of the window loses focus while its row is dropped.
        let Some(id) = me.try_get_value() else { return };
        if !editor.ui.renaming.with_untracked(|r| r.as_ref() == Some(&id)) {
            return;
        }
        editor.ui.renaming.set(None);
        let name = value.trim().to_owned();
        if !name.is_empty() {
            editor.edit(|scene, txn| scene.rename(txn, &id, &name));
        }
    };

    view! {
        <li data-node-id=id.0.clone() data-depth=depth.to_string()
            class:selected=selected
            class:hidden-node=move || !visible()
            class:locked-node=locked
            class:drop-target=is_target
            style:padding-left=format!("{}px", 8 + depth * 16)
            draggable=move || if editor.access.can_edit() { "true" } else { "false" }
            on:click=on_click
            on:dragstart=move |ev| drag.start(&ev, &me.get_value())
            on:dragend=move |_| drag.end()
            on:dragover=move |ev| {
                // Not on to the list behind: that would make the scene root the target.
                ev.stop_propagation();
                let Some(dragged) = drag.over(&ev) else { return };
                let over = me.get_value();
                if drag.allowed(&dragged, Some(&over)) {
                    ev.prevent_default();
                    drag.target.set(Some(Some(over)));
                }
            }
            on:drop=move |ev| {
                ev.prevent_default();
                ev.stop_propagation();
                if drag.over(&ev).is_some() {
                    drag.drop_onto(Some(me.get_value()));
                }
            }
        >
            <span class="kind" data-kind=move || kind().as_str() title=move || kind().as_str()>{label}</span>
            {move || {
                if renaming() {
                    // Only a row being renamed pays for this (not every row at first render).
                    let input_ref = NodeRef::<leptos::html::Input>::new();
                    input_ref.on_load(|input| {
                        let _ = input.focus();
                        input.select();
                    });
                    Either::Left(view! {
                        <input class="rename" node_ref=input_ref type="text" value=name()
                            on:click=|ev| ev.stop_propagation()
                            on:keydown=move |ev| match ev.key().as_str() {
                                "Enter" => commit_name(event_target_value(&ev)),
                                "Escape" => editor.ui.renaming.set(None),
                                _ => {}
                            }
                            on:blur=move |ev| commit_name(event_target_value(&ev))
                        />
                    })
                } else {
                    Either::Right(view! {
                        <span class="name" title=name on:dblclick=move |_| if editor.can_edit() { editor.ui.renaming.set(Some(me.get_value())) }>{name}</span>
                    })
                }
            }}
            <span class="peer-dots">{peer_dots}</span>
            <button class="icon toggle-visible" class:off=move || !visible() title=move || if visible() { "Hide" } else { "Show" }
                disabled=move || !editor.access.can_edit()
                on:click=move |ev| {
                    ev.stop_propagation();
                    let show = !node.with_untracked(|n| n.as_ref().is_none_or(|n| n.visible));
                    let id = me.get_value();
                    let _ = editor.edit(|scene, txn| scene.set_visible(txn, &id, show));
                }
            >{move || icon(if visible() { EYE } else { EYE_OFF })}</button>
            <button class="icon toggle-lock" class:on=locked title=move || if locked() { "Unlock" } else { "Lock" }
                disabled=move || !editor.access.can_edit()
                on:click=move |ev| {
                    ev.stop_propagation();
                    let lock = !node.with_untracked(|n| n.as_ref().is_some_and(|n| n.locked));
                    let id = me.get_value();
                    let _ = editor.edit(|scene, txn| scene.set_locked(txn, &id, lock));
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
