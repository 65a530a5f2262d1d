//! The frame's stream of instances: what the batches' own buffers cannot draw as they are —
//! the opaque instances left after culling (when some are out of view), the transparent ones
//! sorted back to front, other people's drag ghosts, and the selection masks — copied into
//! one array, uploaded once per frame and drawn as runs of one geometry each.

use shared::scene::NodeId;
use web_sys::WebGl2RenderingContext as Gl;

use super::frustum::Frustum;
use super::icons;
use super::instances::{self, GeometryKey, FLOATS};
use super::strokes::rgba;
use super::{Frame, Renderer, Run, Stats, MAX_GHOSTS};

impl Renderer {
    /// The opaque batches: `None` where every instance is in view (drawn from the batch's
    /// own buffer), else the run of those in view, copied into the stream.
    pub(super) fn cull_opaque(&mut self, frustum: &Frustum) -> Vec<(usize, Option<Run>)> {
        let mut out = Vec::new();
        for (index, b) in self.batches.list.iter().enumerate().filter(|(_, b)| !b.transparent && b.len() > 0) {
            let visible: Vec<usize> = (0..b.len()).filter(|&i| frustum.sees(&b.spheres[i])).collect();
            if visible.len() == b.len() {
                out.push((index, None));
                continue;
            }
            let first = self.scratch.len() / FLOATS;
            for i in &visible {
                self.scratch.extend_from_slice(&b.data[i * FLOATS..(i + 1) * FLOATS]);
            }
            let geometry = self.geometries.iter().position(|g| g.key == b.key).unwrap_or(0);
            out.push((index, Some(Run { geometry, first, count: visible.len() })));
        }
        out
    }

    /// Transparent instances in view, farthest first, as runs of one geometry each.
    pub(super) fn sorted_transparent(&mut self, frustum: &Frustum) -> Vec<Run> {
        let mut items: Vec<(f32, usize, usize)> = Vec::new();
        for (index, b) in self.batches.list.iter().enumerate().filter(|(_, b)| b.transparent) {
            for i in 0..b.len() {
                if frustum.sees(&b.spheres[i]) {
                    items.push((frustum.depth(&b.spheres[i]), index, i));
                }
            }
        }
        shared::order::sort_by(&mut items, |a, b| b.0.total_cmp(&a.0));
        let mut runs: Vec<Run> = Vec::new();
        for (_, batch, i) in items {
            let b = &self.batches.list[batch];
            let geometry = self.geometries.iter().position(|g| g.key == b.key).unwrap_or(0);
            let at = self.scratch.len() / FLOATS;
            self.scratch.extend_from_slice(&b.data[i * FLOATS..(i + 1) * FLOATS]);
            match runs.last_mut() {
                Some(run) if run.geometry == geometry && run.first + run.count == at => run.count += 1,
                _ => runs.push(Run { geometry, first: at, count: 1 }),
            }
        }
        runs
    }

    /// Other people's gestures: their nodes where the gesture puts them, see-through, tinted
    /// in their colour.
    pub(super) fn ghosts(&mut self, frame: &Frame) -> Vec<([f32; 4], Vec<Run>)> {
        let mut out = Vec::new();
        for peer in frame.peers {
            let Some(drag) = &peer.drag else { continue };
            let color = rgba(&peer.color, 0.55);
            let tint = [srgb_to_linear(color[0]), srgb_to_linear(color[1]), srgb_to_linear(color[2]), 0.55];
            let mut runs = Vec::new();
            for (id, world) in frame.drawables.ghosts(frame.tree, drag, MAX_GHOSTS) {
                let Some(d) = frame.drawables.get(&id) else { continue };
                let Some(key) = d.shape.as_ref().and_then(|s| self.key_of(s)) else { continue };
                let Some(mut instance) = instances::instance(d, &world, 0.0, key) else { continue };
                instance.data[24] = 0.45;
                self.push_instance(&mut runs, instance.key, &instance.data);
            }
            out.push((tint, runs));
        }
        out
    }

    /// The selected meshes of each person (mine first), in their colour.
    pub(super) fn masks(&mut self, frame: &Frame) -> Vec<([f32; 4], Vec<Run>)> {
        let mut groups: Vec<([f32; 4], &[NodeId])> = vec![(rgba(icons::SELECTED, 1.0), frame.selection)];
        for peer in frame.peers {
            groups.push((rgba(&peer.color, 1.0), &peer.selection));
        }
        let mut out = Vec::new();
        for (color, ids) in groups {
            let mut runs = Vec::new();
            for id in ids.iter().flat_map(|id| std::iter::once(id.clone()).chain(frame.tree.descendants(id))) {
                let Some(d) = frame.drawables.get(&id).filter(|d| d.shown) else { continue };
                let Some(key) = d.shape.as_ref().and_then(|s| self.key_of(s)) else { continue };
                if let Some(instance) = instances::instance(d, &d.world, 0.0, key) {
                    self.push_instance(&mut runs, instance.key, &instance.data);
                }
            }
            if !runs.is_empty() {
                out.push((color, runs));
            }
        }
        out
    }

    pub(super) fn push_instance(&mut self, runs: &mut Vec<Run>, key: GeometryKey, data: &[f32; FLOATS]) {
        let geometry = self.geometries.iter().position(|g| g.key == key).unwrap_or(0);
        let at = self.scratch.len() / FLOATS;
        self.scratch.extend_from_slice(data);
        match runs.iter_mut().find(|r| r.geometry == geometry && r.first + r.count == at) {
            Some(run) => run.count += 1,
            None => runs.push(Run { geometry, first: at, count: 1 }),
        }
    }

    /// Draws the masks; returns the scissor box around what they cover (device pixels from
    /// the bottom left), `None` when nothing is on screen.
    pub(super) fn outline_masks(
        &mut self,
        frame: &Frame,
        vp: &[f32; 16],
        masks: &[([f32; 4], Vec<Run>)],
        (pw, ph): (i32, i32),
        stats: &mut Stats,
    ) -> Option<(i32, i32, i32, i32)> {
        let gl = self.gl.clone();
        if self.outline.begin_mask(&gl, pw, ph).is_err() {
            return None;
        }
        gl.disable(Gl::DEPTH_TEST);
        gl.disable(Gl::BLEND);
        gl.use_program(Some(&self.flat.program));
        gl.uniform_matrix4fv_with_f32_array(self.flat.at("u_view_projection"), false, vp);
        let mut bounds: Option<(f64, f64, f64, f64)> = None;
        for (color, runs) in masks {
            gl.uniform4fv_with_f32_array(self.flat.at("u_color"), color);
            for run in runs {
                self.draw_run(run, stats);
                for i in run.first..run.first + run.count {
                    let s = &self.scratch[i * FLOATS..];
                    // The instance's bounding box corners on screen: its centre ± the columns.
                    for corner in 0..8 {
                        // ±1 holds every unit geometry (a unit sphere reaches 1).
                        let sign = |bit: usize| if corner & bit == 0 { -1.0 } else { 1.0 };
                        let p = [0, 1, 2].map(|r| {
                            let row = &s[r * 4..r * 4 + 4];
                            f64::from(row[3]) + f64::from(row[0]) * sign(1) + f64::from(row[1]) * sign(2) + f64::from(row[2]) * sign(4)
                        });
                        if let Some((x, y, _)) = frame.camera.screen_position(p, frame.width, frame.height) {
                            bounds = Some(bounds.map_or((x, y, x, y), |(a, b, c, d)| (a.min(x), b.min(y), c.max(x), d.max(y))));
                        } else {
                            // Partly behind the eye: outline the whole view.
                            bounds = Some((0.0, 0.0, frame.width, frame.height));
                        }
                    }
                }
            }
        }
        gl.enable(Gl::BLEND);
        let (x0, y0, x1, y1) = bounds?;
        let margin = 4.0;
        let to_px = |v: f64| (v * frame.dpr).round() as i32;
        let (left, right) = (to_px(x0 - margin).clamp(0, pw), to_px(x1 + margin).clamp(0, pw));
        let (top, bottom) = (to_px(y0 - margin).clamp(0, ph), to_px(y1 + margin).clamp(0, ph));
        (right > left && bottom > top).then_some((left, ph - bottom, right - left, bottom - top))
    }

}

fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}
