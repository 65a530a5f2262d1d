//! World space for jobs: node transforms as affine matrices composed through the resolved
//! hierarchy (exact, also for non-uniform scale under rotation), and each primitive's local
//! bounds. Used by the ray tracer and by the overlap phase of the scene check.

use std::collections::HashMap;

use crate::scene::{NodeId, Primitive, SceneTree, Transform};
pub use crate::scene::Vec3;

/// `p ↦ m·p + t` (a 3×3 matrix, row-major, and a translation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    pub m: [[f64; 3]; 3],
    pub t: Vec3,
}

impl Affine {
    pub const IDENTITY: Affine = Affine { m: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], t: [0.0; 3] };

    /// Translation · rotation (Euler XYZ, as three.js) · scale.
    pub fn from_transform(tr: &Transform) -> Affine {
        let [x, y, z] = tr.rotation;
        let (b, a) = x.sin_cos();
        let (d, c) = y.sin_cos();
        let (f, e) = z.sin_cos();
        let (ae, af, be, bf) = (a * e, a * f, b * e, b * f);
        let r = [
            [c * e, -c * f, d],
            [af + be * d, ae - bf * d, -b * c],
            [bf - ae * d, be + af * d, a * c],
        ];
        let s = tr.scale;
        let m = [0, 1, 2].map(|i| [r[i][0] * s[0], r[i][1] * s[1], r[i][2] * s[2]]);
        Affine { m, t: tr.position }
    }

    /// `self ∘ other` (apply `other` first).
    pub fn then_inner(&self, other: &Affine) -> Affine {
        let mut m = [[0.0; 3]; 3];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, cell) in row.iter_mut().enumerate() {
                *cell = (0..3).map(|k| self.m[i][k] * other.m[k][j]).sum();
            }
        }
        Affine { m, t: add(self.vector(other.t), self.t) }
    }

    pub fn point(&self, p: Vec3) -> Vec3 {
        add(self.vector(p), self.t)
    }

    pub fn vector(&self, v: Vec3) -> Vec3 {
        [0, 1, 2].map(|i| self.m[i][0] * v[0] + self.m[i][1] * v[1] + self.m[i][2] * v[2])
    }

    /// The inverse, or `None` when the matrix is singular (a zero scale).
    pub fn inverse(&self) -> Option<Affine> {
        let m = &self.m;
        let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
        if det.abs() < 1e-12 || !det.is_finite() {
            return None;
        }
        let inv = 1.0 / det;
        let c = |r0: usize, c0: usize, r1: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
        let mi = [
            [c(1, 1, 2, 2) * inv, -c(0, 1, 2, 2) * inv, c(0, 1, 1, 2) * inv],
            [-c(1, 0, 2, 2) * inv, c(0, 0, 2, 2) * inv, -c(0, 0, 1, 2) * inv],
            [c(1, 0, 2, 1) * inv, -c(0, 0, 2, 1) * inv, c(0, 0, 1, 1) * inv],
        ];
        let r = Affine { m: mi, t: [0.0; 3] };
        let t = r.vector(self.t);
        Some(Affine { m: mi, t: [-t[0], -t[1], -t[2]] })
    }

    /// The transpose of the 3×3 part (normals go through the inverse transpose).
    pub fn transposed_vector(&self, v: Vec3) -> Vec3 {
        [0, 1, 2].map(|j| self.m[0][j] * v[0] + self.m[1][j] * v[1] + self.m[2][j] * v[2])
    }
}

pub fn add(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

pub fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub fn scale(a: Vec3, k: f64) -> Vec3 {
    [a[0] * k, a[1] * k, a[2] * k]
}

pub fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

pub fn length(a: Vec3) -> f64 {
    dot(a, a).sqrt()
}

/// `a` scaled to length 1 (a zero vector stays zero).
pub fn normalize(a: Vec3) -> Vec3 {
    let len = length(a);
    if len > 0.0 {
        scale(a, 1.0 / len)
    } else {
        a
    }
}

/// The world transform of every node of the resolved tree.
pub fn world_transforms(tree: &SceneTree) -> HashMap<NodeId, Affine> {
    let mut world = HashMap::with_capacity(tree.len());
    let mut stack: Vec<(NodeId, Affine)> = tree.roots().iter().map(|id| (id.clone(), Affine::IDENTITY)).collect();
    while let Some((id, parent)) = stack.pop() {
        let Some(entry) = tree.get(&id) else { continue };
        let here = parent.then_inner(&Affine::from_transform(&entry.node.transform));
        for child in &entry.children {
            stack.push((child.clone(), here));
        }
        world.insert(id, here);
    }
    world
}

/// Whether a node and all its ancestors are visible.
pub fn visible_in_tree(tree: &SceneTree, id: &NodeId) -> bool {
    let mut current = Some(id);
    let mut steps = 0;
    while let Some(node) = current {
        match tree.node(node) {
            Some(n) if n.visible => current = tree.parent(node),
            _ => return false,
        }
        steps += 1;
        if steps > tree.len() {
            break;
        }
    }
    true
}

/// An axis-aligned box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aabb {
    pub min: Vec3,
    pub max: Vec3,
}

impl Aabb {
    /// The local bounds of a primitive (centred on its node; a plane in its xy plane).
    pub fn of_primitive(p: &Primitive) -> Aabb {
        let half = match *p {
            Primitive::Box { width, height, depth } => [width / 2.0, height / 2.0, depth / 2.0],
            Primitive::Sphere { radius } => [radius; 3],
            Primitive::Cylinder { radius, height } => [radius, height / 2.0, radius],
            Primitive::Plane { width, height } => [width / 2.0, height / 2.0, 0.0],
        };
        let half = half.map(f64::abs);
        Aabb { min: scale(half, -1.0), max: half }
    }

    /// The world bounds of this local box under `m` (its eight corners, transformed).
    pub fn transformed(&self, m: &Affine) -> Aabb {
        let mut out = Aabb { min: [f64::INFINITY; 3], max: [f64::NEG_INFINITY; 3] };
        for i in 0..8 {
            let corner = [
                if i & 1 == 0 { self.min[0] } else { self.max[0] },
                if i & 2 == 0 { self.min[1] } else { self.max[1] },
                if i & 4 == 0 { self.min[2] } else { self.max[2] },
            ];
            let p = m.point(corner);
            out.min = [0, 1, 2].map(|a| out.min[a].min(p[a]));
            out.max = [0, 1, 2].map(|a| out.max[a].max(p[a]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Vec3, b: Vec3) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn euler_xyz_matches_three_js_and_inverts() {
        // A quarter turn about z takes +x to +y.
        let tr = Transform { position: [1.0, 2.0, 3.0], rotation: [0.0, 0.0, std::f64::consts::FRAC_PI_2], scale: [2.0, 1.0, 1.0] };
        let m = Affine::from_transform(&tr);
        assert!(close(m.point([1.0, 0.0, 0.0]), [1.0, 4.0, 3.0]));
        let inv = m.inverse().unwrap();
        assert!(close(inv.point(m.point([0.3, -0.7, 5.0])), [0.3, -0.7, 5.0]));
        let flat = Transform { scale: [0.0, 1.0, 1.0], ..Transform::default() };
        assert!(Affine::from_transform(&flat).inverse().is_none());
    }
}
