//! Dragging a gizmo handle (or an object's body): the pointer's start and current position
//! become the gesture's [`Preview`], through rays into the scene (`shared::math::Ray`):
//!
//! - along an axis: the axis point nearest the pointer's ray moves by as much as that point;
//! - in a plane: where the ray meets the plane;
//! - turning: the angle the pointer sweeps about the pivot, in the ring's plane (or on
//!   screen, for the view ring and rings seen nearly edge-on);
//! - stretching: the ratio of the axis points' distances from the pivot; scaling evenly:
//!   how far the pointer went right and up (from the centre cube) or away from the pivot
//!   (from the object).
//!
//! With snapping, moves land the grabbed object's origin on the 0.5 grid (along the world's
//! axes; along its own axes the move itself is whole steps), turns are whole 15° steps and
//! scale factors whole tenths.

use shared::math::{add, cross, dot, normalize, scale, sub, Ray, Vec3};
use shared::scene::NodeId;

use super::{column, Gizmo, Handle, RADIUS_PX};
use crate::camera::{Camera, Projection};
use crate::editor::Mode;
use crate::preview::Preview;
use crate::snapping::{snap, ANGLE_STEP, GRID_STEP, SCALE_STEP};

/// Where a drag began.
#[derive(Debug, Clone)]
pub struct DragStart {
    pub handle: Handle,
    pub ids: Vec<NodeId>,
    pub gizmo: Gizmo,
    /// The grabbed node's origin (what snapping puts on the grid).
    pub anchor: Vec3,
    /// The camera when the drag began (it does not move during one).
    pub camera: Camera,
    /// The view's size (CSS pixels).
    pub view: (f64, f64),
    pub from: (f64, f64),
    /// The gizmo's axes are the world's.
    pub world_axes: bool,
}

const UP: Vec3 = [0.0, 1.0, 0.0];

impl DragStart {
    fn ray(&self, (x, y): (f64, f64)) -> Ray {
        self.camera.ray(x, y, self.view.0, self.view.1)
    }

    fn screen(&self, p: Vec3) -> Option<(f64, f64)> {
        self.camera.screen_position(p, self.view.0, self.view.1).map(|(x, y, _)| (x, y))
    }

    fn toward_eye(&self) -> Vec3 {
        let forward = self.camera.basis().2;
        match self.camera.projection {
            Projection::Orthographic => scale(forward, -1.0),
            Projection::Perspective => normalize(sub(self.camera.eye(), self.gizmo.pivot)),
        }
    }

    /// The gesture for the pointer at `to`; `None` when the pointer's ray says nothing (it
    /// runs parallel to the plane being dragged in, say): keep the last one.
    pub fn preview(&self, to: (f64, f64), snapping: bool) -> Option<Preview> {
        let ids = self.ids.clone();
        let pivot = self.gizmo.pivot;
        let axis = |i: usize| column(&self.gizmo.axes, i);
        match self.handle {
            Handle::Axis(i) => {
                let a = axis(i);
                let s0 = self.ray(self.from).closest_on_line(pivot, a)?;
                let s1 = self.ray(to).closest_on_line(pivot, a)?;
                let d = self.snapped_along(i, s1 - s0, snapping);
                Some(Preview::Move { ids, offset: scale(a, d) })
            }
            Handle::Plane(i) => {
                let delta = self.plane_delta(to, axis(i))?;
                let mut offset = [0.0; 3];
                for j in [(i + 1) % 3, (i + 2) % 3] {
                    let d = self.snapped_along(j, dot(delta, axis(j)), snapping);
                    offset = add(offset, scale(axis(j), d));
                }
                Some(Preview::Move { ids, offset })
            }
            Handle::Free => {
                let delta = self.plane_delta(to, self.toward_eye())?;
                Some(Preview::Move { ids, offset: self.snapped_in_world(delta, self.toward_eye(), snapping) })
            }
            Handle::Body(Mode::Move) => {
                // Over the ground in perspective (unless looking along it), else in the view plane.
                let ray = self.ray(to);
                let grazing = dot(normalize(ray.dir), UP).abs() < 0.12;
                let normal = if self.camera.projection == Projection::Perspective && !grazing { UP } else { self.toward_eye() };
                let delta = self.plane_delta_through(to, self.anchor, normal)?;
                Some(Preview::Move { ids, offset: self.snapped_in_world(delta, normal, snapping) })
            }
            Handle::Ring(i) => {
                let a = axis(i);
                let angle = self.ring_angle(to, a)?;
                Some(Preview::Rotate { ids, axis: a, angle: snapped_angle(angle, snapping), pivot })
            }
            Handle::ViewRing | Handle::Body(Mode::Rotate) => {
                let angle = self.screen_angle(to)?;
                Some(Preview::Rotate { ids, axis: self.toward_eye(), angle: snapped_angle(angle, snapping), pivot })
            }
            Handle::Stretch(i) => {
                let a = axis(i);
                let s0 = self.ray(self.from).closest_on_line(pivot, a)?;
                let s1 = self.ray(to).closest_on_line(pivot, a)?;
                if s0.abs() < self.gizmo.size * 0.05 {
                    return None;
                }
                let mut factors = [1.0; 3];
                factors[i] = snapped_factor(s1 / s0, snapping);
                Some(Preview::Scale { ids, factors, pivot, axes: self.gizmo.axes })
            }
            Handle::Uniform => {
                let factor = 1.0 + ((to.0 - self.from.0) - (to.1 - self.from.1)) / (2.0 * RADIUS_PX);
                let f = snapped_factor(factor, snapping);
                Some(Preview::Scale { ids, factors: [f; 3], pivot, axes: self.gizmo.axes })
            }
            Handle::Body(Mode::Scale) => {
                let p = self.screen(pivot)?;
                let dist = |(x, y): (f64, f64)| ((x - p.0).powi(2) + (y - p.1).powi(2)).sqrt();
                let f = snapped_factor(dist(to) / dist(self.from).max(4.0), snapping);
                Some(Preview::Scale { ids, factors: [f; 3], pivot, axes: self.gizmo.axes })
            }
        }
    }

    /// How far the pointer moved in the plane through the pivot with this normal.
    fn plane_delta(&self, to: (f64, f64), normal: Vec3) -> Option<Vec3> {
        self.plane_delta_through(to, self.gizmo.pivot, normal)
    }

    fn plane_delta_through(&self, to: (f64, f64), point: Vec3, normal: Vec3) -> Option<Vec3> {
        let (r0, r1) = (self.ray(self.from), self.ray(to));
        let (t0, t1) = (r0.plane(point, normal)?, r1.plane(point, normal)?);
        Some(sub(r1.at(t1), r0.at(t0)))
    }

    /// A move of `d` along gizmo axis `i`, snapped: the anchor's coordinate onto the grid
    /// (world axes) or whole grid steps (the object's own axes).
    fn snapped_along(&self, i: usize, d: f64, snapping: bool) -> f64 {
        if !snapping {
            d
        } else if self.world_axes {
            snap(self.anchor[i] + d, GRID_STEP) - self.anchor[i]
        } else {
            snap(d, GRID_STEP)
        }
    }

    /// A world move in a plane with `normal`, each world coordinate the plane lets change
    /// landing the anchor on the grid.
    fn snapped_in_world(&self, delta: Vec3, normal: Vec3, snapping: bool) -> Vec3 {
        if !snapping {
            return delta;
        }
        [0, 1, 2].map(|k| if normal[k].abs() > 0.999 { delta[k] } else { snap(self.anchor[k] + delta[k], GRID_STEP) - self.anchor[k] })
    }

    /// The angle swept about axis `a` (counter-clockwise seen from where it points).
    fn ring_angle(&self, to: (f64, f64), a: Vec3) -> Option<f64> {
        let (r0, r1) = (self.ray(self.from), self.ray(to));
        let facing = dot(normalize(r1.dir), a).abs();
        if facing < 0.2 {
            // Nearly edge-on: the plane hit is unstable; sweep on screen instead.
            let sign = if dot(a, self.toward_eye()) >= 0.0 { 1.0 } else { -1.0 };
            return self.screen_angle(to).map(|angle| angle * sign);
        }
        let pivot = self.gizmo.pivot;
        let v0 = sub(r0.at(r0.plane(pivot, a)?), pivot);
        let v1 = sub(r1.at(r1.plane(pivot, a)?), pivot);
        Some(dot(a, cross(v0, v1)).atan2(dot(v0, v1)))
    }

    /// The angle the pointer swept about the pivot on screen, counter-clockwise.
    fn screen_angle(&self, to: (f64, f64)) -> Option<f64> {
        let p = self.screen(self.gizmo.pivot)?;
        let angle_of = |(x, y): (f64, f64)| (-(y - p.1)).atan2(x - p.0);
        let mut angle = angle_of(to) - angle_of(self.from);
        if angle > std::f64::consts::PI {
            angle -= std::f64::consts::TAU;
        } else if angle < -std::f64::consts::PI {
            angle += std::f64::consts::TAU;
        }
        Some(angle)
    }
}

fn snapped_angle(angle: f64, snapping: bool) -> f64 {
    if snapping {
        snap(angle, ANGLE_STEP)
    } else {
        angle
    }
}

fn snapped_factor(factor: f64, snapping: bool) -> f64 {
    let f = if snapping { snap(factor, SCALE_STEP).max(SCALE_STEP) } else { factor };
    f.clamp(0.01, 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::ViewKind;
    use shared::math::mat3;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn start(handle: Handle, camera: Camera, from: (f64, f64)) -> DragStart {
        DragStart {
            handle,
            ids: vec!["a".into()],
            gizmo: Gizmo::new(Mode::Move, [0.0; 3], mat3::IDENTITY, &camera, 600.0),
            anchor: [0.0; 3],
            camera,
            view: (800.0, 600.0),
            from,
            world_axes: true,
        }
    }

    #[wasm_bindgen_test]
    fn dragging_the_x_arrow_moves_along_x_only_by_the_pointer_travel() {
        let camera = Camera::default().switched_to(ViewKind::Front);
        let px = 1.0 / camera.units_per_pixel(600.0);
        let drag = start(Handle::Axis(0), camera, (400.0 + 40.0, 300.0));
        // 2 units to the right, and some way up, which an x arrow ignores.
        let Some(Preview::Move { offset, .. }) = drag.preview((440.0 + 2.0 * px, 250.0), false) else { panic!("a move") };
        assert!((offset[0] - 2.0).abs() < 1e-6 && offset[1] == 0.0 && offset[2] == 0.0, "{offset:?}");
        let Some(Preview::Move { offset, .. }) = drag.preview((440.0 + 1.3 * px, 300.0), true) else { panic!("a move") };
        assert!((offset[0] - 1.5).abs() < 1e-9, "snapped to the grid: {offset:?}");
    }

    #[wasm_bindgen_test]
    fn a_body_drag_in_perspective_slides_over_the_ground() {
        let camera = Camera::default();
        let drag = start(Handle::Body(Mode::Move), camera, (400.0, 300.0));
        let Some(Preview::Move { offset, .. }) = drag.preview((480.0, 340.0), false) else { panic!("a move") };
        assert!(offset[1].abs() < 1e-9 && (offset[0].abs() + offset[2].abs()) > 0.1, "{offset:?}");
    }

    #[wasm_bindgen_test]
    fn turning_and_scaling() {
        let top = Camera::default().switched_to(ViewKind::Top);
        // A quarter turn clockwise on screen about the view ring, seen from above: −90° about +y.
        let turn = start(Handle::ViewRing, top, (400.0, 200.0));
        let Some(Preview::Rotate { axis, angle, .. }) = turn.preview((500.0, 300.0), true) else { panic!("a turn") };
        assert!((axis[1] - 1.0).abs() < 1e-9 && (angle + std::f64::consts::FRAC_PI_2).abs() < 1e-9, "{axis:?} {angle}");
        let ring = start(Handle::Ring(1), top, (400.0 + RADIUS_PX, 300.0));
        let Some(Preview::Rotate { angle, .. }) = ring.preview((400.0, 300.0 - RADIUS_PX), true) else { panic!("a turn") };
        assert!((angle - std::f64::consts::FRAC_PI_2).abs() < 1e-9, "{angle}");
        let front = Camera::default().switched_to(ViewKind::Front);
        let stretch = start(Handle::Stretch(0), front, (400.0 + RADIUS_PX, 300.0));
        let Some(Preview::Scale { factors, .. }) = stretch.preview((400.0 + 2.0 * RADIUS_PX, 280.0), true) else { panic!("a scale") };
        assert_eq!(factors, [2.0, 1.0, 1.0]);
    }
}
