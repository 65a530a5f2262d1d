//! Why an import, export or scene-JSON open was refused, and what an import could not carry
//! over. A refused import or open writes nothing to the document.

use thiserror::Error;

use crate::geometry::trimesh::MeshError;
use crate::scene::NodeId;

/// Why a glTF file was not imported. Nothing was written to the document.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ImportError {
    #[error("not a glTF file: {0}")]
    NotGltf(String),
    #[error("unsupported glTF version {0:?} (only 2.x can be imported)")]
    UnsupportedVersion(String),
    /// The JSON doesn't follow the glTF 2.0 schema (bad index, missing field, unsupported
    /// required extension, ...).
    #[error("invalid glTF: {0}")]
    Invalid(String),
    #[error("buffer {buffer}: {reason}")]
    Buffer { buffer: usize, reason: String },
    #[error("buffer view {view} ends at byte {end}, past the end of buffer {buffer} ({len} bytes)")]
    BufferOutOfRange { view: usize, buffer: usize, end: u64, len: usize },
    #[error("accessor {accessor} needs {needed} bytes, but its buffer view has {available}")]
    AccessorOutOfBounds { accessor: usize, needed: u64, available: usize },
    #[error("accessor {accessor}: vertex index {index} is out of range ({vertices} vertices)")]
    IndexOutOfRange { accessor: usize, index: u32, vertices: usize },
    #[error("accessor {accessor} holds a non-finite number")]
    NonFiniteData { accessor: usize },
    #[error("node {node} has a non-finite or degenerate {what}")]
    BadTransform { node: usize, what: &'static str },
    #[error("node {0} is its own ancestor (a cycle in the node graph)")]
    Cycle(usize),
    #[error("node {0} has more than one parent (glTF nodes must form trees)")]
    SharedNode(usize),
    #[error("too many {what}: {count} (the limit is {limit})")]
    TooMany { what: &'static str, count: u64, limit: u64 },
    #[error("the node to import under ({0}) does not exist")]
    ParentNotFound(NodeId),
    #[error("mesh {mesh}: {error}")]
    Mesh { mesh: usize, error: MeshError },
}

/// Why a scene could not be exported.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ExportError {
    #[error("the scene is too large for one .glb file ({0} bytes of data)")]
    TooLarge(usize),
    #[error("could not write glTF JSON: {0}")]
    Json(String),
}

/// Why a scene JSON document was not opened. Nothing was written to the document.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SceneJsonError {
    #[error("not a scene JSON document: {0}")]
    NotSceneJson(String),
    #[error("scene JSON version {0} is newer than this editor understands")]
    UnsupportedVersion(u32),
    #[error("node id {0:?} appears more than once")]
    DuplicateId(String),
    #[error("node {node:?} names a parent {parent:?} that is not in the file")]
    UnknownParent { node: String, parent: String },
    #[error("node {0:?} is its own ancestor (a cycle)")]
    Cycle(String),
    #[error("node {node:?}: {what} must be a finite number")]
    NonFinite { node: String, what: &'static str },
    #[error("node {node:?}: {value:?} is not a #rrggbb colour")]
    BadColor { node: String, value: String },
    #[error("too many nodes: {0} (the limit is {limit})", limit = super::MAX_NODES)]
    TooManyNodes(usize),
    #[error("mesh {id:?}: {why}")]
    BadMesh { id: String, why: String },
    #[error("the scene is not empty ({0} nodes); open with OpenMode::Replace to replace it")]
    NotEmpty(usize),
}

/// Something an import could not carry over; the rest was imported.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ImportWarning {
    /// A glTF feature the scene model has no place for (skins, animations, textures, ...).
    #[error("{count} {feature} ignored (not supported)")]
    Unsupported { feature: &'static str, count: usize },
    /// The mesh matched no primitive closely; its bounding box was used.
    #[error("mesh of node {node:?} approximated by its bounding box")]
    Approximated { node: String },
    /// A mesh with no readable positions; the node was imported as a group.
    #[error("node {node:?}: mesh has no readable vertex positions; imported as a group")]
    EmptyMesh { node: String },
    /// A node holding several things (mesh and light, ...) keeps only the first.
    #[error("node {node:?}: its {what} was dropped (a scene node is one thing)")]
    Dropped { node: String, what: &'static str },
    /// A matrix with shear or a projective part; the nearest TRS transform was used.
    #[error("node {node:?}: transform matrix has shear or projection, which was dropped")]
    LossyMatrix { node: String },
    /// Nodes not in the imported glTF scene (or scenes other than the imported one).
    #[error("{count} nodes outside the imported glTF scene ignored")]
    OutsideScene { count: usize },
}
