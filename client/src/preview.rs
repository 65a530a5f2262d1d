//! A transform gesture in progress: some nodes moved, turned about an axis or scaled along
//! their own axes. The viewport draws the nodes where the gesture puts them, peers see it as
//! a ghost (it travels in awareness, [`crate::awareness_state`]), and at pointerup
//! [`Preview::writes`] turns it into the field writes of one transaction.
//!
//! Only the components that change are written (a move along x never writes y or z), so a
//! peer's concurrent edit of another component survives.

use shared::math::{add, mat3, sub, wrap_angle as wrap, Affine, Mat3, Vec3};
use shared::scene::{NodeId, NumberKey, SceneTree};

/// Changes smaller than this are float noise, not edits.
const EPSILON: f64 = 1e-9;

#[derive(Debug, Clone, PartialEq)]
pub enum Preview {
    /// Move by a world offset.
    Move { ids: Vec<NodeId>, offset: Vec3 },
    /// Turn by `angle` radians about the unit world `axis` through `pivot`
    /// (counter-clockwise seen from where the axis points).
    Rotate { ids: Vec<NodeId>, axis: Vec3, angle: f64, pivot: Vec3 },
    /// Scale each node along its own axes by `factors`; node origins move away from
    /// `pivot` by the same factors along the gesture's `axes` (a rotation whose columns are
    /// the axes in the world).
    Scale { ids: Vec<NodeId>, factors: Vec3, pivot: Vec3, axes: Mat3 },
}

impl Preview {
    pub fn ids(&self) -> &[NodeId] {
        match self {
            Preview::Move { ids, .. } | Preview::Rotate { ids, .. } | Preview::Scale { ids, .. } => ids,
        }
    }

    /// Whether the gesture changes anything.
    pub fn is_noop(&self) -> bool {
        match self {
            Preview::Move { offset, .. } => offset.iter().all(|c| c.abs() < EPSILON),
            Preview::Rotate { angle, .. } => angle.abs() < EPSILON,
            Preview::Scale { factors, .. } => factors.iter().all(|f| (f - 1.0).abs() < EPSILON),
        }
    }

    /// Where a world point moves under the gesture (for a point of a gesture root).
    pub fn point(&self, p: Vec3) -> Vec3 {
        match self {
            Preview::Move { offset, .. } => add(p, *offset),
            Preview::Rotate { axis, angle, pivot, .. } => add(*pivot, mat3::mul_vec(&mat3::from_axis_angle(*axis, *angle), sub(p, *pivot))),
            Preview::Scale { factors, pivot, axes, .. } => {
                let local = mat3::transpose_mul_vec(axes, sub(p, *pivot));
                add(*pivot, mat3::mul_vec(axes, [0, 1, 2].map(|i| local[i] * factors[i])))
            }
        }
    }

    /// The world matrix of a gesture root whose world matrix is `world`.
    pub fn moved(&self, world: &Affine) -> Affine {
        let t = self.point(world.t);
        match self {
            Preview::Move { .. } => Affine { m: world.m, t },
            Preview::Rotate { axis, angle, .. } => Affine { m: mat3::mul(&mat3::from_axis_angle(*axis, *angle), &world.m), t },
            Preview::Scale { factors, .. } => {
                let m = world.m.map(|row| [row[0] * factors[0], row[1] * factors[1], row[2] * factors[2]]);
                Affine { m, t }
            }
        }
    }

    /// The field writes that make the gesture real.
    pub fn writes(&self, tree: &SceneTree) -> Vec<(NodeId, NumberKey, f64)> {
        let mut out = Vec::new();
        for id in self.ids() {
            let Some(node) = tree.node(id) else { continue };
            let t = node.transform;
            let parent = tree.parent(id).map_or(Affine::IDENTITY, |p| tree.world_affine(p));
            let Some(to_parent) = parent.inverse() else { continue };
            let moved = self.moved(&tree.world_affine(id));
            let local = to_parent.then_inner(&moved);
            let mut changed = |keys: [NumberKey; 3], old: Vec3, new: Vec3| {
                for i in 0..3 {
                    if (new[i] - old[i]).abs() > EPSILON && new[i].is_finite() {
                        out.push((id.clone(), keys[i], new[i]));
                    }
                }
            };
            changed(NumberKey::POSITION, t.position, local.t);
            match self {
                Preview::Move { .. } => {}
                Preview::Rotate { .. } => {
                    // The rotation part of the new local matrix (exact unless the parent has
                    // non-uniform scale under rotation; then the nearest rotation).
                    let unscaled = local.m.map(|row| [0, 1, 2].map(|c| if t.scale[c] == 0.0 { row[c] } else { row[c] / t.scale[c] }));
                    if let Some(rotation) = mat3::orthonormalized(&unscaled) {
                        let euler = nearest_euler(mat3::to_euler(&rotation), t.rotation);
                        changed(NumberKey::ROTATION, t.rotation, euler);
                    }
                }
                Preview::Scale { factors, .. } => {
                    changed(NumberKey::SCALE, t.scale, [0, 1, 2].map(|i| t.scale[i] * factors[i]));
                }
            }
        }
        out
    }
}

/// Euler angles equal (as a rotation) to `euler`, each component moved by whole turns to be
/// nearest the old one, so a component the gesture did not turn reads back unchanged.
fn nearest_euler(euler: Vec3, old: Vec3) -> Vec3 {
    let tau = std::f64::consts::TAU;
    [0, 1, 2].map(|i| {
        let turns = ((old[i] - euler[i]) / tau).round();
        let near = euler[i] + turns * tau;
        if (near - old[i]).abs() < 1e-9 {
            old[i]
        } else {
            wrap(near)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::scene::{Node, NodeKind, Transform};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn node(id: &str, parent: Option<&str>, transform: Transform) -> Node {
        Node { parent: parent.map(NodeId::from), transform, ..Node::new(NodeId::from(id), id, NodeKind::Mesh) }
    }

    fn values(writes: &[(NodeId, NumberKey, f64)]) -> Vec<(NumberKey, f64)> {
        writes.iter().map(|(_, k, v)| (*k, (v * 1e6).round() / 1e6)).collect()
    }

    #[wasm_bindgen_test]
    fn a_quarter_turn_about_y_writes_only_ry() {
        let tree = SceneTree::from_nodes(vec![node("a", None, Transform { position: [2.0, 1.0, 0.0], ..Transform::default() })]);
        let turn = Preview::Rotate { ids: vec!["a".into()], axis: [0.0, 1.0, 0.0], angle: -std::f64::consts::FRAC_PI_2, pivot: [2.0, 1.0, 0.0] };
        // The document keeps six decimals, so the written value is π/2 rounded, not the constant.
        #[allow(clippy::approx_constant)]
        let stored = -1.570796;
        assert_eq!(values(&turn.writes(&tree)), [(NumberKey::Ry, stored)]);
        // About a pivot elsewhere the node also swings round it: x and z change, y does not.
        let swing = Preview::Rotate { ids: vec!["a".into()], axis: [0.0, 1.0, 0.0], angle: std::f64::consts::FRAC_PI_2, pivot: [0.0; 3] };
        let written = values(&swing.writes(&tree));
        assert!(written.contains(&(NumberKey::Px, 0.0)) && written.contains(&(NumberKey::Pz, -2.0)), "{written:?}");
        assert!(!written.iter().any(|(k, _)| *k == NumberKey::Py));
    }

    #[wasm_bindgen_test]
    fn moves_under_a_turned_scaled_parent_land_where_the_world_offset_says() {
        let parent = Transform { position: [5.0, 0.0, 0.0], rotation: [0.0, 0.0, std::f64::consts::FRAC_PI_2], scale: [2.0; 3] };
        let tree = SceneTree::from_nodes(vec![node("p", None, parent), node("c", Some("p"), Transform::default())]);
        let up = Preview::Move { ids: vec!["c".into()], offset: [0.0, 2.0, 0.0] };
        // World +y is the parent's local +x (turned a quarter about z), halved by its scale.
        assert_eq!(values(&up.writes(&tree)), [(NumberKey::Px, 1.0)]);
        let moved = up.moved(&tree.world_affine(&NodeId::from("c")));
        assert!((moved.t[1] - 2.0).abs() < 1e-9 && (moved.t[0] - 5.0).abs() < 1e-9);
    }

    #[wasm_bindgen_test]
    fn scaling_along_own_axes_multiplies_the_stored_scale() {
        let tree = SceneTree::from_nodes(vec![node("a", None, Transform { scale: [1.0, 2.0, 1.0], ..Transform::default() })]);
        let grow = Preview::Scale { ids: vec!["a".into()], factors: [2.0, 1.0, 1.0], pivot: [0.0; 3], axes: mat3::IDENTITY };
        assert_eq!(values(&grow.writes(&tree)), [(NumberKey::Sx, 2.0)]);
        assert!(Preview::Scale { ids: vec![], factors: [1.0; 3], pivot: [0.0; 3], axes: mat3::IDENTITY }.is_noop());
        assert!((nearest_euler([0.0, 0.0, -3.1], [0.0, 0.0, 3.2])[2] - (-3.1)).abs() < 1e-9);
    }
}
