//! The HTTP API beside the WebSocket: restore points for editors (kept by the rooms'
//! backend: this relay's store, or Redis in cluster mode), and room administration for
//! operators (behind `--admin-token` when one is set).
//!
//! - `GET    {base}/api/rooms`                               list stored rooms (admin)
//! - `DELETE {base}/api/rooms/{room}`                        delete a room (admin)
//! - `GET    {base}/api/rooms/{room}/export`                 the room as one Yjs update (admin)
//! - `POST   {base}/api/rooms/{room}/import`                 merge a Yjs update into the room (admin)
//! - `GET    {base}/api/rooms/{room}/snapshots`              list restore points
//! - `POST   {base}/api/rooms/{room}/snapshots`              create one: `{"name": "…"}`
//! - `GET    {base}/api/rooms/{room}/snapshots/{id}`         its content, one Yjs update (with
//!   `--auth-key-file`: a token for the room as `Authorization: Bearer`); the client computes
//!   and applies a restore itself, so its user can undo it
//! - `GET    {base}/api/rooms/{room}/snapshots/{id}/diff`    what restoring it would change
//! - `POST   {base}/api/rooms/{room}/snapshots/{id}/restore` restore it (a new change; undoable
//!   by restoring the "before" point it creates)

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use shared::protocol;
use shared::revert::{self, SceneDiff};
use subtle::ConstantTimeEq;
use yrs::{Doc, Transact};

use crate::admission::{self, TokenQuery};
use super::check_room_name;
use crate::state::AppState;
use crate::auth::Role;
use crate::backend::BackendError;
use crate::store::{RestorePoint, RoomInfo, StoreError};

/// Why an API call failed; the response is `{"error": "…"}` with a matching status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("admin token required")]
    Unauthorized,
    /// No access to the room (401, 403, or 503 when the auth webhook failed).
    #[error("{0}")]
    Access(admission::HttpRefusal),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Damaged(String),
    #[error("{0}")]
    Unavailable(String),
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => ApiError::NotFound(format!("no such {what}")),
            StoreError::Damaged { .. } => ApiError::Damaged(error.to_string()),
            StoreError::Io(_) | StoreError::Unavailable(_) => ApiError::Unavailable(error.to_string()),
        }
    }
}

impl From<crate::room::EncodeFailed> for ApiError {
    fn from(error: crate::room::EncodeFailed) -> Self {
        ApiError::Damaged(error.to_string())
    }
}

impl From<BackendError> for ApiError {
    fn from(error: BackendError) -> Self {
        match error {
            BackendError::Store(e) => e.into(),
            BackendError::Damaged(why) => ApiError::Damaged(why),
            BackendError::NotFound(why) => ApiError::NotFound(why),
            BackendError::Unreachable(why) => ApiError::Unavailable(why),
            BackendError::Interrupted => ApiError::Unavailable(error.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Access(ref refusal) => StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::FORBIDDEN),
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Damaged(_) => StatusCode::CONFLICT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        (status, Json(serde_json::json!({ "error": self.to_string() }))).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

pub fn routes(state: &AppState) -> Router<Arc<AppState>> {
    let base = &state.config.base_path;
    Router::new()
        .route(&format!("{base}/api/rooms"), get(list_rooms))
        .route(&format!("{base}/api/rooms/{{room}}"), axum::routing::delete(delete_room))
        .route(&format!("{base}/api/rooms/{{room}}/export"), get(export_room))
        .route(&format!("{base}/api/rooms/{{room}}/import"), post(import_room))
        .route(&format!("{base}/api/rooms/{{room}}/snapshots"), get(list_points).post(create_point))
        .route(&format!("{base}/api/rooms/{{room}}/snapshots/{{id}}"), get(point_state))
        .route(&format!("{base}/api/rooms/{{room}}/snapshots/{{id}}/diff"), get(diff_point))
        .route(&format!("{base}/api/rooms/{{room}}/snapshots/{{id}}/restore"), post(restore_point))
        .layer(DefaultBodyLimit::max(state.config.max_frame_bytes))
}

fn require_admin(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let Some(expected) = &state.config.admin_token else { return Ok(()) };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// Restore points follow the rules for joining the room (`admission::http_grant`): reading
/// them takes any member's access, changing the room (create, restore) an editor's.
async fn room_access(state: &AppState, room: &str, headers: &HeaderMap, query: &TokenQuery, need: Role) -> ApiResult<()> {
    room_name(room)?;
    let grant = admission::http_grant(&state.config, &state.access, room, headers, query.token.as_deref()).await.map_err(ApiError::Access)?;
    if need == Role::Editor && grant.role != Role::Editor {
        return Err(ApiError::Forbidden("viewers cannot change the room".into()));
    }
    Ok(())
}

fn room_name(room: &str) -> ApiResult<()> {
    check_room_name(room).map_err(|e| ApiError::BadRequest(e.trim().to_owned()))
}


async fn list_rooms(State(state): State<Arc<AppState>>, headers: HeaderMap) -> ApiResult<Json<Vec<RoomInfo>>> {
    require_admin(&state, &headers)?;
    Ok(Json(state.rooms.backend().list_rooms().await?))
}

async fn delete_room(State(state): State<Arc<AppState>>, headers: HeaderMap, Path(room): Path<String>) -> ApiResult<StatusCode> {
    require_admin(&state, &headers)?;
    room_name(&room)?;
    state.rooms.delete(&room).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn export_room(State(state): State<Arc<AppState>>, headers: HeaderMap, Path(room): Path<String>) -> ApiResult<Response> {
    require_admin(&state, &headers)?;
    room_name(&room)?;
    let opened = state.rooms.open(&room).await?;
    let bytes = opened.encode_state()?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

async fn import_room(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(room): Path<String>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    require_admin(&state, &headers)?;
    room_name(&room)?;
    protocol::decode_update(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let opened = state.rooms.open(&room).await?;
    opened.apply_external(body.to_vec()).map_err(|r| ApiError::BadRequest(r.reason))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_points(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    Path(room): Path<String>,
) -> ApiResult<Json<Vec<RestorePoint>>> {
    room_access(&state, &room, &headers, &query, Role::Viewer).await?;
    Ok(Json(state.rooms.backend().restore_points(&room).await?))
}

#[derive(Debug, Deserialize)]
struct NewPoint {
    name: String,
}

async fn create_point(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    Path(room): Path<String>,
    Json(request): Json<NewPoint>,
) -> ApiResult<(StatusCode, Json<RestorePoint>)> {
    room_access(&state, &room, &headers, &query, Role::Editor).await?;
    let name = request.name.trim().to_owned();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::BadRequest("name must be 1 to 200 bytes".into()));
    }
    let opened = state.rooms.open(&room).await?;
    let snapshot = opened.encode_state()?;
    let point = state.rooms.backend().save_restore_point(&room, &name, snapshot).await?;
    Ok((StatusCode::CREATED, Json(point)))
}

async fn point_doc(state: &AppState, room: &str, id: i64) -> ApiResult<Doc> {
    let bytes = state.rooms.backend().restore_point_state(room, id).await?;
    let update = protocol::decode_update(&bytes)
        .map_err(|e| ApiError::Damaged(format!("restore point {id} of room {room:?} is damaged: {e}")))?;
    let doc = Doc::new();
    doc.transact_mut()
        .apply_update(update)
        .map_err(|e| ApiError::Damaged(format!("restore point {id} of room {room:?} is damaged: {e}")))?;
    Ok(doc)
}

/// A restore point's content (any room token: viewers can read the room anyway).
async fn point_state(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    Path((room, id)): Path<(String, i64)>,
) -> ApiResult<Response> {
    room_access(&state, &room, &headers, &query, Role::Viewer).await?;
    let bytes = state.rooms.backend().restore_point_state(&room, id).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

async fn diff_point(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    Path((room, id)): Path<(String, i64)>,
) -> ApiResult<Json<SceneDiff>> {
    room_access(&state, &room, &headers, &query, Role::Viewer).await?;
    let target = point_doc(&state, &room, id).await?;
    let opened = state.rooms.open(&room).await?;
    let current = opened.snapshot_doc()?;
    Ok(Json(revert::diff(&current, &target)))
}

#[derive(Debug, serde::Serialize)]
struct Restored {
    restored: i64,
    /// The restore point holding the content from just before the restore: restore it to
    /// undo the restore.
    undo_point: RestorePoint,
    diff: SceneDiff,
}

async fn restore_point(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    Path((room, id)): Path<(String, i64)>,
) -> ApiResult<Json<Restored>> {
    room_access(&state, &room, &headers, &query, Role::Editor).await?;
    let target = point_doc(&state, &room, id).await?;
    let opened = state.rooms.open(&room).await?;
    let before = opened.encode_state()?;
    let undo_point = state.rooms.backend().save_restore_point(&room, &format!("Before restoring #{id}"), before).await?;

    // Compute the restore on a copy, then apply it like any other update, so it is stored,
    // broadcast and merged with whatever members do meanwhile.
    let copy = opened.snapshot_doc()?;
    let change_diff = revert::diff(&copy, &target);
    let update = {
        let mut txn = copy.transact_mut();
        revert::revert_to(&mut txn, &target);
        txn.encode_update_v1()
    };
    opened.apply_external(update).map_err(|r| ApiError::Unavailable(r.reason))?;
    Ok(Json(Restored { restored: id, undo_point, diff: change_diff }))
}
