//! Rotation quaternions: glTF stores node rotations as quaternions while the scene stores
//! Euler XYZ angles, and composing two rotations (reparenting, importing a fitted mesh) is
//! exact and cheap on quaternions before turning the result back into angles.

use std::ops::Mul;

use super::mat3::{self, Mat3};
use super::Vec3;

/// A rotation quaternion (unit length wherever a rotation is expected).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quat {
    pub x: f64,
    pub y: f64,
    pub z: f64,
    pub w: f64,
}

impl Quat {
    /// From Euler angles applied in XYZ order (three.js `Euler` order `'XYZ'`).
    pub fn from_euler([ex, ey, ez]: Vec3) -> Self {
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

    /// Back to Euler XYZ angles (of a unit quaternion).
    pub fn to_euler(self) -> Vec3 {
        mat3::to_euler(&self.to_mat3())
    }

    /// From `[x, y, z, w]` (glTF's order).
    pub fn from_array([x, y, z, w]: [f64; 4]) -> Self {
        Quat { x, y, z, w }
    }

    /// As `[x, y, z, w]` (glTF's order).
    pub fn to_array(self) -> [f64; 4] {
        [self.x, self.y, self.z, self.w]
    }

    /// Scaled to unit length; `None` for a zero or non-finite quaternion.
    pub fn normalized(self) -> Option<Quat> {
        let q = self.to_array();
        let len = q.iter().map(|c| c * c).sum::<f64>().sqrt();
        (len.is_finite() && len > 1e-12).then(|| Quat::from_array(q.map(|c| c / len)))
    }

    /// The rotation matrix of a unit quaternion.
    pub fn to_mat3(self) -> Mat3 {
        let Quat { x, y, z, w } = self;
        [
            [1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - z * w), 2.0 * (x * z + y * w)],
            [2.0 * (x * y + z * w), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - x * w)],
            [2.0 * (x * z - y * w), 2.0 * (y * z + x * w), 1.0 - 2.0 * (x * x + y * y)],
        ]
    }

    /// The inverse rotation (of a unit quaternion).
    pub fn conjugate(self) -> Quat {
        Quat { x: -self.x, y: -self.y, z: -self.z, w: self.w }
    }

    /// `v` rotated.
    pub fn rotate(self, v: Vec3) -> Vec3 {
        mat3::mul_vec(&self.to_mat3(), v)
    }
}

/// `a * b` rotates by `b` first.
impl Mul for Quat {
    type Output = Quat;

    fn mul(self, o: Quat) -> Quat {
        Quat {
            x: self.w * o.x + self.x * o.w + self.y * o.z - self.z * o.y,
            y: self.w * o.y - self.x * o.z + self.y * o.w + self.z * o.x,
            z: self.w * o.z + self.x * o.y - self.y * o.x + self.z * o.w,
            w: self.w * o.w - self.x * o.x - self.y * o.y - self.z * o.z,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::close;
    use super::*;

    #[test]
    fn euler_round_trips() {
        for e in [[0.1, 0.2, 0.3], [-1.0, 0.5, 2.5], [0.0, 0.0, 0.0], [3.0, -1.2, -0.4]] {
            assert!(close(Quat::from_euler(e).to_euler(), e), "{e:?}");
        }
    }

    #[test]
    fn agrees_with_the_matrix_path_and_composes() {
        let (a, b) = ([0.3, -0.7, 1.1], [-1.0, 0.5, 2.5]);
        let (qa, qb) = (Quat::from_euler(a), Quat::from_euler(b));
        let (ma, mb) = (qa.to_mat3(), mat3::from_euler(a));
        assert!((0..3).all(|r| close(ma[r], mb[r])));
        let v = [0.3, -2.0, 5.0];
        assert!(close((qa * qb).rotate(v), qa.rotate(qb.rotate(v))));
        assert!(close(qa.conjugate().rotate(qa.rotate(v)), v));
        assert!(Quat::from_array([0.0; 4]).normalized().is_none());
        assert_eq!(Quat::from_array([0.0, 0.0, 0.0, 2.0]).normalized(), Some(Quat::from_array([0.0, 0.0, 0.0, 1.0])));
    }
}
