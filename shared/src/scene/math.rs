//! Just enough 3D maths to keep an object where it is on screen when it changes parent
//! (reparent keeping the world transform, group, ungroup): Euler XYZ ↔ quaternion, and
//! composing / un-composing transforms.
//!
//! Scale composes per axis, which is exact when the parent's scale is uniform (or its
//! rotation is axis-aligned with the child's); otherwise a real matrix would need shear,
//! which a node's transform can't hold, and the result is the closest thing without it.

use super::types::{Transform, Vec3};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Quat {
    x: f64,
    y: f64,
    z: f64,
    w: f64,
}

impl Quat {
    /// From Euler angles applied in XYZ order (three.js `Euler` order `'XYZ'`).
    pub(super) fn from_euler([ex, ey, ez]: Vec3) -> Self {
        let (s1, c1) = (ex / 2.0).sin_cos();
        let (s2, c2) = (ey / 2.0).sin_cos();
        let (s3, c3) = (ez / 2.0).sin_cos();
        Quat {
            x: s1 * c2 * c3 + c1 * s2 * s3,
            y: c1 * s2 * c3 - s1 * c2 * s3,
            z: c1 * c2 * s3 + s1 * s2 * c3,
            w: c1 * c2 * c3 - s1 * s2 * s3,
        }
    }

    /// Back to Euler XYZ (as three.js `Euler.setFromRotationMatrix`).
    pub(super) fn to_euler(self) -> Vec3 {
        let Quat { x, y, z, w } = self;
        let m11 = 1.0 - 2.0 * (y * y + z * z);
        let m12 = 2.0 * (x * y - z * w);
        let m13 = 2.0 * (x * z + y * w);
        let m22 = 1.0 - 2.0 * (x * x + z * z);
        let m23 = 2.0 * (y * z - x * w);
        let m32 = 2.0 * (y * z + x * w);
        let m33 = 1.0 - 2.0 * (x * x + y * y);
        let ey = m13.clamp(-1.0, 1.0).asin();
        if m13.abs() < 0.999_999_9 {
            [(-m23).atan2(m33), ey, (-m12).atan2(m11)]
        } else {
            [m32.atan2(m22), ey, 0.0]
        }
    }

    fn mul(self, o: Quat) -> Quat {
        Quat {
            x: self.w * o.x + self.x * o.w + self.y * o.z - self.z * o.y,
            y: self.w * o.y - self.x * o.z + self.y * o.w + self.z * o.x,
            z: self.w * o.z + self.x * o.y - self.y * o.x + self.z * o.w,
            w: self.w * o.w - self.x * o.x - self.y * o.y - self.z * o.z,
        }
    }

    fn conjugate(self) -> Quat {
        Quat { x: -self.x, y: -self.y, z: -self.z, w: self.w }
    }

    fn rotate(self, [vx, vy, vz]: Vec3) -> Vec3 {
        let v = Quat { x: vx, y: vy, z: vz, w: 0.0 };
        let r = self.mul(v).mul(self.conjugate());
        [r.x, r.y, r.z]
    }
}

fn mul3(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] * b[0], a[1] * b[1], a[2] * b[2]]
}

/// `a / b` per axis; a zero scale (which flattens the object anyway) divides as 1.
fn div3(a: Vec3, b: Vec3) -> Vec3 {
    let d = |x: f64, y: f64| if y == 0.0 { x } else { x / y };
    [d(a[0], b[0]), d(a[1], b[1]), d(a[2], b[2])]
}

/// The transform of `local` (relative to `parent`) relative to `parent`'s own parent.
pub(super) fn compose(parent: &Transform, local: &Transform) -> Transform {
    // Exact in the common cases (no floating-point drift written back to the document).
    if *parent == Transform::default() {
        return *local;
    }
    if *local == Transform::default() {
        return *parent;
    }
    let rot = Quat::from_euler(parent.rotation);
    let offset = rot.rotate(mul3(parent.scale, local.position));
    Transform {
        position: [parent.position[0] + offset[0], parent.position[1] + offset[1], parent.position[2] + offset[2]],
        rotation: rot.mul(Quat::from_euler(local.rotation)).to_euler(),
        scale: mul3(parent.scale, local.scale),
    }
}

/// The transform that `compose(parent, _)` turns into `world`.
pub(super) fn relative_to(parent: &Transform, world: &Transform) -> Transform {
    if *parent == Transform::default() {
        return *world;
    }
    let inv = Quat::from_euler(parent.rotation).conjugate();
    let delta = [world.position[0] - parent.position[0], world.position[1] - parent.position[1], world.position[2] - parent.position[2]];
    Transform {
        position: div3(inv.rotate(delta), parent.scale),
        rotation: inv.mul(Quat::from_euler(world.rotation)).to_euler(),
        scale: div3(world.scale, parent.scale),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Vec3, b: Vec3) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn euler_round_trips() {
        for e in [[0.1, 0.2, 0.3], [-1.0, 0.5, 2.5], [0.0, 0.0, 0.0], [3.0, -1.2, -0.4]] {
            assert!(close(Quat::from_euler(e).to_euler(), e), "{e:?}");
        }
    }

    #[test]
    fn compose_then_relative_is_identity_and_moves_points_right() {
        let parent = Transform { position: [1.0, 2.0, 3.0], rotation: [0.0, 0.0, std::f64::consts::FRAC_PI_2], scale: [2.0; 3] };
        let local = Transform { position: [1.0, 0.0, 0.0], rotation: [0.3, 0.1, -0.2], scale: [1.0, 2.0, 3.0] };
        let world = compose(&parent, &local);
        // A quarter turn about z takes +x to +y; scale 2 doubles the offset.
        assert!(close(world.position, [1.0, 4.0, 3.0]), "{:?}", world.position);
        let back = relative_to(&parent, &world);
        assert!(close(back.position, local.position) && close(back.rotation, local.rotation) && close(back.scale, local.scale));
    }
}
