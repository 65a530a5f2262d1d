//! The scene as the UI reads it, kept up to date without rebuilding it on every change.
//!
//! A deep observer on the document's `nodes` map notes which nodes a transaction touched
//! (and whether nodes were added or removed). Once per animation frame ([`LiveScene::flush`],
//! also called straight after each local edit so the editor sees its own writes at once)
//! the touched nodes are read back from the document:
//!
//! - a node whose stored parent and sibling order did not change is refreshed in place in
//!   the resolved tree ([`SceneTree::refresh_node`]) and in its own signal;
//! - anything else (a node added, removed, reparented or reordered) resolves the tree again
//!   with the shared rules ([`Scene::tree`]: cycles, orphans, order) and refreshes the
//!   outline (the depth-first order the outliner lists).
//!
//! So a peer editing one node 30 times a second costs, per frame, one node read and one
//! notification: the outliner rows and the property panel subscribe to their node's signal
//! ([`LiveScene::node`]) and only the viewport, which draws every node, reads the whole tree.
//! The viewport also takes the list of what changed ([`LiveScene::take_changes`]), so it
//! rebuilds the GPU data of those nodes only.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use shared::scene::{Node, NodeId, Scene, SceneTree};
use yrs::types::{Event, PathSegment};
use yrs::{DeepObservable, Doc, Observable};

/// Key of the deep observer on the nodes map.
const OBSERVER: &str = "ui-live";

/// What changed since the last flush.
#[derive(Debug, Default)]
struct Pending {
    /// Nodes whose fields changed.
    ids: HashSet<NodeId>,
    /// Nodes were added or removed: resolve the tree again.
    structural: bool,
    /// A flush is already scheduled for the next animation frame.
    scheduled: bool,
}

/// Nodes in outliner order (depth first, siblings in order) with their depth.
pub type Outline = Vec<(NodeId, usize)>;

/// What changed in the resolved tree since the viewport last asked.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Changes {
    /// Nodes refreshed in place.
    pub ids: HashSet<NodeId>,
    /// The tree was resolved again (nodes added, removed or moved in the hierarchy).
    pub structural: bool,
}

#[derive(Clone, Copy)]
pub struct LiveScene {
    doc: StoredValue<Doc>,
    scene: StoredValue<Scene>,
    tree: RwSignal<SceneTree>,
    outline: RwSignal<Outline>,
    /// One signal per node someone asked for ([`LiveScene::node`]); `None` once deleted.
    nodes: StoredValue<HashMap<NodeId, ArcRwSignal<Option<Node>>>>,
    pending: StoredValue<Pending>,
    /// What the tree changed by since [`LiveScene::take_changes`] (one reader: the viewport).
    changes: StoredValue<Changes>,
}

impl LiveScene {
    /// Resolves the scene as `doc` holds it now and starts following its changes.
    pub fn new(doc: StoredValue<Doc>, scene: StoredValue<Scene>) -> LiveScene {
        let tree = scene.with_value(|s| doc.with_value(|d| s.tree(&yrs::Transact::transact(d))));
        let live = LiveScene {
            doc,
            scene,
            outline: RwSignal::new(outline_of(&tree)),
            tree: RwSignal::new(tree),
            nodes: StoredValue::new(HashMap::new()),
            pending: StoredValue::new(Pending::default()),
            changes: StoredValue::new(Changes { ids: HashSet::new(), structural: true }),
        };
        // Triangle meshes arrive rarely (an import); one that arrives after the node naming it
        // must still be drawn, so any change there re-resolves everything.
        scene.with_value(|s| {
            s.mesh_root().observe(OBSERVER, move |_txn, _event| {
                let first = live.pending.try_update_value(|pending| {
                    pending.structural = true;
                    !std::mem::replace(&mut pending.scheduled, true)
                });
                if first == Some(true) {
                    request_animation_frame(move || live.flush());
                }
            })
        });
        scene.with_value(|s| {
            s.root().observe_deep(OBSERVER, move |_txn, events| {
                let first = live.pending.try_update_value(|pending| {
                    for event in events.iter() {
                        note(pending, event);
                    }
                    !std::mem::replace(&mut pending.scheduled, true)
                });
                if first == Some(true) {
                    request_animation_frame(move || live.flush());
                }
            })
        });
        live
    }

    /// The resolved hierarchy; notified at most once per frame (and after local edits).
    pub fn tree(&self) -> ReadSignal<SceneTree> {
        self.tree.read_only()
    }

    /// Nodes in outliner order with their depth; notified only when the hierarchy changed.
    pub fn outline(&self) -> ReadSignal<Outline> {
        self.outline.read_only()
    }

    /// The signal of one node: notified only when that node changes (`None`: no such node).
    pub fn node(&self, id: &NodeId) -> ArcRwSignal<Option<Node>> {
        if let Some(signal) = self.nodes.with_value(|nodes| nodes.get(id).cloned()) {
            return signal;
        }
        let signal = ArcRwSignal::new(self.tree.with_untracked(|t| t.node(id).cloned()));
        self.nodes.update_value(|nodes| {
            nodes.insert(id.clone(), signal.clone());
        });
        signal
    }

    /// What changed since the last call (the first call says everything did).
    pub fn take_changes(&self) -> Changes {
        self.changes.try_update_value(std::mem::take).unwrap_or_default()
    }

    /// How many node signals are kept (for tests).
    #[cfg(all(test, target_arch = "wasm32"))]
    pub fn kept_signals(&self) -> usize {
        self.nodes.with_value(HashMap::len)
    }

    /// Applies what changed since the last flush (nothing if nothing did).
    pub fn flush(&self) {
        let Some(Pending { ids, structural, .. }) = self.pending.try_update_value(std::mem::take) else { return };
        if ids.is_empty() && !structural {
            return;
        }
        let Some(read) = self.read(&ids, structural) else {
            // The document is in a transaction (not from a frame callback): try next frame.
            self.pending.update_value(|p| {
                p.ids.extend(ids);
                p.structural |= structural;
            });
            let live = *self;
            request_animation_frame(move || live.flush());
            return;
        };
        match read {
            Read::Nodes(nodes) => {
                let in_place = {
                    let mut tree = self.tree.write_untracked();
                    nodes.iter().all(|node| tree.refresh_node(node.clone()))
                };
                if in_place {
                    self.changes.update_value(|c| c.ids.extend(nodes.iter().map(|n| n.id.clone())));
                    self.tree.notify();
                    self.refresh_signals(nodes.into_iter().map(|n| (n.id.clone(), Some(n))).collect());
                } else {
                    // A node moved in the hierarchy after all (refresh_node changed nothing
                    // for it): resolve everything.
                    self.pending.update_value(|p| p.structural = true);
                    self.flush();
                }
            }
            Read::Tree(tree) => {
                let outline = outline_of(&tree);
                let changed: Vec<(NodeId, Option<Node>)> = self.nodes.with_value(|nodes| {
                    nodes
                        .iter()
                        .filter(|(id, signal)| signal.with_untracked(|old| old.as_ref() != tree.node(id)))
                        .map(|(id, _)| (id.clone(), tree.node(id).cloned()))
                        .collect()
                });
                self.changes.update_value(|c| c.structural = true);
                self.tree.set(tree);
                if self.outline.with_untracked(|o| *o != outline) {
                    self.outline.set(outline);
                }
                self.refresh_signals(changed);
                // The signals of nodes gone from the scene have just said so: forget them, or
                // a long session would keep one for every node it ever showed. Whoever still
                // asks for such a node gets a fresh signal.
                let tree = self.tree;
                self.nodes.update_value(|nodes| nodes.retain(|id, _| tree.with_untracked(|t| t.node(id).is_some())));
            }
        }
    }

    /// Reads the changed nodes, or the whole tree; `None` while a transaction is open.
    fn read(&self, ids: &HashSet<NodeId>, structural: bool) -> Option<Read> {
        let doc = self.doc.get_value();
        let txn = yrs::Transact::try_transact(&doc).ok()?;
        self.scene.with_value(|scene| {
            if structural {
                return Some(Read::Tree(scene.tree(&txn)));
            }
            let nodes: Option<Vec<Node>> = ids.iter().map(|id| scene.node(&txn, id)).collect();
            // A node that disappeared without a structural event: resolve everything.
            Some(nodes.map_or_else(|| Read::Tree(scene.tree(&txn)), Read::Nodes))
        })
    }

    /// Sets the signals someone holds among `nodes` (`None`: deleted) to their new value.
    fn refresh_signals(&self, nodes: Vec<(NodeId, Option<Node>)>) {
        for (id, value) in nodes {
            let Some(signal) = self.nodes.with_value(|n| n.get(&id).cloned()) else { continue };
            if signal.with_untracked(|old| *old != value) {
                signal.set(value);
            }
        }
    }
}

enum Read {
    Nodes(Vec<Node>),
    Tree(SceneTree),
}

/// Notes one event of the nodes map: on the map itself, nodes were added or removed; on a
/// node's own map (path `[id]`), that node's fields changed.
fn note(pending: &mut Pending, event: &Event) {
    let Event::Map(map) = event else {
        pending.structural = true;
        return;
    };
    match map.path().front() {
        None => pending.structural = true,
        Some(PathSegment::Key(id)) => {
            pending.ids.insert(NodeId(id.to_string()));
        }
        Some(PathSegment::Index(_)) => pending.structural = true,
    }
}

fn outline_of(tree: &SceneTree) -> Outline {
    tree.depth_first().into_iter().map(|(node, depth)| (node.id.clone(), depth)).collect()
}
