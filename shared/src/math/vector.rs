//! `Vec3` arithmetic. Vectors stay plain `[f64; 3]` arrays (what the scene stores and the
//! JSON formats write), so these are free functions rather than operators.

use super::Vec3;

pub fn add(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

pub fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub fn scale(a: Vec3, k: f64) -> Vec3 {
    [a[0] * k, a[1] * k, a[2] * k]
}

/// `a * b` per axis.
pub fn mul_axes(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] * b[0], a[1] * b[1], a[2] * b[2]]
}

/// `a / b` per axis; a zero in `b` (a zero scale, which flattens the object anyway) divides
/// as 1.
pub fn div_axes(a: Vec3, b: Vec3) -> Vec3 {
    let d = |x: f64, y: f64| if y == 0.0 { x } else { x / y };
    [d(a[0], b[0]), d(a[1], b[1]), d(a[2], b[2])]
}

pub fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

pub fn length(a: Vec3) -> f64 {
    dot(a, a).sqrt()
}

/// `a` scaled to length 1 (a zero vector stays zero).
pub fn normalize(a: Vec3) -> Vec3 {
    let len = length(a);
    if len > 0.0 {
        scale(a, 1.0 / len)
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::super::close;
    use super::*;

    #[test]
    fn basics() {
        assert_eq!(cross([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]), [0.0, 0.0, 1.0]);
        assert_eq!(length([3.0, 4.0, 0.0]), 5.0);
        assert!(close(normalize([0.0, 2.0, 0.0]), [0.0, 1.0, 0.0]));
        assert_eq!(normalize([0.0; 3]), [0.0; 3]);
        assert_eq!(div_axes([2.0, 3.0, 4.0], [2.0, 0.0, 4.0]), [1.0, 3.0, 1.0]);
    }
}
