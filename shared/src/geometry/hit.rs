//! Ray–shape intersections in a shape's local space, where every shape is centred on the
//! origin: the nearest `t > T_MIN` along `origin + t·dir` and the local surface normal.

use crate::math::{dot, Vec3};
use crate::scene::Primitive;

/// Hits closer than this are ignored (a shadow ray must not hit its own surface).
pub const T_MIN: f64 = 1e-6;

/// A ray parameter and the local normal there (not normalised).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalHit {
    pub t: f64,
    pub normal: Vec3,
}

/// Intersects the primitive with a ray given in the primitive's local space.
pub fn intersect(primitive: &Primitive, origin: Vec3, dir: Vec3) -> Option<LocalHit> {
    match *primitive {
        Primitive::Box { width, height, depth } => cuboid(origin, dir, [width / 2.0, height / 2.0, depth / 2.0].map(f64::abs)),
        Primitive::Sphere { radius } => sphere(origin, dir, radius.abs()),
        Primitive::Cylinder { radius, height } => cylinder(origin, dir, radius.abs(), height.abs() / 2.0),
        Primitive::Plane { width, height } => plane(origin, dir, width.abs() / 2.0, height.abs() / 2.0),
    }
}

/// The slab method.
fn cuboid(o: Vec3, d: Vec3, half: Vec3) -> Option<LocalHit> {
    let (mut near, mut far) = (f64::NEG_INFINITY, f64::INFINITY);
    let (mut near_axis, mut far_axis) = (0, 0);
    for a in 0..3 {
        if d[a].abs() < 1e-300 {
            if o[a].abs() > half[a] {
                return None;
            }
            continue;
        }
        let (mut t0, mut t1) = ((-half[a] - o[a]) / d[a], (half[a] - o[a]) / d[a]);
        if t0 > t1 {
            std::mem::swap(&mut t0, &mut t1);
        }
        if t0 > near {
            near = t0;
            near_axis = a;
        }
        if t1 < far {
            far = t1;
            far_axis = a;
        }
        if near > far {
            return None;
        }
    }
    let (t, axis) = if near > T_MIN { (near, near_axis) } else if far > T_MIN { (far, far_axis) } else { return None };
    let mut normal = [0.0; 3];
    let p = o[axis] + t * d[axis];
    normal[axis] = if p >= 0.0 { 1.0 } else { -1.0 };
    Some(LocalHit { t, normal })
}

fn sphere(o: Vec3, d: Vec3, r: f64) -> Option<LocalHit> {
    let a = dot(d, d);
    let b = dot(o, d);
    let c = dot(o, o) - r * r;
    let disc = b * b - a * c;
    if disc < 0.0 || a == 0.0 {
        return None;
    }
    let root = disc.sqrt();
    let t = [(-b - root) / a, (-b + root) / a].into_iter().find(|t| *t > T_MIN)?;
    let p = [o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]];
    Some(LocalHit { t, normal: p })
}

/// Along y: the side (x² + z² = r², |y| ≤ h) and the two caps.
fn cylinder(o: Vec3, d: Vec3, r: f64, h: f64) -> Option<LocalHit> {
    let mut best: Option<LocalHit> = None;
    let mut consider = |hit: LocalHit| {
        if hit.t > T_MIN && best.is_none_or(|b| hit.t < b.t) {
            best = Some(hit);
        }
    };
    let a = d[0] * d[0] + d[2] * d[2];
    if a > 0.0 {
        let b = o[0] * d[0] + o[2] * d[2];
        let c = o[0] * o[0] + o[2] * o[2] - r * r;
        let disc = b * b - a * c;
        if disc >= 0.0 {
            for t in [(-b - disc.sqrt()) / a, (-b + disc.sqrt()) / a] {
                let y = o[1] + t * d[1];
                if y.abs() <= h {
                    consider(LocalHit { t, normal: [o[0] + t * d[0], 0.0, o[2] + t * d[2]] });
                }
            }
        }
    }
    if d[1] != 0.0 {
        for cap in [h, -h] {
            let t = (cap - o[1]) / d[1];
            let (x, z) = (o[0] + t * d[0], o[2] + t * d[2]);
            if x * x + z * z <= r * r {
                consider(LocalHit { t, normal: [0.0, cap.signum(), 0.0] });
            }
        }
    }
    best
}

/// The local xy plane within the rectangle; seen from both sides.
fn plane(o: Vec3, d: Vec3, hw: f64, hh: f64) -> Option<LocalHit> {
    if d[2] == 0.0 {
        return None;
    }
    let t = -o[2] / d[2];
    if t <= T_MIN {
        return None;
    }
    let (x, y) = (o[0] + t * d[0], o[1] + t * d[1]);
    if x.abs() > hw || y.abs() > hh {
        return None;
    }
    Some(LocalHit { t, normal: [0.0, 0.0, if d[2] < 0.0 { 1.0 } else { -1.0 }] })
}
