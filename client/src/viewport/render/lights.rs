//! The lights the meshes are shaded with: the scene's shown lights (the first
//! [`MAX_LIGHTS`] by id, so every peer shades the same), or, in a scene without any, a
//! headlight from just above the camera as the render preview uses. A sky and ground
//! ambient lifts the sides no light reaches: stronger without scene lights, so an unlit scene
//! still reads.

use std::collections::HashSet;

use shared::math::color::color_to_linear;
use shared::math::{add, normalize, scale};
use shared::scene::{LightKind, NodeId, NodeKind};
use web_sys::WebGl2RenderingContext as Gl;

use super::super::drawables::Drawables;
use super::super::gl::shaders::MAX_LIGHTS;
use super::super::gl::Program;
use crate::camera::Camera;

#[derive(Debug, Default)]
pub struct Lights {
    ids: Vec<NodeId>,
}

impl Lights {
    /// Rebuilds the list when a light may have changed (any node named, or everything).
    pub fn refresh(&mut self, drawables: &Drawables, changed: &HashSet<NodeId>, all: bool) {
        let touched = all
            || self.ids.iter().any(|id| changed.contains(id))
            || changed.iter().any(|id| drawables.get(id).is_some_and(|d| d.kind == NodeKind::Light));
        if !touched {
            return;
        }
        let mut ids: Vec<NodeId> = drawables.iter().filter(|(_, d)| d.kind == NodeKind::Light && d.shown).map(|(id, _)| id.clone()).collect();
        shared::order::sort(&mut ids);
        ids.truncate(MAX_LIGHTS);
        self.ids = ids;
    }

    /// Sets the light uniforms of the mesh program.
    pub fn bind(&self, gl: &Gl, program: &Program, drawables: &Drawables, camera: &Camera) {
        let mut a = [0f32; MAX_LIGHTS * 4];
        let mut b = [0f32; MAX_LIGHTS * 4];
        let mut c = [0f32; MAX_LIGHTS * 4];
        let mut count = 0;
        for id in &self.ids {
            let Some(d) = drawables.get(id) else { continue };
            let light = d.light.unwrap_or_default();
            let forward = normalize(d.world.vector([0.0, 0.0, -1.0]));
            let radiance = scale(color_to_linear(light.color), light.intensity.max(0.0));
            let outer = light.angle.clamp(1e-3, std::f64::consts::FRAC_PI_2);
            let (first, kind) = match light.kind {
                LightKind::Directional => (forward, 0.0),
                LightKind::Point => (d.world.t, 1.0),
                LightKind::Spot => (d.world.t, 2.0),
            };
            let i = count * 4;
            a[i..i + 4].copy_from_slice(&[first[0], first[1], first[2], kind].map(|v| v as f32));
            b[i..i + 4].copy_from_slice(&[forward[0], forward[1], forward[2], outer.cos()].map(|v| v as f32));
            c[i..i + 4].copy_from_slice(&[radiance[0], radiance[1], radiance[2], (outer * 0.9).cos()].map(|v| v as f32));
            count += 1;
        }
        let (sky, ground) = if count == 0 {
            let (_, up, forward) = camera.basis();
            let headlight = normalize(add(forward, scale(up, -0.3)));
            a[..4].copy_from_slice(&[headlight[0] as f32, headlight[1] as f32, headlight[2] as f32, 0.0]);
            c[..4].copy_from_slice(&[1.0, 1.0, 1.0, 0.0]);
            count = 1;
            ([0.20, 0.21, 0.24], [0.08, 0.075, 0.07])
        } else {
            ([0.10, 0.11, 0.13], [0.04, 0.037, 0.035])
        };
        gl.uniform1i(program.at("u_light_count"), count as i32);
        gl.uniform4fv_with_f32_array(program.at("u_light_a"), &a);
        gl.uniform4fv_with_f32_array(program.at("u_light_b"), &b);
        gl.uniform4fv_with_f32_array(program.at("u_light_c"), &c);
        gl.uniform3fv_with_f32_array(program.at("u_sky"), &sky);
        gl.uniform3fv_with_f32_array(program.at("u_ground"), &ground);
    }
}
