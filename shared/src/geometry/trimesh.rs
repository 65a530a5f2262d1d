//! Triangle meshes as the scene stores them: positions, normals (optional), texture
//! coordinates (optional, kept for the future) and triangle indices, in one little-endian
//! byte layout (`docs/scene-schema.md`, "Meshes"), named by the SHA-256 of those bytes so the
//! same geometry is stored once however many nodes, imports or people use it.
//!
//! Decoding reads untrusted bytes (a peer's document, an imported file): every count is
//! checked against the bytes that are there before anything is allocated, every index
//! against the vertex count, every number for finiteness.

use std::fmt;

use sha2::{Digest, Sha256};

use super::bounds::Aabb;
use crate::math::{add, cross, length, normalize, sub, Vec3};

/// The first four bytes of an encoded mesh.
pub const MAGIC: [u8; 4] = *b"TMSH";
/// The layout version this code writes and reads.
pub const VERSION: u8 = 1;
const HEADER: usize = 16;
const HAS_NORMALS: u8 = 1;
const HAS_UVS: u8 = 2;
/// Most vertices and triangle indices one mesh may hold (a 16 MiB relay frame holds about
/// 600,000 triangles; these leave room and stop a hostile count early).
pub const MAX_VERTICES: usize = 4_000_000;
pub const MAX_INDICES: usize = 12_000_000;

/// A mesh's content address: `sha256-` and the lower-case hex digest of its encoding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MeshId(pub String);

impl MeshId {
    pub fn of_bytes(bytes: &[u8]) -> MeshId {
        let digest = Sha256::digest(bytes);
        let mut hex = String::with_capacity(7 + 64);
        hex.push_str("sha256-");
        for b in digest {
            hex.push_str(&format!("{b:02x}"));
        }
        MeshId(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a string has the form of a mesh id (what a node's `mesh` key must hold).
    pub fn is_well_formed(s: &str) -> bool {
        s.strip_prefix("sha256-").is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    }
}

impl fmt::Display for MeshId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why bytes are not a mesh.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeshError {
    #[error("not a mesh (no TMSH header)")]
    NotAMesh,
    #[error("mesh layout version {0} is newer than this editor reads")]
    Version(u8),
    #[error("the mesh declares {declared} bytes of data but holds {actual}")]
    Length { declared: u64, actual: u64 },
    #[error("the mesh has {0} vertices; at most {MAX_VERTICES} are allowed")]
    TooManyVertices(u64),
    #[error("the mesh has {0} triangle indices; at most {MAX_INDICES} are allowed")]
    TooManyIndices(u64),
    #[error("{0} triangle indices do not make whole triangles")]
    NotTriangles(u64),
    #[error("triangle index {index} is out of range for {vertices} vertices")]
    IndexOutOfRange { index: u32, vertices: usize },
    #[error("a vertex position or normal is not a finite number")]
    NotFinite,
    #[error("normals or texture coordinates do not match the vertex count")]
    Mismatch,
}

/// A triangle mesh. `normals` and `uvs` are empty when the mesh has none; otherwise one per
/// vertex. Triangles are counter-clockwise seen from outside.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TriMesh {
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub uvs: Vec<[f32; 2]>,
    pub indices: Vec<u32>,
}

impl TriMesh {
    pub fn triangle_count(&self) -> usize {
        self.indices.len() / 3
    }

    /// Checks the invariants [`TriMesh::decode`] guarantees.
    pub fn validate(&self) -> Result<(), MeshError> {
        let v = self.positions.len();
        if v > MAX_VERTICES {
            return Err(MeshError::TooManyVertices(v as u64));
        }
        if self.indices.len() > MAX_INDICES {
            return Err(MeshError::TooManyIndices(self.indices.len() as u64));
        }
        if !self.indices.len().is_multiple_of(3) {
            return Err(MeshError::NotTriangles(self.indices.len() as u64));
        }
        if (!self.normals.is_empty() && self.normals.len() != v) || (!self.uvs.is_empty() && self.uvs.len() != v) {
            return Err(MeshError::Mismatch);
        }
        if let Some(&index) = self.indices.iter().find(|&&i| i as usize >= v) {
            return Err(MeshError::IndexOutOfRange { index, vertices: v });
        }
        let finite = |c: &[f32]| c.iter().all(|x| x.is_finite());
        if !self.positions.iter().all(|p| finite(p)) || !self.normals.iter().all(|n| finite(n)) || !self.uvs.iter().all(|t| finite(t)) {
            return Err(MeshError::NotFinite);
        }
        Ok(())
    }

    /// The stored bytes (see the module doc).
    pub fn encode(&self) -> Vec<u8> {
        let v = self.positions.len();
        let flags = if self.normals.is_empty() { 0 } else { HAS_NORMALS } | if self.uvs.is_empty() { 0 } else { HAS_UVS };
        let mut out = Vec::with_capacity(HEADER + v * 32 + self.indices.len() * 4);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&[VERSION, flags, 0, 0]);
        out.extend_from_slice(&(v as u32).to_le_bytes());
        out.extend_from_slice(&(self.indices.len() as u32).to_le_bytes());
        for f in self.positions.iter().flatten().chain(self.normals.iter().flatten()).chain(self.uvs.iter().flatten()) {
            out.extend_from_slice(&f.to_le_bytes());
        }
        for i in &self.indices {
            out.extend_from_slice(&i.to_le_bytes());
        }
        out
    }

    /// (vertices, triangles) from the header alone (cheap: for showing a mesh's size), or
    /// `None` if the bytes do not start like a mesh.
    pub fn counts(bytes: &[u8]) -> Option<(usize, usize)> {
        if bytes.len() < HEADER || bytes[..4] != MAGIC {
            return None;
        }
        let word = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        Some((word(8), word(12) / 3))
    }

    /// Reads stored bytes, checking everything (see the module doc).
    pub fn decode(bytes: &[u8]) -> Result<TriMesh, MeshError> {
        if bytes.len() < HEADER || bytes[..4] != MAGIC {
            return Err(MeshError::NotAMesh);
        }
        if bytes[4] != VERSION {
            return Err(MeshError::Version(bytes[4]));
        }
        let flags = bytes[5];
        let word = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let (v, i) = (u64::from(word(8)), u64::from(word(12)));
        if v > MAX_VERTICES as u64 {
            return Err(MeshError::TooManyVertices(v));
        }
        if i > MAX_INDICES as u64 {
            return Err(MeshError::TooManyIndices(i));
        }
        let per_vertex = 12 + if flags & HAS_NORMALS != 0 { 12 } else { 0 } + if flags & HAS_UVS != 0 { 8 } else { 0 };
        let declared = HEADER as u64 + v * per_vertex + i * 4;
        if declared != bytes.len() as u64 {
            return Err(MeshError::Length { declared, actual: bytes.len() as u64 });
        }
        let (v, i) = (v as usize, i as usize);
        let mut floats = bytes[HEADER..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        let mut take3 = |n: usize| (0..n).map(|_| [floats.next().unwrap_or(f32::NAN), floats.next().unwrap_or(f32::NAN), floats.next().unwrap_or(f32::NAN)]).collect::<Vec<_>>();
        let positions = take3(v);
        let normals = if flags & HAS_NORMALS != 0 { take3(v) } else { Vec::new() };
        let uv_start = HEADER + v * if flags & HAS_NORMALS != 0 { 24 } else { 12 };
        let uvs: Vec<[f32; 2]> = if flags & HAS_UVS != 0 {
            bytes[uv_start..uv_start + v * 8].chunks_exact(8).map(|c| [f32::from_le_bytes([c[0], c[1], c[2], c[3]]), f32::from_le_bytes([c[4], c[5], c[6], c[7]])]).collect()
        } else {
            Vec::new()
        };
        let index_start = bytes.len() - i * 4;
        let indices = bytes[index_start..].chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let mesh = TriMesh { positions, normals, uvs, indices };
        mesh.validate()?;
        Ok(mesh)
    }

    /// The content address of this mesh's encoding.
    pub fn id(&self) -> MeshId {
        MeshId::of_bytes(&self.encode())
    }

    /// The bounds of the vertices the triangles use (empty without triangles).
    pub fn bounds(&self) -> Aabb {
        self.indices.iter().filter_map(|&i| self.positions.get(i as usize)).fold(Aabb::EMPTY, |b, p| b.with_point(p.map(f64::from)))
    }

    /// A triangle's corners.
    pub fn triangle(&self, t: usize) -> [Vec3; 3] {
        [0, 1, 2].map(|k| self.positions[self.indices[t * 3 + k] as usize].map(f64::from))
    }

    /// Triangles with (almost) no area: repeated corners, or all three in a line.
    pub fn degenerate_triangles(&self) -> usize {
        (0..self.triangle_count())
            .filter(|&t| {
                let [a, b, c] = self.triangle(t);
                let area2 = length(cross(sub(b, a), sub(c, a)));
                let scale = length(sub(b, a)).max(length(sub(c, a))).max(length(sub(c, b)));
                area2 <= 1e-10 * scale * scale
            })
            .count()
    }

    /// Smooth vertex normals from the triangles (area-weighted), for a mesh that has none.
    pub fn computed_normals(&self) -> Vec<[f32; 3]> {
        let mut sums = vec![[0.0f64; 3]; self.positions.len()];
        for t in 0..self.triangle_count() {
            let [a, b, c] = self.triangle(t);
            let n = cross(sub(b, a), sub(c, a));
            for k in 0..3 {
                let i = self.indices[t * 3 + k] as usize;
                sums[i] = add(sums[i], n);
            }
        }
        sums.into_iter().map(|n| normalize(n).map(|c| c as f32)).collect()
    }

    /// This mesh with normals (computed when it has none).
    pub fn with_normals(mut self) -> TriMesh {
        if self.normals.is_empty() {
            self.normals = self.computed_normals();
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quad() -> TriMesh {
        TriMesh {
            positions: vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]],
            normals: Vec::new(),
            uvs: vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]],
            indices: vec![0, 1, 2, 0, 2, 3],
        }
    }

    #[test]
    fn meshes_round_trip_and_are_named_by_their_content() {
        let mesh = quad();
        let bytes = mesh.encode();
        assert_eq!(TriMesh::decode(&bytes), Ok(mesh.clone()));
        assert_eq!(TriMesh::counts(&bytes), Some((4, 2)));
        let id = mesh.id();
        assert!(MeshId::is_well_formed(id.as_str()), "{id}");
        assert_eq!(id, MeshId::of_bytes(&bytes));
        let lit = mesh.clone().with_normals();
        assert_ne!(lit.id(), id, "different content, different name");
        assert_eq!(TriMesh::decode(&lit.encode()), Ok(lit.clone()));
        assert!(lit.normals.iter().all(|n| (n[2] - 1.0).abs() < 1e-6), "{:?}", lit.normals);
        assert_eq!(mesh.bounds(), Aabb { min: [0.0; 3], max: [1.0, 1.0, 0.0] });
    }

    #[test]
    fn hostile_bytes_are_refused_before_anything_is_allocated() {
        let good = quad().encode();
        assert_eq!(TriMesh::decode(b"nope"), Err(MeshError::NotAMesh));
        let mut newer = good.clone();
        newer[4] = 9;
        assert_eq!(TriMesh::decode(&newer), Err(MeshError::Version(9)));
        // A vertex count far beyond the bytes: refused by the length check, not by OOM.
        let mut huge = good.clone();
        huge[8..12].copy_from_slice(&3_000_000u32.to_le_bytes());
        assert!(matches!(TriMesh::decode(&huge), Err(MeshError::Length { .. })));
        let mut absurd = good.clone();
        absurd[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(TriMesh::decode(&absurd), Err(MeshError::TooManyIndices(_))));
        let mut out_of_range = quad();
        out_of_range.indices[4] = 7;
        assert_eq!(TriMesh::decode(&out_of_range.encode()), Err(MeshError::IndexOutOfRange { index: 7, vertices: 4 }));
        let mut nan = quad();
        nan.positions[1][0] = f32::NAN;
        assert_eq!(TriMesh::decode(&nan.encode()), Err(MeshError::NotFinite));
        assert!(!MeshId::is_well_formed("sha256-XYZ") && !MeshId::is_well_formed(""));
    }

    #[test]
    fn degenerate_triangles_are_counted() {
        let mut mesh = quad();
        mesh.indices.extend([0, 0, 1, 0, 1, 1]);
        mesh.positions.push([2.0, 0.0, 0.0]);
        mesh.indices.extend([0, 1, 4]); // three corners on the x axis
        assert_eq!(mesh.degenerate_triangles(), 3);
    }
}
