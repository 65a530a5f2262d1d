//! The 3D maths of the whole crate, implemented once: the scene model (reparent keeping the
//! world transform, group, ungroup), glTF import and export, and the jobs (ray tracer, scene
//! check) all use it, so a node's transform means the same thing everywhere.
//!
//! - [`vector`]: `Vec3` arithmetic (plain `[f64; 3]`, as the scene stores it).
//! - [`mat3`]: 3×3 matrices, and Euler XYZ ↔ rotation matrix (the three.js convention).
//! - [`mat4`]: 4×4 matrices for the viewport: view, perspective and orthographic projection.
//! - [`quat`]: rotation quaternions, and Euler XYZ ↔ quaternion.
//! - [`ray`]: rays, and where they meet planes and lines (picking, the transform gizmos).
//! - [`affine`]: `p ↦ m·p + t` transforms: from a node transform, composed, inverted, and
//!   decomposed back into translation, rotation and scale.
//! - [`transform`]: composing node transforms without leaving the translation–rotation–scale
//!   form a node can store.
//! - [`color`]: sRGB ↔ linear colour.
//!
//! Euler angles are always radians applied in XYZ order (three.js `Euler` order `'XYZ'`).

pub mod affine;
pub mod color;
pub mod mat3;
pub mod mat4;
pub mod quat;
pub mod ray;
pub mod transform;
pub mod vector;

pub use affine::{Affine, Trs};
pub use mat3::Mat3;
pub use quat::Quat;
pub use ray::Ray;
pub use vector::{add, cross, div_axes, dot, length, mul_axes, normalize, scale, sub};

pub use crate::scene::Vec3;

/// The same angle (radians) in (−π, π].
pub fn wrap_angle(a: f64) -> f64 {
    let tau = std::f64::consts::TAU;
    let r = a.rem_euclid(tau);
    if r > std::f64::consts::PI {
        r - tau
    } else {
        r
    }
}

/// Whether two vectors agree to within `1e-9` per axis (for the tests of this module).
#[cfg(test)]
fn close(a: Vec3, b: Vec3) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
}
