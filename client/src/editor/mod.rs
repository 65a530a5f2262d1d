//! The editor's state, shared by the viewport, the outliner, the property panel, the toolbar
//! and the shortcuts: the document and its typed scene, per-user undo, the live scene (the
//! resolved tree, the outline and per-node signals, refreshed once per frame: [`live`]), and
//! the local editing state (selection, tool mode and space, camera, the gesture being
//! previewed), and apart from it the page's own UI state ([`PageUi`]).
//!
//! [`Editor`] is `Copy` (signals and stored values only) and passed as a prop; nothing is
//! global. Every local edit goes through [`Editor::edit`] (one transaction with the undo
//! origin, one undo step) or, for pointer gestures, [`Editor::begin_gesture`] /
//! [`Editor::write`] / [`Editor::end_gesture`]. All of them, undo and redo too, refuse
//! while the page may only view (`editor.access`, see `access.rs`): a viewer's page never
//! writes, whatever a control or a key asks for.

mod actions;
mod commit;
pub mod live;
pub mod shortcuts;

#[cfg(all(test, target_arch = "wasm32"))]
mod live_tests;

// The client's tests run in headless Chromium (scripts/wasm-test.sh).
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use leptos::prelude::*;
use shared::scene::{IdGen, Node, NodeId, Scene, SceneTree, SceneUndo, Vec3};
use yrs::{Doc, Origin, Transact, TransactionMut};

use crate::access::Access;
use crate::camera::Camera;

pub use crate::preview::Preview;
pub use actions::AddKind;
pub use live::{Changes, LiveScene, Outline};

/// Origin of this editor's own transactions (what [`SceneUndo`] tracks).
const LOCAL_ORIGIN: &str = "editor";
/// Key of the document observer that tells the UI the document changed.
const UI_OBSERVER: &str = "ui";

/// Which transform gizmo the selection shows, and what dragging a selected object does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Move,
    Rotate,
    Scale,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Move => "move",
            Mode::Rotate => "rotate",
            Mode::Scale => "scale",
        }
    }
}

/// Whether the move and rotate gizmos follow the world's axes or the selected object's own.
/// (Scaling is always along the object's own axes: along the world's it would shear a
/// turned object, which a node's position–rotation–scale cannot hold.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Space {
    #[default]
    World,
    Local,
}

impl Space {
    pub fn as_str(self) -> &'static str {
        match self {
            Space::World => "world",
            Space::Local => "local",
        }
    }
}

/// The state of the page around the editor (overlays, held keys, the canvas size): not the
/// scene, not the selection, never published.
#[derive(Clone, Copy)]
pub struct PageUi {
    /// The shortcut overlay is open.
    pub help: RwSignal<bool>,
    /// The performance panel is open.
    pub perf: RwSignal<bool>,
    /// The node whose name is being edited in the outliner.
    pub renaming: RwSignal<Option<NodeId>>,
    /// The space bar is held (space + drag pans).
    pub space_held: RwSignal<bool>,
    /// The viewport canvas size in CSS pixels (set when it is drawn).
    pub canvas_size: RwSignal<(f64, f64)>,
}

impl PageUi {
    fn new() -> PageUi {
        PageUi {
            help: RwSignal::new(false),
            perf: RwSignal::new(false),
            renaming: RwSignal::new(None),
            space_held: RwSignal::new(false),
            canvas_size: RwSignal::new((800.0, 600.0)),
        }
    }
}

#[derive(Clone, Copy)]
pub struct Editor {
    doc: StoredValue<Doc>,
    scene: StoredValue<Scene>,
    undo: StoredValue<SceneUndo, LocalStorage>,
    ids: StoredValue<IdGen>,
    live: LiveScene,
    /// The resolved hierarchy with every node's state: refreshed in place once per animation
    /// frame for remote changes (at once for my own), resolved again only when the hierarchy
    /// changed. Components showing one node read [`Editor::node`] instead.
    pub tree: ReadSignal<SceneTree>,
    /// Nodes in outliner order with their depth: notified only when the hierarchy changed.
    pub outline: ReadSignal<Outline>,
    pub selection: RwSignal<Vec<NodeId>>,
    pub mode: RwSignal<Mode>,
    pub space: RwSignal<Space>,
    pub snap: RwSignal<bool>,
    pub preview: RwSignal<Option<Preview>>,
    /// My viewport camera (published, so peers can follow it).
    pub camera: RwSignal<Camera>,
    /// Where my pointer touches the scene (world), for my peers.
    pub cursor: RwSignal<Option<Vec3>>,
    /// The peer whose camera mine tracks.
    pub follow: RwSignal<Option<u64>>,
    /// The page around the editor.
    pub ui: PageUi,
    /// Whether this page may edit (or only view), and who the relay says we are.
    pub access: Access,
    /// Document updates made by this editor (a debug counter the browser tests read).
    pub local_updates: RwSignal<u64>,
    /// (can undo, can redo, undo stack depth).
    pub history: RwSignal<(bool, bool, usize)>,
}

impl Editor {
    pub fn new(doc: Doc, access: Access) -> Editor {
        let scene = Scene::new(&doc);
        let undo = SceneUndo::new(&doc, LOCAL_ORIGIN, || js_sys::Date::now() as u64);
        let local = Origin::from(LOCAL_ORIGIN);

        let local_updates = RwSignal::new(0u64);
        doc.observe_update_v1(UI_OBSERVER, move |txn: &TransactionMut, _| {
            if txn.origin() == Some(&local) {
                local_updates.try_update(|n| *n += 1);
            }
        })
        .expect("no transaction is open yet");
        let ids = StoredValue::new(IdGen::new(doc.client_id().get()));
        let (doc, scene) = (StoredValue::new(doc), StoredValue::new(scene));
        let live = LiveScene::new(doc, scene);

        let editor = Editor {
            ids,
            doc,
            scene,
            undo: StoredValue::new_local(undo),
            live,
            tree: live.tree(),
            outline: live.outline(),
            selection: RwSignal::new(Vec::new()),
            mode: RwSignal::new(Mode::Move),
            space: RwSignal::new(Space::World),
            snap: RwSignal::new(true),
            preview: RwSignal::new(None),
            camera: RwSignal::new(Camera::default()),
            cursor: RwSignal::new(None),
            follow: RwSignal::new(None),
            ui: PageUi::new(),
            access,
            local_updates,
            history: RwSignal::new((false, false, 0)),
        };

        // Nodes deleted (here or by a peer) leave the selection.
        let tree = editor.tree;
        Effect::new(move |_| {
            editor.outline.track();
            let gone = tree.with_untracked(|t| editor.selection.with_untracked(|s| s.iter().any(|id| t.get(id).is_none())));
            if gone {
                editor.selection.update(|s| tree.with_untracked(|t| s.retain(|id| t.get(id).is_some())));
            }
        });
        editor
    }

    pub fn doc(&self) -> Doc {
        self.doc.get_value()
    }

    /// One node's state as a signal notified only when that node changes (`None`: there is
    /// no such node, e.g. it was deleted). Outliner rows and the property panel read this.
    pub fn node(&self, id: &NodeId) -> ArcRwSignal<Option<Node>> {
        self.live.node(id)
    }

    /// A stored triangle mesh, checked (for drawing and picking it); `None` while the
    /// document is being written (ask again later).
    pub fn load_mesh(&self, id: &shared::scene::MeshId) -> Option<Result<shared::geometry::trimesh::TriMesh, shared::scene::StoredMeshError>> {
        let doc = self.doc.get_value();
        let txn = doc.try_transact().ok()?;
        Some(self.scene.with_value(|scene| scene.mesh(&txn, id)))
    }

    /// (vertices, triangles) of a stored triangle mesh, from its header (cheap).
    pub fn mesh_counts(&self, id: &shared::scene::MeshId) -> Option<(usize, usize)> {
        let doc = self.doc.get_value();
        let txn = doc.try_transact().ok()?;
        self.scene.with_value(|scene| scene.mesh_counts(&txn, id))
    }

    /// What changed in [`Editor::tree`] since the last call (for the viewport, the one caller).
    pub fn take_changes(&self) -> Changes {
        self.live.take_changes()
    }

    pub fn next_id(&self) -> NodeId {
        self.ids.try_update_value(IdGen::next).unwrap_or_else(|| NodeId::new(0, 0))
    }

    /// Whether this page may change the document now (not tracked; see [`Access`]).
    pub fn can_edit(&self) -> bool {
        self.access.can_edit_now()
    }

    /// One discrete edit (a button, a field, a shortcut): one transaction, one undo step.
    /// Don't read [`Editor::tree`] inside `f`: the document is being written. `None` (and
    /// nothing written) while the page may only view.
    pub fn edit<R>(&self, f: impl FnOnce(&Scene, &mut TransactionMut) -> R) -> Option<R> {
        if !self.can_edit() {
            return None;
        }
        self.undo.update_value(SceneUndo::reset);
        self.write(f)
    }

    /// One transaction with the local origin; within a gesture it joins the gesture's step.
    /// `None` (and nothing written) while the page may only view.
    pub fn write<R>(&self, f: impl FnOnce(&Scene, &mut TransactionMut) -> R) -> Option<R> {
        if !self.can_edit() {
            return None;
        }
        let origin = self.undo.with_value(|u| u.origin().clone());
        let (doc, scene) = (self.doc.get_value(), self.scene.get_value());
        let result = {
            let mut txn = doc.transact_mut_with(origin);
            f(&scene, &mut txn)
        };
        self.live.flush();
        self.refresh_history();
        Some(result)
    }

    /// Starts a pointer gesture: everything written until [`Editor::end_gesture`] is one step.
    /// `false` (no gesture) while the page may only view.
    pub fn begin_gesture(&self) -> bool {
        if !self.can_edit() {
            return false;
        }
        self.undo.update_value(SceneUndo::begin_gesture);
        true
    }

    pub fn end_gesture(&self) {
        self.undo.update_value(SceneUndo::end_gesture);
        self.refresh_history();
    }

    /// Reverts my last step (never a collaborator's); nothing while the page may only view.
    pub fn undo(&self) {
        if !self.can_edit() {
            return;
        }
        self.undo.update_value(|u| {
            u.undo();
        });
        self.live.flush();
        self.refresh_history();
    }

    pub fn redo(&self) {
        if !self.can_edit() {
            return;
        }
        self.undo.update_value(|u| {
            u.redo();
        });
        self.live.flush();
        self.refresh_history();
    }

    fn refresh_history(&self) {
        let state = self
            .undo
            .try_update_value(|u| (u.can_undo(), u.can_redo(), u.manager_mut().undo_stack().len()))
            .unwrap_or_default();
        self.history.set(state);
    }

    /// Selects exactly `ids`.
    pub fn select(&self, ids: Vec<NodeId>) {
        self.selection.set(ids);
    }

    /// Adds or removes `id` from the selection.
    pub fn toggle_selected(&self, id: &NodeId) {
        self.selection.update(|s| match s.iter().position(|x| x == id) {
            Some(i) => {
                s.remove(i);
            }
            None => s.push(id.clone()),
        });
    }

    /// The selection without nodes inside other selected nodes (they move with them).
    pub fn selection_roots(&self) -> Vec<NodeId> {
        let selection = self.selection.get_untracked();
        self.tree.with_untracked(|tree| {
            selection
                .iter()
                .filter(|id| tree.get(id).is_some())
                .filter(|id| !selection.iter().any(|other| other != *id && tree.is_ancestor_or_self(other, id)))
                .cloned()
                .collect()
        })
    }
}
