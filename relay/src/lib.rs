//! The relay as a library, so integration tests and load generators can start it in-process
//! on a free port exactly as the `relay` binary does.

pub mod admission;
pub mod api;
pub mod app;
pub mod auth;
pub mod backend;
pub mod blobs;
pub mod cli;
pub mod close_reason;
pub mod cluster;
pub mod compaction;
pub mod connection;
/// Property checks for the fuzz targets and the corpus replay; they panic by design.
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod handshake;
pub mod logging;
pub mod outbound;
pub mod room;
pub mod rooms;
pub mod server;
pub mod stats;
pub mod store;
pub mod telemetry;
