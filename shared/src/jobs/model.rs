//! The typed values of a job as read from the document, and the strings they are stored as.

use serde::{Deserialize, Serialize};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// Ray-trace a preview image (result: a PNG blob).
    Render,
    /// The scene check (result: a list of findings).
    Check,
    /// Export the scene as glTF binary (result: a .glb blob).
    Export,
}

impl JobKind {
    pub const ALL: [JobKind; 3] = [JobKind::Render, JobKind::Check, JobKind::Export];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Render => "render",
            JobKind::Check => "check",
            JobKind::Export => "export",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "render" => JobKind::Render,
            "check" => JobKind::Check,
            "export" => JobKind::Export,
            _ => return None,
        })
    }

    /// What the UI calls it.
    pub fn label(self) -> &'static str {
        match self {
            JobKind::Render => "Render preview",
            JobKind::Check => "Scene check",
            JobKind::Export => "Export .glb",
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            _ => return None,
        })
    }

    /// Done, failed or cancelled: nothing will change it any more.
    pub fn is_finished(self) -> bool {
        matches!(self, JobState::Done | JobState::Failed | JobState::Cancelled)
    }
}

/// How long one phase took (stored as JSON under `timings`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseTiming {
    pub phase: String,
    pub ms: f64,
}

/// What the scene check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// `parent` names a node that does not exist.
    Orphan,
    /// The node is part of a cycle of stored parents.
    Cycle,
    /// A scale component is zero: the object is flat or invisible.
    ZeroScale,
    /// A mesh without its material keys (it renders with the default material).
    MissingMaterial,
    /// Two meshes whose world bounding boxes overlap.
    Overlap,
    /// A triangle mesh with triangles of no area (repeated or collinear corners).
    DegenerateTriangles,
    /// A triangle mesh stored without normals (they are computed from the triangles).
    MissingNormals,
    /// A node names a triangle mesh that is missing or damaged (it draws its stand-in box).
    BadMesh,
}

impl FindingKind {
    pub fn label(self) -> &'static str {
        match self {
            FindingKind::Orphan => "Orphan",
            FindingKind::Cycle => "Cycle",
            FindingKind::ZeroScale => "Zero scale",
            FindingKind::MissingMaterial => "Missing material",
            FindingKind::Overlap => "Overlap",
            FindingKind::DegenerateTriangles => "Degenerate triangles",
            FindingKind::MissingNormals => "No normals",
            FindingKind::BadMesh => "Bad mesh",
        }
    }
}

/// One finding of the scene check: the offending node ids (one, or two for an overlap, or
/// the whole cycle) and a sentence for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub nodes: Vec<String>,
    pub message: String,
}

/// A job as read from the document. Missing or malformed values read as defaults.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Job {
    pub id: String,
    /// `None` for a kind this version does not know.
    pub kind: Option<JobKind>,
    pub started_by: String,
    pub started_by_client: u64,
    /// The client running it.
    pub runner: u64,
    /// `None` for a state this version does not know (treated as finished).
    pub state: Option<JobState>,
    pub phase: String,
    /// 0..=100.
    pub progress: f64,
    /// Seconds left, when known.
    pub eta_secs: Option<f64>,
    pub created_ms: f64,
    /// When it began running (`None` while queued, and for a job that never ran).
    pub started_ms: Option<f64>,
    pub heartbeat_ms: f64,
    pub finished_ms: Option<f64>,
    pub timings: Vec<PhaseTiming>,
    /// Render / export: the blob id of the PNG / .glb on the relay.
    pub blob: Option<String>,
    /// A note on the result (e.g. the image size, or why there is no blob).
    pub note: Option<String>,
    /// Check: the report.
    pub findings: Vec<Finding>,
    pub error: Option<String>,
    /// Someone asked to cancel (the runner stops and marks it cancelled).
    pub cancel_requested: bool,
    pub cancelled_by: Option<String>,
}

impl Job {
    /// Still queued or running (an unknown state counts as finished).
    pub fn is_active(&self) -> bool {
        self.state.is_some_and(|s| !s.is_finished())
    }

    /// Waiting for its runner to finish the jobs before it.
    pub fn is_queued(&self) -> bool {
        self.state == Some(JobState::Queued)
    }
}
