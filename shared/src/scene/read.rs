//! Reading node maps tolerantly: a missing key, a value of the wrong type (from an older or
//! newer client, or a hand-written one) or a non-finite number reads as the default.
//! Nothing here panics on document content.

use yrs::{Any, Map, MapRef, Out, ReadTxn};

use super::keys::{self, NumberKey};
use super::types::{Color, Light, LightKind, Material, MeshId, Node, NodeId, NodeKind, Primitive, PrimitiveKind, Transform};

/// A string field (the one way anything in `shared` reads one from a map).
pub(crate) fn string<T: ReadTxn>(map: &MapRef, txn: &T, key: &str) -> Option<String> {
    match map.get(txn, key)? {
        Out::Any(Any::String(s)) => Some(s.to_string()),
        _ => None,
    }
}

/// A number field if it holds a finite number (the one way anything in `shared` reads one).
pub(crate) fn finite_number<T: ReadTxn>(map: &MapRef, txn: &T, key: &str) -> Option<f64> {
    match map.get(txn, key)? {
        Out::Any(Any::Number(n)) => n.as_f64().filter(|v| v.is_finite()),
        _ => None,
    }
}

pub(super) fn number<T: ReadTxn>(map: &MapRef, txn: &T, key: NumberKey) -> f64 {
    finite_number(map, txn, key.as_str()).unwrap_or_else(|| key.default_value())
}

fn boolean<T: ReadTxn>(map: &MapRef, txn: &T, key: &str, default: bool) -> bool {
    match map.get(txn, key) {
        Some(Out::Any(Any::Bool(b))) => b,
        _ => default,
    }
}

fn color<T: ReadTxn>(map: &MapRef, txn: &T, key: &str, default: Color) -> Color {
    string(map, txn, key).as_deref().and_then(Color::parse_hex).unwrap_or(default)
}

fn vec3<T: ReadTxn>(map: &MapRef, txn: &T, keys: [NumberKey; 3]) -> [f64; 3] {
    keys.map(|k| number(map, txn, k))
}

pub(super) fn transform<T: ReadTxn>(map: &MapRef, txn: &T) -> Transform {
    Transform {
        position: vec3(map, txn, NumberKey::POSITION),
        rotation: vec3(map, txn, NumberKey::ROTATION),
        scale: vec3(map, txn, NumberKey::SCALE),
    }
}

pub(super) fn primitive<T: ReadTxn>(map: &MapRef, txn: &T) -> Primitive {
    let n = |k| number(map, txn, k);
    let kind = string(map, txn, keys::PRIMITIVE).as_deref().and_then(PrimitiveKind::parse).unwrap_or_default();
    match kind {
        PrimitiveKind::Box => {
            Primitive::Box { width: n(NumberKey::Width), height: n(NumberKey::Height), depth: n(NumberKey::Depth) }
        }
        PrimitiveKind::Sphere => Primitive::Sphere { radius: n(NumberKey::Radius) },
        PrimitiveKind::Cylinder => Primitive::Cylinder { radius: n(NumberKey::Radius), height: n(NumberKey::Height) },
        PrimitiveKind::Plane => Primitive::Plane { width: n(NumberKey::Width), height: n(NumberKey::Height) },
    }
}

pub(super) fn material<T: ReadTxn>(map: &MapRef, txn: &T) -> Material {
    Material {
        color: color(map, txn, keys::COLOR, Color::GREY),
        roughness: number(map, txn, NumberKey::Roughness),
        metalness: number(map, txn, NumberKey::Metalness),
        opacity: number(map, txn, NumberKey::Opacity),
    }
}

pub(super) fn light<T: ReadTxn>(map: &MapRef, txn: &T) -> Light {
    Light {
        kind: string(map, txn, keys::LIGHT).as_deref().and_then(LightKind::parse).unwrap_or_default(),
        color: color(map, txn, keys::LIGHT_COLOR, Color::WHITE),
        intensity: number(map, txn, NumberKey::Intensity),
        angle: number(map, txn, NumberKey::Angle),
    }
}

/// The parent as stored: absent, empty or not a string means the scene root.
pub(super) fn parent<T: ReadTxn>(map: &MapRef, txn: &T) -> Option<NodeId> {
    string(map, txn, keys::PARENT).filter(|p| !p.is_empty()).map(NodeId)
}

/// The node stored under `id`, or `None` if the value is not a map.
pub(super) fn node<T: ReadTxn>(id: &str, value: Out, txn: &T) -> Option<Node> {
    let Out::YMap(map) = value else { return None };
    let kind = string(&map, txn, keys::KIND).as_deref().and_then(NodeKind::parse).unwrap_or_default();
    Some(Node {
        id: NodeId(id.to_owned()),
        name: string(&map, txn, keys::NAME).unwrap_or_default(),
        kind,
        parent: parent(&map, txn),
        order: string(&map, txn, keys::ORDER).unwrap_or_default(),
        transform: transform(&map, txn),
        visible: boolean(&map, txn, keys::VISIBLE, true),
        locked: boolean(&map, txn, keys::LOCKED, false),
        primitive: (kind == NodeKind::Mesh).then(|| primitive(&map, txn)),
        material: (kind == NodeKind::Mesh).then(|| material(&map, txn)),
        mesh: string(&map, txn, keys::MESH).filter(|m| kind == NodeKind::Mesh && MeshId::is_well_formed(m)).map(MeshId),
        light: (kind == NodeKind::Light).then(|| light(&map, txn)),
    })
}
