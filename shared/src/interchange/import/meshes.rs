//! A glTF mesh made scene parts: its triangle primitives (strips and fans turned into
//! triangles) merged per material into stored triangle meshes, its points and lines fitted to
//! a primitive, and the meshes this editor exported from a primitive read back as that
//! primitive. Split from the planner because this is the one place the import reads vertex
//! data.

use gltf::json::mesh::Mode;
use gltf::json::validation::Checked;

use super::super::fit::{fit, Fit};
use super::super::source::Source;
use super::super::{ImportError, MAX_MESH_BYTES};
use super::{fold, material_of, Part, Planner};
use crate::geometry::bounds::Aabb;
use crate::geometry::trimesh::TriMesh;
use crate::scene::{Node, NodeKind, Primitive, Transform};

impl Planner {
    /// The parts of glTF mesh `index` (planned once, however many nodes use it).
    pub(super) fn mesh(&mut self, source: &mut Source, index: usize) -> Result<Vec<Part>, ImportError> {
        if let Some(parts) = self.meshes.get(&index) {
            return Ok(parts.clone());
        }
        let mesh = source.root.meshes.get(index).ok_or_else(|| ImportError::Invalid(format!("no mesh {index}")))?.clone();
        if let Some(part) = exported_primitive(source, &mesh)? {
            self.meshes.insert(index, vec![part.clone()]);
            return Ok(vec![part]);
        }
        // Triangles merged per material, in the order materials first appear; loose points.
        let mut triangles: Vec<(Option<usize>, Vec<TriMesh>)> = Vec::new();
        let mut loose: Vec<(Option<usize>, Vec<[f64; 3]>)> = Vec::new();
        for p in &mesh.primitives {
            let attribute = |semantic: gltf::Semantic| p.attributes.iter().find(|(k, _)| k.as_ref() == Checked::Valid(&semantic)).map(|(_, v)| v.value());
            let Some(position) = attribute(gltf::Semantic::Positions) else { continue };
            let Some(positions) = source.floats::<3>(position)? else { continue };
            let material = p.material.map(|m| m.value());
            let mode = match &p.mode {
                Checked::Valid(mode) => *mode,
                Checked::Invalid => Mode::Triangles,
            };
            if !matches!(mode, Mode::Triangles | Mode::TriangleStrip | Mode::TriangleFan) {
                if let Some(i) = p.indices {
                    source.check_indices(i.value(), positions.len())?;
                }
                let points = positions.iter().map(|q| q.map(f64::from));
                match loose.iter_mut().find(|(m, _)| *m == material) {
                    Some((_, all)) => all.extend(points),
                    None => loose.push((material, points.collect())),
                }
                continue;
            }
            let count = positions.len();
            let listed: Vec<u32> = match p.indices {
                Some(i) => source.indices(i.value(), count)?,
                None => (0..count as u32).collect(),
            };
            let indices = match mode {
                Mode::TriangleStrip => strip(&listed),
                Mode::TriangleFan => fan(&listed),
                _ => listed[..listed.len() / 3 * 3].to_vec(),
            };
            let normals = match attribute(gltf::Semantic::Normals) {
                Some(a) => source.floats::<3>(a)?.filter(|n| n.len() == count).unwrap_or_default(),
                None => Vec::new(),
            };
            let uvs = match attribute(gltf::Semantic::TexCoords(0)) {
                Some(a) => source.floats::<2>(a)?.filter(|t| t.len() == count).unwrap_or_default(),
                None => Vec::new(),
            };
            let part = TriMesh { positions, normals, uvs, indices };
            match triangles.iter_mut().find(|(m, _)| *m == material) {
                Some((_, parts)) => parts.push(part),
                None => triangles.push((material, vec![part])),
            }
        }
        let mut parts = Vec::new();
        for (material, pieces) in triangles {
            let merged = merge(pieces);
            if merged.triangle_count() == 0 {
                continue;
            }
            merged.validate().map_err(|error| ImportError::Mesh { mesh: index, error })?;
            let bytes = merged.encode().len();
            let id = merged.id();
            if !self.stored.contains_key(&id) {
                self.stored_bytes += bytes;
                if self.stored_bytes > MAX_MESH_BYTES {
                    return Err(ImportError::TooMany { what: "bytes of triangle meshes", count: self.stored_bytes as u64, limit: MAX_MESH_BYTES as u64 });
                }
                self.stored.insert(id.clone(), merged);
            }
            let bounds = self.stored.get(&id).map_or(Aabb::EMPTY, TriMesh::bounds);
            parts.push(Part::Triangles { id, bounds, material: material_of(source, material) });
        }
        for (material, points) in loose {
            if !points.is_empty() {
                parts.push(Part::Fitted { fit: fit(&points), material: material_of(source, material) });
            }
        }
        self.meshes.insert(index, parts.clone());
        Ok(parts)
    }
}

/// A mesh this editor exported from a primitive (`extras.scenePrimitive`), if its vertices
/// still fill that primitive's bounds (an edit elsewhere that kept the extras is read as
/// triangles instead).
fn exported_primitive(source: &mut Source, mesh: &gltf::json::Mesh) -> Result<Option<Part>, ImportError> {
    let Some(extras) = &mesh.extras else { return Ok(None) };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(extras.get()) else { return Ok(None) };
    let Some(Ok(shape)) = value.get("scenePrimitive").map(|s| serde_json::from_value::<super::super::json::JsonPrimitive>(s.clone())) else { return Ok(None) };
    let primitive = shape.to_primitive();
    let [p] = mesh.primitives.as_slice() else { return Ok(None) };
    let Some(position) = p.attributes.iter().find(|(k, _)| k.as_ref() == Checked::Valid(&gltf::Semantic::Positions)).map(|(_, v)| v.value()) else {
        return Ok(None);
    };
    let Some(positions) = source.floats::<3>(position)? else { return Ok(None) };
    let got = positions.iter().fold(Aabb::EMPTY, |b, q| b.with_point(q.map(f64::from)));
    let want = Aabb::of_primitive(&primitive);
    let size = want.radius().max(1e-9);
    let agrees = !got.is_empty() && (0..3).all(|a| (got.min[a] - want.min[a]).abs() <= 1e-4 * size && (got.max[a] - want.max[a]).abs() <= 1e-4 * size);
    if !agrees {
        return Ok(None);
    }
    let fitted = Fit { primitive, offset: [0.0; 3], turn: [0.0; 3], approximated: false };
    Ok(Some(Part::Fitted { fit: fitted, material: material_of(source, p.material.map(|m| m.value())) }))
}

/// `node` made the mesh of `part`. `fold`: a fitted shape's offset and turn go into the
/// node's own transform (it has no children); otherwise the node is a new child placed by it.
pub(super) fn with_part(mut node: Node, part: &Part, fold_in: bool) -> Node {
    node.kind = NodeKind::Mesh;
    if !fold_in {
        node.transform = Transform::default();
    }
    match part {
        Part::Triangles { id, bounds, material } => {
            // The primitive is a stand-in for readers without meshes: the mesh's bounding box.
            let size = if bounds.is_empty() { [0.0; 3] } else { crate::math::sub(bounds.max, bounds.min) };
            node.primitive = Some(Primitive::Box { width: size[0], height: size[1], depth: size[2] });
            node.material = Some(*material);
            node.mesh = Some(id.clone());
        }
        Part::Fitted { fit: fitted, material } => {
            node.primitive = Some(fitted.primitive);
            node.material = Some(*material);
            if fold_in {
                if !fitted.is_identity() {
                    node.transform = fold(&node.transform, fitted);
                }
            } else {
                node.transform = Transform { position: fitted.offset, rotation: fitted.turn, scale: [1.0; 3] };
            }
        }
    }
    node
}

/// One mesh from several (their vertices appended, indices moved along). Normals and
/// texture coordinates are kept when every piece has them; a piece without normals among
/// pieces with them gets computed ones.
fn merge(pieces: Vec<TriMesh>) -> TriMesh {
    if pieces.len() == 1 {
        return pieces.into_iter().next().unwrap_or_default();
    }
    let all_normals = pieces.iter().all(|p| !p.normals.is_empty());
    let any_normals = pieces.iter().any(|p| !p.normals.is_empty());
    let all_uvs = pieces.iter().all(|p| !p.uvs.is_empty());
    let mut out = TriMesh::default();
    for piece in pieces {
        let piece = if any_normals && !all_normals { piece.with_normals() } else { piece };
        let offset = out.positions.len() as u32;
        out.indices.extend(piece.indices.iter().map(|i| i + offset));
        out.positions.extend(piece.positions);
        if any_normals {
            out.normals.extend(piece.normals);
        }
        if all_uvs {
            out.uvs.extend(piece.uvs);
        }
    }
    out
}

/// A triangle strip's triangles, each wound like the first.
fn strip(listed: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(listed.len().saturating_sub(2) * 3);
    for i in 2..listed.len() {
        if i % 2 == 0 {
            out.extend([listed[i - 2], listed[i - 1], listed[i]]);
        } else {
            out.extend([listed[i - 1], listed[i - 2], listed[i]]);
        }
    }
    out
}

/// A triangle fan's triangles.
fn fan(listed: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(listed.len().saturating_sub(2) * 3);
    for i in 2..listed.len() {
        out.extend([listed[0], listed[i - 1], listed[i]]);
    }
    out
}

