//! Why a scene write was refused. Reads never fail: they fall back to defaults.

use thiserror::Error;

use super::order::OrderKeyError;
use super::types::NodeId;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SceneError {
    #[error("no node {0}")]
    NotFound(NodeId),
    #[error("a node {0} already exists")]
    AlreadyExists(NodeId),
    #[error("moving {node} under {parent} would put it inside itself")]
    Cycle { node: NodeId, parent: NodeId },
    #[error("{key} must be a finite number")]
    NotFinite { key: &'static str },
    #[error("nothing to group")]
    EmptySelection,
    #[error(transparent)]
    Order(#[from] OrderKeyError),
}
