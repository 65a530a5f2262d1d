//! A bounding volume hierarchy over a triangle mesh's triangles, in the mesh's own space:
//! what makes a ray against a 100,000-triangle model cost a few dozen box and triangle tests
//! instead of 100,000. Built once per mesh; picking in the viewport and the render preview's
//! ray tracer both go through it.
//!
//! Built top-down, splitting each node's triangles at the median centroid along the longest
//! axis of their centroids' bounds, down to leaves of at most [`LEAF`] triangles. Why by
//! hand: the crates that do this (bvh, parry) bring their own vector and shape types and
//! most of a physics engine; what is needed here is a hundred lines over the scene's own
//! maths.

use super::bounds::Aabb;
use super::trimesh::TriMesh;
use crate::math::{cross, dot, sub, Vec3};

/// Most triangles in a leaf.
pub const LEAF: usize = 4;
/// Hits closer than this are ignored (as for the primitives).
const T_MIN: f64 = super::hit::T_MIN;

#[derive(Debug, Clone)]
struct Node {
    bounds: Aabb,
    /// Leaf: the first of `count` triangles in `order`. Interior (`count == 0`): the right
    /// child's index (the left child is the next node).
    first: u32,
    count: u32,
}

/// The hierarchy of one mesh.
#[derive(Debug, Clone, Default)]
pub struct Bvh {
    nodes: Vec<Node>,
    /// Triangle numbers in leaf order.
    order: Vec<u32>,
}

/// Where a ray meets a mesh: the ray parameter, the triangle and the barycentric
/// coordinates of the point in it (weights of its second and third corners).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeshHit {
    pub t: f64,
    pub triangle: usize,
    pub u: f64,
    pub v: f64,
}

impl Bvh {
    pub fn build(mesh: &TriMesh) -> Bvh {
        let count = mesh.triangle_count();
        let mut items: Vec<(u32, Vec3, Aabb)> = (0..count)
            .map(|t| {
                let corners = mesh.triangle(t);
                let bounds = corners.iter().fold(Aabb::EMPTY, |b, p| b.with_point(*p));
                (t as u32, bounds.center(), bounds)
            })
            .collect();
        let mut bvh = Bvh { nodes: Vec::with_capacity(2 * count / LEAF + 1), order: Vec::with_capacity(count) };
        if count > 0 {
            bvh.split(&mut items);
        }
        bvh
    }

    /// Adds the subtree over `items`; answers its index.
    fn split(&mut self, items: &mut [(u32, Vec3, Aabb)]) -> usize {
        let bounds = items.iter().fold(Aabb::EMPTY, |b, item| b.union(&item.2));
        let index = self.nodes.len();
        if items.len() <= LEAF {
            self.nodes.push(Node { bounds, first: self.order.len() as u32, count: items.len() as u32 });
            self.order.extend(items.iter().map(|item| item.0));
            return index;
        }
        let centroids = items.iter().fold(Aabb::EMPTY, |b, item| b.with_point(item.1));
        let extent = sub(centroids.max, centroids.min);
        let axis = if extent[0] >= extent[1] && extent[0] >= extent[2] { 0 } else if extent[1] >= extent[2] { 1 } else { 2 };
        let mid = items.len() / 2;
        items.select_nth_unstable_by(mid, |a, b| a.1[axis].total_cmp(&b.1[axis]));
        self.nodes.push(Node { bounds, first: 0, count: 0 });
        let (left, right) = items.split_at_mut(mid);
        self.split(left);
        let right_index = self.split(right);
        self.nodes[index].first = right_index as u32;
        index
    }

    /// The nearest hit of the ray `origin + t·dir` (`t > T_MIN`) on the mesh's triangles,
    /// from either side.
    pub fn intersect(&self, mesh: &TriMesh, origin: Vec3, dir: Vec3) -> Option<MeshHit> {
        let inverse = dir.map(|d| 1.0 / d);
        let mut best: Option<MeshHit> = None;
        let mut stack: Vec<usize> = Vec::with_capacity(64);
        if !self.nodes.is_empty() {
            stack.push(0);
        }
        while let Some(i) = stack.pop() {
            let node = &self.nodes[i];
            let limit = best.map_or(f64::INFINITY, |b| b.t);
            if !slab(&node.bounds, origin, inverse, limit) {
                continue;
            }
            if node.count > 0 {
                for &t in &self.order[node.first as usize..(node.first + node.count) as usize] {
                    if let Some((d, u, v)) = triangle(mesh.triangle(t as usize), origin, dir) {
                        if d > T_MIN && best.is_none_or(|b| d < b.t) {
                            best = Some(MeshHit { t: d, triangle: t as usize, u, v });
                        }
                    }
                }
            } else {
                stack.push(node.first as usize);
                stack.push(i + 1);
            }
        }
        best
    }

    /// How many nodes the hierarchy has (for tests and the benchmark).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

/// Whether the ray enters the box before `limit`.
fn slab(b: &Aabb, origin: Vec3, inverse: Vec3, limit: f64) -> bool {
    let (mut near, mut far) = (0.0f64, limit);
    for a in 0..3 {
        if !inverse[a].is_finite() {
            // The ray runs parallel to these faces: inside their slab or never.
            if origin[a] < b.min[a] || origin[a] > b.max[a] {
                return false;
            }
            continue;
        }
        let (t0, t1) = ((b.min[a] - origin[a]) * inverse[a], (b.max[a] - origin[a]) * inverse[a]);
        let (lo, hi) = if t0 <= t1 { (t0, t1) } else { (t1, t0) };
        near = near.max(lo);
        far = far.min(hi);
        if near > far {
            return false;
        }
    }
    true
}

/// Möller–Trumbore, both sides: (t, u, v) of the ray's hit on the triangle.
fn triangle([a, b, c]: [Vec3; 3], origin: Vec3, dir: Vec3) -> Option<(f64, f64, f64)> {
    let (e1, e2) = (sub(b, a), sub(c, a));
    let p = cross(dir, e2);
    let det = dot(e1, p);
    if det.abs() < 1e-300 {
        return None;
    }
    let inv = 1.0 / det;
    let s = sub(origin, a);
    // A hair of slack, so a ray through a shared edge or corner meets one of its triangles.
    const EDGE: f64 = 1e-12;
    let u = dot(s, p) * inv;
    if !(-EDGE..=1.0 + EDGE).contains(&u) {
        return None;
    }
    let q = cross(s, e1);
    let v = dot(dir, q) * inv;
    if v < -EDGE || u + v > 1.0 + EDGE {
        return None;
    }
    Some((dot(e2, q) * inv, u, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `n × n` grid of quads in the xz plane, 1 apart, as triangles.
    fn sheet(n: u32) -> TriMesh {
        let mut mesh = TriMesh::default();
        for z in 0..=n {
            for x in 0..=n {
                mesh.positions.push([x as f32, 0.0, z as f32]);
            }
        }
        let at = |x: u32, z: u32| z * (n + 1) + x;
        for z in 0..n {
            for x in 0..n {
                mesh.indices.extend([at(x, z), at(x, z + 1), at(x + 1, z + 1), at(x, z), at(x + 1, z + 1), at(x + 1, z)]);
            }
        }
        mesh
    }

    #[test]
    fn a_ray_finds_the_same_triangle_as_testing_them_all() {
        let mesh = sheet(40);
        let bvh = Bvh::build(&mesh);
        assert!(bvh.node_count() > 1 && bvh.order.len() == mesh.triangle_count());
        for (x, z) in [(0.3, 0.2), (12.7, 33.1), (39.9, 39.9), (20.0, 20.0)] {
            let origin = [x, 5.0, z];
            let dir = [0.0, -1.0, 0.0];
            let hit = bvh.intersect(&mesh, origin, dir).unwrap_or_else(|| panic!("a hit at {x}, {z}"));
            let brute = (0..mesh.triangle_count())
                .filter_map(|t| triangle(mesh.triangle(t), origin, dir).map(|h| (h.0, t)))
                .fold(None::<(f64, usize)>, |b, h| if b.is_none_or(|b| h.0 < b.0) { Some(h) } else { b })
                .expect("a brute-force hit");
            assert!((hit.t - 5.0).abs() < 1e-9 && (hit.t - brute.0).abs() < 1e-12, "{hit:?} vs {brute:?}");
        }
        assert!(bvh.intersect(&mesh, [50.0, 5.0, 50.0], [0.0, -1.0, 0.0]).is_none(), "off the sheet");
        assert!(bvh.intersect(&mesh, [5.0, 5.0, 5.0], [0.0, 1.0, 0.0]).is_none(), "pointing away");
        assert!(bvh.intersect(&mesh, [5.5, -2.0, 5.5], [0.0, 1.0, 0.0]).is_some(), "from below: both sides");
        assert!(Bvh::build(&TriMesh::default()).intersect(&mesh, [0.0; 3], [1.0, 0.0, 0.0]).is_none());
    }
}
