//! glTF 2.0 (.gltf with embedded data, or .glb) into the scene: the node trees of the file's
//! default scene become scene nodes under a chosen parent, in one transaction. Everything is
//! read, checked and planned first; only a file that passed every check is written, so a
//! refused import leaves the document untouched. Mapping: `docs/scene-schema.md`.
//!
//! A glTF mesh keeps its triangles: its triangle primitives (strips and fans turned into
//! triangles) are merged per material into triangle meshes, stored once each in the
//! document's `meshes` map. Primitives that are not triangles (points, lines) are fitted to
//! a box, sphere, cylinder or plane, as before meshes existed.

use std::collections::HashMap;

use gltf::json::extensions::scene::khr_lights_punctual::Type as LightType;
use gltf::json::material::AlphaMode;
use gltf::json::validation::Checked;
use yrs::TransactionMut;

use super::fit::Fit;
use super::source::Source;
use super::{store, ImportError, ImportWarning, Progress};
use crate::geometry::bounds::Aabb;
use crate::geometry::trimesh::{MeshId, TriMesh};
use crate::math::color::color_from_linear;
use crate::math::{add, mul_axes, Affine, Quat, Trs};
use crate::scene::order::key_between;
use crate::scene::{IdGen, Light, LightKind, Material, Node, NodeId, NodeKind, Scene, Transform};

mod meshes;
use meshes::with_part;

/// What an import created.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportSummary {
    /// The new top-level nodes (children of the parent imported under), in order.
    pub roots: Vec<NodeId>,
    /// Every node created.
    pub nodes_created: usize,
    /// What could not be carried over.
    pub warnings: Vec<ImportWarning>,
}

/// Imports a glTF 2.0 file (`.glb`, or `.gltf` JSON whose buffers are `data:` URIs) under
/// `parent` (`None`: the scene root, after the existing nodes), with fresh ids from `ids`,
/// in the caller's transaction. `progress` gets fractions rising monotonically to 1.0.
/// On error nothing has been written.
pub fn import_gltf(
    scene: &Scene,
    txn: &mut TransactionMut,
    ids: &mut IdGen,
    parent: Option<&NodeId>,
    bytes: &[u8],
    progress: impl FnMut(f32),
) -> Result<ImportSummary, ImportError> {
    let mut progress = Progress::new(progress);
    if let Some(p) = parent.filter(|p| !scene.contains(txn, p)) {
        return Err(ImportError::ParentNotFound(p.clone()));
    }
    let mut source = Source::parse(bytes)?;
    progress.report(0.1);
    let mut planner = Planner { warnings: unsupported(&source), ..Planner::default() };
    let roots = scene_roots(&source, &mut planner.warnings)?;
    let first_key = scene.order_key_before(txn, parent, None, None).unwrap_or_else(|_| "V".to_owned());
    let total = source.root.nodes.len().max(1) as f32;
    // Depth first: (glTF node, scene parent, order key).
    let mut stack: Vec<(usize, Option<NodeId>, String)> = Vec::new();
    let mut key = first_key;
    let mut top = Vec::new();
    for &r in &roots {
        top.push((r, parent.cloned(), key.clone()));
        key = key_between(Some(&key), None).unwrap_or_else(|_| format!("{key}V"));
    }
    stack.extend(top.into_iter().rev());
    let mut summary = ImportSummary::default();
    while let Some((index, scene_parent, order)) = stack.pop() {
        let is_root = scene_parent.as_ref() == parent;
        let (id, children_parent) = planner.node(&mut source, ids, index, scene_parent, order)?;
        if is_root {
            summary.roots.push(id);
        }
        let children: Vec<usize> = source.root.nodes.get(index).and_then(|n| n.children.clone()).unwrap_or_default().iter().map(|c| c.value()).collect();
        let mut child_key: Option<String> = planner.first_child_key.take();
        let mut planned = Vec::with_capacity(children.len());
        for c in children {
            let k = key_between(child_key.as_deref(), None).unwrap_or_else(|_| "V".to_owned());
            planned.push((c, Some(children_parent.clone()), k.clone()));
            child_key = Some(k);
        }
        stack.extend(planned.into_iter().rev());
        progress.report(0.1 + 0.5 * planner.nodes.len() as f32 / total);
    }
    let count = planner.nodes.len().max(1) as f32;
    for mesh in planner.stored.values() {
        // Checked when planned; an existing copy (the same model imported before) is kept.
        scene.add_mesh(txn, mesh).map_err(|error| ImportError::Mesh { mesh: 0, error })?;
    }
    store::insert_all(scene, txn, &planner.nodes, |i| progress.report(0.6 + 0.4 * i as f32 / count));
    progress.report(1.0);
    summary.nodes_created = planner.nodes.len();
    summary.warnings = planner.warnings;
    Ok(summary)
}

/// Warnings for features the scene has no place for.
fn unsupported(source: &Source) -> Vec<ImportWarning> {
    let root = &source.root;
    let morph = root.meshes.iter().flat_map(|m| &m.primitives).filter(|p| p.targets.as_ref().is_some_and(|t| !t.is_empty())).count();
    let sparse = root.accessors.iter().filter(|a| a.sparse.is_some()).count();
    let features = [
        ("skins", root.skins.len()),
        ("animations", root.animations.len()),
        ("textures", root.textures.len()),
        ("images", root.images.len()),
        ("morph targets", morph),
        ("sparse accessors", sparse),
    ];
    features.into_iter().filter(|(_, n)| *n > 0).map(|(feature, count)| ImportWarning::Unsupported { feature, count }).collect()
}

/// The root nodes of the scene to import, after checking that the node graph is a forest.
fn scene_roots(source: &Source, warnings: &mut Vec<ImportWarning>) -> Result<Vec<usize>, ImportError> {
    let nodes = &source.root.nodes;
    let mut parent: Vec<Option<usize>> = vec![None; nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for c in n.children.iter().flatten().map(|c| c.value()) {
            if c == i {
                return Err(ImportError::Cycle(i));
            }
            match parent.get_mut(c) {
                Some(slot @ None) => *slot = Some(i),
                Some(Some(_)) => return Err(ImportError::SharedNode(c)),
                None => return Err(ImportError::Invalid(format!("node {i} has a child {c} that does not exist"))),
            }
        }
    }
    // Every node not reachable from a parentless node is on (or under) a cycle.
    let mut reached = vec![false; nodes.len()];
    let mut stack: Vec<usize> = (0..nodes.len()).filter(|&i| parent[i].is_none()).collect();
    while let Some(i) = stack.pop() {
        if let Some(r) = reached.get_mut(i) {
            *r = true;
        }
        stack.extend(nodes.get(i).and_then(|n| n.children.as_ref()).into_iter().flatten().map(|c| c.value()));
    }
    if let Some(i) = reached.iter().position(|r| !r) {
        return Err(ImportError::Cycle(i));
    }
    let scenes = &source.root.scenes;
    let chosen = source.root.scene.map_or(0, |s| s.value());
    let roots: Vec<usize> = match scenes.get(chosen) {
        Some(s) => s.nodes.iter().map(|n| n.value()).collect(),
        None => (0..nodes.len()).filter(|&i| parent[i].is_none()).collect(),
    };
    let mut seen = vec![false; nodes.len()];
    for &r in &roots {
        if parent.get(r).copied().flatten().is_some() || seen.get(r).copied().unwrap_or(true) {
            return Err(ImportError::SharedNode(r));
        }
        seen[r] = true;
    }
    let mut imported = 0;
    let mut stack = roots.clone();
    while let Some(i) = stack.pop() {
        imported += 1;
        stack.extend(nodes.get(i).and_then(|n| n.children.as_ref()).into_iter().flatten().map(|c| c.value()));
    }
    if imported < nodes.len() || scenes.len() > 1 {
        warnings.push(ImportWarning::OutsideScene { count: nodes.len() - imported });
    }
    Ok(roots)
}

/// One part of what a glTF mesh became.
#[derive(Debug, Clone)]
enum Part {
    /// Triangles with one material, stored under `id`.
    Triangles { id: MeshId, bounds: Aabb, material: Material },
    /// Points or lines, fitted to a primitive.
    Fitted { fit: Fit, material: Material },
}

#[derive(Default)]
struct Planner {
    nodes: Vec<Node>,
    warnings: Vec<ImportWarning>,
    meshes: HashMap<usize, Vec<Part>>,
    /// The triangle meshes to store, by id.
    stored: HashMap<MeshId, TriMesh>,
    stored_bytes: usize,
    /// Set when a node was split into a group and mesh children: the key its children follow.
    first_child_key: Option<String>,
}

impl Planner {
    /// Plans glTF node `index`; returns its scene id and the id its children go under.
    fn node(&mut self, source: &mut Source, ids: &mut IdGen, index: usize, parent: Option<NodeId>, order: String) -> Result<(NodeId, NodeId), ImportError> {
        let n = source.root.nodes.get(index).ok_or_else(|| ImportError::Invalid(format!("no node {index}")))?.clone();
        let Decomposed { transform, lossy } = node_transform(&n, index)?;
        let mut node = Node { parent, order, transform, ..Node::new(ids.next(), "", NodeKind::Group) };
        let light = n.extensions.as_ref().and_then(|e| e.khr_lights_punctual.as_ref()).map(|l| l.light.value());
        let mesh_name = n.mesh.and_then(|m| source.root.meshes.get(m.value())).and_then(|m| m.name.clone());
        node.name = n.name.clone().or(mesh_name).unwrap_or_else(|| format!("Node {index}"));
        if lossy {
            self.warnings.push(ImportWarning::LossyMatrix { node: node.name.clone() });
        }
        if let Some(extras) = &n.extras {
            if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(extras.get()) {
                node.visible = map.get("visible").and_then(|v| v.as_bool()).unwrap_or(true);
                node.locked = map.get("locked").and_then(|v| v.as_bool()).unwrap_or(false);
            }
        }
        let id = node.id.clone();
        let has_children = n.children.as_ref().is_some_and(|c| !c.is_empty());
        if let Some(mesh) = n.mesh.map(|m| m.value()) {
            for (what, present) in [("light", light.is_some()), ("camera", n.camera.is_some())] {
                if present {
                    self.warnings.push(ImportWarning::Dropped { node: node.name.clone(), what });
                }
            }
            let parts = self.mesh(source, mesh)?;
            for part in &parts {
                if matches!(part, Part::Fitted { fit, .. } if fit.approximated) {
                    self.warnings.push(ImportWarning::Approximated { node: node.name.clone() });
                }
            }
            match parts.as_slice() {
                [] => self.warnings.push(ImportWarning::EmptyMesh { node: node.name.clone() }),
                // The node itself becomes the mesh unless a fitted shape would move its
                // frame under its children.
                [part] if !has_children || !matches!(part, Part::Fitted { fit, .. } if !fit.is_identity()) => node = with_part(node, part, true),
                parts => {
                    // The children keep the node's frame: each part becomes a child, first.
                    let many = parts.len() > 1;
                    let mut key = "V".to_owned();
                    let base = node.clone();
                    self.nodes.push(node);
                    for (k, part) in parts.iter().enumerate() {
                        let mut child = with_part(base.clone(), part, false);
                        child.id = ids.next();
                        child.name = if many { format!("{} (part {})", base.name, k + 1) } else { format!("{} (mesh)", base.name) };
                        child.parent = Some(id.clone());
                        child.order = key.clone();
                        self.first_child_key = Some(key.clone());
                        key = key_between(Some(&key), None).unwrap_or_else(|_| format!("{key}V"));
                        self.nodes.push(child);
                    }
                    return Ok((id.clone(), id));
                }
            }
        } else if let Some(l) = light {
            node.kind = NodeKind::Light;
            node.light = Some(light_of(source, l)?);
            if n.camera.is_some() {
                self.warnings.push(ImportWarning::Dropped { node: node.name.clone(), what: "camera" });
            }
        } else if n.camera.is_some() {
            node.kind = NodeKind::Camera;
        }
        self.nodes.push(node);
        Ok((id.clone(), id))
    }


}

/// A node transform read from glTF.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Decomposed {
    transform: Transform,
    /// The matrix has a projective bottom row or shear, which a TRS transform can't hold.
    lossy: bool,
}

/// A glTF `matrix` (column-major 4×4) as a node transform. `None` if an entry is not finite.
fn decompose(m: &[f32; 16]) -> Option<Decomposed> {
    let m: [f64; 16] = m.map(f64::from);
    if !m.iter().all(|v| v.is_finite()) {
        return None;
    }
    let Trs { transform, shear } = Affine::from_columns(&m).decompose()?;
    let projective = m[3].abs() > 1e-6 || m[7].abs() > 1e-6 || m[11].abs() > 1e-6 || (m[15] - 1.0).abs() > 1e-6;
    Some(Decomposed { transform, lossy: shear || projective })
}

fn node_transform(n: &gltf::json::Node, index: usize) -> Result<Decomposed, ImportError> {
    if let Some(matrix) = &n.matrix {
        return decompose(matrix).ok_or(ImportError::BadTransform { node: index, what: "matrix" });
    }
    let finite = |v: &[f32]| v.iter().all(|c| c.is_finite());
    let position = n.translation.unwrap_or([0.0; 3]);
    let scale = n.scale.unwrap_or([1.0; 3]);
    if !finite(&position) {
        return Err(ImportError::BadTransform { node: index, what: "translation" });
    }
    if !finite(&scale) {
        return Err(ImportError::BadTransform { node: index, what: "scale" });
    }
    let rotation = match &n.rotation {
        None => [0.0; 3],
        Some(q) => Quat::from_array(q.0.map(f64::from)).normalized().ok_or(ImportError::BadTransform { node: index, what: "rotation" })?.to_euler(),
    };
    Ok(Decomposed { transform: Transform { position: position.map(f64::from), rotation, scale: scale.map(f64::from) }, lossy: false })
}

/// The node transform with the fit's offset and turn folded in: `T·R·S · Tr(offset)·Turn`
/// is `Tr(T + R(S∘offset)) · (R·Turn) · S'`, where S' is S with its axes permuted by the
/// quarter turn (exact because the turn maps axes onto axes).
fn fold(t: &Transform, fit: &Fit) -> Transform {
    let r = Quat::from_euler(t.rotation);
    let moved = r.rotate(mul_axes(t.scale, fit.offset));
    let turn = Quat::from_euler(fit.turn);
    let scale = [0, 1, 2].map(|i| {
        let mut axis = [0.0; 3];
        axis[i] = 1.0;
        let v = turn.rotate(axis);
        let to = (0..3).max_by(|&a, &b| v[a].abs().total_cmp(&v[b].abs())).unwrap_or(i);
        t.scale[to]
    });
    Transform {
        position: add(t.position, moved),
        rotation: (r * turn).to_euler(),
        scale,
    }
}

fn material_of(source: &Source, index: Option<usize>) -> Material {
    // glTF's default material: white, fully metallic and rough.
    let Some(m) = index.and_then(|i| source.root.materials.get(i)) else {
        return Material { color: crate::scene::Color::WHITE, roughness: 1.0, metalness: 1.0, opacity: 1.0 };
    };
    let pbr = &m.pbr_metallic_roughness;
    let [r, g, b, a] = pbr.base_color_factor.0;
    let unit = |v: f32, default: f64| if v.is_finite() { f64::from(v).clamp(0.0, 1.0) } else { default };
    let blend = matches!(m.alpha_mode, Checked::Valid(AlphaMode::Blend));
    Material {
        color: color_from_linear([r, g, b].map(f64::from)),
        roughness: unit(pbr.roughness_factor.0, 1.0),
        metalness: unit(pbr.metallic_factor.0, 1.0),
        opacity: if blend { unit(a, 1.0) } else { 1.0 },
    }
}

fn light_of(source: &Source, index: usize) -> Result<Light, ImportError> {
    let lights = source.root.extensions.as_ref().and_then(|e| e.khr_lights_punctual.as_ref());
    let l = lights.and_then(|l| l.lights.get(index)).ok_or_else(|| ImportError::Invalid(format!("no light {index}")))?;
    let kind = match l.type_ {
        Checked::Valid(LightType::Directional) => LightKind::Directional,
        Checked::Valid(LightType::Spot) => LightKind::Spot,
        _ => LightKind::Point,
    };
    if !l.intensity.is_finite() || !l.color.iter().all(|c| c.is_finite()) {
        return Err(ImportError::Invalid(format!("light {index} has a non-finite colour or intensity")));
    }
    let angle = l.spot.as_ref().map(|s| f64::from(s.outer_cone_angle)).filter(|a| a.is_finite()).unwrap_or(Light::default().angle);
    Ok(Light { kind, color: color_from_linear(l.color.map(f64::from)), intensity: f64::from(l.intensity), angle })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decompose_reads_gltf_matrices() {
        let (rotation, s) = ([0.3, -0.7, 1.1], [2.0, 0.5, 3.0]);
        let mut m = Affine::from_transform(&Transform { position: [1.0, -2.0, 3.0], rotation, scale: s }).to_columns().map(|v| v as f32);
        let d = decompose(&m).unwrap_or_default();
        let close = |a: [f64; 3], b: [f64; 3]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
        let t = d.transform;
        assert!(close(t.position, [1.0, -2.0, 3.0]) && close(t.scale, s) && close(t.rotation, rotation) && !d.lossy, "{d:?}");
        m[3] = 0.5;
        assert!(decompose(&m).is_some_and(|d| d.lossy), "a projective bottom row is lost");
        assert!(decompose(&[f32::NAN; 16]).is_none());
    }
}
