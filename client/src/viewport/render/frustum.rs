//! The view frustum as six planes, for culling instances by their bounding spheres.

use shared::math::mat4::Mat4;

pub struct Frustum {
    planes: [[f32; 4]; 6],
}

impl Frustum {
    /// The planes of a world → clip matrix (Gribb & Hartmann), normalised.
    pub fn of(view_projection: &Mat4) -> Frustum {
        let m = view_projection;
        let row = |i: usize| [m[i], m[4 + i], m[8 + i], m[12 + i]];
        let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
        let combine = |a: [f64; 4], b: [f64; 4], sign: f64| {
            let p = [a[0] + sign * b[0], a[1] + sign * b[1], a[2] + sign * b[2], a[3] + sign * b[3]];
            let len = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt().max(1e-30);
            p.map(|v| (v / len) as f32)
        };
        Frustum {
            planes: [
                combine(r3, r0, 1.0),
                combine(r3, r0, -1.0),
                combine(r3, r1, 1.0),
                combine(r3, r1, -1.0),
                combine(r3, r2, 1.0),
                combine(r3, r2, -1.0),
            ],
        }
    }

    /// Whether any of the sphere (centre, radius) may be inside.
    pub fn sees(&self, sphere: &[f32; 4]) -> bool {
        self.planes.iter().all(|p| p[0] * sphere[0] + p[1] * sphere[1] + p[2] * sphere[2] + p[3] >= -sphere[3])
    }

    /// Depth along the view (larger is farther), for sorting: the near plane's distance.
    pub fn depth(&self, sphere: &[f32; 4]) -> f32 {
        let p = &self.planes[4];
        p[0] * sphere[0] + p[1] * sphere[1] + p[2] * sphere[2] + p[3]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::Camera;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn what_is_in_front_is_seen_and_what_is_behind_is_not() {
        let camera = Camera::default();
        let frustum = Frustum::of(&camera.view_projection(800.0, 600.0));
        assert!(frustum.sees(&[0.0, 0.0, 0.0, 0.5]));
        let eye = camera.eye();
        let behind = shared::math::add(eye, shared::math::sub(eye, camera.target));
        assert!(!frustum.sees(&[behind[0] as f32, behind[1] as f32, behind[2] as f32, 0.5]));
        // A big sphere around the eye is seen even though its centre is behind.
        assert!(frustum.sees(&[behind[0] as f32, behind[1] as f32, behind[2] as f32, 100.0]));
        let near = frustum.depth(&[0.0, 0.0, 0.0, 0.0]);
        assert!(frustum.depth(&[-1.0, 0.0, -1.0, 0.0]) > near, "farther from the eye, deeper");
    }
}
