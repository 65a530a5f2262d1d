//! Writing whole nodes into the document, every key at once. Imports and "Open JSON" create
//! many nodes in one transaction; writing each node's map in one insert (rather than
//! `Scene::add_node` and then the setters) writes every key exactly once, which keeps the
//! update small and avoids a key overwritten within its own transaction (an update that
//! deletes its own content, which some relays refuse), and it skips `add_node`'s per-call
//! scan of the siblings (quadratic over a large import).
//!
//! The keys and their meaning are those of `shared::scene::keys` / `docs/scene-schema.md`.

use yrs::{In, Map, MapPrelim, TransactionMut};

use crate::scene::keys::{self, NumberKey};
use crate::scene::{Node, NodeKind, Primitive, Scene};

/// The map of `node`: every key a reader would otherwise default, as the scene model's own
/// `add_node` writes them, with the node's values. Numbers must be finite (callers check).
fn prelim(node: &Node) -> MapPrelim {
    let mut fields: Vec<(&str, In)> = vec![
        (keys::NAME, In::from(node.name.as_str())),
        (keys::KIND, In::from(node.kind.as_str())),
        (keys::ORDER, In::from(node.order.as_str())),
        (keys::VISIBLE, In::from(node.visible)),
        (keys::LOCKED, In::from(node.locked)),
    ];
    if let Some(parent) = &node.parent {
        fields.push((keys::PARENT, In::from(parent.as_str())));
    }
    let t = &node.transform;
    let mut numbers: Vec<(NumberKey, f64)> = Vec::with_capacity(18);
    for (keys, values) in [(NumberKey::POSITION, t.position), (NumberKey::ROTATION, t.rotation), (NumberKey::SCALE, t.scale)] {
        numbers.extend(keys.into_iter().zip(values));
    }
    match node.kind {
        NodeKind::Mesh => {
            let p = node.primitive.unwrap_or_default();
            let m = node.material.unwrap_or_default();
            if let Some(mesh) = &node.mesh {
                fields.push((keys::MESH, In::from(mesh.as_str())));
            }
            fields.push((keys::PRIMITIVE, In::from(p.kind().as_str())));
            fields.push((keys::COLOR, In::from(m.color.to_hex())));
            let mut dims = [NumberKey::Width, NumberKey::Height, NumberKey::Depth, NumberKey::Radius].map(|k| (k, k.default_value()));
            let mut set = |key: NumberKey, value: f64| {
                if let Some(slot) = dims.iter_mut().find(|(k, _)| *k == key) {
                    slot.1 = value;
                }
            };
            match p {
                Primitive::Box { width, height, depth } => {
                    set(NumberKey::Width, width);
                    set(NumberKey::Height, height);
                    set(NumberKey::Depth, depth);
                }
                Primitive::Sphere { radius } => set(NumberKey::Radius, radius),
                Primitive::Cylinder { radius, height } => {
                    set(NumberKey::Radius, radius);
                    set(NumberKey::Height, height);
                }
                Primitive::Plane { width, height } => {
                    set(NumberKey::Width, width);
                    set(NumberKey::Height, height);
                }
            }
            numbers.extend(dims);
            numbers.extend([(NumberKey::Roughness, m.roughness), (NumberKey::Metalness, m.metalness), (NumberKey::Opacity, m.opacity)]);
        }
        NodeKind::Light => {
            let l = node.light.unwrap_or_default();
            fields.push((keys::LIGHT, In::from(l.kind.as_str())));
            fields.push((keys::LIGHT_COLOR, In::from(l.color.to_hex())));
            numbers.extend([(NumberKey::Intensity, l.intensity), (NumberKey::Angle, l.angle)]);
        }
        NodeKind::Group | NodeKind::Camera => {}
    }
    fields.extend(numbers.into_iter().map(|(k, v)| (k.as_str(), In::from(if v.is_finite() { v } else { k.default_value() }))));
    fields.into_iter().collect()
}

/// Inserts `nodes` (ids not yet in the scene) in this transaction, reporting each written
/// node's index to `progress`.
pub(super) fn insert_all(scene: &Scene, txn: &mut TransactionMut, nodes: &[Node], mut progress: impl FnMut(usize)) {
    for (i, node) in nodes.iter().enumerate() {
        scene.root().insert(txn, node.id.as_str(), prelim(node));
        progress(i + 1);
    }
}
