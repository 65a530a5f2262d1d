//! 4×4 matrices, column-major `[f64; 16]` as WebGL and glTF read them: the viewport's view
//! and projection matrices, projecting world points to the screen, and back.

use super::{Affine, Vec3};

/// A 4×4 matrix, column-major (`m[col * 4 + row]`).
pub type Mat4 = [f64; 16];

pub const IDENTITY: Mat4 = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0];

/// `a · b` (apply `b` first).
pub fn mul(a: &Mat4, b: &Mat4) -> Mat4 {
    let mut m = [0.0; 16];
    for col in 0..4 {
        for row in 0..4 {
            m[col * 4 + row] = (0..4).map(|k| a[k * 4 + row] * b[col * 4 + k]).sum();
        }
    }
    m
}

/// An OpenGL perspective projection (clip z from −1 at `near` to 1 at `far`); `fov_y` in
/// radians, the whole vertical angle.
pub fn perspective(fov_y: f64, aspect: f64, near: f64, far: f64) -> Mat4 {
    let f = 1.0 / (fov_y / 2.0).tan();
    let nf = 1.0 / (near - far);
    [f / aspect, 0.0, 0.0, 0.0, 0.0, f, 0.0, 0.0, 0.0, 0.0, (far + near) * nf, -1.0, 0.0, 0.0, 2.0 * far * near * nf, 0.0]
}

/// An OpenGL orthographic projection of the box `±half_w × ±half_h × [near, far]` in front
/// of the eye.
pub fn orthographic(half_w: f64, half_h: f64, near: f64, far: f64) -> Mat4 {
    let nf = 1.0 / (near - far);
    [1.0 / half_w, 0.0, 0.0, 0.0, 0.0, 1.0 / half_h, 0.0, 0.0, 0.0, 0.0, 2.0 * nf, 0.0, 0.0, 0.0, (far + near) * nf, 1.0]
}

/// World → eye space for an eye at `eye` with unit, orthogonal `right`, `up` and `forward`
/// (the eye looks down its −z, as OpenGL expects).
pub fn view(eye: Vec3, right: Vec3, up: Vec3, forward: Vec3) -> Mat4 {
    let d = |a: Vec3| -(a[0] * eye[0] + a[1] * eye[1] + a[2] * eye[2]);
    [
        right[0], up[0], -forward[0], 0.0,
        right[1], up[1], -forward[1], 0.0,
        right[2], up[2], -forward[2], 0.0,
        d(right), d(up), -d(forward), 1.0,
    ]
}

/// An affine transform as a 4×4 matrix.
pub fn from_affine(a: &Affine) -> Mat4 {
    a.to_columns()
}

/// `m · (p, 1)`: homogeneous clip coordinates of a point.
pub fn transform(m: &Mat4, p: Vec3) -> [f64; 4] {
    [0, 1, 2, 3].map(|row| m[row] * p[0] + m[4 + row] * p[1] + m[8 + row] * p[2] + m[12 + row])
}

/// `m · (p, 1)` divided by w; `None` when w is not positive (behind the eye).
pub fn project(m: &Mat4, p: Vec3) -> Option<Vec3> {
    let [x, y, z, w] = transform(m, p);
    (w > 1e-12).then(|| [x / w, y / w, z / w])
}

/// The inverse, or `None` when `m` is singular.
pub fn inverse(m: &Mat4) -> Option<Mat4> {
    // Cofactors by 2×2 sub-determinants (as in MESA's gluInvertMatrix, rearranged).
    let s0 = m[0] * m[5] - m[4] * m[1];
    let s1 = m[0] * m[6] - m[4] * m[2];
    let s2 = m[0] * m[7] - m[4] * m[3];
    let s3 = m[1] * m[6] - m[5] * m[2];
    let s4 = m[1] * m[7] - m[5] * m[3];
    let s5 = m[2] * m[7] - m[6] * m[3];
    let c5 = m[10] * m[15] - m[14] * m[11];
    let c4 = m[9] * m[15] - m[13] * m[11];
    let c3 = m[9] * m[14] - m[13] * m[10];
    let c2 = m[8] * m[15] - m[12] * m[11];
    let c1 = m[8] * m[14] - m[12] * m[10];
    let c0 = m[8] * m[13] - m[12] * m[9];
    let det = s0 * c5 - s1 * c4 + s2 * c3 + s3 * c2 - s4 * c1 + s5 * c0;
    if det.abs() < 1e-300 || !det.is_finite() {
        return None;
    }
    let i = 1.0 / det;
    Some([
        (m[5] * c5 - m[6] * c4 + m[7] * c3) * i,
        (-m[1] * c5 + m[2] * c4 - m[3] * c3) * i,
        (m[13] * s5 - m[14] * s4 + m[15] * s3) * i,
        (-m[9] * s5 + m[10] * s4 - m[11] * s3) * i,
        (-m[4] * c5 + m[6] * c2 - m[7] * c1) * i,
        (m[0] * c5 - m[2] * c2 + m[3] * c1) * i,
        (-m[12] * s5 + m[14] * s2 - m[15] * s1) * i,
        (m[8] * s5 - m[10] * s2 + m[11] * s1) * i,
        (m[4] * c4 - m[5] * c2 + m[7] * c0) * i,
        (-m[0] * c4 + m[1] * c2 - m[3] * c0) * i,
        (m[12] * s4 - m[13] * s2 + m[15] * s0) * i,
        (-m[8] * s4 + m[9] * s2 - m[11] * s0) * i,
        (-m[4] * c3 + m[5] * c1 - m[6] * c0) * i,
        (m[0] * c3 - m[1] * c1 + m[2] * c0) * i,
        (-m[12] * s3 + m[13] * s1 - m[14] * s0) * i,
        (m[8] * s3 - m[9] * s1 + m[10] * s0) * i,
    ])
}

/// As the `f32`s a GPU reads.
pub fn to_f32(m: &Mat4) -> [f32; 16] {
    m.map(|v| v as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::{close, cross};

    #[test]
    fn inverse_inverts_and_projection_maps_near_and_far() {
        let p = perspective(0.9, 1.5, 0.1, 100.0);
        let v = view([1.0, 2.0, 3.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]);
        let m = mul(&p, &v);
        let inv = inverse(&m).unwrap_or_default();
        let id = mul(&inv, &m);
        assert!((0..16).all(|i| (id[i] - IDENTITY[i]).abs() < 1e-9), "{id:?}");
        // A point straight ahead at the near plane lands at clip depth −1, at the far plane +1.
        let near = project(&m, [1.0, 2.0, 2.9]).unwrap_or_default();
        let far = project(&m, [1.0, 2.0, -97.0]).unwrap_or_default();
        assert!(close(near, [0.0, 0.0, -1.0]) && close(far, [0.0, 0.0, 1.0]), "{near:?} {far:?}");
        // Behind the eye: no projection.
        assert!(project(&m, [1.0, 2.0, 4.0]).is_none());
        assert!(inverse(&[0.0; 16]).is_none());
    }

    #[test]
    fn the_view_matrix_puts_the_eye_at_the_origin_looking_down_minus_z() {
        let forward = crate::math::normalize([1.0, -1.0, -1.0]);
        let right = crate::math::normalize(cross(forward, [0.0, 1.0, 0.0]));
        let up = cross(right, forward);
        let eye = [3.0, 4.0, 5.0];
        let v = view(eye, right, up, forward);
        let [x, y, z, _] = transform(&v, eye);
        assert!(close([x, y, z], [0.0; 3]));
        let ahead = transform(&v, crate::math::add(eye, forward));
        assert!(close([ahead[0], ahead[1], ahead[2]], [0.0, 0.0, -1.0]));
        let o = orthographic(2.0, 1.0, -10.0, 10.0);
        assert!(close(project(&o, [2.0, 1.0, 0.0]).unwrap_or_default(), [1.0, 1.0, 0.0]));
    }
}
