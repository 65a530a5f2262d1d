//! Hierarchy edits: moving a node to another parent or position, grouping a selection and
//! ungrouping. Each is meant to run in one transaction (one undo step).
//!
//! Locally these refuse to make a cycle; concurrent moves by two people can still store
//! one, and [`super::tree`] resolves it the same way on every peer.

use yrs::{Any, In, Map, ReadTxn, TransactionMut};

use super::keys;
use super::order::{self, key_between};
use super::types::{NodeId, NodeKind, Transform};
use super::{Scene, SceneError, SceneTree};
use crate::math::transform::{compose, relative_to};
use crate::math::Affine;

impl SceneTree {
    /// The transform of `id` relative to the scene (its ancestors' transforms composed).
    pub fn world_transform(&self, id: &NodeId) -> Transform {
        let mut chain = Vec::new();
        let mut current = Some(id);
        while let Some(c) = current {
            match self.node(c) {
                Some(node) => chain.push(node.transform),
                None => break,
            }
            current = self.parent(c);
        }
        chain.iter().rev().fold(Transform::default(), |world, local| compose(&world, local))
    }

    /// The exact world matrix of `id` (its ancestors' transforms composed as matrices, so
    /// non-uniform scale under rotation is kept); the identity for an unknown node.
    pub fn world_affine(&self, id: &NodeId) -> Affine {
        let mut world = Affine::IDENTITY;
        let mut current = Some(id);
        let mut steps = 0;
        while let Some(c) = current {
            let Some(node) = self.node(c) else { break };
            world = Affine::from_transform(&node.transform).then_inner(&world);
            current = self.parent(c);
            steps += 1;
            if steps > self.len() {
                break;
            }
        }
        world
    }

    fn world_of_parent(&self, parent: Option<&NodeId>) -> Transform {
        parent.map_or_else(Transform::default, |p| self.world_transform(p))
    }
}

impl Scene {
    /// A sibling-order key for a node placed under `parent` before sibling `before`
    /// (`None`: at the end), ignoring `moving` (the node being placed) among the siblings.
    /// Siblings with malformed keys are stepped over; siblings sharing a key (two concurrent
    /// inserts at one spot) count as one, so the new node goes before all of them.
    pub fn order_key_before<T: ReadTxn>(
        &self,
        txn: &T,
        parent: Option<&NodeId>,
        before: Option<&NodeId>,
        moving: Option<&NodeId>,
    ) -> Result<String, SceneError> {
        let tree = self.tree(txn);
        let siblings: Vec<&NodeId> = tree.children(parent).iter().filter(|s| Some(*s) != moving).collect();
        let key = |id: &NodeId| tree.node(id).map(|n| n.order.clone()).filter(|k| order::is_valid(k));
        let index = match before {
            None => siblings.len(),
            Some(b) => siblings.iter().position(|s| *s == b).ok_or_else(|| SceneError::NotFound(b.clone()))?,
        };
        let upper = siblings[index..].iter().find_map(|s| key(s));
        let lower = siblings[..index]
            .iter()
            .rev()
            .filter_map(|s| key(s))
            .find(|k| upper.as_ref().is_none_or(|u| k < u));
        Ok(key_between(lower.as_deref(), upper.as_deref())?)
    }

    /// Moves `id` under `parent` (`None`: the scene root), before sibling `before` (`None`:
    /// at the end). With `keep_world`, the node's transform is re-expressed so it stays where
    /// it is in the scene; otherwise it keeps its local transform.
    pub fn move_node(
        &self,
        txn: &mut TransactionMut,
        id: &NodeId,
        parent: Option<&NodeId>,
        before: Option<&NodeId>,
        keep_world: bool,
    ) -> Result<(), SceneError> {
        let tree = self.tree(txn);
        if tree.get(id).is_none() {
            return Err(SceneError::NotFound(id.clone()));
        }
        if let Some(p) = parent {
            if tree.get(p).is_none() {
                return Err(SceneError::NotFound(p.clone()));
            }
            if tree.is_ancestor_or_self(id, p) {
                return Err(SceneError::Cycle { node: id.clone(), parent: p.clone() });
            }
        }
        let order = self.order_key_before(txn, parent, before, Some(id))?;
        if keep_world && tree.parent(id) != parent {
            let (from, to) = (tree.world_of_parent(tree.parent(id)), tree.world_of_parent(parent));
            if from != to {
                let local = relative_to(&to, &tree.world_transform(id));
                self.set_transform(txn, id, &local)?;
            }
        }
        let map = self.node_map(txn, id)?;
        match parent {
            Some(p) => {
                map.insert(txn, keys::PARENT, In::from(p.0.as_str()));
            }
            None => {
                map.remove(txn, keys::PARENT);
            }
        }
        map.insert(txn, keys::ORDER, In::Any(Any::from(order)));
        Ok(())
    }

    /// [`Scene::move_node`] to the end of `parent`'s children, keeping the world transform.
    pub fn reparent(&self, txn: &mut TransactionMut, id: &NodeId, parent: Option<&NodeId>) -> Result<(), SceneError> {
        self.move_node(txn, id, parent, None, true)
    }

    /// Puts `ids` into a new group `group_id` named `name`, which takes the place of the
    /// first of them (in outliner order) under that one's parent, with an identity transform.
    /// Members keep their order and their place in the scene. Ids below another selected
    /// id move with it and are otherwise left alone.
    pub fn group(&self, txn: &mut TransactionMut, ids: &[NodeId], group_id: NodeId, name: &str) -> Result<NodeId, SceneError> {
        let tree = self.tree(txn);
        if let Some(missing) = ids.iter().find(|id| tree.get(id).is_none()) {
            return Err(SceneError::NotFound(missing.clone()));
        }
        if self.contains(txn, &group_id) {
            return Err(SceneError::AlreadyExists(group_id));
        }
        // Outliner order; drop ids already inside another selected id.
        let members: Vec<NodeId> = tree
            .depth_first()
            .into_iter()
            .map(|(n, _)| n.id.clone())
            .filter(|id| ids.contains(id))
            .filter(|id| !ids.iter().any(|other| other != id && tree.is_ancestor_or_self(other, id)))
            .collect();
        let first = members.first().ok_or(SceneError::EmptySelection)?;
        let parent = tree.parent(first).cloned();
        // Created with its final order key: writing a key twice in one transaction makes an
        // update that deletes its own content, which some relays refuse.
        self.add_node_before(txn, group_id.clone(), name, NodeKind::Group, parent.as_ref(), Some(first))?;
        for member in &members {
            self.move_node(txn, member, Some(&group_id), None, true)?;
        }
        Ok(group_id)
    }

    /// Replaces group `id` by its children, in its place and order, each keeping its place
    /// in the scene, and deletes the group. Returns the former children.
    pub fn ungroup(&self, txn: &mut TransactionMut, id: &NodeId) -> Result<Vec<NodeId>, SceneError> {
        let tree = self.tree(txn);
        let entry = tree.get(id).ok_or_else(|| SceneError::NotFound(id.clone()))?;
        let parent = entry.parent.clone();
        let children = entry.children.clone();
        let siblings = tree.children(parent.as_ref());
        let next = siblings.iter().position(|s| s == id).and_then(|i| siblings.get(i + 1)).cloned();
        for child in &children {
            let world = compose(&entry.node.transform, &tree.node(child).map(|n| n.transform).unwrap_or_default());
            self.move_node(txn, child, parent.as_ref(), next.as_ref(), false)?;
            self.set_transform(txn, child, &world)?;
        }
        self.nodes.remove(txn, &id.0);
        Ok(children)
    }
}
