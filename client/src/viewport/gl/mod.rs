//! The little of WebGL2 the renderer needs, over `web-sys` directly: getting the context,
//! compiling and linking programs, buffers that grow, and the error type for all of it.
//!
//! Why not a library: `glow` would add a portability layer the browser-only client never
//! uses, and renderer crates (three-d, wgpu) bring their own scene graph, asset pipeline and
//! hundreds of kilobytes of wasm, against a download budget of 120 KB gzipped for the whole
//! 3D viewport. What is specific here (instancing from the live scene, the outline, the
//! gizmos) would be written by hand either way.

pub mod shaders;

use std::fmt;

use wasm_bindgen::JsCast;
use web_sys::{HtmlCanvasElement, WebGl2RenderingContext as Gl, WebGlBuffer, WebGlProgram, WebGlShader, WebGlUniformLocation};

/// What can go wrong setting up the GPU side.
#[derive(Debug, Clone, PartialEq)]
pub enum GlError {
    /// The browser gave no WebGL2 context (none at all, or the context is lost).
    NoContext,
    /// A shader did not compile (the driver's log).
    Compile(String),
    /// A program did not link (the driver's log).
    Link(String),
    /// The driver refused to create an object (usually: the context was lost meanwhile).
    Create(&'static str),
    /// The offscreen target for outlines is incomplete.
    Framebuffer(u32),
}

impl fmt::Display for GlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GlError::NoContext => f.write_str("this browser gave no WebGL2 context"),
            GlError::Compile(log) => write!(f, "a shader did not compile: {log}"),
            GlError::Link(log) => write!(f, "a shader program did not link: {log}"),
            GlError::Create(what) => write!(f, "the GPU refused to create a {what}"),
            GlError::Framebuffer(status) => write!(f, "the outline target is incomplete (status {status:#x})"),
        }
    }
}

/// The WebGL2 context of a canvas: antialiased, with the drawn picture kept after it is
/// shown (so the PNG download, `readPixels` in tests and screenshots see what the user sees).
pub fn context(canvas: &HtmlCanvasElement) -> Result<Gl, GlError> {
    let options = web_sys::WebGlContextAttributes::new();
    options.set_antialias(true);
    options.set_alpha(false);
    options.set_preserve_drawing_buffer(true);
    options.set_premultiplied_alpha(false);
    let context = canvas.get_context_with_context_options("webgl2", &options).ok().flatten().ok_or(GlError::NoContext)?;
    context.dyn_into::<Gl>().map_err(|_| GlError::NoContext)
}

fn shader(gl: &Gl, kind: u32, source: &str) -> Result<WebGlShader, GlError> {
    let shader = gl.create_shader(kind).ok_or(GlError::Create("shader"))?;
    gl.shader_source(&shader, source);
    gl.compile_shader(&shader);
    if gl.get_shader_parameter(&shader, Gl::COMPILE_STATUS).as_bool() == Some(true) {
        Ok(shader)
    } else {
        let log = gl.get_shader_info_log(&shader).unwrap_or_default();
        gl.delete_shader(Some(&shader));
        Err(GlError::Compile(log))
    }
}

/// A linked program and the uniforms it uses, looked up once.
pub struct Program {
    pub program: WebGlProgram,
    uniforms: Vec<(&'static str, Option<WebGlUniformLocation>)>,
}

impl Program {
    /// Compiles and links; attribute locations are fixed in the sources (`layout(location)`).
    pub fn new(gl: &Gl, vertex: &str, fragment: &str, uniforms: &[&'static str]) -> Result<Program, GlError> {
        let (vs, fs) = (shader(gl, Gl::VERTEX_SHADER, vertex)?, shader(gl, Gl::FRAGMENT_SHADER, fragment)?);
        let program = gl.create_program().ok_or(GlError::Create("program"))?;
        gl.attach_shader(&program, &vs);
        gl.attach_shader(&program, &fs);
        gl.link_program(&program);
        gl.delete_shader(Some(&vs));
        gl.delete_shader(Some(&fs));
        if gl.get_program_parameter(&program, Gl::LINK_STATUS).as_bool() != Some(true) {
            let log = gl.get_program_info_log(&program).unwrap_or_default();
            gl.delete_program(Some(&program));
            return Err(GlError::Link(log));
        }
        let uniforms = uniforms.iter().map(|name| (*name, gl.get_uniform_location(&program, name))).collect();
        Ok(Program { program, uniforms })
    }

    /// A uniform's location (`None`: not in the program, or optimised away; setting it is
    /// then a no-op, as WebGL allows).
    pub fn at(&self, name: &str) -> Option<&WebGlUniformLocation> {
        self.uniforms.iter().find(|(n, _)| *n == name).and_then(|(_, at)| at.as_ref())
    }
}

/// A GPU buffer that grows to what is put in it (doubling, so refills rarely reallocate).
pub struct GrowBuffer {
    pub buffer: WebGlBuffer,
    target: u32,
    capacity: usize,
}

impl GrowBuffer {
    pub fn new(gl: &Gl, target: u32) -> Result<GrowBuffer, GlError> {
        Ok(GrowBuffer { buffer: gl.create_buffer().ok_or(GlError::Create("buffer"))?, target, capacity: 0 })
    }

    /// Replaces the contents with `data` (bound afterwards).
    pub fn fill_f32(&mut self, gl: &Gl, data: &[f32]) {
        self.reserve(gl, data.len() * 4);
        gl.buffer_sub_data_with_i32_and_u8_array(self.target, 0, bytemuck::cast_slice(data));
    }

    /// Writes `data` at float offset `at` (the buffer must already be that large).
    pub fn write_f32(&self, gl: &Gl, at: usize, data: &[f32]) {
        gl.bind_buffer(self.target, Some(&self.buffer));
        gl.buffer_sub_data_with_i32_and_u8_array(self.target, (at * 4) as i32, bytemuck::cast_slice(data));
    }

    /// Makes room for `bytes` (contents are lost when it grows) and binds the buffer.
    pub fn reserve(&mut self, gl: &Gl, bytes: usize) -> bool {
        gl.bind_buffer(self.target, Some(&self.buffer));
        if bytes <= self.capacity {
            return false;
        }
        self.capacity = bytes.next_power_of_two().max(1024);
        gl.buffer_data_with_i32(self.target, self.capacity as i32, Gl::DYNAMIC_DRAW);
        true
    }

    pub fn delete(&self, gl: &Gl) {
        gl.delete_buffer(Some(&self.buffer));
    }
}

