//! Selection outlines: the selected meshes (mine and each peer's, each in its colour) are
//! drawn flat into an offscreen mask, then one full-screen pass, limited by a scissor to
//! where the selection is, draws the mask's edge over the picture. Without depth, so a
//! selected object behind another still shows its outline.

use web_sys::{WebGl2RenderingContext as Gl, WebGlFramebuffer, WebGlTexture, WebGlVertexArrayObject};

use super::super::gl::{shaders, GlError, Program};

pub struct Outline {
    program: Program,
    framebuffer: WebGlFramebuffer,
    texture: WebGlTexture,
    size: (i32, i32),
}

impl Outline {
    pub fn new(gl: &Gl) -> Result<Outline, GlError> {
        let program = Program::new(gl, shaders::FULLSCREEN_VERTEX, shaders::OUTLINE_FRAGMENT, &["u_mask", "u_width"])?;
        let framebuffer = gl.create_framebuffer().ok_or(GlError::Create("framebuffer"))?;
        let texture = gl.create_texture().ok_or(GlError::Create("texture"))?;
        Ok(Outline { program, framebuffer, texture, size: (0, 0) })
    }

    /// Binds the mask as the target, sized to the canvas, cleared.
    pub fn begin_mask(&mut self, gl: &Gl, width: i32, height: i32) -> Result<(), GlError> {
        gl.bind_framebuffer(Gl::FRAMEBUFFER, Some(&self.framebuffer));
        if self.size != (width, height) {
            gl.bind_texture(Gl::TEXTURE_2D, Some(&self.texture));
            gl.tex_image_2d_with_i32_and_i32_and_i32_and_format_and_type_and_opt_u8_array(
                Gl::TEXTURE_2D,
                0,
                Gl::RGBA8 as i32,
                width,
                height,
                0,
                Gl::RGBA,
                Gl::UNSIGNED_BYTE,
                None,
            )
            .map_err(|_| GlError::Create("outline texture"))?;
            for (name, value) in [(Gl::TEXTURE_MIN_FILTER, Gl::NEAREST), (Gl::TEXTURE_MAG_FILTER, Gl::NEAREST)] {
                gl.tex_parameteri(Gl::TEXTURE_2D, name, value as i32);
            }
            gl.framebuffer_texture_2d(Gl::FRAMEBUFFER, Gl::COLOR_ATTACHMENT0, Gl::TEXTURE_2D, Some(&self.texture), 0);
            let status = gl.check_framebuffer_status(Gl::FRAMEBUFFER);
            if status != Gl::FRAMEBUFFER_COMPLETE {
                gl.bind_framebuffer(Gl::FRAMEBUFFER, None);
                return Err(GlError::Framebuffer(status));
            }
            self.size = (width, height);
        }
        gl.viewport(0, 0, width, height);
        gl.clear_color(0.0, 0.0, 0.0, 0.0);
        gl.clear(Gl::COLOR_BUFFER_BIT);
        Ok(())
    }

    /// Draws the mask's edges over the canvas within `scissor` (x, y, w, h in pixels from
    /// the bottom left), `width` pixels wide.
    pub fn composite(&self, gl: &Gl, empty: &WebGlVertexArrayObject, scissor: (i32, i32, i32, i32), width: f32) {
        gl.bind_framebuffer(Gl::FRAMEBUFFER, None);
        gl.viewport(0, 0, self.size.0, self.size.1);
        gl.use_program(Some(&self.program.program));
        gl.active_texture(Gl::TEXTURE0);
        gl.bind_texture(Gl::TEXTURE_2D, Some(&self.texture));
        gl.uniform1i(self.program.at("u_mask"), 0);
        gl.uniform1f(self.program.at("u_width"), width);
        gl.enable(Gl::SCISSOR_TEST);
        gl.scissor(scissor.0, scissor.1, scissor.2, scissor.3);
        gl.disable(Gl::DEPTH_TEST);
        gl.enable(Gl::BLEND);
        gl.bind_vertex_array(Some(empty));
        gl.draw_arrays(Gl::TRIANGLES, 0, 3);
        gl.bind_vertex_array(None);
        gl.disable(Gl::SCISSOR_TEST);
    }

    pub fn delete(&self, gl: &Gl) {
        gl.delete_framebuffer(Some(&self.framebuffer));
        gl.delete_texture(Some(&self.texture));
        gl.delete_program(Some(&self.program.program));
    }
}
