//! Direct lighting at a surface point: Lambert diffuse plus a normalised Blinn-Phong
//! highlight, driven by the material's base colour, roughness and metalness, with one
//! shadow ray per light; and one mirror bounce for smooth surfaces (weighted by Schlick's
//! Fresnel term and by smoothness), so metals show what surrounds them.

use super::world::{Light, World};
use crate::math::color::color_to_linear;
use crate::math::{add, dot, length, mul_axes, normalize, scale, sub, Vec3};
use crate::scene::Material;

/// The colour of rays that hit nothing (linear RGB).
pub const BACKGROUND: Vec3 = [0.02, 0.025, 0.035];
/// Light from everywhere, as a fraction of the base colour.
pub const AMBIENT: f64 = 0.06;
/// Point and spot lights fall off as `1 / (1 + d² / FALLOFF²)`.
pub const FALLOFF: f64 = 5.0;

/// What is being lit.
pub struct Surface<'a> {
    pub point: Vec3,
    /// Unit, facing the viewer for two-sided shapes.
    pub normal: Vec3,
    /// Unit, towards the viewer.
    pub view: Vec3,
    pub material: &'a Material,
}

/// The light arriving at `point`: (unit direction towards the light, distance, colour).
fn incoming(light: &Light, point: Vec3) -> Option<(Vec3, f64, Vec3)> {
    let falloff = |d: f64| 1.0 / (1.0 + d * d / (FALLOFF * FALLOFF));
    match *light {
        Light::Directional { direction, color } => Some((scale(direction, -1.0), f64::INFINITY, color)),
        Light::Point { position, color } => {
            let to = sub(position, point);
            let d = length(to);
            (d > 0.0).then(|| (scale(to, 1.0 / d), d, scale(color, falloff(d))))
        }
        Light::Spot { position, direction, color, cos_outer, cos_inner } => {
            let to = sub(position, point);
            let d = length(to);
            if d <= 0.0 {
                return None;
            }
            let l = scale(to, 1.0 / d);
            let cos = -dot(l, direction);
            if cos <= cos_outer {
                return None;
            }
            let edge = ((cos - cos_outer) / (cos_inner - cos_outer).max(1e-9)).clamp(0.0, 1.0);
            Some((l, d, scale(color, falloff(d) * edge * edge * (3.0 - 2.0 * edge))))
        }
    }
}

/// Reflections are traced this many bounces deep.
pub const MAX_BOUNCES: u32 = 1;

/// The linear colour seen at `surface` (`bounce`: 0 for a camera ray).
pub fn shade(world: &World, surface: &Surface, bounce: u32) -> Vec3 {
    let m = surface.material;
    let base = color_to_linear(m.color);
    let metal = m.metalness.clamp(0.0, 1.0);
    let roughness = m.roughness.clamp(0.03, 1.0);
    let diffuse_color = scale(base, 1.0 - metal);
    let f0 = add(scale([0.04; 3], 1.0 - metal), scale(base, metal));
    let shininess = (2.0 / roughness.powi(4) - 2.0).clamp(1.0, 4096.0);
    let n = surface.normal;
    // Lift the shadow ray's start off the surface, scaled to the scene's size.
    let lift = 1e-6 * (1.0 + length(surface.point));
    let start = add(surface.point, scale(n, lift * 10.0));

    let mut color = scale(base, AMBIENT);
    for light in &world.lights {
        let Some((l, distance, radiance)) = incoming(light, surface.point) else { continue };
        let n_dot_l = dot(n, l);
        if n_dot_l <= 0.0 || world.occluded(start, l, distance) {
            continue;
        }
        let h = normalize(add(l, surface.view));
        let spec = ((shininess + 8.0) / (8.0 * std::f64::consts::PI)) * dot(n, h).max(0.0).powf(shininess);
        let brdf = add(scale(diffuse_color, 1.0 / std::f64::consts::PI), scale(f0, spec));
        // π·BRDF keeps a white Lambert surface facing a unit light at 1.0.
        color = add(color, scale(mul_axes(brdf, radiance), n_dot_l * std::f64::consts::PI));
    }

    // The mirror bounce: only where it shows (smooth surfaces), and only so deep.
    let gloss = (1.0 - roughness) * (1.0 - roughness);
    if bounce < MAX_BOUNCES && gloss > 0.05 {
        let cos = dot(n, surface.view).clamp(0.0, 1.0);
        let fresnel = add(f0, scale(sub([1.0; 3], f0), (1.0 - cos).powi(5)));
        let dir = sub(scale(n, 2.0 * dot(n, surface.view)), surface.view);
        let seen = match world.trace(start, dir, f64::INFINITY) {
            Some(hit) => {
                let reflected = Surface { point: hit.point, normal: hit.normal, view: scale(dir, -1.0), material: &hit.object.material };
                shade(world, &reflected, bounce + 1)
            }
            None => BACKGROUND,
        };
        color = add(color, scale(mul_axes(fresnel, seen), gloss));
    }
    color
}
