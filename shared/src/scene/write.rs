//! Typed writes to single nodes: adding, per-field setters, deleting and duplicating.
//! Hierarchy edits (reparent, group, ungroup) are in [`super::hierarchy`].
//!
//! Setters write a key only when its value changes, so they don't produce updates (or undo
//! steps) for no-ops, and don't overwrite a collaborator's concurrent edit of that key with
//! the value it already had.

use yrs::types::ToJson;
use yrs::any::Number;
use yrs::{Any, In, Map, MapPrelim, MapRef, Out, ReadTxn, TransactionMut};

use super::keys::{self, NumberKey};
use super::types::{Color, IdGen, Light, Material, NodeId, NodeKind, Primitive, PrimitiveKind, Transform, Vec3};
use super::{order, read, Scene, SceneError};

/// Writes `value` under `key` unless it is already stored there.
fn set_any(txn: &mut TransactionMut, map: &MapRef, key: &str, value: Any) -> bool {
    if matches!(map.get(txn, key), Some(Out::Any(ref have)) if *have == value) {
        return false;
    }
    map.insert(txn, key, In::Any(value));
    true
}

fn finite(key: NumberKey, value: f64) -> Result<f64, SceneError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(SceneError::NotFinite { key: key.as_str() })
    }
}

/// The initial keys of a node of `kind`: everything a reader would otherwise default.
fn initial_fields(name: &str, kind: NodeKind, parent: Option<&NodeId>, order: String) -> MapPrelim {
    let mut fields: Vec<(&str, In)> = vec![
        (keys::NAME, In::from(name)),
        (keys::KIND, In::from(kind.as_str())),
        (keys::ORDER, In::from(order)),
        (keys::VISIBLE, In::from(true)),
        (keys::LOCKED, In::from(false)),
    ];
    if let Some(parent) = parent {
        fields.push((keys::PARENT, In::from(parent.0.as_str())));
    }
    let mut numbers: Vec<NumberKey> = [NumberKey::POSITION, NumberKey::ROTATION, NumberKey::SCALE].concat();
    match kind {
        NodeKind::Mesh => {
            fields.push((keys::PRIMITIVE, In::from(Primitive::default().kind().as_str())));
            fields.push((keys::COLOR, In::from(Color::GREY.to_hex())));
            numbers.extend([NumberKey::Width, NumberKey::Height, NumberKey::Depth, NumberKey::Radius]);
            numbers.extend([NumberKey::Roughness, NumberKey::Metalness, NumberKey::Opacity]);
        }
        NodeKind::Light => {
            let light = Light::default();
            fields.push((keys::LIGHT, In::from(light.kind.as_str())));
            fields.push((keys::LIGHT_COLOR, In::from(light.color.to_hex())));
            numbers.extend([NumberKey::Intensity, NumberKey::Angle]);
        }
        NodeKind::Group | NodeKind::Camera => {}
    }
    fields.extend(numbers.into_iter().map(|k| (k.as_str(), In::from(k.default_value()))));
    fields.into_iter().collect()
}

impl Scene {
    /// Adds a node at the end of `parent`'s children (`None`: the scene root) with default
    /// fields, replacing any node stored under `id`, and returns its id.
    pub fn add_node(
        &self,
        txn: &mut TransactionMut,
        id: NodeId,
        name: &str,
        kind: NodeKind,
        parent: Option<&NodeId>,
    ) -> NodeId {
        let order = self.append_key(txn, parent, Some(&id));
        self.nodes.insert(txn, id.0.as_str(), initial_fields(name, kind, parent, order));
        id
    }

    /// Adds a node under `parent`, before sibling `before` (`None`: at the end).
    pub fn add_node_before(
        &self,
        txn: &mut TransactionMut,
        id: NodeId,
        name: &str,
        kind: NodeKind,
        parent: Option<&NodeId>,
        before: Option<&NodeId>,
    ) -> Result<NodeId, SceneError> {
        if self.contains(txn, &id) {
            return Err(SceneError::AlreadyExists(id));
        }
        if let Some(p) = parent.filter(|p| !self.contains(txn, p)) {
            return Err(SceneError::NotFound(p.clone()));
        }
        let order = self.order_key_before(txn, parent, before, None)?;
        self.nodes.insert(txn, id.0.as_str(), initial_fields(name, kind, parent, order));
        Ok(id)
    }

    /// Renames a node; false if it does not exist.
    pub fn rename(&self, txn: &mut TransactionMut, id: &NodeId, name: &str) -> bool {
        self.set_name(txn, id, name).is_ok()
    }

    pub fn set_name(&self, txn: &mut TransactionMut, id: &NodeId, name: &str) -> Result<(), SceneError> {
        let map = self.node_map(txn, id)?;
        set_any(txn, &map, keys::NAME, Any::from(name));
        Ok(())
    }

    /// Changes what a node is. Fields of the old kind stay in the map (changing back keeps them).
    pub fn set_kind(&self, txn: &mut TransactionMut, id: &NodeId, kind: NodeKind) -> Result<(), SceneError> {
        let map = self.node_map(txn, id)?;
        set_any(txn, &map, keys::KIND, Any::from(kind.as_str()));
        Ok(())
    }

    /// Sets one numeric key, e.g. the x position while dragging along x. This is the setter
    /// to use for a single component: it leaves the other components to collaborators.
    pub fn set_number(&self, txn: &mut TransactionMut, id: &NodeId, key: NumberKey, value: f64) -> Result<(), SceneError> {
        let value = finite(key, value)?;
        let map = self.node_map(txn, id)?;
        set_any(txn, &map, key.as_str(), Any::Number(Number::Float(value)));
        Ok(())
    }

    fn set_numbers(&self, txn: &mut TransactionMut, id: &NodeId, values: &[(NumberKey, f64)]) -> Result<(), SceneError> {
        for &(key, value) in values {
            finite(key, value)?;
        }
        let map = self.node_map(txn, id)?;
        for &(key, value) in values {
            set_any(txn, &map, key.as_str(), Any::Number(Number::Float(value)));
        }
        Ok(())
    }

    /// Sets the three position keys (each only if it changes; see [`Scene::set_number`]).
    pub fn set_position(&self, txn: &mut TransactionMut, id: &NodeId, v: Vec3) -> Result<(), SceneError> {
        self.set_numbers(txn, id, &pairs(NumberKey::POSITION, v))
    }

    pub fn set_rotation(&self, txn: &mut TransactionMut, id: &NodeId, v: Vec3) -> Result<(), SceneError> {
        self.set_numbers(txn, id, &pairs(NumberKey::ROTATION, v))
    }

    pub fn set_scale(&self, txn: &mut TransactionMut, id: &NodeId, v: Vec3) -> Result<(), SceneError> {
        self.set_numbers(txn, id, &pairs(NumberKey::SCALE, v))
    }

    pub fn set_transform(&self, txn: &mut TransactionMut, id: &NodeId, t: &Transform) -> Result<(), SceneError> {
        let all = [pairs(NumberKey::POSITION, t.position), pairs(NumberKey::ROTATION, t.rotation), pairs(NumberKey::SCALE, t.scale)];
        self.set_numbers(txn, id, &all.concat())
    }

    pub fn set_visible(&self, txn: &mut TransactionMut, id: &NodeId, visible: bool) -> Result<(), SceneError> {
        let map = self.node_map(txn, id)?;
        set_any(txn, &map, keys::VISIBLE, Any::Bool(visible));
        Ok(())
    }

    /// Locked is advisory: the editor doesn't let users select or move locked nodes; the
    /// model doesn't refuse writes.
    pub fn set_locked(&self, txn: &mut TransactionMut, id: &NodeId, locked: bool) -> Result<(), SceneError> {
        let map = self.node_map(txn, id)?;
        set_any(txn, &map, keys::LOCKED, Any::Bool(locked));
        Ok(())
    }

    /// Sets a mesh's shape and the dimensions that shape uses.
    pub fn set_primitive(&self, txn: &mut TransactionMut, id: &NodeId, p: Primitive) -> Result<(), SceneError> {
        use NumberKey::{Depth, Height, Radius, Width};
        let dims = match p {
            Primitive::Box { width, height, depth } => vec![(Width, width), (Height, height), (Depth, depth)],
            Primitive::Sphere { radius } => vec![(Radius, radius)],
            Primitive::Cylinder { radius, height } => vec![(Radius, radius), (Height, height)],
            Primitive::Plane { width, height } => vec![(Width, width), (Height, height)],
        };
        self.set_numbers(txn, id, &dims)?;
        let map = self.node_map(txn, id)?;
        set_any(txn, &map, keys::PRIMITIVE, Any::from(p.kind().as_str()));
        Ok(())
    }

    /// Changes a mesh's shape and nothing else: each shape reads its own dimensions, which
    /// stay in the map (what the editor's shape menu does).
    pub fn set_primitive_kind(&self, txn: &mut TransactionMut, id: &NodeId, kind: PrimitiveKind) -> Result<(), SceneError> {
        let map = self.node_map(txn, id)?;
        set_any(txn, &map, keys::PRIMITIVE, Any::from(kind.as_str()));
        Ok(())
    }

    /// Sets a mesh's base colour (stored as `"#rrggbb"`).
    pub fn set_color(&self, txn: &mut TransactionMut, id: &NodeId, color: Color) -> Result<(), SceneError> {
        let map = self.node_map(txn, id)?;
        set_any(txn, &map, keys::COLOR, Any::from(color.to_hex()));
        Ok(())
    }

    /// Sets every material key that differs from `m`.
    pub fn set_material(&self, txn: &mut TransactionMut, id: &NodeId, m: &Material) -> Result<(), SceneError> {
        let numbers = [(NumberKey::Roughness, m.roughness), (NumberKey::Metalness, m.metalness), (NumberKey::Opacity, m.opacity)];
        self.set_numbers(txn, id, &numbers)?;
        self.set_color(txn, id, m.color)
    }

    /// Sets every light key that differs from `l`.
    pub fn set_light(&self, txn: &mut TransactionMut, id: &NodeId, l: &Light) -> Result<(), SceneError> {
        self.set_numbers(txn, id, &[(NumberKey::Intensity, l.intensity), (NumberKey::Angle, l.angle)])?;
        let map = self.node_map(txn, id)?;
        set_any(txn, &map, keys::LIGHT, Any::from(l.kind.as_str()));
        set_any(txn, &map, keys::LIGHT_COLOR, Any::from(l.color.to_hex()));
        Ok(())
    }

    /// Deletes a node and its whole resolved subtree in this transaction; false if there was
    /// no such node. A collaborator's concurrent edit of a deleted node is lost with it; a
    /// child they concurrently add under it shows at the root (the orphan rule).
    pub fn remove_node(&self, txn: &mut TransactionMut, id: &NodeId) -> bool {
        if !self.contains(txn, id) {
            return self.nodes.remove(txn, &id.0).is_some();
        }
        let doomed = self.tree(txn).descendants(id);
        for child in doomed {
            self.nodes.remove(txn, &child.0);
        }
        self.nodes.remove(txn, &id.0);
        true
    }

    /// [`Scene::remove_node`] for several nodes (a selection).
    pub fn delete(&self, txn: &mut TransactionMut, ids: &[NodeId]) -> Result<(), SceneError> {
        if let Some(missing) = ids.iter().find(|id| !self.contains(txn, id)) {
            return Err(SceneError::NotFound(missing.clone()));
        }
        for id in ids {
            self.remove_node(txn, id);
        }
        Ok(())
    }

    /// Copies a node and its subtree with fresh ids from `ids`, placing the copy right after
    /// the original. Returns the copy's id. Keys this version doesn't know are copied too.
    pub fn duplicate(&self, txn: &mut TransactionMut, id: &NodeId, ids: &mut IdGen) -> Result<NodeId, SceneError> {
        let tree = self.tree(txn);
        let entry = tree.get(id).ok_or_else(|| SceneError::NotFound(id.clone()))?;
        let parent = entry.parent.clone();
        let siblings = tree.children(parent.as_ref());
        let next = siblings.iter().position(|s| s == id).and_then(|i| siblings.get(i + 1));
        let order = self.order_key_before(txn, parent.as_ref(), next, Some(id))?;
        let copy = ids.next();
        self.copy_node(txn, id, &copy, parent.as_ref(), &order)?;
        let mut stack = vec![(id.clone(), copy.clone())];
        while let Some((from, to)) = stack.pop() {
            for child in tree.children(Some(&from)) {
                let new = ids.next();
                let child_order = tree.node(child).map(|n| n.order.clone()).unwrap_or_default();
                self.copy_node(txn, child, &new, Some(&to), &child_order)?;
                stack.push((child.clone(), new));
            }
        }
        Ok(copy)
    }

    fn copy_node(&self, txn: &mut TransactionMut, from: &NodeId, to: &NodeId, parent: Option<&NodeId>, order: &str) -> Result<(), SceneError> {
        let map = self.node_map(txn, from)?;
        let mut fields: MapPrelim = map
            .iter(txn)
            .map(|(k, v)| {
                let value = match v {
                    Out::Any(any) => any,
                    other => other.to_json(txn),
                };
                (k.to_owned(), In::Any(value))
            })
            .collect();
        fields.remove(keys::PARENT);
        if let Some(parent) = parent {
            fields.insert(keys::PARENT.into(), In::from(parent.0.as_str()));
        }
        fields.insert(keys::ORDER.into(), In::from(order));
        self.nodes.insert(txn, to.0.as_str(), fields);
        Ok(())
    }

    /// A key after every current child of `parent` (ignoring `except` and malformed keys).
    pub(super) fn append_key<T: ReadTxn>(&self, txn: &T, parent: Option<&NodeId>, except: Option<&NodeId>) -> String {
        let last = self
            .nodes
            .iter(txn)
            .filter(|(id, _)| except.is_none_or(|e| e.0 != *id))
            .filter_map(|(_, v)| match v {
                Out::YMap(m) => Some(m),
                _ => None,
            })
            .filter(|m| read::parent(m, txn).as_ref() == parent)
            .filter_map(|m| read::string(&m, txn, keys::ORDER).filter(|k| order::is_valid(k)))
            .max();
        // Both arms are valid inputs, so this cannot fail; fall back to a fresh key anyway.
        order::key_between(last.as_deref(), None).unwrap_or_else(|_| "V".to_owned())
    }
}

fn pairs(keys: [NumberKey; 3], v: Vec3) -> [(NumberKey, f64); 3] {
    [(keys[0], v[0]), (keys[1], v[1]), (keys[2], v[2])]
}
