//! The scene model over a yrs document: the one place that knows the document's layout.
//!
//! Layout (the exact table, for JavaScript clients too, is `docs/scene-schema.md`): one root
//! map `nodes` holding a nested map per scene node, keyed by the node's stable id. A node map
//! holds flat keys only (name, kind, parent, sibling order, one number per transform
//! component, shape, material, light, flags), so concurrent edits of different fields
//! (even x and y of one position) both survive.
//!
//! - Reading ([`Scene::node`], [`Scene::nodes`], [`Scene::tree`]) is tolerant: missing or
//!   malformed values read as defaults, and the tree resolves cycles and orphans the same
//!   way on every peer ([`tree`]).
//! - Writing takes the caller's `&mut TransactionMut` ([`write`], [`hierarchy`]), so an
//!   editor gesture is one transaction and, with [`SceneUndo`], one undo step.

mod error;
mod hierarchy;
pub mod keys;
pub mod meshes;
pub mod order;
pub(crate) mod read;
mod tree;
mod types;
mod undo;
mod write;

#[cfg(test)]
mod merge_tests;
#[cfg(test)]
mod ops_tests;
#[cfg(test)]
mod undo_tests;

use yrs::{Doc, Map, MapRef, Out, ReadTxn, Transact};

pub use error::SceneError;
pub use meshes::StoredMeshError;
pub use keys::NumberKey;
pub use tree::{SceneTree, TreeEntry};
pub use types::{Color, IdGen, Light, LightKind, Material, MeshId, Node, NodeId, NodeKind, Primitive, PrimitiveKind, Transform, Vec3};
pub use undo::SceneUndo;

/// Name of the root map that holds every node.
pub const NODES: &str = "nodes";
/// Name of the root map that holds the triangle meshes (see [`meshes`]).
pub const MESHES: &str = "meshes";

/// Every root map of a scene document that edits change (what a restore brings back, what
/// undo tracks). `meshes` is not one: meshes are immutable and shared, see [`meshes`].
pub const ROOT_MAPS: &[&str] = &[NODES];

/// Typed access to the scene held by a yrs document.
#[derive(Clone)]
pub struct Scene {
    nodes: MapRef,
    meshes: MapRef,
}

impl Scene {
    /// Binds the model to `doc`, creating the root maps if needed. Call before the first
    /// transaction that reads the scene.
    pub fn new(doc: &Doc) -> Self {
        Scene { nodes: doc.get_or_insert_map(NODES), meshes: doc.get_or_insert_map(MESHES) }
    }

    /// The root map holding the meshes.
    pub fn mesh_root(&self) -> &MapRef {
        &self.meshes
    }

    /// The root map holding the nodes.
    pub fn root(&self) -> &MapRef {
        &self.nodes
    }

    /// Number of nodes in the scene.
    pub fn node_count<T: ReadTxn>(&self, txn: &T) -> usize {
        self.nodes.len(txn) as usize
    }

    /// Whether a node `id` exists.
    pub fn contains<T: ReadTxn>(&self, txn: &T, id: &NodeId) -> bool {
        matches!(self.nodes.get(txn, &id.0), Some(Out::YMap(_)))
    }

    /// One node, or `None` if there is none (or its value is not a map).
    pub fn node<T: ReadTxn>(&self, txn: &T, id: &NodeId) -> Option<Node> {
        read::node(&id.0, self.nodes.get(txn, &id.0)?, txn)
    }

    /// Every node, sorted by id so all peers list them alike. `parent` is as stored; use
    /// [`Scene::tree`] for the hierarchy.
    pub fn nodes<T: ReadTxn>(&self, txn: &T) -> Vec<Node> {
        let mut nodes: Vec<Node> = self.nodes.iter(txn).filter_map(|(id, value)| read::node(id, value, txn)).collect();
        crate::order::sort_by(&mut nodes, |a, b| a.id.cmp(&b.id));
        nodes
    }

    /// The resolved hierarchy: children in sibling order, cycles and orphans resolved.
    pub fn tree<T: ReadTxn>(&self, txn: &T) -> SceneTree {
        SceneTree::from_nodes(self.nodes(txn))
    }

    fn node_map<T: ReadTxn>(&self, txn: &T, id: &NodeId) -> Result<MapRef, SceneError> {
        match self.nodes.get(txn, &id.0) {
            Some(Out::YMap(map)) => Ok(map),
            _ => Err(SceneError::NotFound(id.clone())),
        }
    }
}

/// Counts the nodes of a document without keeping a [`Scene`] around.
pub fn node_count(doc: &Doc) -> usize {
    let scene = Scene::new(doc);
    let txn = doc.transact();
    scene.node_count(&txn)
}
