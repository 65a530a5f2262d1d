//! Affine transforms `p ↦ m·p + t` as a 3×3 matrix and a translation: a node transform made
//! exact maths (composing them through the hierarchy is exact, also for non-uniform scale
//! under rotation, which translation–rotation–scale can't hold), and the way back from a
//! matrix (glTF's `matrix`) to translation, rotation and scale.

use super::mat3::{self, Mat3};
use super::vector::{add, dot, length};
use super::Vec3;
use crate::scene::Transform;

/// `p ↦ m·p + t` (a 3×3 matrix, rows first, and a translation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    pub m: Mat3,
    pub t: Vec3,
}

/// What [`Affine::decompose`] found.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Trs {
    pub transform: Transform,
    /// The matrix has shear, which a translation–rotation–scale transform can't hold.
    pub shear: bool,
}

impl Affine {
    pub const IDENTITY: Affine = Affine { m: mat3::IDENTITY, t: [0.0; 3] };

    /// Translation · rotation (Euler XYZ, as three.js) · scale.
    pub fn from_transform(tr: &Transform) -> Affine {
        let r = mat3::from_euler(tr.rotation);
        let s = tr.scale;
        let m = [0, 1, 2].map(|i| [r[i][0] * s[0], r[i][1] * s[1], r[i][2] * s[2]]);
        Affine { m, t: tr.position }
    }

    /// From a column-major 4×4 matrix (glTF, three.js); its bottom row is not read.
    pub fn from_columns(m: &[f64; 16]) -> Affine {
        Affine { m: [0, 1, 2].map(|row| [m[row], m[4 + row], m[8 + row]]), t: [m[12], m[13], m[14]] }
    }

    /// As a column-major 4×4 matrix with bottom row `0 0 0 1` (the inverse of
    /// [`Affine::from_columns`]).
    pub fn to_columns(&self) -> [f64; 16] {
        let m = &self.m;
        let [x, y, z] = self.t;
        [m[0][0], m[1][0], m[2][0], 0.0, m[0][1], m[1][1], m[2][1], 0.0, m[0][2], m[1][2], m[2][2], 0.0, x, y, z, 1.0]
    }

    /// `self ∘ other` (apply `other` first).
    pub fn then_inner(&self, other: &Affine) -> Affine {
        Affine { m: mat3::mul(&self.m, &other.m), t: add(self.vector(other.t), self.t) }
    }

    pub fn point(&self, p: Vec3) -> Vec3 {
        add(self.vector(p), self.t)
    }

    pub fn vector(&self, v: Vec3) -> Vec3 {
        mat3::mul_vec(&self.m, v)
    }

    /// The inverse, or `None` when the matrix is singular (a zero scale).
    pub fn inverse(&self) -> Option<Affine> {
        let m = mat3::inverse(&self.m)?;
        let t = mat3::mul_vec(&m, self.t);
        Some(Affine { m, t: [-t[0], -t[1], -t[2]] })
    }

    /// The transpose of the 3×3 part (normals go through the inverse transpose).
    pub fn transposed_vector(&self, v: Vec3) -> Vec3 {
        mat3::transpose_mul_vec(&self.m, v)
    }

    /// As translation, Euler XYZ rotation and scale (as three.js `Matrix4.decompose`: a
    /// mirroring matrix gets a negative x scale). `None` if an entry, or the result, is not
    /// finite.
    pub fn decompose(&self) -> Option<Trs> {
        if !self.m.iter().flatten().chain(&self.t).all(|v| v.is_finite()) {
            return None;
        }
        let cols = [0, 1, 2].map(|c| [self.m[0][c], self.m[1][c], self.m[2][c]]);
        let [c0, c1, c2] = cols;
        let mut scale = [length(c0), length(c1), length(c2)];
        if mat3::det(&self.m) < 0.0 {
            scale[0] = -scale[0];
        }
        let rotation = if scale.iter().any(|s| s.abs() < 1e-12) {
            [0.0; 3]
        } else {
            let r: Mat3 = [0, 1, 2].map(|row| [0, 1, 2].map(|c| cols[c][row] / scale[c]));
            mat3::to_euler(&r)
        };
        if !rotation.iter().chain(&scale).all(|v| v.is_finite()) {
            return None;
        }
        let size = scale.iter().fold(0.0f64, |a, s| a.max(s.abs())).max(1e-12);
        let shear = [dot(c0, c1), dot(c1, c2), dot(c0, c2)].iter().any(|d| d.abs() > 1e-4 * size * size);
        Some(Trs { transform: Transform { position: self.t, rotation, scale }, shear })
    }
}

#[cfg(test)]
mod tests {
    use super::super::close;
    use super::super::quat::Quat;
    use super::*;

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

    #[test]
    fn decompose_recovers_trs() {
        let r = Quat::from_euler([0.3, -0.7, 1.1]).to_mat3();
        let s = [2.0, 0.5, 3.0];
        let a = Affine { m: r.map(|row| [row[0] * s[0], row[1] * s[1], row[2] * s[2]]), t: [1.0, -2.0, 3.0] };
        let m = a.to_columns();
        assert_eq!(Affine::from_columns(&m), a);
        let d = Affine::from_columns(&m).decompose().unwrap_or_default();
        let t = d.transform;
        assert!(close(t.position, [1.0, -2.0, 3.0]) && close(t.scale, s) && close(t.rotation, [0.3, -0.7, 1.1]), "{d:?}");
        assert!(!d.shear);
        // The decomposed transform rebuilds the matrix.
        let back = Affine::from_transform(&t);
        assert!((0..3).all(|i| close(back.m[i], a.m[i])));
        assert!(Affine::from_columns(&[f64::NAN; 16]).decompose().is_none());
        let sheared = Affine { m: [[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], t: [0.0; 3] };
        assert!(sheared.decompose().is_some_and(|d| d.shear));
    }
}
