//! A room's blobs in this relay's store, within the room's quota: what both backends do with
//! the files scene jobs make (rendered PNGs, exported .glb files). Blobs are
//! content-addressed: the id is the SHA-256 of the bytes, so an id names one content
//! forever, and a copy fetched from elsewhere can be checked against it.

use sha2::{Digest, Sha256};

use super::quota::BlobQuota;
use super::{BackendError, BlobRefusal};
use crate::store::{Archive, StoreError};

/// Content types accepted, with the bytes such a file starts with.
pub const CONTENT_TYPES: &[(&str, &[u8])] = &[("image/png", b"\x89PNG\r\n\x1a\n"), ("model/gltf-binary", b"glTF")];

/// The blob id of `bytes`: SHA-256, lower-case hex.
pub fn blob_id(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The blobs of this relay's store, and the quota every upload is checked against.
pub struct LocalBlobs {
    archive: Archive,
    quota: BlobQuota,
}

impl LocalBlobs {
    pub fn new(archive: Archive, quota_bytes: u64) -> Self {
        LocalBlobs { archive, quota: BlobQuota::new(quota_bytes) }
    }

    /// Stores blob `id` of `room` unless the room's blobs would go over the quota; a blob
    /// the room already holds is not stored again and costs nothing. Checked and stored
    /// under the room's upload lock, so two uploads cannot both take the last bytes.
    pub async fn put(&self, room: &str, id: &str, content_type: &'static str, data: Vec<u8>) -> Result<(), BlobRefusal> {
        let _turn = self.quota.lock(room).await;
        let (owned_room, owned_id) = (room.to_owned(), id.to_owned());
        let usage = self.archive.run(move |store| store.blob_usage(&owned_room, &owned_id)).await.map_err(BackendError::from)?;
        if usage.present {
            return Ok(());
        }
        if let Err(over) = self.quota.check(usage.bytes, data.len() as u64) {
            return Err(BlobRefusal::OverQuota(over));
        }
        let (owned_room, owned_id) = (room.to_owned(), id.to_owned());
        self.archive.run(move |store| store.put_blob(&owned_room, &owned_id, content_type, data)).await.map_err(BackendError::from)?;
        Ok(())
    }

    /// Blob `id` of `room`, if this relay's store holds it.
    pub async fn get(&self, room: &str, id: &str) -> Result<(String, Vec<u8>), StoreError> {
        let (room, id) = (room.to_owned(), id.to_owned());
        self.archive.run(move |store| store.blob(&room, &id)).await
    }

    /// Keeps a copy of a blob that came from elsewhere (it was counted where it was uploaded).
    pub async fn keep(&self, room: &str, id: &str, content_type: &'static str, data: Vec<u8>) -> Result<(), StoreError> {
        let (room, id) = (room.to_owned(), id.to_owned());
        self.archive.run(move |store| store.put_blob(&room, &id, content_type, data)).await
    }
}

