//! The per-room blob quota (`--max-room-blob-bytes`): what keeps one room's editors from
//! filling the operator's disk with job results.
//!
//! An upload is checked against the room's stored blob bytes, summed by the store
//! ([`crate::store::RoomArchive::blob_usage`], exact after a restart because it is read from
//! the stored rows), and stored under the same lock, so two uploads racing for the last
//! bytes cannot both get in (see [`super::LocalBlobs`]). A blob the room already holds (same id)
//! costs nothing.
//!
//! In cluster mode the quota is the cluster's: Redis counts each room's blobs, whichever
//! relay they were uploaded to, with the same check-then-store in one script (see the
//! cluster's `blobs.rs`); [`BlobQuota::check`]'s rule is not used there.

use tokio::sync::{Mutex, MutexGuard};

/// Upload locks: a room always maps to the same one; unrelated rooms rarely share one.
const STRIPES: usize = 16;

/// The quota and the locks that make check-then-store one step per room.
pub struct BlobQuota {
    /// Most bytes one room's blobs may take.
    pub limit: u64,
    stripes: Vec<Mutex<()>>,
}

/// Why an upload does not fit: the figures for the refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverQuota {
    pub limit: u64,
    pub used: u64,
    pub needed: u64,
}

impl std::fmt::Display for OverQuota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (used, limit, needed) = (size(self.used), size(self.limit), size(self.needed));
        write!(f, "{used} of the room's {limit} blob quota in use; this file needs {needed} more")
    }
}

impl std::error::Error for OverQuota {}

impl BlobQuota {
    pub fn new(limit: u64) -> Self {
        BlobQuota { limit, stripes: (0..STRIPES).map(|_| Mutex::new(())).collect() }
    }

    /// Holds uploads to `room` (and to the rooms sharing its stripe) off until dropped.
    pub async fn lock(&self, room: &str) -> MutexGuard<'_, ()> {
        // FNV-1a: stable and cheap; the stripes only need to spread rooms.
        let hash = room.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
        self.stripes[(hash % STRIPES as u64) as usize].lock().await
    }

    /// Whether `needed` more bytes fit beside the `used` ones.
    pub fn check(&self, used: u64, needed: u64) -> Result<(), OverQuota> {
        if used.saturating_add(needed) > self.limit {
            return Err(OverQuota { limit: self.limit, used, needed });
        }
        Ok(())
    }
}

/// Bytes for people: `512 B`, `12.5 KiB`, `256.0 MiB`.
pub fn size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KIB {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else if b < KIB * KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else {
        format!("{:.1} GiB", b / (KIB * KIB * KIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_fit_up_to_the_limit_and_the_refusal_says_why() {
        let quota = BlobQuota::new(1000);
        assert!(quota.check(0, 1000).is_ok());
        assert!(quota.check(600, 400).is_ok());
        let over = quota.check(600, 401).unwrap_err();
        assert_eq!(over, OverQuota { limit: 1000, used: 600, needed: 401 });
        assert_eq!(over.to_string(), "600 B of the room's 1000 B blob quota in use; this file needs 401 B more");
        assert!(quota.check(u64::MAX, 1).is_err(), "no overflow");
        assert_eq!((size(1536), size(256 << 20)), ("1.5 KiB".to_owned(), "256.0 MiB".to_owned()));
    }
}
