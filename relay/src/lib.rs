//! The relay as a library: the `relay` binary, the integration tests, the load generators and
//! the fuzz targets start it (or the parts they test) exactly as the binary does. Only what
//! they use is public; ARCHITECTURE.md maps the rest.

// What the binary and the tests start and configure.
pub mod auth;
pub mod backup;
pub mod cli;
pub mod config_file;
pub mod logging;
pub mod server;

// What the tests look inside: the shared state and the rooms in memory, and the stores.
pub mod rooms;
pub mod state;
pub mod store;

/// Property checks for the fuzz targets and the corpus replay; they panic by design.
#[cfg(feature = "fuzzing")]
pub mod fuzzing;

/// Blob ids and the upload limit, for the blob tests.
pub use http::blobs::{blob_id, MAX_BLOB_BYTES};

/// The Redis Cluster slot of a room's keys, for the sharding tests.
pub use cluster::room_slot;

mod admission;
mod backend;
mod close_reason;
mod cluster;
mod compaction;
mod connection;
mod handshake;
mod http;
mod instruments;
mod lifecycle;
mod liveness;
mod outbound;
mod room;
mod shared_socket;
mod stats;
mod telemetry;
