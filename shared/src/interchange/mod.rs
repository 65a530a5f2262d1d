//! Getting scenes in and out of the editor: glTF 2.0 export (.glb) and import (.gltf with
//! embedded data, or .glb), and the editor's own versioned scene JSON ("Save as JSON" /
//! "Open JSON"). Library code the browser client calls; it builds for wasm32 too.
//!
//! - [`export_glb`] reads the resolved tree and writes one binary glTF file.
//! - [`import_gltf`] treats the file as hostile input: every length and index is checked, the
//!   node graph must be a forest, counts are capped ([`MAX_NODES`]); it plans everything
//!   before writing, then writes all nodes in the caller's transaction (one undo step).
//!   Meshes become the primitive that fits them best ([`fit`] has the heuristic).
//! - [`save_scene_json`] / [`open_scene_json`]: every node with every field, in a stable
//!   documented format ([`SCENE_JSON_FORMAT`], [`SCENE_JSON_VERSION`]).
//!
//! The mapping to and from glTF is documented in `docs/scene-schema.md` ("glTF and JSON").

mod error;
mod export;
mod fit;
mod import;
mod json;
mod source;
mod store;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod gltf_tests;
#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod json_tests;


pub use error::{ExportError, ImportError, ImportWarning, SceneJsonError};
pub use export::{export_glb, CAMERA_YFOV};
pub use fit::TOLERANCE as FIT_TOLERANCE;
pub use import::{import_gltf, ImportSummary};
pub use json::{open_scene_json, save_scene_json, JsonNode, OpenMode, SceneJson, SCENE_JSON_FORMAT, SCENE_JSON_VERSION};

/// The most nodes an import or an opened scene JSON may hold.
pub const MAX_NODES: usize = 100_000;
/// Most bytes of triangle meshes one import may add to the document: what one edit can carry
/// through a relay with its default 16 MiB frame limit, with room to spare.
pub const MAX_MESH_BYTES: usize = 12 * 1024 * 1024;

/// Passes fractions to a caller's progress callback: never decreasing, clamped to 0..=1,
/// at most about a hundred calls, and exactly 1.0 once at the end.
struct Progress<F: FnMut(f32)> {
    callback: F,
    last: f32,
}

impl<F: FnMut(f32)> Progress<F> {
    fn new(mut callback: F) -> Self {
        callback(0.0);
        Progress { callback, last: 0.0 }
    }

    fn report(&mut self, fraction: f32) {
        let fraction = if fraction.is_nan() { 0.0 } else { fraction.clamp(0.0, 1.0) };
        if fraction >= 1.0 && self.last < 1.0 || fraction >= self.last + 0.01 && fraction < 1.0 {
            self.last = fraction;
            (self.callback)(fraction);
        }
    }
}
