//! The editor's own scene file ("Save as JSON" / "Open JSON"): every node with every field,
//! versioned, in a format documented in `docs/scene-schema.md` ("Scene JSON"). Unlike glTF it
//! loses nothing the typed model holds. Node ids in a file only link parents and children:
//! opening gives every node a fresh id, and sibling order is the order nodes appear in.

use std::collections::{BTreeMap, HashMap, HashSet};

use base64::Engine;

use serde::{Deserialize, Serialize};
use yrs::{Map, ReadTxn, TransactionMut};

use super::{store, SceneJsonError, MAX_NODES};
use crate::scene::order::keys_between;
use crate::geometry::trimesh::{MeshId, TriMesh};
use crate::scene::{Color, IdGen, Light, LightKind, Material, Node, NodeId, NodeKind, Primitive, Scene, Transform};

/// The `format` value of a scene JSON document.
pub const SCENE_JSON_FORMAT: &str = "collab-scene";
/// The version this code writes; it opens this version and older.
pub const SCENE_JSON_VERSION: u32 = 1;

/// A scene JSON document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneJson {
    pub format: String,
    pub version: u32,
    /// Parents before their children, siblings in order (the outliner's order).
    pub nodes: Vec<JsonNode>,
    /// The triangle meshes the nodes use: id → the stored bytes in base64.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meshes: BTreeMap<String, String>,
}

/// One node. Missing fields read as the scene schema's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonNode {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: JsonKind,
    /// The parent's `id` in this file; absent or null: a top-level node.
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub position: [f64; 3],
    /// Euler angles in radians, XYZ order.
    #[serde(default)]
    pub rotation: [f64; 3],
    #[serde(default = "ones")]
    pub scale: [f64; 3],
    #[serde(default = "yes")]
    pub visible: bool,
    #[serde(default)]
    pub locked: bool,
    /// Meshes only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primitive: Option<JsonPrimitive>,
    /// Meshes only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material: Option<JsonMaterial>,
    /// Lights only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub light: Option<JsonLight>,
    /// Meshes drawn as a triangle mesh: a key of `meshes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesh: Option<String>,
}

fn ones() -> [f64; 3] {
    [1.0; 3]
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonKind {
    Mesh,
    Light,
    Camera,
    /// Also what an unknown kind reads as.
    #[default]
    #[serde(other)]
    Group,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum JsonPrimitive {
    Box { width: f64, height: f64, depth: f64 },
    Sphere { radius: f64 },
    Cylinder { radius: f64, height: f64 },
    Plane { width: f64, height: f64 },
}

impl JsonPrimitive {
    pub fn to_primitive(self) -> Primitive {
        match self {
            JsonPrimitive::Box { width, height, depth } => Primitive::Box { width, height, depth },
            JsonPrimitive::Sphere { radius } => Primitive::Sphere { radius },
            JsonPrimitive::Cylinder { radius, height } => Primitive::Cylinder { radius, height },
            JsonPrimitive::Plane { width, height } => Primitive::Plane { width, height },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonMaterial {
    /// `"#rrggbb"` (sRGB).
    pub color: String,
    pub roughness: f64,
    pub metalness: f64,
    pub opacity: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonLight {
    /// `"point"`, `"directional"` or `"spot"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `"#rrggbb"` (sRGB).
    pub color: String,
    pub intensity: f64,
    /// Spot cone half-angle, radians.
    pub angle: f64,
}

/// How [`open_scene_json`] treats the scene's current nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Refuse unless the scene has no nodes.
    IntoEmpty,
    /// Delete every current node, in the same transaction.
    Replace,
}

/// The whole scene read through `txn` as a scene JSON document (pretty-printed).
pub fn save_scene_json<T: ReadTxn>(scene: &Scene, txn: &T) -> String {
    let tree = scene.tree(txn);
    let nodes = tree
        .depth_first()
        .into_iter()
        .map(|(n, _)| {
            let p = n.primitive.map(|p| match p {
                Primitive::Box { width, height, depth } => JsonPrimitive::Box { width, height, depth },
                Primitive::Sphere { radius } => JsonPrimitive::Sphere { radius },
                Primitive::Cylinder { radius, height } => JsonPrimitive::Cylinder { radius, height },
                Primitive::Plane { width, height } => JsonPrimitive::Plane { width, height },
            });
            JsonNode {
                id: n.id.0.clone(),
                name: n.name.clone(),
                kind: match n.kind {
                    NodeKind::Group => JsonKind::Group,
                    NodeKind::Mesh => JsonKind::Mesh,
                    NodeKind::Light => JsonKind::Light,
                    NodeKind::Camera => JsonKind::Camera,
                },
                parent: tree.parent(&n.id).map(|p| p.0.clone()),
                position: n.transform.position,
                rotation: n.transform.rotation,
                scale: n.transform.scale,
                visible: n.visible,
                locked: n.locked,
                primitive: p,
                material: n.material.map(|m| JsonMaterial { color: m.color.to_hex(), roughness: m.roughness, metalness: m.metalness, opacity: m.opacity }),
                light: n.light.map(|l| JsonLight { kind: l.kind.as_str().to_owned(), color: l.color.to_hex(), intensity: l.intensity, angle: l.angle }),
                mesh: n.mesh.as_ref().map(|m| m.0.clone()),
            }
        })
        .collect();
    let meshes: BTreeMap<String, String> = tree
        .depth_first()
        .into_iter()
        .filter_map(|(n, _)| n.mesh.clone())
        .filter_map(|id| Some((id.0.clone(), base64::engine::general_purpose::STANDARD.encode(scene.mesh_bytes(txn, &id).ok()?))))
        .collect();
    let doc = SceneJson { format: SCENE_JSON_FORMAT.to_owned(), version: SCENE_JSON_VERSION, nodes, meshes };
    // Serializing plain structs of strings and finite numbers cannot fail.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// Opens a scene JSON document into the scene in the caller's transaction, giving each node
/// a fresh id from `ids`. Returns the new ids in file order. On error nothing is written.
pub fn open_scene_json(scene: &Scene, txn: &mut TransactionMut, ids: &mut IdGen, json: &str, mode: OpenMode) -> Result<Vec<NodeId>, SceneJsonError> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| SceneJsonError::NotSceneJson(e.to_string()))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(SCENE_JSON_FORMAT) {
        return Err(SceneJsonError::NotSceneJson(format!("\"format\" is not {SCENE_JSON_FORMAT:?}")));
    }
    let version = value.get("version").and_then(|v| v.as_u64()).ok_or_else(|| SceneJsonError::NotSceneJson("no \"version\"".into()))?;
    if version > u64::from(SCENE_JSON_VERSION) {
        return Err(SceneJsonError::UnsupportedVersion(u32::try_from(version).unwrap_or(u32::MAX)));
    }
    if let Some(n) = value.get("nodes").and_then(|n| n.as_array()).map(Vec::len).filter(|n| *n > MAX_NODES) {
        return Err(SceneJsonError::TooManyNodes(n));
    }
    let doc: SceneJson = serde_json::from_value(value).map_err(|e| SceneJsonError::NotSceneJson(e.to_string()))?;
    let nodes = plan(&doc.nodes, ids)?;
    let meshes = doc
        .meshes
        .iter()
        .map(|(id, data)| {
            let bad = |why: String| SceneJsonError::BadMesh { id: id.clone(), why };
            let bytes = base64::engine::general_purpose::STANDARD.decode(data.trim()).map_err(|e| bad(format!("not base64: {e}")))?;
            if MeshId::of_bytes(&bytes).0 != *id {
                return Err(bad("its bytes do not hash to its name".into()));
            }
            TriMesh::decode(&bytes).map_err(|e| bad(e.to_string()))
        })
        .collect::<Result<Vec<TriMesh>, SceneJsonError>>()?;
    match mode {
        OpenMode::IntoEmpty if scene.node_count(txn) > 0 => return Err(SceneJsonError::NotEmpty(scene.node_count(txn))),
        OpenMode::IntoEmpty => {}
        OpenMode::Replace => scene.root().clear(txn),
    }
    for mesh in &meshes {
        // Decoded just above, so valid.
        let _ = scene.add_mesh(txn, mesh);
    }
    store::insert_all(scene, txn, &nodes, |_| {});
    Ok(nodes.into_iter().map(|n| n.id).collect())
}

/// Checks the file's nodes and turns them into scene nodes with fresh ids and order keys.
fn plan(nodes: &[JsonNode], ids: &mut IdGen) -> Result<Vec<Node>, SceneJsonError> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        if index.insert(n.id.as_str(), i).is_some() {
            return Err(SceneJsonError::DuplicateId(n.id.clone()));
        }
    }
    let mut parents: Vec<Option<usize>> = Vec::with_capacity(nodes.len());
    for n in nodes {
        let parent = match n.parent.as_deref() {
            None | Some("") => None,
            Some(p) => Some(*index.get(p).ok_or_else(|| SceneJsonError::UnknownParent { node: n.id.clone(), parent: p.to_owned() })?),
        };
        parents.push(parent);
    }
    // A cycle: walking up from some node takes more steps than there are nodes.
    let mut checked: HashSet<usize> = HashSet::with_capacity(nodes.len());
    for start in 0..nodes.len() {
        let mut path = HashSet::new();
        let mut current = Some(start);
        while let Some(c) = current.filter(|c| !checked.contains(c)) {
            if !path.insert(c) {
                return Err(SceneJsonError::Cycle(nodes[c].id.clone()));
            }
            current = parents[c];
        }
        checked.extend(path);
    }
    let new_ids: Vec<NodeId> = nodes.iter().map(|_| ids.next()).collect();
    let mut siblings: HashMap<Option<usize>, usize> = HashMap::new();
    for p in &parents {
        *siblings.entry(*p).or_default() += 1;
    }
    let mut keys: HashMap<Option<usize>, std::vec::IntoIter<String>> = siblings
        .into_iter()
        .map(|(p, n)| (p, keys_between(None, None, n).unwrap_or_default().into_iter()))
        .collect();
    nodes
        .iter()
        .zip(&parents)
        .zip(&new_ids)
        .map(|((n, parent), id)| {
            let order = keys.get_mut(parent).and_then(Iterator::next).unwrap_or_default();
            node(n, id.clone(), parent.and_then(|p| new_ids.get(p).cloned()), order)
        })
        .collect()
}

fn node(n: &JsonNode, id: NodeId, parent: Option<NodeId>, order: String) -> Result<Node, SceneJsonError> {
    let finite = |what: &'static str, values: &[f64]| {
        if values.iter().all(|v| v.is_finite()) {
            Ok(())
        } else {
            Err(SceneJsonError::NonFinite { node: n.id.clone(), what })
        }
    };
    let color = |value: &str| Color::parse_hex(value).ok_or_else(|| SceneJsonError::BadColor { node: n.id.clone(), value: value.to_owned() });
    finite("position", &n.position)?;
    finite("rotation", &n.rotation)?;
    finite("scale", &n.scale)?;
    let kind = match n.kind {
        JsonKind::Group => NodeKind::Group,
        JsonKind::Mesh => NodeKind::Mesh,
        JsonKind::Light => NodeKind::Light,
        JsonKind::Camera => NodeKind::Camera,
    };
    let primitive = match n.primitive {
        Some(JsonPrimitive::Box { width, height, depth }) => Primitive::Box { width, height, depth },
        Some(JsonPrimitive::Sphere { radius }) => Primitive::Sphere { radius },
        Some(JsonPrimitive::Cylinder { radius, height }) => Primitive::Cylinder { radius, height },
        Some(JsonPrimitive::Plane { width, height }) => Primitive::Plane { width, height },
        None => Primitive::default(),
    };
    let dims = match primitive {
        Primitive::Box { width, height, depth } => vec![width, height, depth],
        Primitive::Sphere { radius } => vec![radius],
        Primitive::Cylinder { radius, height } | Primitive::Plane { width: radius, height } => vec![radius, height],
    };
    finite("primitive size", &dims)?;
    let material = match &n.material {
        Some(m) => {
            finite("material", &[m.roughness, m.metalness, m.opacity])?;
            Material { color: color(&m.color)?, roughness: m.roughness, metalness: m.metalness, opacity: m.opacity }
        }
        None => Material::default(),
    };
    let light = match &n.light {
        Some(l) => {
            finite("light", &[l.intensity, l.angle])?;
            Light { kind: LightKind::parse(&l.kind).unwrap_or_default(), color: color(&l.color)?, intensity: l.intensity, angle: l.angle }
        }
        None => Light::default(),
    };
    Ok(Node {
        id,
        name: n.name.clone(),
        kind,
        parent,
        order,
        transform: Transform { position: n.position, rotation: n.rotation, scale: n.scale },
        visible: n.visible,
        locked: n.locked,
        primitive: (kind == NodeKind::Mesh).then_some(primitive),
        material: (kind == NodeKind::Mesh).then_some(material),
        light: (kind == NodeKind::Light).then_some(light),
        mesh: n.mesh.as_deref().filter(|m| kind == NodeKind::Mesh && MeshId::is_well_formed(m)).map(|m| MeshId(m.to_owned())),
    })
}
