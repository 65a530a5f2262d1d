//! The shared geometries on the GPU (one per [`GeometryKey`]), and drawing a run of
//! instances of one of them: the vertex array holds the geometry's attributes; the instance
//! attributes are pointed at whichever buffer and offset holds the run (a batch's own
//! buffer, or the frame's stream of culled, sorted or ghost instances).

use shared::geometry::primitives::{mesh_with, Detail};
use shared::geometry::trimesh::TriMesh;
use shared::scene::PrimitiveKind;
use web_sys::{WebGl2RenderingContext as Gl, WebGlBuffer, WebGlVertexArrayObject};

use super::super::gl::GlError;
use super::instances::{unit_primitive, GeometryKey, FLOATS};

pub struct Geometry {
    pub key: GeometryKey,
    vao: WebGlVertexArrayObject,
    vertices: WebGlBuffer,
    indices: WebGlBuffer,
    pub index_count: i32,
    pub triangles: usize,
}

impl Geometry {
    /// The unit geometry of a primitive kind.
    pub fn primitive(gl: &Gl, kind: PrimitiveKind) -> Result<Geometry, GlError> {
        Geometry::from_mesh(gl, GeometryKey::Primitive(kind), &mesh_with(&unit_primitive(kind), Detail::VIEWPORT))
    }

    /// A triangle mesh (with normals).
    pub fn from_mesh(gl: &Gl, key: GeometryKey, mesh: &TriMesh) -> Result<Geometry, GlError> {
        let vao = gl.create_vertex_array().ok_or(GlError::Create("vertex array"))?;
        let vertices = gl.create_buffer().ok_or(GlError::Create("buffer"))?;
        let indices = gl.create_buffer().ok_or(GlError::Create("buffer"))?;
        let computed;
        let normals = if mesh.normals.len() == mesh.positions.len() {
            &mesh.normals
        } else {
            computed = mesh.computed_normals();
            &computed
        };
        let interleaved: Vec<f32> = mesh.positions.iter().zip(normals).flat_map(|(p, n)| [p[0], p[1], p[2], n[0], n[1], n[2]]).collect();
        gl.bind_vertex_array(Some(&vao));
        gl.bind_buffer(Gl::ARRAY_BUFFER, Some(&vertices));
        gl.buffer_data_with_u8_array(Gl::ARRAY_BUFFER, bytemuck::cast_slice(&interleaved), Gl::STATIC_DRAW);
        gl.enable_vertex_attrib_array(0);
        gl.vertex_attrib_pointer_with_i32(0, 3, Gl::FLOAT, false, 24, 0);
        gl.enable_vertex_attrib_array(1);
        gl.vertex_attrib_pointer_with_i32(1, 3, Gl::FLOAT, false, 24, 12);
        gl.bind_buffer(Gl::ELEMENT_ARRAY_BUFFER, Some(&indices));
        gl.buffer_data_with_u8_array(Gl::ELEMENT_ARRAY_BUFFER, bytemuck::cast_slice(&mesh.indices), Gl::STATIC_DRAW);
        for location in 2..=9 {
            gl.enable_vertex_attrib_array(location);
            gl.vertex_attrib_divisor(location, 1);
        }
        gl.bind_vertex_array(None);
        Ok(Geometry { key, vao, vertices, indices, index_count: mesh.indices.len() as i32, triangles: mesh.indices.len() / 3 })
    }

    /// Draws `count` instances whose data starts at instance `first` of `buffer`.
    pub fn draw(&self, gl: &Gl, buffer: &WebGlBuffer, first: usize, count: usize) {
        if count == 0 {
            return;
        }
        gl.bind_vertex_array(Some(&self.vao));
        gl.bind_buffer(Gl::ARRAY_BUFFER, Some(buffer));
        let stride = (FLOATS * 4) as i32;
        let base = (first * FLOATS * 4) as i32;
        // (location, floats, offset in floats): model rows, normal rows, colour, params.
        let layout: [(u32, i32, i32); 8] = [(2, 4, 0), (3, 4, 4), (4, 4, 8), (5, 3, 12), (6, 3, 15), (7, 3, 18), (8, 4, 21), (9, 3, 25)];
        for (location, size, offset) in layout {
            gl.vertex_attrib_pointer_with_i32(location, size, Gl::FLOAT, false, stride, base + offset * 4);
        }
        gl.draw_elements_instanced_with_i32(Gl::TRIANGLES, self.index_count, Gl::UNSIGNED_INT, 0, count as i32);
        gl.bind_vertex_array(None);
    }

    pub fn delete(&self, gl: &Gl) {
        gl.delete_vertex_array(Some(&self.vao));
        gl.delete_buffer(Some(&self.vertices));
        gl.delete_buffer(Some(&self.indices));
    }
}
