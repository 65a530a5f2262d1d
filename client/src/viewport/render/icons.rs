//! Wire icons for what has no surface: lights (a wire ball for a point light, a disc with
//! rays for a directional one, the cone for a spot), camera nodes (their frustum), and the
//! other people in the room (their camera's frustum in their colour). Icons keep a constant
//! size on screen; [`ICON_PX`] is also how near the pointer must come to pick one.

use shared::jobs::render::world::FOV_Y;
use shared::math::{add, normalize, scale, Vec3};
use shared::scene::{LightKind, NodeKind};

use super::super::drawables::Drawable;
use super::strokes::{perpendiculars, rgba, Rgba, Strokes};
use crate::camera::Camera;
use crate::presence::Peer;

/// An icon's radius on screen (CSS pixels).
pub const ICON_PX: f64 = 11.0;
/// Lights and cameras that are selected.
pub const SELECTED: &str = "#f5a524";

/// The icon of one node, `size` world units across at its depth.
pub fn node_icon(out: &mut Strokes, d: &Drawable, size: f64, selected: bool) {
    let origin = d.world.t;
    let axis = |v: Vec3| normalize(d.world.vector(v));
    match d.kind {
        NodeKind::Light => {
            let light = d.light.unwrap_or_default();
            let color = if selected { rgba(SELECTED, 1.0) } else { brightened(rgba(&light.color.to_hex(), 1.0)) };
            let forward = axis([0.0, 0.0, -1.0]);
            match light.kind {
                LightKind::Point => {
                    for (u, v) in [([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]), ([0.0, 1.0, 0.0], [0.0, 0.0, 1.0]), ([1.0, 0.0, 0.0], [0.0, 0.0, 1.0])] {
                        out.circle(origin, u, v, size * 0.5, 16, color);
                    }
                }
                LightKind::Directional => {
                    let (u, v) = perpendiculars(forward);
                    out.circle(origin, u, v, size * 0.5, 16, color);
                    for k in 0..4 {
                        let (s, c) = (f64::from(k) * std::f64::consts::FRAC_PI_2).sin_cos();
                        let start = add(origin, add(scale(u, c * size * 0.5), scale(v, s * size * 0.5)));
                        out.line(start, add(start, scale(forward, size * 1.6)), color);
                    }
                    out.line(origin, add(origin, scale(forward, size * 2.2)), color);
                }
                LightKind::Spot => {
                    let (u, v) = perpendiculars(forward);
                    let length = size * 2.5;
                    let radius = length * light.angle.clamp(0.01, 1.5).tan();
                    let end = add(origin, scale(forward, length));
                    out.circle(end, u, v, radius, 20, color);
                    for k in 0..4 {
                        let (s, c) = (f64::from(k) * std::f64::consts::FRAC_PI_2).sin_cos();
                        out.line(origin, add(end, add(scale(u, c * radius), scale(v, s * radius))), color);
                    }
                    out.circle(origin, u, v, size * 0.2, 10, color);
                }
            }
        }
        NodeKind::Camera => {
            let color = if selected { rgba(SELECTED, 1.0) } else { [0.85, 0.87, 0.92, 1.0] };
            frustum(out, origin, axis([1.0, 0.0, 0.0]), axis([0.0, 1.0, 0.0]), axis([0.0, 0.0, -1.0]), size * 1.6, color);
        }
        NodeKind::Group | NodeKind::Mesh => {}
    }
}

/// Another person's camera, in their colour, `size` world units deep.
pub fn peer_camera(out: &mut Strokes, peer: &Peer, camera: &Camera, size: f64) {
    let (right, up, forward) = camera.basis();
    frustum(out, camera.eye(), right, up, forward, size, rgba(&peer.color, 1.0));
}

/// A camera's frustum: lines from the eye to a 16:10 rectangle `depth` ahead, and a
/// triangle on its top edge saying which way is up.
fn frustum(out: &mut Strokes, eye: Vec3, right: Vec3, up: Vec3, forward: Vec3, depth: f64, color: Rgba) {
    let half_h = depth * (FOV_Y / 2.0).tan();
    let half_w = half_h * 1.6;
    let center = add(eye, scale(forward, depth));
    let corner = |sx: f64, sy: f64| add(center, add(scale(right, sx * half_w), scale(up, sy * half_h)));
    let corners = [corner(-1.0, -1.0), corner(1.0, -1.0), corner(1.0, 1.0), corner(-1.0, 1.0)];
    for i in 0..4 {
        out.line(eye, corners[i], color);
        out.line(corners[i], corners[(i + 1) % 4], color);
    }
    let top = add(center, scale(up, half_h * 1.5));
    out.line(corner(-0.5, 1.0), top, color);
    out.line(top, corner(0.5, 1.0), color);
}

/// Light colours brightened towards white, so a dark light's icon still shows.
fn brightened(c: Rgba) -> Rgba {
    [0.35 + 0.65 * c[0], 0.35 + 0.65 * c[1], 0.35 + 0.65 * c[2], c[3]]
}
