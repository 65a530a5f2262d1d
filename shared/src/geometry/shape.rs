//! What a mesh node is, as geometry: a primitive (sized by its dimensions) or a triangle mesh
//! (with its hierarchy built once). The viewport's picking and the ray tracer test rays
//! against a [`Shape`] without caring which; bounds come from the same place.

use std::sync::Arc;

use super::bounds::Aabb;
use super::bvh::Bvh;
use super::hit::{intersect, LocalHit};
use super::trimesh::{MeshId, TriMesh};
use crate::math::{add, cross, normalize, scale, sub, Vec3};
use crate::scene::Primitive;

/// A triangle mesh ready to draw and trace: normals filled in (computed when it had none),
/// its hierarchy, its bounds.
#[derive(Debug)]
pub struct LoadedMesh {
    pub id: MeshId,
    pub mesh: TriMesh,
    pub bvh: Bvh,
    pub bounds: Aabb,
    /// The stored mesh carried normals (the scene check reports meshes that do not).
    pub had_normals: bool,
}

impl LoadedMesh {
    pub fn new(id: MeshId, mesh: TriMesh) -> LoadedMesh {
        let had_normals = !mesh.normals.is_empty();
        let mesh = mesh.with_normals();
        let bvh = Bvh::build(&mesh);
        LoadedMesh { id, bounds: mesh.bounds(), bvh, mesh, had_normals }
    }
}

#[derive(Debug, Clone)]
pub enum Shape {
    Primitive(Primitive),
    Mesh(Arc<LoadedMesh>),
}

/// Shapes are equal when they are the same primitive or the same stored mesh.
impl PartialEq for Shape {
    fn eq(&self, other: &Shape) -> bool {
        match (self, other) {
            (Shape::Primitive(a), Shape::Primitive(b)) => a == b,
            (Shape::Mesh(a), Shape::Mesh(b)) => a.id == b.id,
            _ => false,
        }
    }
}

impl Shape {
    /// Bounds in the node's own space.
    pub fn local_bounds(&self) -> Aabb {
        match self {
            Shape::Primitive(p) => Aabb::of_primitive(p),
            Shape::Mesh(m) => m.bounds,
        }
    }

    /// The nearest hit of a ray given in the node's own space (normal not normalised).
    pub fn intersect(&self, origin: Vec3, dir: Vec3) -> Option<LocalHit> {
        match self {
            Shape::Primitive(p) => intersect(p, origin, dir),
            Shape::Mesh(m) => {
                let hit = m.bvh.intersect(&m.mesh, origin, dir)?;
                let corners = m.mesh.triangle(hit.triangle);
                let face = cross(sub(corners[1], corners[0]), sub(corners[2], corners[0]));
                let index = |k: usize| m.mesh.indices[hit.triangle * 3 + k] as usize;
                let n = |k: usize| m.mesh.normals.get(index(k)).map_or(face, |n| n.map(f64::from));
                let w = 1.0 - hit.u - hit.v;
                let smooth = add(add(scale(n(0), w), scale(n(1), hit.u)), scale(n(2), hit.v));
                // Seen from behind, the normal faces the ray (the mesh is two-sided).
                let mut normal = if normalize(smooth) == [0.0; 3] { face } else { smooth };
                if crate::math::dot(normal, dir) > 0.0 {
                    normal = scale(normal, -1.0);
                }
                Some(LocalHit { t: hit.t, normal })
            }
        }
    }
}
