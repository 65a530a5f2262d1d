//! The little 3D maths glTF needs that the scene model keeps private: Euler XYZ ↔ quaternion,
//! matrix → TRS decomposition, and sRGB ↔ linear colour (glTF colours are linear, the scene's
//! are sRGB). Kept here so `shared::scene` needn't grow a public maths API.

use crate::scene::{Color, Transform, Vec3};

/// A rotation quaternion `[x, y, z, w]`.
pub(super) type Quat = [f64; 4];

/// A 3×3 matrix, rows first (`m[row][col]`).
type Mat3 = [[f64; 3]; 3];

/// From Euler angles applied in XYZ order (three.js `Euler` order `'XYZ'`).
pub(super) fn euler_to_quat([ex, ey, ez]: Vec3) -> Quat {
    let (s1, c1) = (ex / 2.0).sin_cos();
    let (s2, c2) = (ey / 2.0).sin_cos();
    let (s3, c3) = (ez / 2.0).sin_cos();
    [
        s1 * c2 * c3 + c1 * s2 * s3,
        c1 * s2 * c3 - s1 * c2 * s3,
        c1 * c2 * s3 + s1 * s2 * c3,
        c1 * c2 * c3 - s1 * s2 * s3,
    ]
}

/// Scales `q` to unit length; `None` for a zero or non-finite quaternion.
pub(super) fn normalize(q: Quat) -> Option<Quat> {
    let len = q.iter().map(|c| c * c).sum::<f64>().sqrt();
    (len.is_finite() && len > 1e-12).then(|| q.map(|c| c / len))
}

fn quat_to_mat3([x, y, z, w]: Quat) -> Mat3 {
    [
        [1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - z * w), 2.0 * (x * z + y * w)],
        [2.0 * (x * y + z * w), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - x * w)],
        [2.0 * (x * z - y * w), 2.0 * (y * z + x * w), 1.0 - 2.0 * (x * x + y * y)],
    ]
}

/// Euler XYZ angles of a pure rotation matrix (as three.js `Euler.setFromRotationMatrix`).
fn mat3_to_euler(m: Mat3) -> Vec3 {
    let ey = m[0][2].clamp(-1.0, 1.0).asin();
    if m[0][2].abs() < 0.999_999_9 {
        [(-m[1][2]).atan2(m[2][2]), ey, (-m[0][1]).atan2(m[0][0])]
    } else {
        [m[2][1].atan2(m[1][1]), ey, 0.0]
    }
}

/// Euler XYZ angles of a unit quaternion.
pub(super) fn quat_to_euler(q: Quat) -> Vec3 {
    mat3_to_euler(quat_to_mat3(q))
}

/// `a * b` (apply `b` first).
pub(super) fn quat_mul(a: Quat, b: Quat) -> Quat {
    [
        a[3] * b[0] + a[0] * b[3] + a[1] * b[2] - a[2] * b[1],
        a[3] * b[1] - a[0] * b[2] + a[1] * b[3] + a[2] * b[0],
        a[3] * b[2] + a[0] * b[1] - a[1] * b[0] + a[2] * b[3],
        a[3] * b[3] - a[0] * b[0] - a[1] * b[1] - a[2] * b[2],
    ]
}

/// `q` applied to the vector `v`.
pub(super) fn rotate(q: Quat, v: Vec3) -> Vec3 {
    let m = quat_to_mat3(q);
    [0, 1, 2].map(|r| m[r][0] * v[0] + m[r][1] * v[1] + m[r][2] * v[2])
}

/// What [`decompose`] found besides the transform.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(super) struct Decomposed {
    pub transform: Transform,
    /// The matrix has a projective bottom row or shear, which a TRS transform can't hold.
    pub lossy: bool,
}

/// A column-major 4×4 matrix as translation, Euler XYZ rotation and scale (as three.js
/// `Matrix4.decompose`). `None` if an entry is not finite.
pub(super) fn decompose(m: &[f32; 16]) -> Option<Decomposed> {
    let m: [f64; 16] = m.map(f64::from);
    if !m.iter().all(|v| v.is_finite()) {
        return None;
    }
    let col = |c: usize| [m[4 * c], m[4 * c + 1], m[4 * c + 2]];
    let len = |v: Vec3| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    let (c0, c1, c2) = (col(0), col(1), col(2));
    let det = c0[0] * (c1[1] * c2[2] - c2[1] * c1[2]) - c1[0] * (c0[1] * c2[2] - c2[1] * c0[2]) + c2[0] * (c0[1] * c1[2] - c1[1] * c0[2]);
    let mut scale = [len(c0), len(c1), len(c2)];
    if det < 0.0 {
        scale[0] = -scale[0];
    }
    let rotation = if scale.iter().any(|s| s.abs() < 1e-12) {
        [0.0; 3]
    } else {
        let cols = [c0, c1, c2];
        let r: Mat3 = [0, 1, 2].map(|row| [0, 1, 2].map(|c| cols[c][row] / scale[c]));
        mat3_to_euler(r)
    };
    let transform = Transform { position: [m[12], m[13], m[14]], rotation, scale };
    if !transform.rotation.iter().chain(&transform.scale).all(|v| v.is_finite()) {
        return None;
    }
    let dot = |a: Vec3, b: Vec3| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let size = scale.iter().fold(0.0f64, |a, s| a.max(s.abs())).max(1e-12);
    let shear = [dot(c0, c1), dot(c1, c2), dot(c0, c2)].iter().any(|d| d.abs() > 1e-4 * size * size);
    let projective = m[3].abs() > 1e-6 || m[7].abs() > 1e-6 || m[11].abs() > 1e-6 || (m[15] - 1.0).abs() > 1e-6;
    Some(Decomposed { transform, lossy: shear || projective })
}

/// One sRGB channel (0..=255) as a linear value in 0..=1.
pub(super) fn srgb_to_linear(c: u8) -> f64 {
    let c = f64::from(c) / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// A linear value (clamped to 0..=1; NaN reads as 0) as an sRGB channel.
pub(super) fn linear_to_srgb(v: f64) -> u8 {
    let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
    let c = if v <= 0.003_130_8 { v * 12.92 } else { 1.055 * v.powf(1.0 / 2.4) - 0.055 };
    (c * 255.0).round().clamp(0.0, 255.0) as u8
}

pub(super) fn color_to_linear(c: Color) -> [f64; 3] {
    [srgb_to_linear(c.r), srgb_to_linear(c.g), srgb_to_linear(c.b)]
}

pub(super) fn color_from_linear(rgb: [f32; 3]) -> Color {
    let [r, g, b] = rgb.map(|v| linear_to_srgb(f64::from(v)));
    Color { r, g, b }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srgb_round_trips_every_byte() {
        for c in 0..=255u8 {
            assert_eq!(linear_to_srgb(f64::from(srgb_to_linear(c) as f32)), c);
        }
    }

    #[test]
    fn decompose_recovers_trs() {
        let q = euler_to_quat([0.3, -0.7, 1.1]);
        let r = quat_to_mat3(q);
        let s = [2.0, 0.5, 3.0];
        let mut m = [0f32; 16];
        for c in 0..3 {
            for row in 0..3 {
                m[4 * c + row] = (r[row][c] * s[c]) as f32;
            }
        }
        m[12] = 1.0;
        m[13] = -2.0;
        m[14] = 3.0;
        m[15] = 1.0;
        let d = decompose(&m).map(|d| d.transform).unwrap_or_default();
        let close = |a: Vec3, b: Vec3| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
        assert!(close(d.position, [1.0, -2.0, 3.0]) && close(d.scale, s) && close(d.rotation, [0.3, -0.7, 1.1]), "{d:?}");
        assert!(decompose(&[f32::NAN; 16]).is_none());
    }
}
