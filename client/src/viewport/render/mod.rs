//! The viewport's renderer: draws one [`Frame`] with WebGL2.
//!
//! Per frame, in order: opaque meshes (one instanced draw per geometry, culled against the
//! view), the grid, the wire icons, transparent meshes and other people's drag ghosts
//! (sorted back to front), the selection outlines, and the gizmo on top. GPU instance data
//! changes only for the nodes [`Renderer::sync`] is told about; culled, sorted and ghost
//! instances go through one stream buffer filled once per frame.
//!
//! A lost context (the browser reclaiming the GPU) drops the renderer; the viewport makes a
//! new one when the context is restored and syncs every node into it.

mod frustum;
mod geometry;
mod grid;
pub mod icons;
mod instances;
mod lights;
mod outline;
mod stream;
pub mod strokes;

use std::collections::{HashMap, HashSet};

use shared::geometry::shape::Shape;
use shared::math::mat4;
use shared::scene::{MeshId, NodeId, PrimitiveKind, SceneTree};
use web_sys::{WebGl2RenderingContext as Gl, WebGlVertexArrayObject};

use super::drawables::{Dirty, Drawables};
use super::gl::{shaders, GlError, GrowBuffer, Program};
use crate::camera::{Camera, Projection};
use crate::presence::Peer;
use frustum::Frustum;
use geometry::Geometry;
use instances::{Batches, GeometryKey};
use strokes::{Strokes, VERTEX_FLOATS};

/// The canvas background (sRGB).
pub const BACKGROUND: [f32; 3] = [0.106, 0.122, 0.153];
/// Ghosts drawn for one peer's gesture, at most.
const MAX_GHOSTS: usize = 2_000;

/// Everything one picture depends on.
pub struct Frame<'a> {
    pub camera: &'a Camera,
    /// CSS pixels.
    pub width: f64,
    pub height: f64,
    /// Device pixels per CSS pixel.
    pub dpr: f64,
    pub tree: &'a SceneTree,
    pub drawables: &'a Drawables,
    pub selection: &'a [NodeId],
    pub peers: &'a [Peer],
    /// Wire icons (lines, drawn with depth).
    pub icons: &'a Strokes,
    /// The gizmo (drawn on top).
    pub overlay: &'a Strokes,
}

/// What a frame cost, for the performance view and the benchmarks.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Stats {
    pub draw_calls: u32,
    /// Mesh instances drawn (after culling), ghosts and outlines included.
    pub instances: usize,
    pub triangles: usize,
    /// Floats of instance data sent to the GPU this frame.
    pub uploaded: usize,
}

/// A run of instances of one geometry in the stream buffer.
struct Run {
    geometry: usize,
    first: usize,
    count: usize,
}

pub struct Renderer {
    gl: Gl,
    mesh: Program,
    flat: Program,
    colored: Program,
    grid: grid::Grid,
    outline: outline::Outline,
    geometries: Vec<Geometry>,
    batches: Batches,
    stream: GrowBuffer,
    strokes: GrowBuffer,
    strokes_vao: WebGlVertexArrayObject,
    empty_vao: WebGlVertexArrayObject,
    scratch: Vec<f32>,
    hovered: Option<NodeId>,
    lights: lights::Lights,
    /// The geometry number of each stored mesh uploaded.
    mesh_keys: HashMap<MeshId, GeometryKey>,
    next_mesh_key: u32,
}

const MESH_UNIFORMS: [&str; 12] = [
    "u_view_projection",
    "u_eye",
    "u_forward",
    "u_orthographic",
    "u_light_count",
    "u_light_a",
    "u_light_b",
    "u_light_c",
    "u_sky",
    "u_ground",
    "u_tint",
    "u_color",
];

impl Renderer {
    pub fn new(gl: Gl) -> Result<Renderer, GlError> {
        let mesh = Program::new(&gl, shaders::MESH_VERTEX, shaders::MESH_FRAGMENT, &MESH_UNIFORMS)?;
        let flat = Program::new(&gl, shaders::MESH_VERTEX, shaders::FLAT_FRAGMENT, &["u_view_projection", "u_color"])?;
        let colored = Program::new(&gl, shaders::COLORED_VERTEX, shaders::COLORED_FRAGMENT, &["u_view_projection"])?;
        let kinds = [PrimitiveKind::Box, PrimitiveKind::Sphere, PrimitiveKind::Cylinder, PrimitiveKind::Plane];
        let geometries = kinds.into_iter().map(|kind| Geometry::primitive(&gl, kind)).collect::<Result<Vec<_>, _>>()?;
        let strokes = GrowBuffer::new(&gl, Gl::ARRAY_BUFFER)?;
        let strokes_vao = gl.create_vertex_array().ok_or(GlError::Create("vertex array"))?;
        gl.bind_vertex_array(Some(&strokes_vao));
        gl.bind_buffer(Gl::ARRAY_BUFFER, Some(&strokes.buffer));
        let stride = (VERTEX_FLOATS * 4) as i32;
        gl.enable_vertex_attrib_array(0);
        gl.vertex_attrib_pointer_with_i32(0, 3, Gl::FLOAT, false, stride, 0);
        gl.enable_vertex_attrib_array(1);
        gl.vertex_attrib_pointer_with_i32(1, 4, Gl::FLOAT, false, stride, 12);
        gl.bind_vertex_array(None);
        let empty_vao = gl.create_vertex_array().ok_or(GlError::Create("vertex array"))?;
        Ok(Renderer {
            grid: grid::Grid::new(&gl)?,
            outline: outline::Outline::new(&gl)?,
            batches: Batches::new(&gl),
            stream: GrowBuffer::new(&gl, Gl::ARRAY_BUFFER)?,
            mesh,
            flat,
            colored,
            geometries,
            strokes,
            strokes_vao,
            empty_vao,
            scratch: Vec::new(),
            hovered: None,
            lights: lights::Lights::default(),
            mesh_keys: HashMap::new(),
            next_mesh_key: 0,
            gl,
        })
    }

    /// The geometry a shape draws, uploading a stored mesh the first time; `None` if the GPU
    /// refused it.
    fn key_of(&mut self, shape: &Shape) -> Option<GeometryKey> {
        match shape {
            Shape::Primitive(p) => Some(GeometryKey::Primitive(p.kind())),
            Shape::Mesh(m) => {
                if let Some(key) = self.mesh_keys.get(&m.id) {
                    return Some(*key);
                }
                self.next_mesh_key += 1;
                let key = GeometryKey::Mesh(self.next_mesh_key);
                let geometry = Geometry::from_mesh(&self.gl, key, &m.mesh).ok()?;
                self.geometries.push(geometry);
                self.mesh_keys.insert(m.id.clone(), key);
                Some(key)
            }
        }
    }

    /// Frees the GPU copies of stored meshes no drawn node uses any more (after a structural
    /// change: a deleted import's geometry leaves the GPU too).
    pub fn release_unused_meshes(&mut self) {
        let used: HashSet<GeometryKey> = self.batches.list.iter().filter(|b| b.len() > 0).map(|b| b.key).collect();
        let unused: Vec<MeshId> = self.mesh_keys.iter().filter(|(_, key)| !used.contains(key)).map(|(id, _)| id.clone()).collect();
        for id in unused {
            let Some(key) = self.mesh_keys.remove(&id) else { continue };
            if let Some(at) = self.geometries.iter().position(|g| g.key == key) {
                self.geometries.remove(at).delete(&self.gl);
            }
            self.batches.forget(key);
        }
    }

    /// Takes in what changed: the named nodes' instances are rebuilt (or all of them), and
    /// the hovered node's highlight moves.
    pub fn sync(&mut self, drawables: &Drawables, dirty: Dirty, hovered: Option<&NodeId>) {
        let mut ids: HashSet<NodeId> = dirty.ids;
        if dirty.all {
            self.batches.clear();
            ids = drawables.iter().map(|(id, _)| id.clone()).collect();
        }
        if self.hovered.as_ref() != hovered {
            ids.extend(self.hovered.take());
            ids.extend(hovered.cloned());
            self.hovered = hovered.cloned();
        }
        for id in &ids {
            let highlight = if self.hovered.as_ref() == Some(id) { 1.0 } else { 0.0 };
            let instance = drawables.get(id).filter(|d| d.shown).and_then(|d| {
                let key = self.key_of(d.shape.as_ref()?)?;
                instances::instance(d, &d.world, highlight, key)
            });
            self.batches.set(id, instance);
        }
        self.lights.refresh(drawables, &ids, dirty.all);
        if dirty.all {
            self.release_unused_meshes();
        }
    }

    /// Draws a frame.
    pub fn draw(&mut self, frame: &Frame) -> Stats {
        let gl = self.gl.clone();
        let mut stats = Stats { uploaded: self.batches.upload(&gl), ..Stats::default() };
        let (pw, ph) = ((frame.width * frame.dpr).round().max(1.0) as i32, (frame.height * frame.dpr).round().max(1.0) as i32);
        let view_projection = frame.camera.view_projection(frame.width, frame.height);
        let vp = mat4::to_f32(&view_projection);
        let frustum = Frustum::of(&view_projection);

        // Instances that go through the stream: culled opaque runs, transparent and ghost
        // runs sorted back to front, the selection masks.
        self.scratch.clear();
        let opaque = self.cull_opaque(&frustum);
        let transparent = self.sorted_transparent(&frustum);
        let ghosts = self.ghosts(frame);
        let masks = self.masks(frame);
        self.stream.fill_f32(&gl, &self.scratch);
        stats.uploaded += self.scratch.len();

        gl.bind_framebuffer(Gl::FRAMEBUFFER, None);
        gl.viewport(0, 0, pw, ph);
        gl.clear_color(BACKGROUND[0], BACKGROUND[1], BACKGROUND[2], 1.0);
        gl.depth_mask(true);
        gl.clear(Gl::COLOR_BUFFER_BIT | Gl::DEPTH_BUFFER_BIT);
        gl.enable(Gl::DEPTH_TEST);
        gl.depth_func(Gl::LEQUAL);
        gl.disable(Gl::CULL_FACE);
        gl.disable(Gl::BLEND);
        gl.blend_func(Gl::SRC_ALPHA, Gl::ONE_MINUS_SRC_ALPHA);

        self.use_mesh_program(frame, &vp, [0.0; 4]);
        for (batch, runs) in opaque {
            // Closed shapes skip their far sides (a third or more of the triangles a software
            // rasteriser sets up); a mirrored batch's front faces wind clockwise.
            let b = &self.batches.list[batch];
            if b.key.closed() {
                gl.enable(Gl::CULL_FACE);
                gl.front_face(if b.mirrored { Gl::CW } else { Gl::CCW });
            } else {
                gl.disable(Gl::CULL_FACE);
            }
            match runs {
                None => {
                    let b = &self.batches.list[batch];
                    self.draw_geometry(b.key, &b.gpu.buffer, 0, b.len(), &mut stats);
                }
                Some(run) => self.draw_run(&run, &mut stats),
            }
        }

        gl.disable(Gl::CULL_FACE);
        gl.front_face(Gl::CCW);
        gl.enable(Gl::BLEND);
        gl.depth_mask(false);
        self.grid.draw(&gl, &self.empty_vao, frame.camera, &vp, frame.width / frame.height.max(1.0));
        stats.draw_calls += 1;
        self.draw_strokes(&frame.icons.lines, Gl::LINES, &vp, &mut stats);

        self.use_mesh_program(frame, &vp, [0.0; 4]);
        for run in &transparent {
            self.draw_run(run, &mut stats);
        }
        for (tint, runs) in &ghosts {
            self.use_mesh_program(frame, &vp, *tint);
            for run in runs {
                self.draw_run(run, &mut stats);
            }
        }

        if !masks.is_empty() {
            if let Some(scissor) = self.outline_masks(frame, &vp, &masks, (pw, ph), &mut stats) {
                self.outline.composite(&gl, &self.empty_vao, scissor, (2.0 * frame.dpr).round().clamp(1.0, 3.0) as f32);
                stats.draw_calls += 1;
            }
        }

        gl.disable(Gl::DEPTH_TEST);
        self.draw_strokes(&frame.overlay.triangles, Gl::TRIANGLES, &vp, &mut stats);
        self.draw_strokes(&frame.overlay.lines, Gl::LINES, &vp, &mut stats);
        gl.depth_mask(true);
        gl.disable(Gl::BLEND);
        stats
    }

    fn use_mesh_program(&self, frame: &Frame, vp: &[f32; 16], tint: [f32; 4]) {
        let gl = &self.gl;
        let p = &self.mesh;
        gl.use_program(Some(&p.program));
        gl.uniform_matrix4fv_with_f32_array(p.at("u_view_projection"), false, vp);
        let (_, _, forward) = frame.camera.basis();
        let eye = frame.camera.eye();
        gl.uniform3f(p.at("u_eye"), eye[0] as f32, eye[1] as f32, eye[2] as f32);
        gl.uniform3f(p.at("u_forward"), forward[0] as f32, forward[1] as f32, forward[2] as f32);
        gl.uniform1f(p.at("u_orthographic"), if frame.camera.projection == Projection::Orthographic { 1.0 } else { 0.0 });
        self.lights.bind(gl, p, frame.drawables, frame.camera);
        gl.uniform4fv_with_f32_array(p.at("u_tint"), &tint);
    }

    fn draw_geometry(&self, key: GeometryKey, buffer: &web_sys::WebGlBuffer, first: usize, count: usize, stats: &mut Stats) {
        let Some(g) = self.geometries.iter().find(|g| g.key == key) else { return };
        if count == 0 {
            return;
        }
        g.draw(&self.gl, buffer, first, count);
        stats.draw_calls += 1;
        stats.instances += count;
        stats.triangles += count * g.triangles;
    }

    fn draw_run(&self, run: &Run, stats: &mut Stats) {
        let key = self.geometries[run.geometry].key;
        self.draw_geometry(key, &self.stream.buffer, run.first, run.count, stats);
    }

    fn draw_strokes(&mut self, vertices: &[f32], mode: u32, vp: &[f32; 16], stats: &mut Stats) {
        if vertices.is_empty() {
            return;
        }
        let gl = &self.gl;
        self.strokes.fill_f32(gl, vertices);
        gl.use_program(Some(&self.colored.program));
        gl.uniform_matrix4fv_with_f32_array(self.colored.at("u_view_projection"), false, vp);
        gl.bind_vertex_array(Some(&self.strokes_vao));
        gl.draw_arrays(mode, 0, (vertices.len() / VERTEX_FLOATS) as i32);
        gl.bind_vertex_array(None);
        stats.draw_calls += 1;
    }
}


impl Drop for Renderer {
    fn drop(&mut self) {
        let gl = &self.gl;
        if gl.is_context_lost() {
            return;
        }
        for g in &self.geometries {
            g.delete(gl);
        }
        for b in &self.batches.list {
            b.gpu.delete(gl);
        }
        self.stream.delete(gl);
        self.strokes.delete(gl);
        gl.delete_vertex_array(Some(&self.strokes_vao));
        gl.delete_vertex_array(Some(&self.empty_vao));
        for p in [&self.mesh, &self.flat, &self.colored] {
            gl.delete_program(Some(&p.program));
        }
        self.grid.delete(gl);
        self.outline.delete(gl);
    }
}
