//! World space for jobs: every node's world transform (its [`Affine`] composed through the
//! resolved hierarchy, exact also for non-uniform scale under rotation), visibility through
//! the hierarchy; bounds are [`crate::geometry::bounds`]. Used by the ray tracer and by the
//! overlap phase of the scene check; the maths itself is [`crate::math`].

use std::collections::HashMap;

use crate::math::Affine;
use crate::scene::{NodeId, SceneTree};

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

