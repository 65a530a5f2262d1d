//! The transform gizmos: their handles drawn around the selection's pivot at a constant size
//! on screen, and which handle is under the pointer.
//!
//! - **Move**: three axis arrows, three plane squares (move in that plane), a centre square
//!   (move in the view plane).
//! - **Rotate**: three rings (turn about that axis) and an outer ring facing the viewer
//!   (turn about the line of sight).
//! - **Scale**: three axis handles with cubes (stretch along that axis, always the object's
//!   own) and a centre cube (uniform).
//!
//! Axes are the world's or the selection's own (the editor's World / Local toggle); picking
//! works on screen, against the handles' projected outlines. Dragging a handle is [`drag`].

pub mod drag;

use shared::math::{add, dot, length, normalize, scale, sub, Mat3, Vec3};

use super::render::strokes::{perpendiculars, Rgba, Strokes};
use crate::camera::{Camera, Projection};
use crate::editor::Mode;

/// The gizmo's radius on screen (CSS pixels).
pub const RADIUS_PX: f64 = 80.0;
/// How near (pixels) the pointer must come to an arrow, ring or handle.
const REACH_PX: f64 = 8.0;

const AXIS_COLORS: [Rgba; 3] = [[0.90, 0.28, 0.30, 1.0], [0.33, 0.75, 0.35, 1.0], [0.30, 0.47, 0.95, 1.0]];
const HOVER: Rgba = [1.0, 0.84, 0.04, 1.0];
const VIEW_RING: Rgba = [0.85, 0.87, 0.92, 0.9];

/// A part of a gizmo, or an object's body being dragged (which acts as the mode says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handle {
    /// Move along axis i.
    Axis(usize),
    /// Move in the plane whose normal is axis i.
    Plane(usize),
    /// Move in the view plane.
    Free,
    /// Turn about axis i.
    Ring(usize),
    /// Turn about the line of sight.
    ViewRing,
    /// Stretch along axis i.
    Stretch(usize),
    /// Scale evenly.
    Uniform,
    /// The object itself, dragged: move in the ground (or view) plane, turn about the line of
    /// sight, or scale evenly, by the mode.
    Body(Mode),
}

impl Handle {
    pub fn as_str(self) -> String {
        match self {
            Handle::Axis(i) => format!("axis-{}", ["x", "y", "z"][i]),
            Handle::Plane(i) => format!("plane-{}", ["x", "y", "z"][i]),
            Handle::Free => "free".into(),
            Handle::Ring(i) => format!("ring-{}", ["x", "y", "z"][i]),
            Handle::ViewRing => "view-ring".into(),
            Handle::Stretch(i) => format!("stretch-{}", ["x", "y", "z"][i]),
            Handle::Uniform => "uniform".into(),
            Handle::Body(mode) => format!("body-{}", mode.as_str()),
        }
    }
}

/// A gizmo placed in the view.
#[derive(Debug, Clone, Copy)]
pub struct Gizmo {
    pub mode: Mode,
    pub pivot: Vec3,
    /// Its axes (columns: unit x, y, z in the world).
    pub axes: Mat3,
    /// World units per gizmo radius at the pivot.
    pub size: f64,
}

/// Column `i` of a matrix.
pub fn column(m: &Mat3, i: usize) -> Vec3 {
    [m[0][i], m[1][i], m[2][i]]
}

impl Gizmo {
    pub fn new(mode: Mode, pivot: Vec3, axes: Mat3, camera: &Camera, height: f64) -> Gizmo {
        Gizmo { mode, pivot, axes, size: camera.units_per_pixel_at(pivot, height) * RADIUS_PX }
    }

    fn axis(&self, i: usize) -> Vec3 {
        column(&self.axes, i)
    }

    /// Whether axis `i` points nearly at the viewer (its arrow would be a dot).
    fn end_on(&self, i: usize, camera: &Camera) -> bool {
        dot(self.axis(i), self.toward_eye(camera, self.pivot)).abs() > 0.985
    }

    fn toward_eye(&self, camera: &Camera, p: Vec3) -> Vec3 {
        match camera.projection {
            Projection::Orthographic => scale(camera.basis().2, -1.0),
            Projection::Perspective => normalize(sub(camera.eye(), p)),
        }
    }

    fn at(&self, i: usize, t: f64) -> Vec3 {
        add(self.pivot, scale(self.axis(i), t * self.size))
    }

    /// The corners of the square handle of plane `normal`.
    fn plane_square(&self, normal: usize) -> [Vec3; 4] {
        let (a, b) = ((normal + 1) % 3, (normal + 2) % 3);
        let corner = |u: f64, v: f64| add(self.pivot, add(scale(self.axis(a), u * self.size), scale(self.axis(b), v * self.size)));
        [corner(0.28, 0.28), corner(0.52, 0.28), corner(0.52, 0.52), corner(0.28, 0.52)]
    }

    /// Points around ring `i` (or the view ring, for `None`).
    fn ring_points(&self, axis: Option<usize>, camera: &Camera) -> Vec<Vec3> {
        let (u, v, radius) = match axis {
            Some(i) => {
                let (u, v) = perpendiculars(self.axis(i));
                (u, v, self.size)
            }
            None => {
                let (right, up, _) = camera.basis();
                (right, up, self.size * 1.22)
            }
        };
        (0..=64)
            .map(|k| {
                let (s, c) = (f64::from(k) / 64.0 * std::f64::consts::TAU).sin_cos();
                add(self.pivot, add(scale(u, c * radius), scale(v, s * radius)))
            })
            .collect()
    }

    /// The handles this gizmo shows.
    fn handles(&self, camera: &Camera) -> Vec<Handle> {
        let axes = (0..3).filter(|&i| !self.end_on(i, camera));
        match self.mode {
            Mode::Move => {
                let planes = (0..3).filter(|&i| dot(self.axis(i), self.toward_eye(camera, self.pivot)).abs() > 0.2);
                let mut out = vec![Handle::Free];
                out.extend(planes.map(Handle::Plane));
                out.extend(axes.map(Handle::Axis));
                out
            }
            Mode::Rotate => {
                // A ring seen exactly edge-on is a line that cannot be turned by.
                let seen = (0..3).filter(|&i| dot(self.axis(i), self.toward_eye(camera, self.pivot)).abs() > 0.05);
                let mut out: Vec<Handle> = seen.map(Handle::Ring).collect();
                out.push(Handle::ViewRing);
                out
            }
            Mode::Scale => {
                let mut out = vec![Handle::Uniform];
                out.extend(axes.map(Handle::Stretch));
                out
            }
        }
    }

    /// Draws the gizmo; `hot` is highlighted (hovered or being dragged).
    pub fn draw(&self, out: &mut Strokes, camera: &Camera, hot: Option<Handle>) {
        let px = self.size / RADIUS_PX;
        let eye = |p: Vec3| self.toward_eye(camera, p);
        let color = |h: Handle, base: Rgba| if hot == Some(h) { HOVER } else { base };
        for handle in self.handles(camera) {
            match handle {
                Handle::Axis(i) => {
                    let c = color(handle, AXIS_COLORS[i]);
                    out.thick_line(self.at(i, 0.12), self.at(i, 0.95), 3.0 * px, eye, c);
                    out.cone(self.at(i, 0.92), self.at(i, 1.22), self.axis(i), 0.075 * self.size, c);
                }
                Handle::Plane(i) => {
                    let base = AXIS_COLORS[i];
                    let c = color(handle, [base[0], base[1], base[2], 0.55]);
                    out.quad(self.plane_square(i), c);
                }
                Handle::Free => {
                    let (right, up, _) = camera.basis();
                    let h = 0.07 * self.size;
                    let (r, u) = (scale(right, h), scale(up, h));
                    let p = self.pivot;
                    out.quad([sub(sub(p, r), u), sub(add(p, r), u), add(add(p, r), u), add(sub(p, r), u)], color(handle, [0.9, 0.9, 0.95, 0.65]));
                }
                Handle::Ring(_) | Handle::ViewRing => {
                    let axis = i_of(handle);
                    let base = axis.map_or(VIEW_RING, |i| AXIS_COLORS[i]);
                    let c = color(handle, base);
                    let points = self.ring_points(axis, camera);
                    for pair in points.windows(2) {
                        out.thick_line(pair[0], pair[1], 3.0 * px, eye, c);
                    }
                }
                Handle::Stretch(i) => {
                    let c = color(handle, AXIS_COLORS[i]);
                    out.thick_line(self.at(i, 0.12), self.at(i, 0.94), 3.0 * px, eye, c);
                    out.cube(self.at(i, 1.0), [self.axis(0), self.axis(1), self.axis(2)], 0.06 * self.size, c);
                }
                Handle::Uniform => {
                    out.cube(self.pivot, [self.axis(0), self.axis(1), self.axis(2)], 0.09 * self.size, color(handle, [0.9, 0.9, 0.95, 0.9]));
                }
                Handle::Body(_) => {}
            }
        }
    }

    /// A point on screen that grabs each handle shown (for the page's `data-gizmo`, which
    /// tests and scripts read to drag a handle the way a person would).
    pub fn grab_points(&self, camera: &Camera, width: f64, height: f64) -> Vec<(Handle, (f64, f64))> {
        let point = |handle: Handle| -> Vec3 {
            match handle {
                Handle::Axis(i) => self.at(i, 0.7),
                Handle::Stretch(i) => self.at(i, 1.0),
                Handle::Plane(i) => {
                    let square = self.plane_square(i);
                    scale(add(square[0], square[2]), 0.5)
                }
                Handle::Ring(i) => {
                    // The ring point that shows best: farthest from the line of sight.
                    let points = self.ring_points(Some(i), camera);
                    let forward = camera.basis().2;
                    points.into_iter().min_by(|a, b| dot(sub(*a, self.pivot), forward).abs().total_cmp(&dot(sub(*b, self.pivot), forward).abs())).unwrap_or(self.pivot)
                }
                Handle::ViewRing => add(self.pivot, scale(camera.basis().0, self.size * 1.22)),
                Handle::Free | Handle::Uniform | Handle::Body(_) => self.pivot,
            }
        };
        self.handles(camera)
            .into_iter()
            .filter_map(|h| camera.screen_position(point(h), width, height).map(|(x, y, _)| (h, (x, y))))
            .filter(|(h, at)| self.pick(camera, width, height, at.0, at.1) == Some(*h))
            .collect()
    }

    /// The gizmo as the page's `data-gizmo` describes it: its size (world units per
    /// radius), the pivot and the ends of its three unit axes on screen, and a grab point per
    /// handle.
    pub fn describe(&self, camera: &Camera, width: f64, height: f64) -> serde_json::Value {
        let screen = |p: Vec3| camera.screen_position(p, width, height).map(|(x, y, _)| [x, y]);
        let handles: serde_json::Map<String, serde_json::Value> =
            self.grab_points(camera, width, height).into_iter().map(|(h, (x, y))| (h.as_str(), serde_json::json!([x, y]))).collect();
        let ends = [0, 1, 2].map(|i| screen(self.at(i, 1.0)));
        serde_json::json!({
            "size": self.size,
            "pivot": screen(self.pivot),
            "ends": ends,
            "handles": handles,
        })
    }

    /// The handle under screen point (x, y) of a `width × height` view.
    pub fn pick(&self, camera: &Camera, width: f64, height: f64, x: f64, y: f64) -> Option<Handle> {
        let screen = |p: Vec3| camera.screen_position(p, width, height).map(|(sx, sy, _)| (sx, sy));
        let pivot = screen(self.pivot)?;
        let pointer = (x, y);
        let mut best: Option<(f64, Handle)> = None;
        let mut consider = |d: f64, h: Handle| {
            if d <= REACH_PX && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, h));
            }
        };
        for handle in self.handles(camera) {
            match handle {
                Handle::Free | Handle::Uniform => {
                    if distance(pointer, pivot) <= 12.0 {
                        return Some(handle);
                    }
                }
                Handle::Plane(i) => {
                    let corners: Option<Vec<(f64, f64)>> = self.plane_square(i).iter().map(|p| screen(*p)).collect();
                    if corners.is_some_and(|c| inside(&c, pointer)) {
                        return Some(handle);
                    }
                }
                Handle::Axis(i) | Handle::Stretch(i) => {
                    if let (Some(a), Some(b)) = (screen(self.at(i, 0.12)), screen(self.at(i, 1.22))) {
                        consider(segment_distance(a, b, pointer), handle);
                    }
                }
                Handle::Ring(_) | Handle::ViewRing => {
                    let points: Vec<(f64, f64)> = self.ring_points(i_of(handle), camera).into_iter().filter_map(screen).collect();
                    let d = points.windows(2).map(|w| segment_distance(w[0], w[1], pointer)).fold(f64::INFINITY, f64::min);
                    consider(d, handle);
                }
                Handle::Body(_) => {}
            }
        }
        best.map(|(_, h)| h)
    }
}

fn i_of(handle: Handle) -> Option<usize> {
    match handle {
        Handle::Ring(i) => Some(i),
        _ => None,
    }
}

fn distance(a: (f64, f64), b: (f64, f64)) -> f64 {
    length([a.0 - b.0, a.1 - b.1, 0.0])
}

/// Distance from `p` to the segment `a`–`b` (screen pixels).
pub fn segment_distance(a: (f64, f64), b: (f64, f64), p: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 { 0.0 } else { (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0) };
    distance((a.0 + t * dx, a.1 + t * dy), p)
}

/// Whether `p` is inside the polygon (even–odd rule).
pub fn inside(polygon: &[(f64, f64)], p: (f64, f64)) -> bool {
    let n = polygon.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (polygon[i], polygon[(i + 1) % n]);
        if (a.1 > p.1) != (b.1 > p.1) && p.0 < (b.0 - a.0) * (p.1 - a.1) / (b.1 - a.1) + a.0 {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::ViewKind;
    use shared::math::mat3;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn each_handle_is_found_where_it_is_drawn() {
        let camera = Camera::default();
        let (w, h) = (800.0, 600.0);
        let gizmo = Gizmo::new(Mode::Move, [0.0; 3], mat3::IDENTITY, &camera, h);
        let on_screen = |p: Vec3| camera.screen_position(p, w, h).map(|(x, y, _)| (x, y)).unwrap_or_default();
        let (x, y) = on_screen(gizmo.at(0, 0.7));
        assert_eq!(gizmo.pick(&camera, w, h, x, y), Some(Handle::Axis(0)));
        let (x, y) = on_screen(gizmo.at(1, 1.1));
        assert_eq!(gizmo.pick(&camera, w, h, x, y), Some(Handle::Axis(1)));
        let (x, y) = on_screen(gizmo.pivot);
        assert_eq!(gizmo.pick(&camera, w, h, x, y), Some(Handle::Free));
        let square = gizmo.plane_square(1);
        let (x, y) = on_screen(scale(add(square[0], square[2]), 0.5));
        assert_eq!(gizmo.pick(&camera, w, h, x, y), Some(Handle::Plane(1)));
        assert_eq!(gizmo.pick(&camera, w, h, 5.0, 5.0), None);
        // Every handle shown can be grabbed somewhere.
        for mode in [Mode::Move, Mode::Rotate, Mode::Scale] {
            let g = Gizmo { mode, ..gizmo };
            let grabbed: Vec<Handle> = g.grab_points(&camera, w, h).into_iter().map(|(h, _)| h).collect();
            assert_eq!(grabbed, g.handles(&camera), "{mode:?}");
        }
        // The arrow is RADIUS_PX long on screen, whatever the distance.
        let far = Camera { distance: 100.0, ..camera };
        let g = Gizmo::new(Mode::Move, [0.0; 3], mat3::IDENTITY, &far, h);
        let a = far.screen_position(g.pivot, w, h).unwrap_or_default();
        let b = far.screen_position(g.at(1, 1.0), w, h).unwrap_or_default();
        assert!(((a.1 - b.1).abs() - RADIUS_PX * (far.pitch.cos())).abs() < 8.0, "{a:?} {b:?}");
    }

    #[wasm_bindgen_test]
    fn rings_pick_and_end_on_arrows_hide() {
        let top = Camera::default().switched_to(ViewKind::Top);
        let (w, h) = (800.0, 600.0);
        let rotate = Gizmo::new(Mode::Rotate, [0.0; 3], mat3::IDENTITY, &top, h);
        // From the top, the ring about y is a circle of RADIUS_PX around the centre.
        assert_eq!(rotate.pick(&top, w, h, 400.0 + RADIUS_PX, 300.0), Some(Handle::Ring(1)));
        assert_eq!(rotate.pick(&top, w, h, 400.0 + RADIUS_PX * 1.22, 300.0), Some(Handle::ViewRing));
        let mover = Gizmo::new(Mode::Move, [0.0; 3], mat3::IDENTITY, &top, h);
        assert!(!mover.handles(&top).contains(&Handle::Axis(1)), "y points at the viewer from the top");
        assert!(!mover.handles(&top).contains(&Handle::Plane(0)), "the yz plane is edge-on");
    }
}
