//! Triangle meshes for the scene's primitives, as the viewport draws them and the exporter
//! writes them: positions, normals and counter-clockwise triangles, centred on the origin
//! like the editor's three.js geometries (box, `SphereGeometry`, `CylinderGeometry` along y
//! with caps, `PlaneGeometry` in the xy plane facing +z).

use std::f64::consts::{PI, TAU};

use super::trimesh::TriMesh;
use crate::scene::Primitive;

/// How finely curved primitives are divided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detail {
    /// Segments around a sphere or cylinder.
    pub radial: u32,
    /// Rings from pole to pole of a sphere.
    pub rings: u32,
}

impl Detail {
    /// What the exporter writes (three.js' defaults for a smooth look).
    pub const EXPORT: Detail = Detail { radial: 32, rings: 16 };
    /// What the viewport draws: smooth enough shaded at editing distances, and 40 % of the
    /// vertices of [`Detail::EXPORT`] (the viewport draws thousands of them each frame).
    pub const VIEWPORT: Detail = Detail { radial: 24, rings: 12 };
}

/// Adds a vertex to a mesh being built; answers its index.
fn vertex(m: &mut TriMesh, p: [f64; 3], n: [f64; 3]) -> u32 {
    m.positions.push(p.map(|v| v as f32));
    m.normals.push(n.map(|v| v as f32));
    (m.positions.len() - 1) as u32
}

/// The mesh of `p`, as exported.
pub fn mesh(p: &Primitive) -> TriMesh {
    mesh_with(p, Detail::EXPORT)
}

/// The mesh of `p` at a given detail (at least 3 segments around, 2 rings).
pub fn mesh_with(p: &Primitive, detail: Detail) -> TriMesh {
    let detail = Detail { radial: detail.radial.max(3), rings: detail.rings.max(2) };
    match *p {
        Primitive::Box { width, height, depth } => cuboid([width / 2.0, height / 2.0, depth / 2.0]),
        Primitive::Sphere { radius } => sphere(radius, detail),
        Primitive::Cylinder { radius, height } => cylinder(radius, height, detail.radial),
        Primitive::Plane { width, height } => plane(width, height),
    }
}

fn cuboid(h: [f64; 3]) -> TriMesh {
    let mut m = TriMesh::default();
    // For each face: the normal axis and sign, then the two in-face axes (u × v = normal).
    let faces: [(usize, f64, usize, usize); 6] =
        [(0, 1.0, 1, 2), (0, -1.0, 2, 1), (1, 1.0, 2, 0), (1, -1.0, 0, 2), (2, 1.0, 0, 1), (2, -1.0, 1, 0)];
    for (axis, sign, u, v) in faces {
        let mut normal = [0.0; 3];
        normal[axis] = sign;
        let corner = |su: f64, sv: f64| {
            let mut p = [0.0; 3];
            p[axis] = sign * h[axis];
            p[u] = su * h[u];
            p[v] = sv * h[v];
            p
        };
        let a = vertex(&mut m, corner(-1.0, -1.0), normal);
        let b = vertex(&mut m, corner(1.0, -1.0), normal);
        let c = vertex(&mut m, corner(1.0, 1.0), normal);
        let d = vertex(&mut m, corner(-1.0, 1.0), normal);
        m.indices.extend([a, b, c, a, c, d]);
    }
    m
}

fn sphere(r: f64, detail: Detail) -> TriMesh {
    let mut m = TriMesh::default();
    let (w, h) = (detail.radial, detail.rings);
    for iy in 0..=h {
        let theta = f64::from(iy) / f64::from(h) * PI;
        for ix in 0..=w {
            let phi = f64::from(ix) / f64::from(w) * TAU;
            let n = [-phi.cos() * theta.sin(), theta.cos(), phi.sin() * theta.sin()];
            vertex(&mut m, n.map(|c| c * r), n);
        }
    }
    let at = |ix: u32, iy: u32| iy * (w + 1) + ix;
    for iy in 0..h {
        for ix in 0..w {
            let (a, b, c, d) = (at(ix + 1, iy), at(ix, iy), at(ix, iy + 1), at(ix + 1, iy + 1));
            if iy != 0 {
                m.indices.extend([a, b, d]);
            }
            if iy != h - 1 {
                m.indices.extend([b, c, d]);
            }
        }
    }
    m
}

fn cylinder(r: f64, height: f64, n: u32) -> TriMesh {
    let mut m = TriMesh::default();
    let half = height / 2.0;
    let angle = |ix: u32| f64::from(ix) / f64::from(n) * TAU;
    for y in [half, -half] {
        for ix in 0..=n {
            let (s, c) = angle(ix).sin_cos();
            vertex(&mut m, [r * s, y, r * c], [s, 0.0, c]);
        }
    }
    for ix in 0..n {
        let (a, b, c, d) = (ix, ix + n + 1, ix + n + 2, ix + 1);
        m.indices.extend([a, b, d, b, c, d]);
    }
    for (y, up) in [(half, 1.0), (-half, -1.0)] {
        let centre = vertex(&mut m, [0.0, y, 0.0], [0.0, up, 0.0]);
        let first = centre + 1;
        for ix in 0..=n {
            let (s, c) = angle(ix).sin_cos();
            vertex(&mut m, [r * s, y, r * c], [0.0, up, 0.0]);
        }
        for ix in 0..n {
            let (p, q) = (first + ix, first + ix + 1);
            if up > 0.0 {
                m.indices.extend([p, q, centre]);
            } else {
                m.indices.extend([q, p, centre]);
            }
        }
    }
    m
}

fn plane(width: f64, height: f64) -> TriMesh {
    let mut m = TriMesh::default();
    let (w, h) = (width / 2.0, height / 2.0);
    let normal = [0.0, 0.0, 1.0];
    let a = vertex(&mut m, [-w, -h, 0.0], normal);
    let b = vertex(&mut m, [w, -h, 0.0], normal);
    let c = vertex(&mut m, [w, h, 0.0], normal);
    let d = vertex(&mut m, [-w, h, 0.0], normal);
    m.indices.extend([a, b, c, a, c, d]);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::{cross, dot, sub};

    /// Every triangle's winding agrees with the vertex normals (faces point outwards).
    fn outward(m: &TriMesh) -> bool {
        m.indices.chunks(3).all(|t| {
            let p = |i: u32| m.positions[i as usize].map(f64::from);
            let (a, b, c) = (p(t[0]), p(t[1]), p(t[2]));
            let n = m.normals[t[0] as usize].map(f64::from);
            dot(cross(sub(b, a), sub(c, a)), n) >= -1e-9
        })
    }

    #[test]
    fn primitives_have_their_size_and_face_outwards() {
        let cases = [
            (Primitive::Box { width: 2.0, height: 3.0, depth: 4.0 }, [1.0, 1.5, 2.0]),
            (Primitive::Sphere { radius: 1.5 }, [1.5, 1.5, 1.5]),
            (Primitive::Cylinder { radius: 0.5, height: 2.0 }, [0.5, 1.0, 0.5]),
            (Primitive::Plane { width: 2.0, height: 1.0 }, [1.0, 0.5, 0.0]),
        ];
        for (p, half) in cases {
            let m = mesh(&p);
            let coarse = mesh_with(&p, Detail::VIEWPORT);
            assert!(coarse.positions.len() <= m.positions.len(), "{p:?}");
            assert!(outward(&coarse) && coarse.bounds() == m.bounds(), "{p:?}");
            let b = m.bounds();
            for (i, h) in half.iter().enumerate() {
                assert!((b.max[i] - h).abs() < 1e-5 && (b.min[i] + h).abs() < 1e-5, "{p:?}");
            }
            assert!(outward(&m), "{p:?}");
            assert!(m.indices.iter().all(|&i| (i as usize) < m.positions.len()));
        }
    }
}
