//! Scene jobs: long-running work on the scene (a ray-traced preview, a scene check, a glTF
//! export) that one browser runs and every collaborator follows live, through the document.
//!
//! - [`model`]: what a job is (kind, state, phase, progress, timings, result) and the typed
//!   values stored for it.
//! - [`store`]: the `jobs` root map of the scene document (layout in `docs/scene-schema.md`):
//!   starting or queueing, progress, cancel requests, finishing, the runner timeout, pruning
//!   old jobs.
//! - [`queue`]: the order a runner takes its queued jobs in (one job at a time per client).
//!   Writes use their own transaction origin ([`JOBS_ORIGIN`]), never the editor's, and `jobs`
//!   is not one of the scene's undo roots, so job traffic never lands in anyone's undo stack.
//! - [`throttle`]: at most a few progress writes a second, so a render does not flood the room.
//! - [`render`]: the ray tracer (tile by tile; boxes, spheres, cylinders, planes; point,
//!   directional and spot lights; base colour, roughness, metalness; shadows).
//! - [`check`]: the scene check ("render prep"), phase by phase, reporting what the raw data
//!   holds (orphans, cycles, zero scale, missing materials, overlapping objects).
//!
//! Everything here is plain Rust over a yrs document, for the browser (main thread and Web
//! Worker) and native tests alike.

pub mod check;
pub mod model;
pub mod queue;
pub mod render;
pub mod space;
pub mod store;
pub mod throttle;

pub use model::{Finding, FindingKind, Job, JobKind, JobState, PhaseTiming};
pub use store::{Jobs, NewJob, Outcome, Report};
pub use throttle::Throttle;

/// Name of the root map holding the jobs.
pub const JOBS: &str = "jobs";

/// Transaction origin of job writes (not the editor's undo origin).
pub const JOBS_ORIGIN: &str = "jobs";

/// Finished jobs kept in the document (the most recent ones); older ones are pruned.
pub const KEEP_FINISHED: usize = 20;

/// A queued or running job whose heartbeat has not changed for this long is failed by any
/// collaborator.
pub const HEARTBEAT_STALE_MS: f64 = 10_000.0;

/// The runner writes its heartbeat at least this often while a job runs or waits in its queue.
pub const HEARTBEAT_EVERY_MS: f64 = 1_000.0;
