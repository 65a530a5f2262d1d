//! The viewport's camera: an orbit camera (a target point, a yaw, a pitch and a distance)
//! with a perspective or an orthographic projection. The top, front and side views are
//! orthographic presets of the same camera, so one renderer, one picker and one set of
//! gestures serve every view, and a peer's camera (for follow mode) is five numbers.
//!
//! Conventions: yaw turns about +y (0 looks along −z, from +z), pitch lifts the eye above
//! the target (π/2 looks straight down). Orthographic views show, at the target's depth,
//! as much as the perspective view would, so switching keeps the picture's scale.
//! The maths underneath is `shared::math`.

use shared::geometry::bounds::Aabb;
use shared::jobs::render::world::FOV_Y;
use shared::math::{add, cross, mat4, scale, sub, wrap_angle as wrap, Ray, Vec3};

/// Closest and farthest the eye may be from the target (scene units).
pub const MIN_DISTANCE: f64 = 0.05;
pub const MAX_DISTANCE: f64 = 20_000.0;
/// Radians of orbit per pixel dragged.
const ORBIT_PER_PIXEL: f64 = 0.008;
const HALF_PI: f64 = std::f64::consts::FRAC_PI_2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Projection {
    #[default]
    Perspective,
    Orthographic,
}

impl Projection {
    pub fn as_str(self) -> &'static str {
        match self {
            Projection::Perspective => "perspective",
            Projection::Orthographic => "orthographic",
        }
    }

    pub fn parse(s: &str) -> Option<Projection> {
        [Projection::Perspective, Projection::Orthographic].into_iter().find(|p| p.as_str() == s)
    }
}

/// What the view is called: the perspective view, one of the axis views, or an
/// orthographic view someone orbited away from an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewKind {
    #[default]
    Perspective,
    /// Looking down −y: x to the right, −z up the screen.
    Top,
    /// Looking along −z: x to the right, y up.
    Front,
    /// Looking along −x (from the right): −z to the right, y up.
    Side,
    /// Orthographic, off the axes.
    Ortho,
}

impl ViewKind {
    /// The views the toolbar offers, with their keys.
    pub const CHOICES: [(ViewKind, &'static str); 4] =
        [(ViewKind::Perspective, "0"), (ViewKind::Top, "1"), (ViewKind::Front, "2"), (ViewKind::Side, "3")];

    pub fn as_str(self) -> &'static str {
        match self {
            ViewKind::Perspective => "perspective",
            ViewKind::Top => "top",
            ViewKind::Front => "front",
            ViewKind::Side => "side",
            ViewKind::Ortho => "ortho",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ViewKind::Perspective => "3D",
            ViewKind::Top => "Top",
            ViewKind::Front => "Front",
            ViewKind::Side => "Side",
            ViewKind::Ortho => "Ortho",
        }
    }

    /// (yaw, pitch) of an axis view.
    fn angles(self) -> Option<(f64, f64)> {
        match self {
            ViewKind::Top => Some((0.0, HALF_PI)),
            ViewKind::Front => Some((0.0, 0.0)),
            ViewKind::Side => Some((HALF_PI, 0.0)),
            ViewKind::Perspective | ViewKind::Ortho => None,
        }
    }
}

/// An orbit camera.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    pub projection: Projection,
    /// The point orbited about, at the centre of the view.
    pub target: Vec3,
    pub yaw: f64,
    pub pitch: f64,
    /// From the eye to the target.
    pub distance: f64,
}

impl Default for Camera {
    /// Looking at the origin from the front-right, above.
    fn default() -> Self {
        Camera { projection: Projection::Perspective, target: [0.0; 3], yaw: 0.6, pitch: 0.45, distance: 12.0 }
    }
}

impl Camera {
    /// The named view this camera shows.
    pub fn kind(&self) -> ViewKind {
        if self.projection == Projection::Perspective {
            return ViewKind::Perspective;
        }
        [ViewKind::Top, ViewKind::Front, ViewKind::Side]
            .into_iter()
            .find(|k| k.angles().is_some_and(|(y, p)| (wrap(self.yaw - y)).abs() < 1e-9 && (self.pitch - p).abs() < 1e-9))
            .unwrap_or(ViewKind::Ortho)
    }

    /// This camera switched to `kind`, looking at the same target from as far.
    pub fn switched_to(&self, kind: ViewKind) -> Camera {
        match kind.angles() {
            Some((yaw, pitch)) => Camera { projection: Projection::Orthographic, yaw, pitch, ..*self },
            None if kind == ViewKind::Ortho => Camera { projection: Projection::Orthographic, ..*self },
            // Back to perspective from an axis view: lift the eye a little so the ground shows.
            None if self.kind() != ViewKind::Ortho && self.projection == Projection::Orthographic => {
                Camera { projection: Projection::Perspective, ..Camera { target: self.target, distance: self.distance, ..Camera::default() } }
            }
            None => Camera { projection: Projection::Perspective, ..*self },
        }
    }

    /// A unit vector from the target towards the eye.
    fn back(&self) -> Vec3 {
        let (sy, cy) = self.yaw.sin_cos();
        let (sp, cp) = self.pitch.sin_cos();
        [cp * sy, sp, cp * cy]
    }

    pub fn eye(&self) -> Vec3 {
        add(self.target, scale(self.back(), self.distance))
    }

    /// (right, up, forward): unit, orthogonal, right-handed as OpenGL's eye space.
    pub fn basis(&self) -> (Vec3, Vec3, Vec3) {
        let (sy, cy) = self.yaw.sin_cos();
        let forward = scale(self.back(), -1.0);
        let right = [cy, 0.0, -sy];
        (right, cross(right, forward), forward)
    }

    /// World units per CSS pixel at the target's depth, for a view `height` pixels high.
    pub fn units_per_pixel(&self, height: f64) -> f64 {
        2.0 * self.distance * (FOV_Y / 2.0).tan() / height.max(1.0)
    }

    /// World units per pixel at the depth of `p` (the same everywhere when orthographic).
    pub fn units_per_pixel_at(&self, p: Vec3, height: f64) -> f64 {
        match self.projection {
            Projection::Orthographic => self.units_per_pixel(height),
            Projection::Perspective => {
                let (_, _, forward) = self.basis();
                let depth = shared::math::dot(sub(p, self.eye()), forward).max(self.near());
                2.0 * depth * (FOV_Y / 2.0).tan() / height.max(1.0)
            }
        }
    }

    fn near(&self) -> f64 {
        match self.projection {
            Projection::Perspective => (self.distance * 0.002).max(1e-3),
            Projection::Orthographic => -(self.distance * 100.0 + 5_000.0),
        }
    }

    fn far(&self) -> f64 {
        self.distance * 100.0 + 5_000.0
    }

    /// World → clip space for a `width × height` view.
    pub fn view_projection(&self, width: f64, height: f64) -> mat4::Mat4 {
        let (right, up, forward) = self.basis();
        let view = mat4::view(self.eye(), right, up, forward);
        let aspect = width.max(1.0) / height.max(1.0);
        let projection = match self.projection {
            Projection::Perspective => mat4::perspective(FOV_Y, aspect, self.near(), self.far()),
            Projection::Orthographic => {
                let half_h = self.units_per_pixel(height) * height.max(1.0) / 2.0;
                mat4::orthographic(half_h * aspect, half_h, self.near(), self.far())
            }
        };
        mat4::mul(&projection, &view)
    }

    /// The ray under a point of the view (CSS pixels from its top left).
    pub fn ray(&self, sx: f64, sy: f64, width: f64, height: f64) -> Ray {
        let (right, up, forward) = self.basis();
        let k = self.units_per_pixel(height);
        let (u, v) = ((sx - width / 2.0) * k, (height / 2.0 - sy) * k);
        match self.projection {
            Projection::Perspective => {
                let through = add(self.target, add(scale(right, u), scale(up, v)));
                Ray { origin: self.eye(), dir: shared::math::normalize(sub(through, self.eye())) }
            }
            Projection::Orthographic => {
                let on_target_plane = add(self.target, add(scale(right, u), scale(up, v)));
                // From the near plane (behind the eye: everything drawn is in front of it).
                Ray { origin: sub(on_target_plane, scale(forward, self.distance - self.near())), dir: forward }
            }
        }
    }

    /// Where a world point shows (CSS pixels) and its depth in clip space (−1 near … 1 far);
    /// `None` behind the eye.
    pub fn screen_position(&self, p: Vec3, width: f64, height: f64) -> Option<(f64, f64, f64)> {
        let [x, y, z] = mat4::project(&self.view_projection(width, height), p)?;
        Some(((x + 1.0) / 2.0 * width, (1.0 - y) / 2.0 * height, z))
    }

    /// Turned about the target by a pointer drag of (dx, dy) pixels.
    pub fn orbited(&self, dx: f64, dy: f64) -> Camera {
        let yaw = wrap(self.yaw - dx * ORBIT_PER_PIXEL);
        let pitch = (self.pitch + dy * ORBIT_PER_PIXEL).clamp(-HALF_PI, HALF_PI);
        Camera { yaw, pitch, ..*self }
    }

    /// Moved sideways so the picture follows a pointer drag of (dx, dy) pixels.
    pub fn panned(&self, dx: f64, dy: f64, height: f64) -> Camera {
        let (right, up, _) = self.basis();
        let k = self.units_per_pixel(height);
        let shift = add(scale(right, -dx * k), scale(up, dy * k));
        Camera { target: add(self.target, shift), ..*self }
    }

    /// Closer by `factor` (> 1 zooms in), keeping the point under (sx, sy) on the target's
    /// plane where it is.
    pub fn zoomed_at(&self, factor: f64, sx: f64, sy: f64, width: f64, height: f64) -> Camera {
        let distance = (self.distance / factor).clamp(MIN_DISTANCE, MAX_DISTANCE);
        let ratio = distance / self.distance;
        let (right, up, _) = self.basis();
        let k = self.units_per_pixel(height);
        let (u, v) = ((sx - width / 2.0) * k, (height / 2.0 - sy) * k);
        let under = add(self.target, add(scale(right, u), scale(up, v)));
        let target = sub(under, add(scale(right, u * ratio), scale(up, v * ratio)));
        Camera { target, distance, ..*self }
    }

    /// Looking at `bounds` from the same direction, near enough that they fill most of a
    /// view of the given aspect ratio.
    pub fn framing(&self, bounds: &Aabb, aspect: f64) -> Camera {
        if bounds.is_empty() {
            return *self;
        }
        let radius = bounds.radius().max(0.25);
        let vertical = FOV_Y / 2.0;
        let horizontal = ((FOV_Y / 2.0).tan() * aspect.clamp(0.1, 10.0)).atan();
        let half = vertical.min(horizontal);
        let distance = (radius / half.sin() * 1.15).clamp(MIN_DISTANCE, MAX_DISTANCE);
        Camera { target: bounds.center(), distance, ..*self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn close(a: Vec3, b: Vec3) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
    }

    #[wasm_bindgen_test]
    fn axis_views_look_along_their_axes() {
        let top = Camera::default().switched_to(ViewKind::Top);
        let (right, up, forward) = top.basis();
        assert!(close(forward, [0.0, -1.0, 0.0]) && close(right, [1.0, 0.0, 0.0]) && close(up, [0.0, 0.0, -1.0]));
        assert_eq!(top.kind(), ViewKind::Top);
        let side = top.switched_to(ViewKind::Side);
        let (right, up, forward) = side.basis();
        assert!(close(forward, [-1.0, 0.0, 0.0]) && close(right, [0.0, 0.0, -1.0]) && close(up, [0.0, 1.0, 0.0]));
        assert_eq!(side.orbited(10.0, 0.0).kind(), ViewKind::Ortho);
        assert_eq!(side.switched_to(ViewKind::Perspective).kind(), ViewKind::Perspective);
    }

    #[wasm_bindgen_test]
    fn screen_points_and_rays_agree_in_both_projections() {
        for camera in [Camera::default(), Camera::default().switched_to(ViewKind::Front), Camera { pitch: 1.2, ..Camera::default() }] {
            let p = [1.0, 0.5, -2.0];
            let (x, y, _) = camera.screen_position(p, 800.0, 600.0).unwrap_or_default();
            let ray = camera.ray(x, y, 800.0, 600.0);
            // The ray passes through the point.
            let to = sub(p, ray.origin);
            let along = shared::math::dot(to, ray.dir) / shared::math::dot(ray.dir, ray.dir);
            assert!(close(ray.at(along), p), "{camera:?}");
            // The target is at the centre.
            let (cx, cy, _) = camera.screen_position(camera.target, 800.0, 600.0).unwrap_or_default();
            assert!((cx - 400.0).abs() < 1e-6 && (cy - 300.0).abs() < 1e-6);
        }
    }

    #[wasm_bindgen_test]
    fn zooming_keeps_the_point_under_the_cursor_and_panning_follows_the_pointer() {
        let camera = Camera::default().switched_to(ViewKind::Top);
        let under = |c: &Camera| {
            let ray = c.ray(700.0, 100.0, 800.0, 600.0);
            ray.at(ray.plane(c.target, [0.0, 1.0, 0.0]).unwrap_or_default())
        };
        let zoomed = camera.zoomed_at(1.7, 700.0, 100.0, 800.0, 600.0);
        assert!(close(under(&camera), under(&zoomed)));
        assert!((zoomed.distance - camera.distance / 1.7).abs() < 1e-9);
        let persp = Camera::default();
        let z = persp.zoomed_at(2.0, 650.0, 200.0, 800.0, 600.0);
        let on_plane = |c: &Camera| {
            let (_, _, f) = persp.basis();
            let ray = c.ray(650.0, 200.0, 800.0, 600.0);
            ray.at(ray.plane(persp.target, f).unwrap_or_default())
        };
        assert!(close(on_plane(&persp), on_plane(&z)));
        // A point 100 px right of the centre is under the centre after panning 100 px left.
        let before = camera.ray(500.0, 300.0, 800.0, 600.0);
        let panned = camera.panned(-100.0, 0.0, 600.0);
        let after = panned.ray(400.0, 300.0, 800.0, 600.0);
        assert!(close(before.origin, after.origin));
    }

    #[wasm_bindgen_test]
    fn framing_centres_the_bounds_and_keeps_them_in_view() {
        let bounds = Aabb { min: [4.0, 0.0, 4.0], max: [6.0, 2.0, 6.0] };
        let framed = Camera::default().framing(&bounds, 800.0 / 600.0);
        assert!(close(framed.target, [5.0, 1.0, 5.0]));
        for corner in [bounds.min, bounds.max, [4.0, 2.0, 6.0]] {
            let (x, y, _) = framed.screen_position(corner, 800.0, 600.0).unwrap_or_default();
            assert!((0.0..=800.0).contains(&x) && (0.0..=600.0).contains(&y), "{corner:?} at {x},{y}");
        }
        assert!((Camera::default().orbited(0.0, 1e6).pitch - HALF_PI).abs() < 1e-12);
    }
}
