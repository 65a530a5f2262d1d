//! World space for jobs: every node's world transform (its [`Affine`] composed through the
//! resolved hierarchy, exact also for non-uniform scale under rotation), visibility through
//! the hierarchy, and each primitive's local bounds. Used by the ray tracer and by the
//! overlap phase of the scene check; the maths itself is [`crate::math`].

use std::collections::HashMap;

use crate::math::{scale, Affine};
use crate::scene::{NodeId, Primitive, SceneTree, Vec3};

/// The world transform of every node of the resolved tree.
pub fn world_transforms(tree: &SceneTree) -> HashMap<NodeId, Affine> {
    let mut world = HashMap::with_capacity(tree.len());
    let mut stack: Vec<(NodeId, Affine)> = tree.roots().iter().map(|id| (id.clone(), Affine::IDENTITY)).collect();
    while let Some((id, parent)) = stack.pop() {
        let Some(entry) = tree.get(&id) else { continue };
        let here = parent.then_inner(&Affine::from_transform(&entry.node.transform));
        for child in &entry.children {
            stack.push((child.clone(), here));
        }
        world.insert(id, here);
    }
    world
}

/// Whether a node and all its ancestors are visible.
pub fn visible_in_tree(tree: &SceneTree, id: &NodeId) -> bool {
    let mut current = Some(id);
    let mut steps = 0;
    while let Some(node) = current {
        match tree.node(node) {
            Some(n) if n.visible => current = tree.parent(node),
            _ => return false,
        }
        steps += 1;
        if steps > tree.len() {
            break;
        }
    }
    true
}

/// An axis-aligned box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aabb {
    pub min: Vec3,
    pub max: Vec3,
}

impl Aabb {
    /// The local bounds of a primitive (centred on its node; a plane in its xy plane).
    pub fn of_primitive(p: &Primitive) -> Aabb {
        let half = match *p {
            Primitive::Box { width, height, depth } => [width / 2.0, height / 2.0, depth / 2.0],
            Primitive::Sphere { radius } => [radius; 3],
            Primitive::Cylinder { radius, height } => [radius, height / 2.0, radius],
            Primitive::Plane { width, height } => [width / 2.0, height / 2.0, 0.0],
        };
        let half = half.map(f64::abs);
        Aabb { min: scale(half, -1.0), max: half }
    }

    /// The world bounds of this local box under `m` (its eight corners, transformed).
    pub fn transformed(&self, m: &Affine) -> Aabb {
        let mut out = Aabb { min: [f64::INFINITY; 3], max: [f64::NEG_INFINITY; 3] };
        for i in 0..8 {
            let corner = [
                if i & 1 == 0 { self.min[0] } else { self.max[0] },
                if i & 2 == 0 { self.min[1] } else { self.max[1] },
                if i & 4 == 0 { self.min[2] } else { self.max[2] },
            ];
            let p = m.point(corner);
            out.min = [0, 1, 2].map(|a| out.min[a].min(p[a]));
            out.max = [0, 1, 2].map(|a| out.max[a].max(p[a]));
        }
        out
    }
}
