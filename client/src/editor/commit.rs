//! Pointer gestures on the selection (move, rotate, scale): where a point ends up under the
//! gesture (for drawing the preview, and peers' drag ghosts), and the field writes that
//! commit it at pointerup, in one transaction. Only the components that change are written
//! (a move in the top view never writes y), so a peer's concurrent edit of another
//! component survives.

use leptos::prelude::*;
use shared::scene::{NodeId, NumberKey, SceneTree, Vec3};

use super::{Editor, Preview};
use crate::geom;
use crate::view::ViewKind;

/// Changes smaller than this are float noise, not edits.
const EPSILON: f64 = 1e-9;

impl Preview {
    /// Where world point `p` of a node under this gesture is drawn.
    pub fn apply(&self, p: Vec3) -> Vec3 {
        match self {
            Preview::Move { offset, .. } => [p[0] + offset[0], p[1] + offset[1], p[2] + offset[2]],
            Preview::Rotate { angle, pivot, view, .. } => {
                let (u, v, _) = view.project(p);
                let (pu, pv, _) = view.project(*pivot);
                let (s, c) = angle.sin_cos();
                let (du, dv) = (u - pu, v - pv);
                let shift = view.unproject(pu + du * c - dv * s - u, pv + du * s + dv * c - v);
                [p[0] + shift[0], p[1] + shift[1], p[2] + shift[2]]
            }
            Preview::Scale { factor, pivot, .. } => [0, 1, 2].map(|i| pivot[i] + (p[i] - pivot[i]) * factor),
        }
    }

    /// Whether the gesture changes anything.
    pub fn is_noop(&self) -> bool {
        match self {
            Preview::Move { offset, .. } => offset.iter().all(|c| c.abs() < EPSILON),
            Preview::Rotate { angle, .. } => angle.abs() < EPSILON,
            Preview::Scale { factor, .. } => (factor - 1.0).abs() < EPSILON,
        }
    }

    /// Whether node `id` is moved by this gesture (it or an ancestor is in it).
    pub fn affects(&self, tree: &SceneTree, id: &NodeId) -> bool {
        self.ids().iter().any(|moving| tree.is_ancestor_or_self(moving, id))
    }

    /// The field writes that make the gesture real.
    pub fn writes(&self, tree: &SceneTree) -> Vec<(NodeId, NumberKey, f64)> {
        let mut out = Vec::new();
        for id in self.ids() {
            let Some(node) = tree.node(id) else { continue };
            let t = node.transform;
            let world = tree.world_transform(id);
            let parent = tree.parent(id).map(|p| tree.world_transform(p));
            // The node's origin follows the gesture (around the pivot).
            let moved = self.apply(world.position);
            let delta = [0, 1, 2].map(|i| moved[i] - world.position[i]);
            let local = geom::world_delta_to_local(parent.as_ref(), delta);
            for (i, key) in NumberKey::POSITION.into_iter().enumerate() {
                if local[i].abs() > EPSILON {
                    out.push((id.clone(), key, t.position[i] + local[i]));
                }
            }
            match self {
                Preview::Move { .. } => {}
                Preview::Rotate { angle, view, .. } => {
                    let key = view.rotation_key();
                    let i = NumberKey::ROTATION.iter().position(|k| *k == key).unwrap_or(0);
                    out.push((id.clone(), key, wrap_angle(t.rotation[i] + angle)));
                }
                Preview::Scale { factor, .. } => {
                    for (i, key) in NumberKey::SCALE.into_iter().enumerate() {
                        out.push((id.clone(), key, t.scale[i] * factor));
                    }
                }
            }
        }
        out
    }
}

/// An angle in (−π, π].
fn wrap_angle(a: f64) -> f64 {
    let tau = std::f64::consts::TAU;
    let r = a.rem_euclid(tau);
    if r > std::f64::consts::PI {
        r - tau
    } else {
        r
    }
}

impl Editor {
    /// Writes a finished gesture: one transaction (inside the gesture: one undo step).
    pub fn commit(&self, preview: &Preview) {
        if preview.is_noop() {
            return;
        }
        let writes = self.tree.with_untracked(|tree| preview.writes(tree));
        if writes.is_empty() {
            return;
        }
        self.write(|scene, txn| {
            for (id, key, value) in &writes {
                let _ = scene.set_number(txn, id, *key, *value);
            }
        });
    }
}

/// Screen-plane axes of a view as world component indices (right, up).
pub fn plane_axes(kind: ViewKind) -> [usize; 2] {
    match kind {
        ViewKind::Top => [0, 2],
        ViewKind::Front => [0, 1],
        ViewKind::Side => [2, 1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn rotating_a_quarter_turn_in_the_top_view_is_about_y() {
        let p = Preview::Rotate { ids: vec![], angle: std::f64::consts::FRAC_PI_2, pivot: [0.0; 3], view: ViewKind::Top };
        let q = p.apply([1.0, 5.0, 0.0]);
        // x → −z (counter-clockwise on screen, where up is −z), height kept.
        assert!((q[0]).abs() < 1e-12 && (q[1] - 5.0).abs() < 1e-12 && (q[2] + 1.0).abs() < 1e-12, "{q:?}");
        assert!((wrap_angle(4.0) - (4.0 - std::f64::consts::TAU)).abs() < 1e-12);
    }
}
