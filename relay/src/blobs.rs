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
//! A room's blobs together may take at most `--max-room-blob-bytes` ([`quota`]): an upload
//! that would go beyond is refused with `507 {"error", "quotaBytes", "usedBytes", "bytes"}`
//! and nothing is stored; uploading a blob the room already holds is free and answers 201 as
//! always. Refusals are counted in the `relay_blob_uploads_over_quota` metric.
//!
//! Access follows the rules for joining the room (`admission`, `auth`): with an auth key,
//! a room token (`?token=` or `Authorization: Bearer`) is required; an editor token may
//! upload and fetch, a viewer token may only fetch. Browser requests from a foreign Origin
//! are refused like foreign WebSockets. Storage is the store's ([`crate::store::RoomStore`]
//! `put_blob` / `blob`): a table in the room's SQLite file, or memory.
//!
//! In cluster mode (`--redis`) an upload is also written to Redis, and a relay that does not
//! hold a blob fetches it from there and keeps a copy (`crate::cluster::blobs`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sha2::{Digest, Sha256};

use crate::admission::{self, TokenQuery};
use crate::app::{check_room_name, AppState};
use crate::auth::{AuthError, Role};
use crate::store::{BlobUsage, StoreError};

pub mod quota;

/// The largest blob accepted, in bytes.
pub const MAX_BLOB_BYTES: usize = 16 * 1024 * 1024;

/// Content types accepted, with the bytes such a file starts with.
pub const CONTENT_TYPES: &[(&str, &[u8])] = &[("image/png", b"\x89PNG\r\n\x1a\n"), ("model/gltf-binary", b"glTF")];

/// Why a blob request failed; the response is `{"error": "…"}` with a matching status.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(AuthError),
    #[error("{0}")]
    Forbidden(String),
    #[error("no such blob")]
    NotFound,
    #[error("a blob may be at most {MAX_BLOB_BYTES} bytes")]
    TooLarge,
    #[error("{0}")]
    UnsupportedType(String),
    #[error("{0}")]
    OverQuota(quota::OverQuota),
    #[error("{0}")]
    Store(StoreError),
}

impl From<StoreError> for BlobError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(_) => BlobError::NotFound,
            other => BlobError::Store(other),
        }
    }
}

impl IntoResponse for BlobError {
    fn into_response(self) -> Response {
        let status = match &self {
            BlobError::BadRequest(_) => StatusCode::BAD_REQUEST,
            BlobError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            BlobError::Forbidden(_) => StatusCode::FORBIDDEN,
            BlobError::NotFound => StatusCode::NOT_FOUND,
            BlobError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            BlobError::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BlobError::OverQuota(_) => StatusCode::INSUFFICIENT_STORAGE,
            BlobError::Store(StoreError::Damaged { .. }) => StatusCode::CONFLICT,
            BlobError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
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
fn role(state: &AppState, room: &str, headers: &HeaderMap, query_token: Option<&str>) -> Result<Role, BlobError> {
    admission::http_role(&state.config, state.token_key.as_ref(), room, headers, query_token).map_err(|refusal| match refusal {
        admission::HttpRefusal::Forbidden(why) => BlobError::Forbidden(why),
        admission::HttpRefusal::Unauthorized(error) => BlobError::Unauthorized(error),
    })
}

fn check_room(room: &str) -> Result<(), BlobError> {
    check_room_name(room).map_err(|e| BlobError::BadRequest(e.trim().to_owned()))
}

/// The blob id of `bytes`: SHA-256, lower-case hex.
pub fn blob_id(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
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
    if role(&state, &room, &headers, params.token.as_deref())? != Role::Editor {
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
    let shared = bytes.clone();
    store_within_quota(&state, &room, &id, content_type, bytes.to_vec()).await?;
    if let Some(cluster) = state.rooms.cluster() {
        cluster.put_blob(&room, &id, content_type, &shared).await.map_err(unavailable)?;
    }
    tracing::debug!(room = %room, id = %id, bytes = len, content_type, "blob stored");
    let answer = serde_json::json!({ "id": id, "bytes": len, "contentType": content_type });
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// Stores blob `id` of `room` unless the room's blobs would go over the quota; a blob the
/// room already holds is not stored again and costs nothing.
async fn store_within_quota(state: &AppState, room: &str, id: &str, content_type: &'static str, data: Vec<u8>) -> Result<(), BlobError> {
    let _turn = state.blob_quota.lock(room).await;
    let (owned_room, owned_id) = (room.to_owned(), id.to_owned());
    let usage: BlobUsage = state.rooms.archive().run(move |store| store.blob_usage(&owned_room, &owned_id)).await?;
    if usage.present {
        return Ok(());
    }
    if let Err(over) = state.blob_quota.check(usage.bytes, data.len() as u64) {
        state.telemetry.metrics.blob_quota_refusals.inc();
        tracing::info!(room, used = over.used, quota = over.limit, bytes = over.needed, "blob upload over the room's quota");
        return Err(BlobError::OverQuota(over));
    }
    let (owned_room, owned_id) = (room.to_owned(), id.to_owned());
    state.rooms.archive().run(move |store| store.put_blob(&owned_room, &owned_id, content_type, data)).await.map_err(BlobError::from)
}

async fn fetch(
    State(state): State<Arc<AppState>>,
    Path((room, id)): Path<(String, String)>,
    Query(params): Query<TokenQuery>,
    headers: HeaderMap,
) -> Result<Response, BlobError> {
    check_room(&room)?;
    role(&state, &room, &headers, params.token.as_deref())?;
    if !valid_id(&id) {
        return Err(BlobError::BadRequest("a blob id is 64 lower-case hex digits".into()));
    }
    let etag = format!("\"{id}\"");
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let (owned_room, owned_id) = (room.clone(), id.clone());
    let (content_type, bytes) = match state.rooms.archive().run(move |store| store.blob(&owned_room, &owned_id)).await.map_err(BlobError::from) {
        Err(BlobError::NotFound) => from_cluster(&state, &room, &id).await?,
        other => other?,
    };
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CACHE_CONTROL, "private, max-age=31536000, immutable".to_owned()),
        (header::ETAG, etag),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ];
    Ok((headers, bytes).into_response())
}

fn unavailable(error: crate::cluster::ClusterError) -> BlobError {
    BlobError::Store(StoreError::Unavailable(error.to_string()))
}

/// In cluster mode, a blob another relay received: fetched from Redis and kept in this
/// relay's store (a failure to keep it only costs another fetch next time).
async fn from_cluster(state: &AppState, room: &str, id: &str) -> Result<(String, Vec<u8>), BlobError> {
    let cluster = state.rooms.cluster().ok_or(BlobError::NotFound)?;
    let (content_type, bytes) = cluster.blob(room, id).await.map_err(unavailable)?.ok_or(BlobError::NotFound)?;
    let Some(&(known_type, _)) = CONTENT_TYPES.iter().find(|(name, _)| *name == content_type) else {
        return Err(BlobError::Store(StoreError::Damaged { room: room.to_owned(), reason: format!("blob {id} in redis has type {content_type:?}") }));
    };
    if blob_id(&bytes) != id {
        return Err(BlobError::Store(StoreError::Damaged { room: room.to_owned(), reason: format!("blob {id} in redis does not match its id") }));
    }
    let (owned_room, owned_id, copy) = (room.to_owned(), id.to_owned(), bytes.clone());
    if let Err(error) = state.rooms.archive().run(move |store| store.put_blob(&owned_room, &owned_id, known_type, copy)).await {
        tracing::warn!(room, id, %error, "could not keep a copy of a blob from redis");
    }
    Ok((content_type, bytes))
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
