//! 3×3 matrices, rows first (`m[row][col]`): the rotation–scale part of an
//! [`Affine`](super::Affine), and Euler XYZ angles ↔ rotation matrix in the three.js
//! convention that the editor (a three.js app) and glTF interop rely on.

use super::vector::dot;
use super::Vec3;

/// A 3×3 matrix, rows first (`m[row][col]`).
pub type Mat3 = [[f64; 3]; 3];

pub const IDENTITY: Mat3 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];

/// The rotation of Euler angles applied in XYZ order (three.js
/// `Matrix4.makeRotationFromEuler`, order `'XYZ'`).
pub fn from_euler([x, y, z]: Vec3) -> Mat3 {
    let (b, a) = x.sin_cos();
    let (d, c) = y.sin_cos();
    let (f, e) = z.sin_cos();
    let (ae, af, be, bf) = (a * e, a * f, b * e, b * f);
    [
        [c * e, -c * f, d],
        [af + be * d, ae - bf * d, -b * c],
        [bf - ae * d, be + af * d, a * c],
    ]
}

/// Euler XYZ angles of a pure rotation matrix (as three.js `Euler.setFromRotationMatrix`).
pub fn to_euler(m: &Mat3) -> Vec3 {
    let ey = m[0][2].clamp(-1.0, 1.0).asin();
    if m[0][2].abs() < 0.999_999_9 {
        [(-m[1][2]).atan2(m[2][2]), ey, (-m[0][1]).atan2(m[0][0])]
    } else {
        [m[2][1].atan2(m[1][1]), ey, 0.0]
    }
}

/// `a · b` (apply `b` first).
pub fn mul(a: &Mat3, b: &Mat3) -> Mat3 {
    let mut m = [[0.0; 3]; 3];
    for (i, row) in m.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    m
}

/// `m · v`.
pub fn mul_vec(m: &Mat3, v: Vec3) -> Vec3 {
    m.map(|row| dot(row, v))
}

/// `mᵀ · v` (normals go through the inverse transpose).
pub fn transpose_mul_vec(m: &Mat3, v: Vec3) -> Vec3 {
    [0, 1, 2].map(|j| m[0][j] * v[0] + m[1][j] * v[1] + m[2][j] * v[2])
}

pub fn det(m: &Mat3) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

/// The inverse, or `None` when `m` is singular (or not finite).
pub fn inverse(m: &Mat3) -> Option<Mat3> {
    let det = det(m);
    if det.abs() < 1e-12 || !det.is_finite() {
        return None;
    }
    let inv = 1.0 / det;
    let c = |r0: usize, c0: usize, r1: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    Some([
        [c(1, 1, 2, 2) * inv, -c(0, 1, 2, 2) * inv, c(0, 1, 1, 2) * inv],
        [-c(1, 0, 2, 2) * inv, c(0, 0, 2, 2) * inv, -c(0, 0, 1, 2) * inv],
        [c(1, 0, 2, 1) * inv, -c(0, 0, 2, 1) * inv, c(0, 0, 1, 1) * inv],
    ])
}

/// The rotation by `angle` radians about the unit vector `axis` (counter-clockwise when
/// the axis points at the viewer; Rodrigues' formula).
pub fn from_axis_angle(axis: Vec3, angle: f64) -> Mat3 {
    let [x, y, z] = axis;
    let (s, c) = angle.sin_cos();
    let t = 1.0 - c;
    [
        [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
        [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
        [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
    ]
}

pub fn transpose(m: &Mat3) -> Mat3 {
    [0, 1, 2].map(|r| [m[0][r], m[1][r], m[2][r]])
}

/// The nearest rotation to `m` by Gram–Schmidt on its columns (x kept, then y, z made
/// perpendicular, right-handed): the rotation part of a matrix that picked up scale or
/// slight shear. `None` when the columns are degenerate.
pub fn orthonormalized(m: &Mat3) -> Option<Mat3> {
    use super::vector::{cross, normalize, scale, sub};
    let col = |c: usize| [m[0][c], m[1][c], m[2][c]];
    let x = normalize(col(0));
    let y = normalize(sub(col(1), scale(x, dot(x, col(1)))));
    let z = cross(x, y);
    let ok = [x, y, z].iter().all(|v| (dot(*v, *v) - 1.0).abs() < 1e-6);
    ok.then(|| [0, 1, 2].map(|r| [x[r], y[r], z[r]]))
}

#[cfg(test)]
mod tests {
    use super::super::close;
    use super::*;

    #[test]
    fn axis_angle_agrees_with_euler_and_orthonormalizing_keeps_rotations() {
        let about_y = from_axis_angle([0.0, 1.0, 0.0], 0.7);
        let euler = from_euler([0.0, 0.7, 0.0]);
        assert!((0..3).all(|r| close(about_y[r], euler[r])));
        let r = from_euler([0.3, -1.1, 2.0]);
        let scaled: Mat3 = [0, 1, 2].map(|i| [r[i][0] * 2.0, r[i][1] * 0.5, r[i][2] * 3.0]);
        let back = orthonormalized(&scaled).unwrap_or_default();
        assert!((0..3).all(|i| close(back[i], r[i])), "{back:?}");
        assert!(orthonormalized(&[[0.0; 3]; 3]).is_none());
        let t = transpose(&r);
        assert!((0..3).all(|i| close(mul(&t, &r)[i], IDENTITY[i])));
    }

    #[test]
    fn euler_round_trips_and_inverse_inverts() {
        for e in [[0.1, 0.2, 0.3], [-1.0, 0.5, 2.5], [0.0, 0.0, 0.0], [3.0, -1.2, -0.4]] {
            let m = from_euler(e);
            assert!(close(to_euler(&m), e), "{e:?}");
            let back = inverse(&m).map(|i| mul(&i, &m)).unwrap_or_default();
            assert!((0..3).all(|r| close(back[r], IDENTITY[r])), "{back:?}");
        }
        assert!(inverse(&[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).is_none());
    }
}
