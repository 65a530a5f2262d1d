//! Where a room's restore points live: in the room store when the relay stands alone, in
//! Redis in cluster mode (`crate::cluster::points`), so that every relay serving a room
//! sees the same points. The HTTP API (`crate::api`) goes through here only.

use crate::api::ApiError;
use crate::app::AppState;
use crate::cluster::points::PointError;
use crate::store::RestorePoint;

fn unavailable(error: impl std::fmt::Display) -> ApiError {
    ApiError::Unavailable(error.to_string())
}


/// Saves a restore point of `room` holding `state`.
pub async fn save(state: &AppState, room: &str, name: &str, content: Vec<u8>) -> Result<RestorePoint, ApiError> {
    if let Some(cluster) = state.rooms.cluster() {
        return cluster.save_restore_point(room, name, content).await.map_err(unavailable);
    }
    let (room, name) = (room.to_owned(), name.to_owned());
    state.rooms.archive().run(move |store| store.save_restore_point(&room, &name, content)).await.map_err(ApiError::from)
}

/// `room`'s restore points, newest first.
pub async fn list(state: &AppState, room: &str) -> Result<Vec<RestorePoint>, ApiError> {
    if let Some(cluster) = state.rooms.cluster() {
        return cluster.restore_points(room).await.map_err(unavailable);
    }
    let room = room.to_owned();
    state.rooms.archive().run(move |store| store.restore_points(&room)).await.map_err(ApiError::from)
}

/// The content of restore point `id` of `room` (one Yjs update).
pub async fn content(state: &AppState, room: &str, id: i64) -> Result<Vec<u8>, ApiError> {
    if let Some(cluster) = state.rooms.cluster() {
        return cluster.restore_point_state(room, id).await.map_err(|error| match error {
            PointError::NotFound { .. } => ApiError::NotFound(error.to_string()),
            PointError::Damaged { .. } => ApiError::Damaged(error.to_string()),
            PointError::Cluster(error) => unavailable(error),
        });
    }
    let room = room.to_owned();
    state.rooms.archive().run(move |store| store.restore_point_state(&room, id)).await.map_err(ApiError::from)
}
