//! Rays: what a pointer on the screen means in the scene. Picking follows a ray into the
//! scene; the transform gizmos turn pointer moves into motion along an axis (the point of
//! the axis nearest the ray), in a plane (where the ray meets it) or about an axis.

use super::vector::{add, cross, dot, length, scale, sub};
use super::Vec3;

/// `origin + t·dir` for `t ≥ 0` (`dir` need not be unit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ray {
    pub origin: Vec3,
    pub dir: Vec3,
}

impl Ray {
    pub fn at(&self, t: f64) -> Vec3 {
        add(self.origin, scale(self.dir, t))
    }

    /// Where the ray meets the plane through `point` with normal `normal`: `None` when it
    /// runs parallel to it or meets it behind its origin.
    pub fn plane(&self, point: Vec3, normal: Vec3) -> Option<f64> {
        let denom = dot(self.dir, normal);
        if denom.abs() < 1e-12 * length(self.dir).max(1e-300) * length(normal).max(1e-300) {
            return None;
        }
        let t = dot(sub(point, self.origin), normal) / denom;
        (t >= 0.0 && t.is_finite()).then_some(t)
    }

    /// The parameter `s` of the point `point + s·dir` of a line that comes nearest to this
    /// ray (as an infinite line); `None` when the two are (nearly) parallel.
    pub fn closest_on_line(&self, point: Vec3, dir: Vec3) -> Option<f64> {
        let (a, b, c) = (dot(self.dir, self.dir), dot(self.dir, dir), dot(dir, dir));
        let denom = dot(cross(self.dir, dir), cross(self.dir, dir));
        if denom < 1e-12 * a * c {
            return None;
        }
        let w = sub(self.origin, point);
        let s = (a * dot(dir, w) - b * dot(self.dir, w)) / denom;
        s.is_finite().then_some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::close;

    #[test]
    fn planes_and_lines() {
        let down = Ray { origin: [1.0, 5.0, 2.0], dir: [0.0, -2.0, 0.0] };
        let t = down.plane([0.0; 3], [0.0, 1.0, 0.0]).unwrap_or_default();
        assert!(close(down.at(t), [1.0, 0.0, 2.0]));
        assert!(down.plane([0.0, 9.0, 0.0], [0.0, 1.0, 0.0]).is_none(), "behind the origin");
        assert!(down.plane([0.0; 3], [1.0, 0.0, 0.0]).is_none(), "parallel");
        // A ray over the x axis at x = 3 is nearest the axis at s = 3.
        let across = Ray { origin: [3.0, 4.0, 10.0], dir: [0.0, -0.2, -1.0] };
        let s = across.closest_on_line([0.0; 3], [1.0, 0.0, 0.0]).unwrap_or_default();
        assert!((s - 3.0).abs() < 1e-9, "{s}");
        let scaled = across.closest_on_line([1.0, 0.0, 0.0], [2.0, 0.0, 0.0]).unwrap_or_default();
        assert!((scaled - 1.0).abs() < 1e-9, "{scaled}");
        assert!(across.closest_on_line([0.0; 3], [0.0, -0.2, -1.0]).is_none());
    }
}
