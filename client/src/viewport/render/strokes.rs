//! Coloured lines and triangles built on the CPU each frame: the wire icons of lights and
//! cameras, other people's cameras, and the transform gizmos. Positions are world space,
//! colours sRGB with alpha: seven floats a vertex (x, y, z, r, g, b, a).

use shared::math::{add, cross, normalize, scale, sub, Vec3};

/// Floats per vertex.
pub const VERTEX_FLOATS: usize = 7;

pub type Rgba = [f32; 4];

/// `#rrggbb` or `#rgb` as a colour (grey when unreadable).
pub fn rgba(hex: &str, alpha: f32) -> Rgba {
    shared::scene::Color::parse_hex(hex.get(..7).unwrap_or(hex))
        .or_else(|| shared::scene::Color::parse_hex(hex))
        .map_or([0.6, 0.6, 0.6, alpha], |c| [f32::from(c.r) / 255.0, f32::from(c.g) / 255.0, f32::from(c.b) / 255.0, alpha])
}

#[derive(Debug, Default)]
pub struct Strokes {
    /// Pairs of vertices, drawn as 1-pixel lines.
    pub lines: Vec<f32>,
    /// Triples of vertices.
    pub triangles: Vec<f32>,
}

fn push(out: &mut Vec<f32>, p: Vec3, c: Rgba) {
    out.extend_from_slice(&[p[0] as f32, p[1] as f32, p[2] as f32, c[0], c[1], c[2], c[3]]);
}

impl Strokes {
    pub fn line(&mut self, a: Vec3, b: Vec3, c: Rgba) {
        push(&mut self.lines, a, c);
        push(&mut self.lines, b, c);
    }

    pub fn triangle(&mut self, a: Vec3, b: Vec3, d: Vec3, c: Rgba) {
        push(&mut self.triangles, a, c);
        push(&mut self.triangles, b, c);
        push(&mut self.triangles, d, c);
    }

    pub fn quad(&mut self, corners: [Vec3; 4], c: Rgba) {
        self.triangle(corners[0], corners[1], corners[2], c);
        self.triangle(corners[0], corners[2], corners[3], c);
    }

    /// A circle about `center` in the plane of unit vectors `u` and `v`, as lines.
    pub fn circle(&mut self, center: Vec3, u: Vec3, v: Vec3, radius: f64, segments: usize, c: Rgba) {
        let point = |i: usize| {
            let (s, k) = (i as f64 / segments as f64 * std::f64::consts::TAU).sin_cos();
            add(center, add(scale(u, k * radius), scale(v, s * radius)))
        };
        for i in 0..segments {
            self.line(point(i), point(i + 1), c);
        }
    }

    /// A segment `width` world units wide, as two triangles facing `toward_eye(point)`.
    pub fn thick_line(&mut self, a: Vec3, b: Vec3, width: f64, toward_eye: impl Fn(Vec3) -> Vec3, c: Rgba) {
        let side = normalize(cross(sub(b, a), toward_eye(a)));
        let h = scale(side, width / 2.0);
        self.quad([sub(a, h), add(a, h), add(b, h), sub(b, h)], c);
    }

    /// A cone from a circle of `radius` about `base` (perpendicular to unit `axis`) to `tip`.
    pub fn cone(&mut self, base: Vec3, tip: Vec3, axis: Vec3, radius: f64, c: Rgba) {
        let (u, v) = perpendiculars(axis);
        let segments = 12;
        let rim = |i: usize| {
            let (s, k) = (i as f64 / segments as f64 * std::f64::consts::TAU).sin_cos();
            add(base, add(scale(u, k * radius), scale(v, s * radius)))
        };
        for i in 0..segments {
            self.triangle(rim(i), rim(i + 1), tip, c);
            self.triangle(rim(i + 1), rim(i), base, c);
        }
    }

    /// A cube of half-size `half` about `center` with the edges along the unit `axes`.
    pub fn cube(&mut self, center: Vec3, axes: [Vec3; 3], half: f64, c: Rgba) {
        for (a, b, n) in [(0, 1, 2), (1, 2, 0), (2, 0, 1)] {
            for sign in [-1.0, 1.0] {
                let face = add(center, scale(axes[n], sign * half));
                let (u, v) = (scale(axes[a], half), scale(axes[b], half));
                self.quad([sub(sub(face, u), v), sub(add(face, u), v), add(add(face, u), v), add(sub(face, u), v)], c);
            }
        }
    }
}

/// Two unit vectors perpendicular to unit `axis` and to each other.
pub fn perpendiculars(axis: Vec3) -> (Vec3, Vec3) {
    let helper = if axis[1].abs() < 0.9 { [0.0, 1.0, 0.0] } else { [1.0, 0.0, 0.0] };
    let u = normalize(cross(axis, helper));
    (u, cross(axis, u))
}
