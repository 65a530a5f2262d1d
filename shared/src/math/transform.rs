//! Composing and un-composing node transforms while staying in the translation–rotation–scale
//! form a node can store: what keeps an object where it is on screen when it changes parent
//! (reparent keeping the world transform, group, ungroup). For exact world-space maths use
//! [`Affine`](super::Affine) instead.
//!
//! Scale composes per axis, which is exact when the parent's scale is uniform (or its
//! rotation is axis-aligned with the child's); otherwise a real matrix would need shear,
//! which a node's transform can't hold, and the result is the closest thing without it.

use super::quat::Quat;
use super::vector::{add, div_axes, mul_axes, sub};
use crate::scene::Transform;

/// The transform of `local` (relative to `parent`) relative to `parent`'s own parent.
pub fn compose(parent: &Transform, local: &Transform) -> Transform {
    // Exact in the common cases (no floating-point drift written back to the document).
    if *parent == Transform::default() {
        return *local;
    }
    if *local == Transform::default() {
        return *parent;
    }
    let rot = Quat::from_euler(parent.rotation);
    let offset = rot.rotate(mul_axes(parent.scale, local.position));
    Transform {
        position: add(parent.position, offset),
        rotation: (rot * Quat::from_euler(local.rotation)).to_euler(),
        scale: mul_axes(parent.scale, local.scale),
    }
}

/// The transform that `compose(parent, _)` turns into `world`.
pub fn relative_to(parent: &Transform, world: &Transform) -> Transform {
    if *parent == Transform::default() {
        return *world;
    }
    let inv = Quat::from_euler(parent.rotation).conjugate();
    Transform {
        position: div_axes(inv.rotate(sub(world.position, parent.position)), parent.scale),
        rotation: (inv * Quat::from_euler(world.rotation)).to_euler(),
        scale: div_axes(world.scale, parent.scale),
    }
}

#[cfg(test)]
mod tests {
    use super::super::close;
    use super::*;

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
