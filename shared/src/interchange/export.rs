//! The scene as binary glTF (.glb): one glTF node per scene node in the resolved tree's
//! order, meshes generated from the primitives (shared between nodes with the same shape and
//! material) and the scene's triangle meshes written as they are stored (shared between nodes
//! using the same one), PBR materials, `KHR_lights_punctual` lights and a default
//! perspective camera.
//! Mapping details are in `docs/scene-schema.md` ("glTF and JSON").

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{json, Map, Value};
use yrs::ReadTxn;

use crate::geometry::primitives;
use crate::geometry::trimesh::{MeshId, TriMesh};
use super::{ExportError, Progress};
use crate::math::color::color_to_linear;
use crate::math::Quat;
use crate::scene::{LightKind, Material, Node, NodeKind, Primitive, Scene};

/// Vertical field of view of the exported camera (three.js `PerspectiveCamera` default, 50°).
pub const CAMERA_YFOV: f64 = 50.0 * std::f64::consts::PI / 180.0;
const CAMERA_ZNEAR: f64 = 0.1;
const CAMERA_ZFAR: f64 = 1000.0;
const ARRAY_BUFFER: u32 = 34962;
const ELEMENT_ARRAY_BUFFER: u32 = 34963;
const FLOAT: u32 = 5126;
const UNSIGNED_SHORT: u32 = 5123;
const UNSIGNED_INT: u32 = 5125;

/// Writes the scene read through `txn` as a .glb file. `progress` gets fractions rising
/// monotonically from 0 to exactly 1.0 (at most about a hundred calls).
pub fn export_glb<T: ReadTxn>(scene: &Scene, txn: &T, progress: impl FnMut(f32)) -> Result<Vec<u8>, ExportError> {
    let mut progress = Progress::new(progress);
    let tree = scene.tree(txn);
    let order = tree.depth_first();
    let index: HashMap<&str, usize> = order.iter().enumerate().map(|(i, (n, _))| (n.id.as_str(), i)).collect();
    let mut out = Builder::default();
    // The triangle meshes the nodes use; a node whose mesh cannot be read exports its
    // primitive stand-in.
    for id in order.iter().filter_map(|(n, _)| n.mesh.as_ref()) {
        if !out.loaded.contains_key(id) {
            if let Ok(mesh) = scene.mesh(txn, id) {
                out.loaded.insert(id.clone(), mesh);
            }
        }
    }
    let total = order.len().max(1) as f32;
    for (i, (node, _)) in order.iter().enumerate() {
        let children: Vec<usize> = tree.children(Some(&node.id)).iter().filter_map(|c| index.get(c.as_str()).copied()).collect();
        let gltf_node = out.node(node, children);
        out.nodes.push(gltf_node);
        progress.report(0.9 * (i + 1) as f32 / total);
    }
    let roots: Vec<usize> = tree.roots().iter().filter_map(|r| index.get(r.as_str()).copied()).collect();
    let glb = out.finish(roots)?;
    progress.report(1.0);
    Ok(glb)
}

#[derive(Default)]
struct Builder {
    nodes: Vec<Value>,
    meshes: Vec<Value>,
    materials: Vec<Value>,
    lights: Vec<Value>,
    accessors: Vec<Value>,
    views: Vec<Value>,
    bin: Vec<u8>,
    camera: bool,
    /// Geometry (shape and dimensions, as bits) → its accessors (positions, normals, indices).
    geometries: HashMap<[u64; 4], [usize; 3]>,
    /// The scene's triangle meshes, until written; then their accessors.
    loaded: HashMap<MeshId, TriMesh>,
    mesh_geometries: HashMap<MeshId, [usize; 3]>,
    material_index: HashMap<[u64; 5], usize>,
    mesh_index: HashMap<(usize, usize), usize>,
}

impl Builder {
    fn node(&mut self, node: &Node, children: Vec<usize>) -> Value {
        let t = &node.transform;
        let q = Quat::from_euler(t.rotation).to_array();
        let mut n = Map::new();
        n.insert("name".into(), json!(node.name));
        n.insert("translation".into(), json!(t.position));
        n.insert("rotation".into(), json!(q));
        n.insert("scale".into(), json!(t.scale));
        if !children.is_empty() {
            n.insert("children".into(), json!(children));
        }
        let mut extras = Map::new();
        if !node.visible {
            extras.insert("visible".into(), json!(false));
        }
        if node.locked {
            extras.insert("locked".into(), json!(true));
        }
        if !extras.is_empty() {
            n.insert("extras".into(), Value::Object(extras));
        }
        match node.kind {
            NodeKind::Mesh => {
                let material = node.material.unwrap_or_default();
                let mesh = match node.mesh.as_ref().and_then(|id| self.triangle_mesh(id, &material)) {
                    Some(mesh) => mesh,
                    None => self.mesh(&node.primitive.unwrap_or_default(), &material),
                };
                n.insert("mesh".into(), json!(mesh));
            }
            NodeKind::Light => {
                let light = node.light.unwrap_or_default();
                let mut l = json!({
                    "name": node.name,
                    "type": light.kind.as_str(),
                    "color": color_to_linear(light.color),
                    "intensity": light.intensity,
                });
                if light.kind == LightKind::Spot {
                    let outer = light.angle.clamp(1e-4, std::f64::consts::FRAC_PI_2);
                    l["spot"] = json!({ "innerConeAngle": 0.0, "outerConeAngle": outer });
                }
                self.lights.push(l);
                n.insert("extensions".into(), json!({ "KHR_lights_punctual": { "light": self.lights.len() - 1 } }));
            }
            NodeKind::Camera => {
                self.camera = true;
                n.insert("camera".into(), json!(0));
            }
            NodeKind::Group => {}
        }
        Value::Object(n)
    }

    fn mesh(&mut self, p: &Primitive, m: &Material) -> usize {
        let double_sided = matches!(p, Primitive::Plane { .. });
        let geometry = self.geometry(p);
        let material = self.material(m, double_sided);
        if let Some(&i) = self.mesh_index.get(&(geometry[0], material)) {
            return i;
        }
        let [position, normal, indices] = geometry;
        // The primitive itself, so this editor's import gets it back editable (other tools
        // see the triangles).
        let shape = match *p {
            Primitive::Box { width, height, depth } => json!({ "type": "box", "width": width, "height": height, "depth": depth }),
            Primitive::Sphere { radius } => json!({ "type": "sphere", "radius": radius }),
            Primitive::Cylinder { radius, height } => json!({ "type": "cylinder", "radius": radius, "height": height }),
            Primitive::Plane { width, height } => json!({ "type": "plane", "width": width, "height": height }),
        };
        self.meshes.push(json!({
            "name": p.kind().as_str(),
            "primitives": [{
                "attributes": { "POSITION": position, "NORMAL": normal },
                "indices": indices,
                "material": material,
            }],
            "extras": { "scenePrimitive": shape },
        }));
        let i = self.meshes.len() - 1;
        self.mesh_index.insert((position, material), i);
        i
    }

    /// The glTF mesh of a stored triangle mesh with a material (`None`: not loaded).
    /// Two-sided, as the viewport and the ray tracer draw it.
    fn triangle_mesh(&mut self, id: &MeshId, m: &Material) -> Option<usize> {
        let geometry = match self.mesh_geometries.get(id) {
            Some(g) => *g,
            None => {
                let data = self.loaded.remove(id)?;
                let g = self.write_geometry(&data);
                self.mesh_geometries.insert(id.clone(), g);
                g
            }
        };
        let material = self.material(m, true);
        if let Some(&i) = self.mesh_index.get(&(geometry[0], material)) {
            return Some(i);
        }
        let [position, normal, indices] = geometry;
        self.meshes.push(json!({
            "name": id.as_str(),
            "primitives": [{ "attributes": { "POSITION": position, "NORMAL": normal }, "indices": indices, "material": material }],
        }));
        let i = self.meshes.len() - 1;
        self.mesh_index.insert((position, material), i);
        Some(i)
    }

    fn geometry(&mut self, p: &Primitive) -> [usize; 3] {
        let key = match *p {
            Primitive::Box { width, height, depth } => [0, width.to_bits(), height.to_bits(), depth.to_bits()],
            Primitive::Sphere { radius } => [1, radius.to_bits(), 0, 0],
            Primitive::Cylinder { radius, height } => [2, radius.to_bits(), height.to_bits(), 0],
            Primitive::Plane { width, height } => [3, width.to_bits(), height.to_bits(), 0],
        };
        if let Some(&g) = self.geometries.get(&key) {
            return g;
        }
        let data = primitives::mesh(p);
        let g = self.write_geometry(&data);
        self.geometries.insert(key, g);
        g
    }

    /// Writes a mesh's positions, normals (computed if it has none) and indices.
    fn write_geometry(&mut self, data: &TriMesh) -> [usize; 3] {
        let computed;
        let normals = if data.normals.len() == data.positions.len() {
            &data.normals
        } else {
            computed = data.computed_normals();
            &computed
        };
        let b = data.bounds();
        let (min, max) = if b.is_empty() { ([0.0; 3], [0.0; 3]) } else { (b.min.map(|v| v as f32), b.max.map(|v| v as f32)) };
        let count = data.positions.len();
        let positions: Vec<u8> = data.positions.iter().flatten().flat_map(|v| v.to_le_bytes()).collect();
        let normals: Vec<u8> = normals.iter().flatten().flat_map(|v| v.to_le_bytes()).collect();
        let position = self.accessor(&positions, ARRAY_BUFFER, json!({ "componentType": FLOAT, "count": count, "type": "VEC3", "min": min, "max": max }));
        let normal = self.accessor(&normals, ARRAY_BUFFER, json!({ "componentType": FLOAT, "count": count, "type": "VEC3" }));
        let (bytes, component) = if count <= usize::from(u16::MAX) {
            (data.indices.iter().flat_map(|&i| (i as u16).to_le_bytes()).collect::<Vec<u8>>(), UNSIGNED_SHORT)
        } else {
            (data.indices.iter().flat_map(|&i| i.to_le_bytes()).collect(), UNSIGNED_INT)
        };
        let indices = self.accessor(&bytes, ELEMENT_ARRAY_BUFFER, json!({ "componentType": component, "count": data.indices.len(), "type": "SCALAR" }));
        [position, normal, indices]
    }

    /// Appends `bytes` (4-byte aligned) as a buffer view, and an accessor over all of it.
    fn accessor(&mut self, bytes: &[u8], target: u32, mut accessor: Value) -> usize {
        while self.bin.len() & 3 != 0 {
            self.bin.push(0);
        }
        self.views.push(json!({ "buffer": 0, "byteOffset": self.bin.len(), "byteLength": bytes.len(), "target": target }));
        self.bin.extend_from_slice(bytes);
        accessor["bufferView"] = json!(self.views.len() - 1);
        self.accessors.push(accessor);
        self.accessors.len() - 1
    }

    fn material(&mut self, m: &Material, double_sided: bool) -> usize {
        let color = u64::from(m.color.r) << 16 | u64::from(m.color.g) << 8 | u64::from(m.color.b);
        let key = [color, m.roughness.to_bits(), m.metalness.to_bits(), m.opacity.to_bits(), u64::from(double_sided)];
        if let Some(&i) = self.material_index.get(&key) {
            return i;
        }
        let [r, g, b] = color_to_linear(m.color);
        let mut material = json!({
            "name": m.color.to_hex(),
            "pbrMetallicRoughness": {
                "baseColorFactor": [r, g, b, m.opacity.clamp(0.0, 1.0)],
                "metallicFactor": m.metalness.clamp(0.0, 1.0),
                "roughnessFactor": m.roughness.clamp(0.0, 1.0),
            },
        });
        if m.opacity < 1.0 {
            material["alphaMode"] = json!("BLEND");
        }
        if double_sided {
            material["doubleSided"] = json!(true);
        }
        self.materials.push(material);
        self.material_index.insert(key, self.materials.len() - 1);
        self.materials.len() - 1
    }

    fn finish(mut self, roots: Vec<usize>) -> Result<Vec<u8>, ExportError> {
        while self.bin.len() & 3 != 0 {
            self.bin.push(0);
        }
        let mut root = json!({
            "asset": { "version": "2.0", "generator": "shared::interchange (scene editor)" },
            "scene": 0,
            "scenes": [{ "name": "Scene", "nodes": roots }],
        });
        let mut put = |key: &str, items: Vec<Value>| {
            if !items.is_empty() {
                root[key] = Value::Array(items);
            }
        };
        put("nodes", self.nodes);
        put("meshes", self.meshes);
        put("materials", self.materials);
        put("accessors", self.accessors);
        put("bufferViews", self.views);
        if self.camera {
            let camera = json!({ "name": "Default camera", "type": "perspective",
                "perspective": { "yfov": CAMERA_YFOV, "znear": CAMERA_ZNEAR, "zfar": CAMERA_ZFAR } });
            root["cameras"] = json!([camera]);
        }
        if !self.lights.is_empty() {
            root["extensionsUsed"] = json!(["KHR_lights_punctual"]);
            root["extensions"] = json!({ "KHR_lights_punctual": { "lights": self.lights } });
        }
        if !self.bin.is_empty() {
            root["buffers"] = json!([{ "byteLength": self.bin.len() }]);
        }
        let json = serde_json::to_vec(&root).map_err(|e| ExportError::Json(e.to_string()))?;
        let total = 12 + 8 + json.len() + 3 + 8 + self.bin.len();
        if u32::try_from(total).is_err() {
            return Err(ExportError::TooLarge(total));
        }
        let glb = gltf::Glb {
            header: gltf::binary::Header { magic: *b"glTF", version: 2, length: 0 },
            json: Cow::Owned(json),
            bin: (!self.bin.is_empty()).then_some(Cow::Owned(self.bin)),
        };
        glb.to_vec().map_err(|e| ExportError::Json(e.to_string()))
    }
}
