//! What the ray tracer sees: the visible meshes with their world transforms and materials,
//! the lights in world space, and the camera, built once from the resolved tree.

use yrs::ReadTxn;

use std::collections::HashMap;
use std::sync::Arc;

use crate::geometry::hit::T_MIN;
use crate::geometry::shape::{LoadedMesh, Shape};
use super::shade::{self, Surface};
use crate::geometry::bounds::Aabb;
use crate::jobs::space::{visible_in_tree, world_transforms};
use crate::math::color::color_to_linear;
use crate::math::{add, cross, length, normalize, scale, sub, Affine, Vec3};
use crate::scene::{LightKind, Material, MeshId, NodeKind, Primitive, Scene, SceneTree};

/// The editor's perspective field of view (vertical), as glTF export uses.
pub const FOV_Y: f64 = 50.0 * std::f64::consts::PI / 180.0;

/// A mesh in world space.
#[derive(Debug, Clone)]
pub struct Object {
    pub shape: Shape,
    pub material: Material,
    pub to_world: Affine,
    pub to_local: Affine,
}

/// A light in world space.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Light {
    Point { position: Vec3, color: Vec3 },
    /// `direction`: where the light travels (unit).
    Directional { direction: Vec3, color: Vec3 },
    Spot { position: Vec3, direction: Vec3, color: Vec3, cos_outer: f64, cos_inner: f64 },
}

/// Where the image is seen from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    pub position: Vec3,
    pub forward: Vec3,
    pub right: Vec3,
    pub up: Vec3,
}

impl Camera {
    /// A camera at `position` looking at `target` (world up is +y).
    pub fn look_at(position: Vec3, target: Vec3) -> Camera {
        let forward = normalize(sub(target, position));
        let mut right = normalize(cross(forward, [0.0, 1.0, 0.0]));
        if right == [0.0; 3] {
            right = [1.0, 0.0, 0.0];
        }
        Camera { position, forward, right, up: cross(right, forward) }
    }
}

/// Everything a render needs.
#[derive(Debug, Clone)]
pub struct World {
    pub objects: Vec<Object>,
    pub lights: Vec<Light>,
    pub camera: Camera,
}

/// A ray hit in world space.
pub struct Hit<'a> {
    pub t: f64,
    pub point: Vec3,
    pub normal: Vec3,
    pub object: &'a Object,
}

fn linear(color: crate::scene::Color, intensity: f64) -> Vec3 {
    scale(color_to_linear(color), intensity.max(0.0))
}

impl World {
    /// The world of the scene read through `txn`, triangle meshes loaded (each once).
    pub fn from_scene<T: ReadTxn>(scene: &Scene, txn: &T) -> World {
        let mut loaded: HashMap<MeshId, Option<Arc<LoadedMesh>>> = HashMap::new();
        World::from_tree(&scene.tree(txn), |id| {
            loaded.entry(id.clone()).or_insert_with(|| scene.mesh(txn, id).ok().map(|m| Arc::new(LoadedMesh::new(id.clone(), m)))).clone()
        })
    }

    /// The world of a resolved tree; `mesh` loads a node's triangle mesh (a node whose mesh
    /// it cannot load is traced as its primitive stand-in).
    pub fn from_tree(tree: &SceneTree, mut mesh: impl FnMut(&MeshId) -> Option<Arc<LoadedMesh>>) -> World {
        let world = world_transforms(tree);
        let mut objects = Vec::new();
        let mut lights = Vec::new();
        let mut camera = None;
        for (node, _) in tree.depth_first() {
            let Some(m) = world.get(&node.id) else { continue };
            if !visible_in_tree(tree, &node.id) {
                continue;
            }
            let forward = normalize(m.vector([0.0, 0.0, -1.0]));
            match node.kind {
                NodeKind::Mesh => {
                    let (Some(primitive), Some(to_local)) = (node.primitive, m.inverse()) else { continue };
                    let shape = node.mesh.as_ref().and_then(&mut mesh).map_or(Shape::Primitive(primitive), Shape::Mesh);
                    objects.push(Object { shape, material: node.material.unwrap_or_default(), to_world: *m, to_local });
                }
                NodeKind::Light => {
                    let l = node.light.unwrap_or_default();
                    let color = linear(l.color, l.intensity);
                    lights.push(match l.kind {
                        LightKind::Point => Light::Point { position: m.t, color },
                        LightKind::Directional => Light::Directional { direction: forward, color },
                        LightKind::Spot => {
                            let outer = l.angle.clamp(1e-3, std::f64::consts::FRAC_PI_2);
                            Light::Spot { position: m.t, direction: forward, color, cos_outer: outer.cos(), cos_inner: (outer * 0.9).cos() }
                        }
                    });
                }
                NodeKind::Camera if camera.is_none() => {
                    let up = normalize(m.vector([0.0, 1.0, 0.0]));
                    camera = Some(Camera { position: m.t, forward, right: normalize(cross(forward, up)), up });
                }
                _ => {}
            }
        }
        let camera = camera.unwrap_or_else(|| framing_camera(&objects));
        if lights.is_empty() {
            // A headlight, so an unlit scene still shows its shapes.
            lights.push(Light::Directional { direction: normalize(add(camera.forward, scale(camera.up, -0.3))), color: [1.0; 3] });
        }
        World { objects, lights, camera }
    }

    /// The nearest hit along a ray (`dir` need not be unit; `t` is in its units).
    pub fn trace(&self, origin: Vec3, dir: Vec3, max_t: f64) -> Option<Hit<'_>> {
        let mut best: Option<(f64, Vec3, &Object)> = None;
        for object in &self.objects {
            let local_o = object.to_local.point(origin);
            let local_d = object.to_local.vector(dir);
            if let Some(hit) = object.shape.intersect(local_o, local_d) {
                if hit.t < max_t && best.is_none_or(|b| hit.t < b.0) {
                    best = Some((hit.t, hit.normal, object));
                }
            }
        }
        let (t, local_normal, object) = best?;
        let normal = normalize(object.to_local.transposed_vector(local_normal));
        Some(Hit { t, point: add(origin, scale(dir, t)), normal, object })
    }

    /// Whether anything lies between `point` and `point + dir·max_t`.
    pub fn occluded(&self, point: Vec3, dir: Vec3, max_t: f64) -> bool {
        self.trace(point, dir, max_t).is_some()
    }

    /// The linear colour of pixel (`x`, `y`) of a `width × height` image.
    pub fn pixel(&self, x: u32, y: u32, width: u32, height: u32) -> Vec3 {
        let aspect = width as f64 / height.max(1) as f64;
        let half_h = (FOV_Y / 2.0).tan();
        let sx = ((x as f64 + 0.5) / width as f64 * 2.0 - 1.0) * half_h * aspect;
        let sy = (1.0 - (y as f64 + 0.5) / height as f64 * 2.0) * half_h;
        let c = &self.camera;
        let dir = normalize(add(c.forward, add(scale(c.right, sx), scale(c.up, sy))));
        match self.trace(c.position, dir, f64::INFINITY) {
            Some(hit) => {
                let surface = Surface { point: hit.point, normal: hit.normal, view: scale(dir, -1.0), material: &hit.object.material };
                shade::shade(self, &surface, 0)
            }
            None => shade::BACKGROUND,
        }
    }
}

/// A camera that sees every object: from the front-right-above, far enough for the bounding
/// sphere of the objects to fit the field of view. Planes (floors, backdrops) are left out of
/// the framing when there is anything else, so a large floor does not shrink the subject.
fn framing_camera(objects: &[Object]) -> Camera {
    let solid = |o: &&Object| !matches!(o.shape, Shape::Primitive(Primitive::Plane { .. }));
    let framed: Vec<&Object> = if objects.iter().any(|o| solid(&o)) { objects.iter().filter(solid).collect() } else { objects.iter().collect() };
    let mut bounds = Aabb { min: [f64::INFINITY; 3], max: [f64::NEG_INFINITY; 3] };
    for object in framed {
        let b = object.shape.local_bounds().transformed(&object.to_world);
        for a in 0..3 {
            bounds.min[a] = bounds.min[a].min(b.min[a]);
            bounds.max[a] = bounds.max[a].max(b.max[a]);
        }
    }
    if !bounds.min.iter().chain(&bounds.max).all(|v| v.is_finite()) {
        bounds = Aabb { min: [-1.0; 3], max: [1.0; 3] };
    }
    let center = scale(add(bounds.min, bounds.max), 0.5);
    let radius = (length(sub(bounds.max, bounds.min)) / 2.0).max(0.5);
    let distance = radius / (FOV_Y / 2.0).sin() * 1.05 + T_MIN;
    let from = add(center, scale(normalize([0.6, 0.5, 1.0]), distance));
    Camera::look_at(from, center)
}
