//! The scene's shapes as geometry, in one place so the viewport, picking, the ray tracer, the
//! scene check and the glTF export agree on what a box is:
//!
//! - [`primitives`]: the triangle meshes of the primitives (what the viewport draws and the
//!   exporter writes);
//! - [`hit`]: rays against the primitives in their local space (picking and the ray tracer);
//! - [`bounds`]: axis-aligned bounds, local and through a transform (culling, framing,
//!   overlap checks);
//! - [`trimesh`]: triangle meshes as the scene stores them (layout, content address, checks);
//! - [`bvh`]: the bounding volume hierarchy that makes rays against big meshes cheap;
//! - [`shape`]: a primitive or a loaded mesh, behind one intersection and bounds call.

pub mod bounds;
pub mod bvh;
pub mod hit;
pub mod primitives;
pub mod shape;
pub mod trimesh;
