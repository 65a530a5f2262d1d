//! The scene's shapes as geometry, in one place so the viewport, picking, the ray tracer, the
//! scene check and the glTF export agree on what a box is:
//!
//! - [`primitives`]: the triangle meshes of the primitives (what the viewport draws and the
//!   exporter writes);
//! - [`hit`]: rays against the primitives in their local space (picking and the ray tracer);
//! - [`bounds`]: axis-aligned bounds, local and through a transform (culling, framing,
//!   overlap checks).

pub mod bounds;
pub mod hit;
pub mod primitives;
