//! What the viewport draws and picks, per node: its exact world matrix (with my gesture in
//! progress applied), its shape, material or light, its world bounds and whether it shows.
//!
//! Kept in step with the live scene by the list of what changed ([`Changes`]): a node
//! refreshed in place recomputes itself and its subtree (children inherit its matrix); only
//! a structural change recomputes everything. The renderer and the picker read from here,
//! and the renderer re-uploads only the nodes named in [`Drawables::take_dirty`].

use std::collections::{HashMap, HashSet};

use std::sync::Arc;

use shared::geometry::bounds::Aabb;
use shared::geometry::shape::{LoadedMesh, Shape};
use shared::math::Affine;
use shared::scene::{Light, Material, MeshId, NodeId, NodeKind, SceneTree};

use crate::editor::Changes;
use crate::preview::Preview;

/// One node as the viewport sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawable {
    pub kind: NodeKind,
    /// Meshes: their primitive, or their triangle mesh when it is loaded.
    pub shape: Option<Shape>,
    pub material: Material,
    pub light: Option<Light>,
    /// Node → world, with my gesture applied.
    pub world: Affine,
    /// World bounds (meshes: their shape; other nodes: their origin).
    pub bounds: Aabb,
    /// It and all its ancestors are visible.
    pub shown: bool,
    pub locked: bool,
}

/// What changed since the renderer last synced.
#[derive(Debug, Default)]
pub struct Dirty {
    pub ids: HashSet<NodeId>,
    /// Everything (after a structural change): rebuild from scratch.
    pub all: bool,
}

#[derive(Debug, Default)]
pub struct Drawables {
    items: HashMap<NodeId, Drawable>,
    dirty: Dirty,
    /// The gesture applied last time.
    preview: Option<Preview>,
}

impl Drawables {
    pub fn get(&self, id: &NodeId) -> Option<&Drawable> {
        self.items.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&NodeId, &Drawable)> {
        self.items.iter()
    }

    /// Brings everything up to date with `tree`, given what changed in it and my gesture;
    /// `meshes` loads triangle meshes.
    pub fn sync(&mut self, tree: &SceneTree, changes: Changes, preview: Option<&Preview>, meshes: &mut dyn FnMut(&MeshId) -> Option<Arc<LoadedMesh>>) {
        let preview_changed = self.preview.as_ref() != preview;
        if changes.structural {
            self.items.clear();
            for root in tree.roots() {
                self.refresh_subtree(tree, root, preview, meshes);
            }
            self.dirty = Dirty { ids: HashSet::new(), all: true };
            self.preview = preview.cloned();
            return;
        }
        let mut roots: Vec<NodeId> = changes.ids.into_iter().collect();
        if preview_changed {
            roots.extend(self.preview.iter().flat_map(|p| p.ids().iter().cloned()));
            roots.extend(preview.iter().flat_map(|p| p.ids().iter().cloned()));
            self.preview = preview.cloned();
        }
        // Refresh from the topmost changed nodes only: their subtrees cover the rest.
        let changed: HashSet<NodeId> = roots.into_iter().filter(|id| tree.get(id).is_some()).collect();
        for id in &changed {
            let covered = ancestors(tree, id).any(|a| changed.contains(a));
            if !covered {
                self.refresh_subtree(tree, id, preview, meshes);
            }
        }
    }

    /// Recomputes `id` and everything under it.
    fn refresh_subtree(&mut self, tree: &SceneTree, id: &NodeId, preview: Option<&Preview>, meshes: &mut dyn FnMut(&MeshId) -> Option<Arc<LoadedMesh>>) {
        let mut stack = vec![id.clone()];
        while let Some(id) = stack.pop() {
            let Some(entry) = tree.get(&id) else { continue };
            let node = &entry.node;
            let parent = tree.parent(&id).and_then(|p| self.items.get(p));
            let parent_world = parent.map_or(Affine::IDENTITY, |p| p.world);
            let mut world = parent_world.then_inner(&Affine::from_transform(&node.transform));
            if let Some(p) = preview.filter(|p| p.ids().contains(&id)) {
                world = p.moved(&world);
            }
            let shape = match (node.kind, node.primitive) {
                (NodeKind::Mesh, Some(p)) => Some(node.mesh.as_ref().and_then(&mut *meshes).map_or(Shape::Primitive(p), Shape::Mesh)),
                _ => None,
            };
            let bounds = match &shape {
                Some(s) => s.local_bounds().transformed(&world),
                None => Aabb::EMPTY.with_point(world.t),
            };
            let drawable = Drawable {
                kind: node.kind,
                shape,
                material: node.material.unwrap_or_default(),
                light: node.light,
                world,
                bounds,
                shown: node.visible && parent.is_none_or(|p| p.shown),
                locked: node.locked,
            };
            if self.items.get(&id) != Some(&drawable) {
                self.dirty.ids.insert(id.clone());
                self.items.insert(id.clone(), drawable);
            }
            stack.extend(entry.children.iter().cloned());
        }
    }

    /// What changed since the last call.
    pub fn take_dirty(&mut self) -> Dirty {
        std::mem::take(&mut self.dirty)
    }

    /// Where a peer's gesture draws its nodes: each moved node (with its subtree) and the
    /// world matrix the gesture gives it, at most `limit` of them.
    pub fn ghosts(&self, tree: &SceneTree, preview: &Preview, limit: usize) -> Vec<(NodeId, Affine)> {
        let mut out = Vec::new();
        for root in preview.ids() {
            let Some(drawn) = self.items.get(root) else { continue };
            let moved = preview.moved(&drawn.world);
            let Some(undo) = drawn.world.inverse() else { continue };
            let delta = moved.then_inner(&undo);
            for id in std::iter::once(root.clone()).chain(tree.descendants(root)) {
                if out.len() >= limit {
                    return out;
                }
                if let Some(d) = self.items.get(&id).filter(|d| d.shown && d.shape.is_some()) {
                    out.push((id, delta.then_inner(&d.world)));
                }
            }
        }
        out
    }
}

/// The ancestors of `id`, nearest first (bounded, in case of a corrupt tree).
fn ancestors<'a>(tree: &'a SceneTree, id: &'a NodeId) -> impl Iterator<Item = &'a NodeId> {
    let mut current = tree.parent(id);
    let mut steps = 0;
    std::iter::from_fn(move || {
        let here = current?;
        steps += 1;
        if steps > tree.len() {
            return None;
        }
        current = tree.parent(here);
        Some(here)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::scene::{Node, Transform};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn node(id: &str, parent: Option<&str>, x: f64) -> Node {
        let transform = Transform { position: [x, 0.0, 0.0], ..Transform::default() };
        Node { parent: parent.map(NodeId::from), order: id.into(), transform, ..Node::new(NodeId::from(id), id, NodeKind::Mesh) }
    }

    #[wasm_bindgen_test]
    fn a_changed_parent_refreshes_its_subtree_and_only_that() {
        let mut tree = SceneTree::from_nodes(vec![node("a", None, 1.0), node("b", Some("a"), 1.0), node("c", None, 5.0)]);
        let mut drawables = Drawables::default();
        drawables.sync(&tree, Changes { structural: true, ..Changes::default() }, None, &mut |_| None);
        assert!(drawables.take_dirty().all);
        assert_eq!(drawables.get(&"b".into()).map(|d| d.world.t[0]), Some(2.0));

        tree.refresh_node(node("a", None, 3.0));
        drawables.sync(&tree, Changes { ids: ["a".into()].into(), structural: false }, None, &mut |_| None);
        let dirty = drawables.take_dirty();
        assert!(!dirty.all);
        assert_eq!(dirty.ids, ["a".into(), "b".into()].into(), "the child moved with its parent, the other node did not");
        assert_eq!(drawables.get(&"b".into()).map(|d| d.world.t[0]), Some(4.0));
    }

    #[wasm_bindgen_test]
    fn a_gesture_moves_its_nodes_and_ending_it_puts_them_back() {
        let tree = SceneTree::from_nodes(vec![node("a", None, 0.0), node("b", Some("a"), 1.0)]);
        let mut drawables = Drawables::default();
        drawables.sync(&tree, Changes { structural: true, ..Changes::default() }, None, &mut |_| None);
        drawables.take_dirty();
        let moving = Preview::Move { ids: vec!["a".into()], offset: [0.0, 2.0, 0.0] };
        drawables.sync(&tree, Changes::default(), Some(&moving), &mut |_| None);
        assert_eq!(drawables.get(&"b".into()).map(|d| d.world.t), Some([1.0, 2.0, 0.0]));
        assert_eq!(drawables.take_dirty().ids.len(), 2);
        let ghosts = drawables.ghosts(&tree, &moving, 10);
        assert_eq!(ghosts.len(), 2);
        drawables.sync(&tree, Changes::default(), None, &mut |_| None);
        assert_eq!(drawables.get(&"b".into()).map(|d| d.world.t), Some([1.0, 0.0, 0.0]));
    }
}
