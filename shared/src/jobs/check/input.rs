//! What the scene check reads: each node's stored values as they are in the document
//! (parent as written, which material keys are missing or malformed), plus the resolved tree
//! for world positions.

use std::collections::{BTreeMap, HashSet};

use yrs::{Map, MapRef, Out, ReadTxn};

use crate::scene::keys::{self, NumberKey};
use crate::scene::read::{finite_number, string};
use crate::geometry::bounds::Aabb;
use crate::scene::{Color, MeshId, NodeKind, Scene, SceneTree};

/// One node's raw data.
#[derive(Debug, Clone, PartialEq)]
pub struct RawNode {
    pub id: String,
    pub name: String,
    /// The stored `parent`, as is.
    pub parent: Option<String>,
    pub scale: [f64; 3],
    pub is_mesh: bool,
    /// Material keys of a mesh that are absent or malformed (`color`, `roughness`, `metalness`).
    pub missing_material: Vec<&'static str>,
}

impl RawNode {
    /// `"Name" (id)` for messages.
    pub fn label(&self) -> String {
        if self.name.is_empty() {
            self.id.clone()
        } else {
            format!("{:?} ({})", self.name, self.id)
        }
    }
}

/// What a triangle mesh the scene uses is like.
#[derive(Debug, Clone, PartialEq)]
pub struct MeshCheck {
    pub id: MeshId,
    /// The nodes that use it, sorted.
    pub nodes: Vec<String>,
    /// (degenerate triangles, stored with normals, local bounds), or why it cannot be read.
    pub state: Result<(usize, bool, Aabb), String>,
}

/// Everything the check needs, read in one transaction.
#[derive(Debug, Clone)]
pub struct CheckInput {
    /// Sorted by id.
    pub nodes: Vec<RawNode>,
    pub ids: HashSet<String>,
    pub tree: SceneTree,
    /// The triangle meshes the nodes use, sorted by id.
    pub meshes: Vec<MeshCheck>,
}

impl CheckInput {
    pub fn read<T: ReadTxn>(scene: &Scene, txn: &T) -> CheckInput {
        let mut nodes: Vec<RawNode> = scene
            .root()
            .iter(txn)
            .filter_map(|(id, value)| match value {
                Out::YMap(map) => Some(raw_node(id, &map, txn)),
                _ => None,
            })
            .collect();
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        let ids = nodes.iter().map(|n| n.id.clone()).collect();
        let tree = scene.tree(txn);
        let mut users: BTreeMap<MeshId, Vec<String>> = BTreeMap::new();
        for (node, _) in tree.depth_first() {
            if let Some(mesh) = &node.mesh {
                users.entry(mesh.clone()).or_default().push(node.id.0.clone());
            }
        }
        let meshes = users
            .into_iter()
            .map(|(id, mut nodes)| {
                nodes.sort();
                let state = scene.mesh(txn, &id).map(|m| (m.degenerate_triangles(), !m.normals.is_empty(), m.bounds())).map_err(|e| e.to_string());
                MeshCheck { id, nodes, state }
            })
            .collect();
        CheckInput { nodes, ids, tree, meshes }
    }

    /// The label of node `id` for messages.
    pub fn label(&self, id: &str) -> String {
        self.nodes.iter().find(|n| n.id == id).map_or_else(|| id.to_owned(), RawNode::label)
    }
}


fn raw_node<T: ReadTxn>(id: &str, map: &MapRef, txn: &T) -> RawNode {
    let is_mesh = string(map, txn, keys::KIND).as_deref().and_then(NodeKind::parse) == Some(NodeKind::Mesh);
    let mut missing_material = Vec::new();
    if is_mesh {
        if string(map, txn, keys::COLOR).as_deref().and_then(Color::parse_hex).is_none() {
            missing_material.push(keys::COLOR);
        }
        for key in [NumberKey::Roughness, NumberKey::Metalness] {
            if finite_number(map, txn, key.as_str()).is_none() {
                missing_material.push(key.as_str());
            }
        }
    }
    RawNode {
        id: id.to_owned(),
        name: string(map, txn, keys::NAME).unwrap_or_default(),
        parent: string(map, txn, keys::PARENT).filter(|p| !p.is_empty()),
        scale: NumberKey::SCALE.map(|k| finite_number(map, txn, k.as_str()).unwrap_or(1.0)),
        is_mesh,
        missing_material,
    }
}
