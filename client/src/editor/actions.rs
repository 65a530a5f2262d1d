//! The editor's commands, shared by the toolbar and the keyboard shortcuts: add, duplicate,
//! delete, group, ungroup, frame the selection. Each document change is one
//! [`Editor::edit`] (one transaction, one undo step).

use leptos::prelude::*;
use shared::geometry::bounds::Aabb;
use shared::math::Affine;
use shared::scene::{Color, NodeId, NodeKind, NumberKey, Primitive, SceneTree, Vec3};

use super::Editor;
use crate::camera::ViewKind;
use crate::snapping::{snap, GRID_STEP};

/// What the Add buttons make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddKind {
    Box,
    Sphere,
    Cylinder,
    Plane,
    Light,
    Camera,
    Group,
}

impl AddKind {
    pub const ALL: [AddKind; 7] =
        [AddKind::Box, AddKind::Sphere, AddKind::Cylinder, AddKind::Plane, AddKind::Light, AddKind::Camera, AddKind::Group];

    pub fn label(self) -> &'static str {
        match self {
            AddKind::Box => "Box",
            AddKind::Sphere => "Sphere",
            AddKind::Cylinder => "Cylinder",
            AddKind::Plane => "Plane",
            AddKind::Light => "Light",
            AddKind::Camera => "Camera",
            AddKind::Group => "Group",
        }
    }

    /// The toolbar's text for adding one: a new group is "Empty", so that it is not taken for
    /// the "Group" button that groups the selection.
    pub fn button_text(self) -> &'static str {
        match self {
            AddKind::Group => "Empty",
            other => other.label(),
        }
    }

    fn kind(self) -> NodeKind {
        match self {
            AddKind::Light => NodeKind::Light,
            AddKind::Camera => NodeKind::Camera,
            AddKind::Group => NodeKind::Group,
            _ => NodeKind::Mesh,
        }
    }

    fn primitive(self) -> Option<Primitive> {
        Some(match self {
            AddKind::Box => Primitive::Box { width: 1.0, height: 1.0, depth: 1.0 },
            AddKind::Sphere => Primitive::Sphere { radius: 0.5 },
            AddKind::Cylinder => Primitive::Cylinder { radius: 0.5, height: 1.0 },
            AddKind::Plane => Primitive::Plane { width: 2.0, height: 2.0 },
            _ => return None,
        })
    }
}

/// Friendly colours for new meshes.
const PALETTE: [Color; 8] = [
    Color { r: 0x60, g: 0xa5, b: 0xfa },
    Color { r: 0xf4, g: 0x72, b: 0xb6 },
    Color { r: 0x34, g: 0xd3, b: 0x99 },
    Color { r: 0xfb, g: 0xbf, b: 0x24 },
    Color { r: 0xa7, g: 0x8b, b: 0xfa },
    Color { r: 0xf8, g: 0x71, b: 0x71 },
    Color { r: 0x2d, g: 0xd4, b: 0xbf },
    Color { r: 0xfb, g: 0x92, b: 0x3c },
];

impl Editor {
    /// Adds a node at the centre of the view and selects it.
    pub fn add(&self, what: AddKind) {
        if !self.can_edit() {
            return;
        }
        let mut at = self.camera.get_untracked().target;
        if self.snap.get_untracked() {
            at = at.map(|c| snap(c, GRID_STEP));
        }
        let prefix = format!("{} ", what.label());
        let count = self.tree.with_untracked(|t| t.depth_first().iter().filter(|(n, _)| n.name.starts_with(&prefix)).count());
        let name = format!("{prefix}{}", count + 1);
        let id = self.next_id();
        let color = PALETTE[(js_sys::Math::random() * PALETTE.len() as f64) as usize % PALETTE.len()];
        // Two transactions that make one undo step (the second follows within the capture
        // window): a transaction must not overwrite keys it created itself, or its update
        // deletes its own content, which the relay's causality guard refuses (it reads
        // yrs' `Update::state_vector`, empty unless the update starts at clock 0).
        self.edit(|scene, txn| scene.add_node(txn, id.clone(), &name, what.kind(), None));
        self.write(|scene, txn| {
            let _ = scene.set_position(txn, &id, at);
            if let Some(p) = what.primitive() {
                let _ = scene.set_primitive(txn, &id, p);
                let _ = scene.set_color(txn, &id, color);
            }
        });
        self.select(vec![id]);
    }

    /// Copies the selection (with subtrees), nudged so the copies are visible, and selects them.
    pub fn duplicate(&self) {
        let roots = self.selection_roots();
        if roots.is_empty() {
            return;
        }
        // Along the view's right and down, so the copy shows beside the original.
        let nudge = match self.camera.get_untracked().kind() {
            ViewKind::Front => [GRID_STEP, -GRID_STEP, 0.0],
            ViewKind::Side => [0.0, -GRID_STEP, -GRID_STEP],
            _ => [GRID_STEP, 0.0, GRID_STEP],
        };
        // Offsets computed before the transaction: the tree can't be read while writing.
        let moves: Vec<(NodeId, Vec3)> = self.tree.with_untracked(|tree| {
            roots
                .iter()
                .filter_map(|id| {
                    let node = tree.node(id)?;
                    let parent = tree.parent(id).map_or(Affine::IDENTITY, |p| tree.world_affine(p));
                    let d = parent.inverse().map_or(nudge, |inverse| inverse.vector(nudge));
                    let p = node.transform.position;
                    Some((id.clone(), [p[0] + d[0], p[1] + d[1], p[2] + d[2]]))
                })
                .collect()
        });
        let mut gen = self.ids.get_value();
        let Some(copies) = self.edit(|scene, txn| {
            moves.iter().filter_map(|(id, position)| Some((scene.duplicate(txn, id, &mut gen).ok()?, *position))).collect::<Vec<(NodeId, Vec3)>>()
        }) else {
            return;
        };
        // Nudged in a second transaction, same undo step (see `add`).
        self.write(|scene, txn| {
            for (copy, position) in &copies {
                let _ = scene.set_position(txn, copy, *position);
            }
        });
        let copies = copies.into_iter().map(|(id, _)| id).collect();
        self.ids.set_value(gen);
        self.select(copies);
    }

    pub fn delete_selection(&self) {
        let roots = self.selection_roots();
        if roots.is_empty() {
            return;
        }
        self.edit(|scene, txn| {
            for id in &roots {
                scene.remove_node(txn, id);
            }
        });
        self.select(Vec::new());
    }

    pub fn group_selection(&self) {
        let roots = self.selection_roots();
        if roots.is_empty() {
            return;
        }
        let id = self.next_id();
        let count = self.tree.with_untracked(|t| t.depth_first().iter().filter(|(n, _)| n.kind == NodeKind::Group).count());
        let name = format!("Group {}", count + 1);
        if let Some(Ok(group)) = self.edit(|scene, txn| scene.group(txn, &roots, id, &name)) {
            self.select(vec![group]);
        }
    }

    pub fn ungroup_selection(&self) {
        let groups: Vec<NodeId> = self.tree.with_untracked(|tree| {
            self.selection_roots().into_iter().filter(|id| tree.node(id).is_some_and(|n| n.kind == NodeKind::Group)).collect()
        });
        if groups.is_empty() {
            return;
        }
        let Some(children) = self.edit(|scene, txn| {
            groups.iter().filter_map(|g| scene.ungroup(txn, g).ok()).flatten().collect::<Vec<_>>()
        }) else {
            return;
        };
        self.select(children);
    }

    /// Writes one numeric field of one node (a property-panel commit).
    pub fn set_number(&self, id: &NodeId, key: NumberKey, value: f64) {
        self.edit(|scene, txn| {
            let _ = scene.set_number(txn, id, key, value);
        });
    }

    /// Shows `kind` (perspective or an axis view) about the same target; stops following.
    pub fn switch_view(&self, kind: ViewKind) {
        self.follow.set(None);
        self.camera.update(|c| *c = c.switched_to(kind));
    }

    /// Points the camera at the selection (everything when nothing is selected), from the
    /// same direction, near enough that it fills the view.
    pub fn frame_selection(&self) {
        let selection = self.selection.get_untracked();
        self.frame(&selection);
    }

    /// Points the camera at everything.
    pub fn frame_all(&self) {
        self.frame(&[]);
    }

    fn frame(&self, ids: &[NodeId]) {
        let bounds = self.tree.with_untracked(|tree| {
            let ids: Vec<NodeId> = if ids.is_empty() {
                tree.depth_first().into_iter().map(|(n, _)| n.id.clone()).collect()
            } else {
                ids.iter().flat_map(|id| std::iter::once(id.clone()).chain(tree.descendants(id))).collect()
            };
            ids.iter().fold(Aabb::EMPTY, |b, id| b.union(&self.world_bounds(tree, id)))
        });
        if bounds.is_empty() {
            return;
        }
        let (w, h) = self.ui.canvas_size.get_untracked();
        self.follow.set(None);
        self.camera.update(|c| *c = c.framing(&bounds, w / h.max(1.0)));
    }
}

impl Editor {
    /// A node's bounds in the world: its triangle mesh's, its primitive's, or its origin for
    /// nodes without a shape.
    fn world_bounds(&self, tree: &SceneTree, id: &NodeId) -> Aabb {
        let world = tree.world_affine(id);
        let Some(node) = tree.node(id) else { return Aabb::EMPTY };
        let mesh = node.mesh.as_ref().and_then(|m| self.load_mesh(m)).and_then(Result::ok).map(|m| m.bounds()).filter(|b| !b.is_empty());
        match (mesh, node.primitive) {
            (Some(local), _) => local.transformed(&world),
            (None, Some(p)) => Aabb::of_primitive(&p).transformed(&world),
            (None, None) => Aabb::EMPTY.with_point(world.t),
        }
    }
}
