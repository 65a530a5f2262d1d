//! Mesh instances as the GPU reads them, and the batches they are drawn in.
//!
//! Every shown mesh is one instance of a shared geometry: a unit primitive (a 1×1×1 box, a
//! unit sphere, a unit cylinder, a 1×1 plane) scaled to its size by its model matrix, or a
//! stored triangle mesh, one geometry however many nodes use it. Instances of the same
//! geometry, opaque or transparent, mirrored (a negative scale turns its triangles inside
//! out) or not, live in one batch: one array on the CPU, one buffer on the GPU, one instanced
//! draw call. A node keeps its slot while it changes, so an edit
//! re-uploads that slot only; a node that leaves a batch is replaced by the batch's last one.

use std::collections::HashMap;

use shared::geometry::shape::Shape;
use shared::math::color::color_to_linear;
use shared::math::{mat3, Affine};
use shared::scene::{NodeId, Primitive, PrimitiveKind};
use web_sys::WebGl2RenderingContext as Gl;

use super::super::drawables::Drawable;
use super::super::gl::GrowBuffer;

/// Floats per instance: model rows (12), normal matrix rows (9), colour (4), params (3).
pub const FLOATS: usize = 28;

/// Which shared geometry an instance draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeometryKey {
    Primitive(PrimitiveKind),
    /// A stored triangle mesh, by the number the renderer gave it.
    Mesh(u32),
}


impl GeometryKey {
    /// Whether its triangles enclose a volume, so the ones facing away can be skipped (not a
    /// plane, seen from both sides; not a stored mesh, which may be open).
    pub fn closed(self) -> bool {
        matches!(self, GeometryKey::Primitive(PrimitiveKind::Box | PrimitiveKind::Sphere | PrimitiveKind::Cylinder))
    }
}

/// The unit primitive of a kind.
pub fn unit_primitive(kind: PrimitiveKind) -> Primitive {
    match kind {
        PrimitiveKind::Box => Primitive::Box { width: 1.0, height: 1.0, depth: 1.0 },
        PrimitiveKind::Sphere => Primitive::Sphere { radius: 1.0 },
        PrimitiveKind::Cylinder => Primitive::Cylinder { radius: 1.0, height: 1.0 },
        PrimitiveKind::Plane => Primitive::Plane { width: 1.0, height: 1.0 },
    }
}

/// How a shape's geometry is scaled to it (a mesh is drawn as stored).
fn size_of(shape: &Shape) -> [f64; 3] {
    match shape {
        Shape::Primitive(Primitive::Box { width, height, depth }) => [*width, *height, *depth],
        Shape::Primitive(Primitive::Sphere { radius }) => [*radius; 3],
        Shape::Primitive(Primitive::Cylinder { radius, height }) => [*radius, *height, *radius],
        Shape::Primitive(Primitive::Plane { width, height }) => [*width, *height, 1.0],
        Shape::Mesh(_) => [1.0; 3],
    }
}

/// One instance: where it goes and what it looks like.
pub struct Instance {
    pub key: GeometryKey,
    pub transparent: bool,
    /// Its matrix mirrors (a negative determinant): its triangles wind the other way.
    pub mirrored: bool,
    pub data: [f32; FLOATS],
    /// Bounding sphere (centre, radius) for culling and sorting.
    pub sphere: [f32; 4],
}

/// The instance of a drawable mesh at `world` (its own or a ghost's) drawing geometry `key`,
/// with a hover `highlight`; `None` for what draws no mesh (lights, groups, flat-scaled
/// nodes).
pub fn instance(d: &Drawable, world: &Affine, highlight: f32, key: GeometryKey) -> Option<Instance> {
    let shape = d.shape.as_ref()?;
    let size = size_of(shape);
    let m = world.m.map(|row| [row[0] * size[0], row[1] * size[1], row[2] * size[2]]);
    // Normals go through the inverse transpose; a flattened node (a zero scale) draws
    // nothing rather than garbage.
    let normal = mat3::transpose(&mat3::inverse(&m)?);
    let color = color_to_linear(d.material.color);
    let opacity = d.material.opacity.clamp(0.0, 1.0);
    let t = world.t;
    let data = [
        m[0][0], m[0][1], m[0][2], t[0],
        m[1][0], m[1][1], m[1][2], t[1],
        m[2][0], m[2][1], m[2][2], t[2],
        normal[0][0], normal[0][1], normal[0][2],
        normal[1][0], normal[1][1], normal[1][2],
        normal[2][0], normal[2][1], normal[2][2],
        color[0], color[1], color[2], opacity,
        d.material.roughness, d.material.metalness, f64::from(highlight),
    ]
    .map(|v| v as f32);
    let bounds = shape.local_bounds().transformed(world);
    let c = bounds.center();
    let mirrored = mat3::det(&m) < 0.0;
    Some(Instance { key, transparent: opacity < 0.999, mirrored, data, sphere: [c[0] as f32, c[1] as f32, c[2] as f32, bounds.radius() as f32] })
}

/// The instances of one geometry, opaque or transparent, mirrored or not.
pub struct Batch {
    pub key: GeometryKey,
    pub transparent: bool,
    pub mirrored: bool,
    pub ids: Vec<NodeId>,
    pub data: Vec<f32>,
    pub spheres: Vec<[f32; 4]>,
    pub gpu: GrowBuffer,
    /// Slots changed since the last upload.
    dirty: Option<(usize, usize)>,
    /// The GPU buffer must be filled again whole (it grew, or was never filled).
    stale: bool,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    fn touch(&mut self, slot: usize) {
        self.dirty = Some(self.dirty.map_or((slot, slot + 1), |(lo, hi)| (lo.min(slot), hi.max(slot + 1))));
    }
}

/// Every batch, and which slot holds which node.
pub struct Batches {
    gl: Gl,
    pub list: Vec<Batch>,
    slots: HashMap<NodeId, (usize, usize)>,
}

impl Batches {
    pub fn new(gl: &Gl) -> Batches {
        Batches { gl: gl.clone(), list: Vec::new(), slots: HashMap::new() }
    }

    /// The batch of a geometry and opacity class, made when first needed; `None` if the GPU
    /// refused a buffer.
    fn batch(&mut self, key: GeometryKey, transparent: bool, mirrored: bool) -> Option<usize> {
        if let Some(i) = self.list.iter().position(|b| b.key == key && b.transparent == transparent && b.mirrored == mirrored) {
            return Some(i);
        }
        let gpu = GrowBuffer::new(&self.gl, Gl::ARRAY_BUFFER).ok()?;
        self.list.push(Batch { key, transparent, mirrored, ids: Vec::new(), data: Vec::new(), spheres: Vec::new(), gpu, dirty: None, stale: true });
        Some(self.list.len() - 1)
    }

    /// Puts `id`'s instance in its batch, or takes it out (`None`).
    pub fn set(&mut self, id: &NodeId, instance: Option<Instance>) {
        let target = instance.as_ref().and_then(|i| self.batch(i.key, i.transparent, i.mirrored));
        if let Some(&(batch, slot)) = self.slots.get(id) {
            if Some(batch) == target {
                if let Some(instance) = instance {
                    let b = &mut self.list[batch];
                    b.data[slot * FLOATS..(slot + 1) * FLOATS].copy_from_slice(&instance.data);
                    b.spheres[slot] = instance.sphere;
                    b.touch(slot);
                }
                return;
            }
            self.remove(id, batch, slot);
        }
        let (Some(batch), Some(instance)) = (target, instance) else { return };
        let b = &mut self.list[batch];
        let slot = b.ids.len();
        b.ids.push(id.clone());
        b.data.extend_from_slice(&instance.data);
        b.spheres.push(instance.sphere);
        b.touch(slot);
        self.slots.insert(id.clone(), (batch, slot));
    }

    fn remove(&mut self, id: &NodeId, batch: usize, slot: usize) {
        self.slots.remove(id);
        let b = &mut self.list[batch];
        let last = b.ids.len() - 1;
        b.ids.swap_remove(slot);
        b.spheres.swap_remove(slot);
        if slot != last {
            let (head, tail) = b.data.split_at_mut(last * FLOATS);
            head[slot * FLOATS..(slot + 1) * FLOATS].copy_from_slice(&tail[..FLOATS]);
            b.touch(slot);
            let moved = b.ids[slot].clone();
            self.slots.insert(moved, (batch, slot));
        }
        b.data.truncate(last * FLOATS);
    }

    /// Drops the (empty) batches of a geometry that is gone.
    pub fn forget(&mut self, key: GeometryKey) {
        let gl = self.gl.clone();
        self.list.retain(|b| {
            let keep = b.key != key || !b.ids.is_empty();
            if !keep {
                b.gpu.delete(&gl);
            }
            keep
        });
        // Slots index into `list`: rebuild them.
        self.slots = self.list.iter().enumerate().flat_map(|(bi, b)| b.ids.iter().enumerate().map(move |(si, id)| (id.clone(), (bi, si)))).collect();
    }

    /// Empties every batch (after a structural change everything is put back).
    pub fn clear(&mut self) {
        self.slots.clear();
        for b in &mut self.list {
            b.ids.clear();
            b.data.clear();
            b.spheres.clear();
            b.stale = true;
        }
    }

    /// Sends what changed to the GPU: the changed slot range of each batch, or the whole
    /// batch when its buffer had to grow.
    pub fn upload(&mut self, gl: &Gl) -> usize {
        let mut floats = 0;
        for b in &mut self.list {
            let grew = b.gpu.reserve(gl, b.data.len() * 4);
            if grew || b.stale {
                b.gpu.write_f32(gl, 0, &b.data);
                floats += b.data.len();
            } else if let Some((lo, hi)) = b.dirty {
                let hi = hi.min(b.ids.len());
                if lo < hi {
                    b.gpu.write_f32(gl, lo * FLOATS, &b.data[lo * FLOATS..hi * FLOATS]);
                    floats += (hi - lo) * FLOATS;
                }
            }
            b.dirty = None;
            b.stale = false;
        }
        floats
    }
}
