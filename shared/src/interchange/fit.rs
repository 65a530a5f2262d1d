//! Which scene primitive best fits an imported mesh, from its vertex positions alone.
//!
//! The heuristic (also in `docs/scene-schema.md`), with `size` the largest extent of the
//! positions' bounding box and a tolerance of [`TOLERANCE`] × size:
//! 1. **Plane**: one extent is under 1e-4 × size. Width and height are the other two
//!    extents; a plane lying in xz or yz is turned (a quarter turn) into the scene plane's xy.
//! 2. **Sphere**: the three extents agree within the tolerance and every vertex lies within
//!    the tolerance of the sphere of radius mean-extent / 2 about the box centre.
//! 3. **Cylinder** (axis y, then z, then x): the two other extents agree, and every vertex
//!    lies on the side (distance from the axis ≈ radius) or on a cap (at an end, inside the
//!    radius). An x or z axis is turned onto the scene cylinder's y.
//! 4. **Box** otherwise, sized by the bounding box. If some vertex lies on no face of the
//!    box the mesh was some other shape, and the import warns that it was approximated.
//!
//! The fitted primitive is centred on the origin; a mesh whose bounding box is off-centre
//! gets that offset (and the quarter turn, if any) as [`Fit::offset`] / [`Fit::turn`].

use crate::math::{length, sub};
use crate::scene::{Primitive, Vec3};

/// Relative tolerance of the shape tests.
pub const TOLERANCE: f64 = 0.02;
const FLAT: f64 = 1e-4;

/// A mesh fitted to a primitive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Fit {
    pub primitive: Primitive,
    /// Where the primitive's centre is in the mesh's frame.
    pub offset: Vec3,
    /// The primitive's rotation in the mesh's frame, Euler XYZ (a quarter turn or none).
    pub turn: Vec3,
    /// Whether the primitive is only the mesh's bounding box.
    pub approximated: bool,
}

impl Fit {
    /// Whether the primitive sits at the mesh's origin, unturned.
    pub fn is_identity(&self) -> bool {
        let size = extent_of(&self.primitive).max(1e-12);
        self.turn == [0.0; 3] && self.offset.iter().all(|o| o.abs() <= 1e-6 * size)
    }
}

fn extent_of(p: &Primitive) -> f64 {
    match *p {
        Primitive::Box { width, height, depth } => width.max(height).max(depth),
        Primitive::Sphere { radius } => 2.0 * radius,
        Primitive::Cylinder { radius, height } => (2.0 * radius).max(height),
        Primitive::Plane { width, height } => width.max(height),
    }
}

/// A quarter turn about x (`sign` +1 or -1).
const QUARTER_X: Vec3 = [std::f64::consts::FRAC_PI_2, 0.0, 0.0];

/// Fits `points` (at least one) to a primitive.
pub(super) fn fit(points: &[[f64; 3]]) -> Fit {
    let mut min = [f64::INFINITY; 3];
    let mut max = [f64::NEG_INFINITY; 3];
    for p in points {
        for i in 0..3 {
            min[i] = min[i].min(p[i]);
            max[i] = max[i].max(p[i]);
        }
    }
    if points.is_empty() {
        (min, max) = ([0.0; 3], [0.0; 3]);
    }
    let centre: Vec3 = [0, 1, 2].map(|i| (min[i] + max[i]) / 2.0);
    let e: Vec3 = [0, 1, 2].map(|i| max[i] - min[i]);
    let size = e[0].max(e[1]).max(e[2]);
    let tol = TOLERANCE * size;
    let local: Vec<Vec3> = points.iter().map(|p| sub(*p, centre)).collect();
    let result = |primitive, turn| Fit { primitive, offset: centre, turn, approximated: false };

    if size > 0.0 {
        // 1. Plane.
        if e[2] <= FLAT * size {
            return result(Primitive::Plane { width: e[0], height: e[1] }, [0.0; 3]);
        }
        if e[1] <= FLAT * size {
            // Turning -90° about x maps the scene plane's y onto -z and its normal onto +y.
            return result(Primitive::Plane { width: e[0], height: e[2] }, QUARTER_X.map(|a| -a));
        }
        if e[0] <= FLAT * size {
            // Turning 90° about y maps the scene plane's x onto -z and its normal onto +x.
            return result(Primitive::Plane { width: e[2], height: e[1] }, [0.0, std::f64::consts::FRAC_PI_2, 0.0]);
        }
        // 2. Sphere.
        let mean = (e[0] + e[1] + e[2]) / 3.0;
        if e.iter().all(|x| (x - mean).abs() <= tol) {
            let r = mean / 2.0;
            if local.iter().all(|p| (length(*p) - r).abs() <= tol) {
                return result(Primitive::Sphere { radius: r }, [0.0; 3]);
            }
        }
        // 3. Cylinder along y, z or x.
        for (axis, turn) in [(1, [0.0; 3]), (2, QUARTER_X), (0, [0.0, 0.0, -std::f64::consts::FRAC_PI_2])] {
            let (u, v) = ((axis + 1) % 3, (axis + 2) % 3);
            if (e[u] - e[v]).abs() > tol {
                continue;
            }
            let r = (e[u] + e[v]) / 4.0;
            let half = e[axis] / 2.0;
            let fits = local.iter().all(|p| {
                let d = (p[u] * p[u] + p[v] * p[v]).sqrt();
                let side = (d - r).abs() <= tol;
                let cap = (p[axis].abs() - half).abs() <= tol && d <= r + tol;
                side || cap
            });
            if fits {
                return result(Primitive::Cylinder { radius: r, height: e[axis] }, turn);
            }
        }
    }
    // 4. Box.
    let half = e.map(|x| x / 2.0);
    let on_box = local.iter().all(|p| (0..3).any(|i| (p[i].abs() - half[i]).abs() <= tol));
    Fit { primitive: Primitive::Box { width: e[0], height: e[1], depth: e[2] }, offset: centre, turn: [0.0; 3], approximated: !on_box }
}

#[cfg(test)]
mod tests {
    use crate::geometry::primitives::mesh;
    use super::*;

    fn points(p: &Primitive) -> Vec<[f64; 3]> {
        mesh(p).positions.iter().map(|v| v.map(f64::from)).collect()
    }

    #[test]
    fn generated_primitives_fit_themselves() {
        for p in [
            Primitive::Box { width: 1.0, height: 2.0, depth: 3.0 },
            Primitive::Box { width: 2.0, height: 2.0, depth: 2.0 },
            Primitive::Sphere { radius: 0.75 },
            Primitive::Cylinder { radius: 0.5, height: 1.0 },
            Primitive::Cylinder { radius: 1.0, height: 0.2 },
            Primitive::Plane { width: 4.0, height: 2.0 },
        ] {
            let f = fit(&points(&p));
            assert!(f.is_identity() && !f.approximated, "{p:?}: {f:?}");
            let same = match (f.primitive, p) {
                (Primitive::Box { width: a, height: b, depth: c }, Primitive::Box { width: x, height: y, depth: z }) => [a - x, b - y, c - z],
                (Primitive::Sphere { radius: a }, Primitive::Sphere { radius: x }) => [a - x, 0.0, 0.0],
                (Primitive::Cylinder { radius: a, height: b }, Primitive::Cylinder { radius: x, height: y }) => [a - x, b - y, 0.0],
                (Primitive::Plane { width: a, height: b }, Primitive::Plane { width: x, height: y }) => [a - x, b - y, 0.0],
                _ => [1.0; 3],
            };
            assert!(same.iter().all(|d| d.abs() < 1e-5), "{p:?} fitted as {:?}", f.primitive);
        }
    }

    #[test]
    fn ground_planes_and_lying_cylinders_turn_and_odd_shapes_approximate() {
        let ground = [[-1.0, 0.0, -2.0], [1.0, 0.0, -2.0], [1.0, 0.0, 2.0], [-1.0, 0.0, 2.0]];
        let f = fit(&ground);
        assert_eq!(f.primitive, Primitive::Plane { width: 2.0, height: 4.0 });
        assert!(f.turn[0] < 0.0);
        let lying: Vec<[f64; 3]> = points(&Primitive::Cylinder { radius: 0.5, height: 3.0 }).iter().map(|p| [p[1] + 1.0, p[0], p[2]]).collect();
        let f = fit(&lying);
        assert!(matches!(f.primitive, Primitive::Cylinder { radius, height } if (radius - 0.5).abs() < 1e-5 && (height - 3.0).abs() < 1e-5), "{f:?}");
        assert!((f.offset[0] - 1.0).abs() < 1e-9 && f.turn[2] != 0.0);
        let tetra = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.3, 0.3, 0.3]];
        let f = fit(&tetra);
        assert!(matches!(f.primitive, Primitive::Box { .. }) && f.approximated);
    }
}
