//! Room blobs: the images and files scene jobs produce (a rendered PNG, an exported .glb),
//! stored with the room so every collaborator can fetch them.
//!
//! - `PUT|POST {base}/api/rooms/{room}/blobs` — the body is the file; `Content-Type` must be
//!   `image/png` or `model/gltf-binary` and the bytes must start like one (PNG signature,
//!   `glTF` magic); at most [`MAX_BLOB_BYTES`]. Answers `201 {"id", "bytes", "contentType"}`
//!   where `id` is the SHA-256 of the bytes in hex (the same file uploaded twice is stored once).
//! - `GET {base}/api/rooms/{room}/blobs/{id}` — the file with its content type, a strong ETag
//!   and a year of private caching (an id names one content forever).
//!
//! A room's blobs together may take at most `--max-room-blob-bytes` (the backend checks it,
//! see `backend/quota.rs`): an upload that would go beyond is refused with
//! `507 {"error", "quotaBytes", "usedBytes", "bytes"}` and nothing is stored; uploading a
//! blob the room already holds is free and answers 201 as always. Refusals are counted in
//! the `relay_blob_uploads_over_quota` metric.
//!
//! Access follows the rules for joining the room (`admission`, `auth`): with an auth key,
//! a room token (`?token=` or `Authorization: Bearer`) is required; an editor token may
//! upload and fetch, a viewer token may only fetch. Browser requests from a foreign Origin
//! are refused like foreign WebSockets. Storage is the rooms' backend's: a table in the
//! room's SQLite file (or memory); in cluster mode (`--redis`) also Redis, from which a relay
//! that does not hold a blob fetches it and keeps a copy.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::admission::{self, TokenQuery};
use super::check_room_name;
use crate::state::AppState;
use crate::admission::HttpRefusal;
use crate::auth::Role;
use crate::backend::{BackendError, BlobRefusal, OverQuota, CONTENT_TYPES};
use crate::store::StoreError;

pub use crate::backend::blob_id;

/// The largest blob accepted, in bytes.
pub const MAX_BLOB_BYTES: usize = 16 * 1024 * 1024;

/// Why a blob request failed; the response is `{"error": "…"}` with a matching status.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("{0}")]
    BadRequest(String),
    /// No access to the room (401, 403, or 503 when the auth webhook failed).
    #[error("{0}")]
    Access(HttpRefusal),
    #[error("{0}")]
    Forbidden(String),
    #[error("no such blob")]
    NotFound,
    #[error("a blob may be at most {MAX_BLOB_BYTES} bytes")]
    TooLarge,
    #[error("{0}")]
    UnsupportedType(String),
    #[error("{0}")]
    OverQuota(OverQuota),
    #[error("{0}")]
    Store(StoreError),
    #[error("{0}")]
    Backend(BackendError),
}

impl From<BackendError> for BlobError {
    fn from(error: BackendError) -> Self {
        match error {
            BackendError::Store(StoreError::NotFound(_)) | BackendError::NotFound(_) => BlobError::NotFound,
            BackendError::Store(other) => BlobError::Store(other),
            other => BlobError::Backend(other),
        }
    }
}

impl IntoResponse for BlobError {
    fn into_response(self) -> Response {
        let status = match &self {
            BlobError::BadRequest(_) => StatusCode::BAD_REQUEST,
            BlobError::Access(refusal) => StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::FORBIDDEN),
            BlobError::Forbidden(_) => StatusCode::FORBIDDEN,
            BlobError::NotFound => StatusCode::NOT_FOUND,
            BlobError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            BlobError::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BlobError::OverQuota(_) => StatusCode::INSUFFICIENT_STORAGE,
            BlobError::Store(StoreError::Damaged { .. }) | BlobError::Backend(BackendError::Damaged(_)) => StatusCode::CONFLICT,
            BlobError::Store(_) | BlobError::Backend(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        let mut body = serde_json::json!({ "error": self.to_string() });
        if let BlobError::OverQuota(over) = &self {
            body["quotaBytes"] = over.limit.into();
            body["usedBytes"] = over.used.into();
            body["bytes"] = over.needed.into();
        }
        (status, Json(body)).into_response()
    }
}

pub fn routes(state: &AppState) -> Router<Arc<AppState>> {
    let base = &state.config.base_path;
    Router::new()
        .route(&format!("{base}/api/rooms/{{room}}/blobs"), axum::routing::put(upload).post(upload))
        .route(&format!("{base}/api/rooms/{{room}}/blobs/{{id}}"), get(fetch))
        // The body is read (and its size checked) by the handler itself.
        .layer(DefaultBodyLimit::disable())
}

/// The role a request has in `room`, by the rules for joining it.
async fn role(state: &AppState, room: &str, headers: &HeaderMap, query_token: Option<&str>) -> Result<Role, BlobError> {
    let grant = admission::http_grant(&state.config, &state.access, room, headers, query_token).await.map_err(BlobError::Access)?;
    Ok(grant.role)
}

fn check_room(room: &str) -> Result<(), BlobError> {
    check_room_name(room).map_err(|e| BlobError::BadRequest(e.trim().to_owned()))
}

fn valid_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Which accepted type `headers` declare (parameters like `; charset` ignored).
fn declared_type(headers: &HeaderMap) -> Result<&'static (&'static str, &'static [u8]), BlobError> {
    let declared = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    CONTENT_TYPES.iter().find(|(name, _)| *name == essence).ok_or_else(|| {
        let accepted: Vec<&str> = CONTENT_TYPES.iter().map(|(name, _)| *name).collect();
        BlobError::UnsupportedType(format!("content type {declared:?} is not accepted (use one of {})", accepted.join(", ")))
    })
}


async fn upload(
    State(state): State<Arc<AppState>>,
    Path(room): Path<String>,
    Query(params): Query<TokenQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, BlobError> {
    check_room(&room)?;
    if role(&state, &room, &headers, params.token.as_deref()).await? != Role::Editor {
        return Err(BlobError::Forbidden("viewers cannot upload".into()));
    }
    let (content_type, magic) = *declared_type(&headers)?;
    let declared_len = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared_len.is_some_and(|len| len > MAX_BLOB_BYTES as u64) {
        return Err(BlobError::TooLarge);
    }
    let bytes = axum::body::to_bytes(body, MAX_BLOB_BYTES).await.map_err(|_| BlobError::TooLarge)?;
    if bytes.is_empty() {
        return Err(BlobError::BadRequest("the body is empty".into()));
    }
    if !bytes.starts_with(magic) {
        return Err(BlobError::UnsupportedType(format!("the body is not a {content_type} file")));
    }
    let id = blob_id(&bytes);
    let len = bytes.len();
    match state.rooms.backend().put_blob(&room, &id, content_type, bytes).await {
        Ok(()) => {}
        Err(BlobRefusal::OverQuota(over)) => {
            state.telemetry.metrics.blob_quota_refusals.inc();
            tracing::info!(room = %room, used = over.used, quota = over.limit, bytes = over.needed, "blob upload over the room's quota");
            return Err(BlobError::OverQuota(over));
        }
        Err(BlobRefusal::Failed(error)) => return Err(error.into()),
    }
    tracing::debug!(room = %room, id = %id, bytes = len, content_type, "blob stored");
    let answer = serde_json::json!({ "id": id, "bytes": len, "contentType": content_type });
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

async fn fetch(
    State(state): State<Arc<AppState>>,
    Path((room, id)): Path<(String, String)>,
    Query(params): Query<TokenQuery>,
    headers: HeaderMap,
) -> Result<Response, BlobError> {
    check_room(&room)?;
    role(&state, &room, &headers, params.token.as_deref()).await?;
    if !valid_id(&id) {
        return Err(BlobError::BadRequest("a blob id is 64 lower-case hex digits".into()));
    }
    let etag = format!("\"{id}\"");
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let (content_type, bytes) = state.rooms.backend().blob(&room, &id).await?;
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CACHE_CONTROL, "private, max-age=31536000, immutable".to_owned()),
        (header::ETAG, etag),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ];
    Ok((headers, bytes).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sha256_hex_and_checked() {
        let id = blob_id(b"abc");
        assert_eq!(id, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(valid_id(&id));
        assert!(!valid_id(&id.to_uppercase()) && !valid_id("../x") && !valid_id(&id[1..]));
    }
}
