//! The grid: the ground plane (y = 0) in the perspective and top views, the view's own
//! plane through the origin in the front and side views; lines every power of ten that
//! suits the distance, ten times as far apart in bolder lines, the axes in their colours
//! (x red, y green, z blue), fading out with distance in perspective.

use shared::math::Vec3;
use web_sys::{WebGl2RenderingContext as Gl, WebGlVertexArrayObject};

use super::super::gl::{shaders, GlError, Program};
use crate::camera::{Camera, Projection, ViewKind};

const X: Vec3 = [1.0, 0.0, 0.0];
const Y: Vec3 = [0.0, 1.0, 0.0];
const Z: Vec3 = [0.0, 0.0, 1.0];
const RED: [f32; 3] = [0.90, 0.28, 0.30];
const GREEN: [f32; 3] = [0.35, 0.72, 0.36];
const BLUE: [f32; 3] = [0.30, 0.45, 0.90];

pub struct Grid {
    program: Program,
}

/// The grid's spacing for a camera this far away: a power of ten.
pub fn step(distance: f64) -> f64 {
    10f64.powf((distance.max(0.01) / 5.0).log10().floor())
}

impl Grid {
    pub fn new(gl: &Gl) -> Result<Grid, GlError> {
        let uniforms = ["u_view_projection", "u_center", "u_u", "u_v", "u_extent", "u_step", "u_fade_from", "u_fade", "u_u_color", "u_v_color"];
        Ok(Grid { program: Program::new(gl, shaders::GRID_VERTEX, shaders::GRID_FRAGMENT, &uniforms)? })
    }

    pub fn draw(&self, gl: &Gl, empty: &WebGlVertexArrayObject, camera: &Camera, view_projection: &[f32; 16], aspect: f64) {
        let (u, v, u_color, v_color) = match camera.kind() {
            ViewKind::Front => (X, Y, RED, GREEN),
            ViewKind::Side => (Z, Y, BLUE, GREEN),
            _ => (X, Z, RED, BLUE),
        };
        // The plane's point nearest the target.
        let normal = shared::math::cross(u, v);
        let t = camera.target;
        let center = shared::math::sub(t, shared::math::scale(normal, shared::math::dot(t, normal)));
        let perspective = camera.projection == Projection::Perspective;
        let half_view = camera.distance * 0.47 * aspect.max(1.0);
        let (extent, fade) = if perspective { (camera.distance * 60.0, camera.distance * 10.0) } else { (half_view * 2.0, 1e12) };
        let p = &self.program;
        gl.use_program(Some(&p.program));
        gl.uniform_matrix4fv_with_f32_array(p.at("u_view_projection"), false, view_projection);
        let v3 = |a: Vec3| [a[0] as f32, a[1] as f32, a[2] as f32];
        gl.uniform3fv_with_f32_array(p.at("u_center"), &v3(center));
        gl.uniform3fv_with_f32_array(p.at("u_u"), &v3(u));
        gl.uniform3fv_with_f32_array(p.at("u_v"), &v3(v));
        gl.uniform1f(p.at("u_extent"), extent as f32);
        gl.uniform1f(p.at("u_step"), step(camera.distance) as f32);
        gl.uniform3fv_with_f32_array(p.at("u_fade_from"), &v3(if perspective { camera.eye() } else { t }));
        gl.uniform1f(p.at("u_fade"), fade as f32);
        gl.uniform3fv_with_f32_array(p.at("u_u_color"), &u_color);
        gl.uniform3fv_with_f32_array(p.at("u_v_color"), &v_color);
        // Behind anything drawn in its own plane (a floor at y = 0 hides it).
        gl.enable(Gl::POLYGON_OFFSET_FILL);
        gl.polygon_offset(1.0, 4.0);
        gl.bind_vertex_array(Some(empty));
        gl.draw_arrays(Gl::TRIANGLE_STRIP, 0, 4);
        gl.bind_vertex_array(None);
        gl.disable(Gl::POLYGON_OFFSET_FILL);
    }

    pub fn delete(&self, gl: &Gl) {
        gl.delete_program(Some(&self.program.program));
    }
}

#[cfg(test)]
mod tests {
    #[wasm_bindgen_test::wasm_bindgen_test]
    fn the_grid_step_is_a_power_of_ten_that_suits_the_distance() {
        assert_eq!(super::step(12.0), 1.0);
        assert_eq!(super::step(120.0), 10.0);
        assert!((super::step(1.2) - 0.1).abs() < 1e-12);
    }
}
