//! Drag and drop in the outliner: which node is being dragged, where a drop would go, the
//! reparenting a drop does, and scrolling the list while a drag rests near its top or bottom
//! edge (rows out of the window are not built, so a drag could not otherwise reach them).
//!
//! Shared by the list (a drop on its empty space: the scene root) and every row (a drop on
//! a node: under it), so it is one `Copy` value of signals rather than props threaded apart.

use leptos::prelude::*;
use shared::scene::NodeId;
use web_sys::DragEvent;

use super::window::drag_scroll;
use crate::editor::Editor;

/// The data type a row's drag carries (its node id), so drags from elsewhere (a file from
/// the desktop, a stale drag whose source row was scrolled away) are not taken for ours.
pub const NODE_TYPE: &str = "application/x-scene-node";

#[derive(Clone, Copy)]
pub struct Drag {
    editor: Editor,
    /// The node being dragged.
    pub dragging: RwSignal<Option<NodeId>>,
    /// Where a drop would go: `Some(None)` is the scene root.
    pub target: RwSignal<Option<Option<NodeId>>>,
    scroller: NodeRef<leptos::html::Div>,
}

impl Drag {
    pub fn new(editor: Editor, scroller: NodeRef<leptos::html::Div>) -> Drag {
        Drag { editor, dragging: RwSignal::new(None), target: RwSignal::new(None), scroller }
    }

    /// A row's `dragstart`.
    pub fn start(&self, ev: &DragEvent, id: &NodeId) {
        if !self.editor.can_edit() {
            ev.prevent_default();
            return;
        }
        self.dragging.set(Some(id.clone()));
        if let Some(dt) = ev.data_transfer() {
            let _ = dt.set_data(NODE_TYPE, &id.0);
            let _ = dt.set_data("text/plain", &id.0);
            dt.set_effect_allowed("move");
        }
    }

    /// A `dragend` (or a drop): nothing is being dragged any more.
    pub fn end(&self) {
        self.dragging.set(None);
        self.target.set(None);
    }

    /// The node dragged by this `dragover`/`drop`, if it is one of our rows' drags (else the
    /// stale state is cleared). Scrolls the list when the pointer is near its edges.
    pub fn over(&self, ev: &DragEvent) -> Option<NodeId> {
        let ours = ev.data_transfer().is_some_and(|dt| dt.types().includes(&NODE_TYPE.into(), 0));
        if !ours {
            if self.dragging.with_untracked(Option::is_some) {
                self.end();
            }
            return None;
        }
        if ev.type_() == "dragover" {
            self.edge_scroll(ev);
        }
        self.dragging.get_untracked()
    }

    /// Drops the dragged node under `parent` (`None`: the scene root), unless that would put
    /// it inside itself.
    pub fn drop_onto(&self, parent: Option<NodeId>) {
        let Some(id) = self.dragging.get_untracked() else { return };
        self.end();
        if self.allowed(&id, parent.as_ref()) {
            self.editor.edit(|scene, txn| {
                let _ = scene.reparent(txn, &id, parent.as_ref());
            });
        }
    }

    /// `dragged` may go under `parent` (not under itself or its own descendants).
    pub fn allowed(&self, dragged: &NodeId, parent: Option<&NodeId>) -> bool {
        self.editor.tree.with_untracked(|t| parent.is_none_or(|p| !t.is_ancestor_or_self(dragged, p)))
    }

    fn edge_scroll(&self, ev: &DragEvent) {
        let Some(scroller) = self.scroller.get_untracked() else { return };
        let rect = scroller.get_bounding_client_rect();
        let by = drag_scroll(f64::from(ev.client_y()) - rect.top(), rect.height());
        if by != 0.0 {
            scroller.set_scroll_top(scroller.scroll_top() + by.round() as i32);
        }
    }
}
