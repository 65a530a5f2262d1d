//! Axis-aligned bounding boxes: a primitive's local bounds, carried to the world through its
//! transform. The viewport culls and frames with them, the scene check finds overlaps with
//! them, the ray tracer frames its default camera with them.

use crate::math::{add, length, scale, sub, Affine, Vec3};
use crate::scene::Primitive;

/// An axis-aligned box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aabb {
    pub min: Vec3,
    pub max: Vec3,
}

impl Aabb {
    /// Contains nothing; the union with anything is that thing.
    pub const EMPTY: Aabb = Aabb { min: [f64::INFINITY; 3], max: [f64::NEG_INFINITY; 3] };

    pub fn is_empty(&self) -> bool {
        // NaN bounds count as empty: `partial_cmp` is `None` for them.
        (0..3).any(|a| !matches!(self.min[a].partial_cmp(&self.max[a]), Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)))
    }

    /// The smallest box holding both.
    pub fn union(&self, other: &Aabb) -> Aabb {
        Aabb { min: [0, 1, 2].map(|a| self.min[a].min(other.min[a])), max: [0, 1, 2].map(|a| self.max[a].max(other.max[a])) }
    }

    /// The smallest box holding this one and `p`.
    pub fn with_point(&self, p: Vec3) -> Aabb {
        self.union(&Aabb { min: p, max: p })
    }

    pub fn center(&self) -> Vec3 {
        scale(add(self.min, self.max), 0.5)
    }

    /// Half the diagonal: the radius of a sphere about [`Aabb::center`] holding the box.
    pub fn radius(&self) -> f64 {
        length(sub(self.max, self.min)) / 2.0
    }

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
