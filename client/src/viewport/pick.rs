//! What is under the pointer: a ray from the camera through the pointer, tested against the
//! shown meshes with the same intersection code as the ray tracer
//! (`shared::geometry::hit`, in each mesh's local space, so any rotation and scale is
//! exact), and against the icons of lights and cameras on screen. Also what lies inside a
//! box drawn on screen, and the point the pointer touches (for peers' cursors).

use shared::math::{cross, dot, length, sub, Ray, Vec3};
use shared::scene::{NodeId, NodeKind};

use super::drawables::{Drawable, Drawables};
use super::render::icons::ICON_PX;
use crate::camera::Camera;

/// The view the pointer is in.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    pub camera: &'a Camera,
    pub width: f64,
    pub height: f64,
}

/// Whether the ray passes within the bounds' sphere.
fn near_bounds(ray: &Ray, d: &Drawable) -> bool {
    if d.bounds.is_empty() {
        return false;
    }
    let center = d.bounds.center();
    let to = sub(center, ray.origin);
    let off = length(cross(to, ray.dir)) / length(ray.dir).max(1e-300);
    off <= d.bounds.radius() * 1.0001 + 1e-9
}

/// The nearest hit along `ray` (its `t`, in units of `ray.dir`) on a drawable's surface or
/// icon.
fn hit(view: &View, ray: &Ray, d: &Drawable, pointer: (f64, f64)) -> Option<f64> {
    match (d.kind, &d.shape) {
        (NodeKind::Mesh, Some(shape)) => {
            if !near_bounds(ray, d) {
                return None;
            }
            let local = d.world.inverse()?;
            shape.intersect(local.point(ray.origin), local.vector(ray.dir)).map(|h| h.t)
        }
        (NodeKind::Light | NodeKind::Camera, _) => {
            let (x, y, _) = view.camera.screen_position(d.world.t, view.width, view.height)?;
            let close = (x - pointer.0).hypot(y - pointer.1) <= ICON_PX;
            close.then(|| dot(sub(d.world.t, ray.origin), ray.dir) / dot(ray.dir, ray.dir))
        }
        _ => None,
    }
}

/// The node under (x, y) and where the ray meets it; locked nodes only when `locked`.
pub fn pick(drawables: &Drawables, view: &View, (x, y): (f64, f64), locked: bool) -> Option<(NodeId, Vec3)> {
    let ray = view.camera.ray(x, y, view.width, view.height);
    let mut best: Option<(f64, &NodeId)> = None;
    for (id, d) in drawables.iter().filter(|(_, d)| d.shown && (locked || !d.locked)) {
        if let Some(t) = hit(view, &ray, d, (x, y)) {
            if best.is_none_or(|(bt, bid)| t < bt || (t == bt && id < bid)) {
                best = Some((t, id));
            }
        }
    }
    best.map(|(t, id)| (id.clone(), ray.at(t)))
}

/// Where the pointer touches the scene: a surface, else the ground (the plane through the
/// origin facing the view, in the front and side views); `None` looking away from both.
pub fn touch_point(drawables: &Drawables, view: &View, at: (f64, f64)) -> Option<Vec3> {
    if let Some((_, point)) = pick(drawables, view, at, true) {
        return Some(point);
    }
    let ray = view.camera.ray(at.0, at.1, view.width, view.height);
    let normal = match view.camera.kind() {
        crate::camera::ViewKind::Front => [0.0, 0.0, 1.0],
        crate::camera::ViewKind::Side => [1.0, 0.0, 0.0],
        _ => [0.0, 1.0, 0.0],
    };
    let t = ray.plane([0.0; 3], normal)?;
    let p = ray.at(t);
    // Far beyond the horizon means nothing to a peer.
    (length(sub(p, view.camera.target)) < view.camera.distance * 200.0).then_some(p)
}

/// The unlocked shown nodes whose outline on screen overlaps the rectangle (left, top,
/// right, bottom in CSS pixels).
pub fn inside(drawables: &Drawables, view: &View, (l, t, r, b): (f64, f64, f64, f64)) -> Vec<NodeId> {
    let mut out: Vec<NodeId> = drawables
        .iter()
        .filter(|(_, d)| d.shown && !d.locked && d.kind != NodeKind::Group)
        .filter(|(_, d)| {
            let Some((x0, y0, x1, y1)) = screen_bounds(d, view) else { return false };
            x0 <= r && x1 >= l && y0 <= b && y1 >= t
        })
        .map(|(id, _)| id.clone())
        .collect();
    shared::order::sort(&mut out);
    out
}

/// A drawable's bounds on screen (its world box's corners projected); `None` when any part
/// is behind the eye.
fn screen_bounds(d: &Drawable, view: &View) -> Option<(f64, f64, f64, f64)> {
    let b = &d.bounds;
    let mut out: Option<(f64, f64, f64, f64)> = None;
    for i in 0..8 {
        let corner = [
            if i & 1 == 0 { b.min[0] } else { b.max[0] },
            if i & 2 == 0 { b.min[1] } else { b.max[1] },
            if i & 4 == 0 { b.min[2] } else { b.max[2] },
        ];
        let (x, y, _) = view.camera.screen_position(corner, view.width, view.height)?;
        out = Some(out.map_or((x, y, x, y), |(a, c, e, f)| (a.min(x), c.min(y), e.max(x), f.max(y))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::editor::Changes;
    use shared::scene::{Node, SceneTree, Transform};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn mesh(id: &str, position: Vec3, locked: bool) -> Node {
        let transform = Transform { position, ..Transform::default() };
        Node { order: id.into(), transform, locked, ..Node::new(NodeId::from(id), id, NodeKind::Mesh) }
    }

    #[wasm_bindgen_test]
    fn the_nearest_unlocked_mesh_under_the_pointer_is_picked() {
        let tree = SceneTree::from_nodes(vec![mesh("near", [0.0, 0.0, 2.0], false), mesh("far", [0.0; 3], false), mesh("locked", [0.0, 0.0, 4.0], true)]);
        let mut drawables = Drawables::default();
        drawables.sync(&tree, Changes { structural: true, ..Changes::default() }, None, &mut |_| None);
        let camera = Camera::default().switched_to(crate::camera::ViewKind::Front);
        let view = View { camera: &camera, width: 800.0, height: 600.0 };
        let (id, point) = pick(&drawables, &view, (400.0, 300.0), false).unwrap_or_else(|| ("none".into(), [0.0; 3]));
        assert_eq!(id.as_str(), "near");
        assert!((point[2] - 2.5).abs() < 1e-9, "the front face: {point:?}");
        assert_eq!(pick(&drawables, &view, (400.0, 300.0), true).map(|p| p.0), Some("locked".into()));
        assert!(pick(&drawables, &view, (10.0, 10.0), false).is_none());
        let touched = touch_point(&drawables, &view, (10.0, 10.0)).unwrap_or_default();
        assert!(touched[2].abs() < 1e-9, "the front view's ground is z = 0");
        assert_eq!(inside(&drawables, &view, (390.0, 290.0, 410.0, 310.0)), [NodeId::from("far"), NodeId::from("near")]);
    }
}
