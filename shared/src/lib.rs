//! Code shared by the relay, the browser client and the tests.
//!
//! The wire protocol lives in [`protocol`] and nowhere else; the scene model lives in
//! [`scene`] and nowhere else; the 3D maths (vectors, rotations, transforms, colour) lives in
//! [`math`] and nowhere else. All compile for native targets and for `wasm32-unknown-unknown`.

pub mod close;
pub mod geometry;
/// Property checks for the fuzz targets and the corpus replay; they panic by design.
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod interchange;
pub mod jobs;
pub mod math;
pub mod order;
pub mod protocol;
pub mod revert;
pub mod role;
pub mod room_name;
pub mod scene;
