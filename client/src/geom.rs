//! Geometry for drawing and picking in the 2D views: a node's rotation as a matrix, the
//! outline ("footprint") of a primitive seen from a view as a convex polygon in screen
//! pixels, and point-in-polygon tests. The scene model stores Euler angles (XYZ, as
//! three.js); this turns them into what the canvas needs.

use shared::scene::{Primitive, Transform, Vec3};

use crate::view::View;

/// A 3×3 rotation matrix, row-major.
pub type Mat3 = [[f64; 3]; 3];

/// The rotation of Euler angles applied in XYZ order (three.js `makeRotationFromEuler`).
pub fn rotation([x, y, z]: Vec3) -> Mat3 {
    let (b, a) = x.sin_cos();
    let (d, c) = y.sin_cos();
    let (f, e) = z.sin_cos();
    let (ae, af, be, bf) = (a * e, a * f, b * e, b * f);
    [[c * e, -c * f, d], [af + be * d, ae - bf * d, -b * c], [bf - ae * d, be + af * d, a * c]]
}

pub fn mul(m: &Mat3, v: Vec3) -> Vec3 {
    [0, 1, 2].map(|r| m[r][0] * v[0] + m[r][1] * v[1] + m[r][2] * v[2])
}

/// `mᵀ v`: the inverse rotation.
pub fn mul_transposed(m: &Mat3, v: Vec3) -> Vec3 {
    [0, 1, 2].map(|c| m[0][c] * v[0] + m[1][c] * v[1] + m[2][c] * v[2])
}

/// A world-space offset expressed in the local space of a parent whose world transform is
/// `parent` (`None`: the scene root), for moving a child by `delta` in the world.
pub fn world_delta_to_local(parent: Option<&Transform>, delta: Vec3) -> Vec3 {
    let Some(parent) = parent else { return delta };
    let local = mul_transposed(&rotation(parent.rotation), delta);
    [0, 1, 2].map(|i| if parent.scale[i] == 0.0 { local[i] } else { local[i] / parent.scale[i] })
}

/// A local point of an object with world transform `t`, in the world.
pub fn to_world(t: &Transform, m: &Mat3, p: Vec3) -> Vec3 {
    let scaled = [p[0] * t.scale[0], p[1] * t.scale[1], p[2] * t.scale[2]];
    let r = mul(m, scaled);
    [t.position[0] + r[0], t.position[1] + r[1], t.position[2] + r[2]]
}

/// Points on the surface of a primitive (local space) whose convex hull, in any view, is
/// its outline: corners for boxes and planes, circles for spheres and cylinders.
pub fn sample_points(p: &Primitive) -> Vec<Vec3> {
    const SEGMENTS: usize = 24;
    let circle = |r: f64, axis: usize, offset: f64| -> Vec<Vec3> {
        (0..SEGMENTS)
            .map(|i| {
                let (s, c) = (i as f64 / SEGMENTS as f64 * std::f64::consts::TAU).sin_cos();
                match axis {
                    0 => [offset, r * c, r * s],
                    1 => [r * c, offset, r * s],
                    _ => [r * c, r * s, offset],
                }
            })
            .collect()
    };
    match *p {
        Primitive::Box { width, height, depth } => {
            let (w, h, d) = (width / 2.0, height / 2.0, depth / 2.0);
            let mut out = Vec::with_capacity(8);
            for x in [-w, w] {
                for y in [-h, h] {
                    for z in [-d, d] {
                        out.push([x, y, z]);
                    }
                }
            }
            out
        }
        Primitive::Plane { width, height } => {
            let (w, h) = (width / 2.0, height / 2.0);
            vec![[-w, -h, 0.0], [w, -h, 0.0], [w, h, 0.0], [-w, h, 0.0]]
        }
        Primitive::Sphere { radius } => [circle(radius, 0, 0.0), circle(radius, 1, 0.0), circle(radius, 2, 0.0)].concat(),
        Primitive::Cylinder { radius, height } => [circle(radius, 1, -height / 2.0), circle(radius, 1, height / 2.0)].concat(),
    }
}

/// The radius of a sphere about the local origin holding the whole primitive.
pub fn radius(p: &Primitive) -> f64 {
    let half = |a: f64, b: f64, c: f64| (a * a + b * b + c * c).sqrt() / 2.0;
    match *p {
        Primitive::Box { width, height, depth } => half(width, height, depth),
        Primitive::Plane { width, height } => half(width, height, 0.0),
        Primitive::Sphere { radius } => radius.abs(),
        Primitive::Cylinder { radius, height } => (radius * radius + height * height / 4.0).sqrt(),
    }
}

/// The screen outline of a primitive with world transform `t`, offset by `shift` (a drag).
pub fn footprint(p: &Primitive, t: &Transform, shift: Vec3, view: &View, w: f64, h: f64) -> Vec<(f64, f64)> {
    let m = rotation(t.rotation);
    let points: Vec<(f64, f64)> = sample_points(p)
        .into_iter()
        .map(|q| {
            let p = to_world(t, &m, q);
            view.to_screen([p[0] + shift[0], p[1] + shift[1], p[2] + shift[2]], w, h)
        })
        .collect();
    convex_hull(points)
}

fn cross(o: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
}

/// Andrew's monotone chain; counter-clockwise in a y-up frame, without repeated points.
pub fn convex_hull(mut points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    points.retain(|p| p.0.is_finite() && p.1.is_finite());
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    points.dedup_by(|a, b| (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9);
    if points.len() < 3 {
        return points;
    }
    let mut hull: Vec<(f64, f64)> = Vec::with_capacity(points.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &(f64, f64)>> =
            if pass == 0 { Box::new(points.iter()) } else { Box::new(points.iter().rev()) };
        for &p in iter {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0 {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// Whether `p` is inside the polygon or within `slack` pixels of its outline (so flat
/// outlines, a plane seen edge-on, can still be picked).
pub fn hit(polygon: &[(f64, f64)], p: (f64, f64), slack: f64) -> bool {
    if polygon.is_empty() {
        return false;
    }
    let n = polygon.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (polygon[i], polygon[(i + 1) % n]);
        if (a.1 > p.1) != (b.1 > p.1) && p.0 < (b.0 - a.0) * (p.1 - a.1) / (b.1 - a.1) + a.0 {
            inside = !inside;
        }
        if segment_distance(a, b, p) <= slack {
            return true;
        }
    }
    inside
}

fn segment_distance(a: (f64, f64), b: (f64, f64), p: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 { 0.0 } else { (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0) };
    ((a.0 + t * dx - p.0).powi(2) + (a.1 + t * dy - p.1).powi(2)).sqrt()
}

/// Axis-aligned bounds (min x, min y, max x, max y) of some points.
pub fn bounds(points: impl IntoIterator<Item = (f64, f64)>) -> Option<(f64, f64, f64, f64)> {
    points.into_iter().fold(None, |b, (x, y)| {
        Some(match b {
            None => (x, y, x, y),
            Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::ViewKind;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn rotation_matches_a_quarter_turn_about_z() {
        let m = rotation([0.0, 0.0, std::f64::consts::FRAC_PI_2]);
        let v = mul(&m, [1.0, 0.0, 0.0]);
        assert!((v[0]).abs() < 1e-12 && (v[1] - 1.0).abs() < 1e-12);
        let back = mul_transposed(&m, v);
        assert!((back[0] - 1.0).abs() < 1e-12);
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn a_unit_box_from_the_top_is_a_square_and_picks() {
        let view = View { kind: ViewKind::Top, cx: 0.0, cy: 0.0, zoom: 10.0 };
        let hull = footprint(&Primitive::default(), &Transform::default(), [0.0; 3], &view, 100.0, 100.0);
        assert_eq!(hull.len(), 4);
        assert_eq!(bounds(hull.iter().copied()), Some((45.0, 45.0, 55.0, 55.0)));
        assert!(hit(&hull, (50.0, 50.0), 0.0));
        assert!(!hit(&hull, (60.0, 50.0), 2.0));
        assert!(hit(&hull, (56.0, 50.0), 2.0));
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn a_cylinder_is_a_circle_from_the_top_and_a_rectangle_from_the_front() {
        let cyl = Primitive::Cylinder { radius: 1.0, height: 4.0 };
        let top = View { kind: ViewKind::Top, cx: 0.0, cy: 0.0, zoom: 10.0 };
        let front = View { kind: ViewKind::Front, ..top };
        let t = Transform::default();
        let (x0, y0, x1, y1) = bounds(footprint(&cyl, &t, [0.0; 3], &top, 100.0, 100.0)).unwrap();
        assert!(((x1 - x0) - (y1 - y0)).abs() < 1e-9);
        let (x0, y0, x1, y1) = bounds(footprint(&cyl, &t, [0.0; 3], &front, 100.0, 100.0)).unwrap();
        assert!(((y1 - y0) - 40.0).abs() < 1e-9 && ((x1 - x0) - 20.0).abs() < 1e-9);
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn every_sample_point_lies_within_the_radius() {
        let shapes = [
            Primitive::Box { width: 1.0, height: 2.0, depth: 3.0 },
            Primitive::Plane { width: 4.0, height: 1.0 },
            Primitive::Sphere { radius: 2.0 },
            Primitive::Cylinder { radius: 1.0, height: 6.0 },
        ];
        for p in shapes {
            let r = radius(&p);
            let far = sample_points(&p).into_iter().map(|q| (q[0] * q[0] + q[1] * q[1] + q[2] * q[2]).sqrt()).fold(0.0, f64::max);
            assert!(far <= r + 1e-9 && far >= r * 0.99, "{p:?}: {far} vs {r}");
        }
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn world_offsets_map_into_a_rotated_scaled_parent() {
        let parent = Transform { position: [5.0, 0.0, 0.0], rotation: [0.0, 0.0, std::f64::consts::FRAC_PI_2], scale: [2.0; 3] };
        let local = world_delta_to_local(Some(&parent), [0.0, 2.0, 0.0]);
        assert!((local[0] - 1.0).abs() < 1e-12 && local[1].abs() < 1e-12);
    }
}
