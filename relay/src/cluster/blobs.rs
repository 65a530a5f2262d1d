//! Room blobs in cluster mode: every relay behind the load balancer must serve the render a
//! collaborator uploaded through another one, so uploads are also written to Redis and a
//! relay that does not hold a blob looks there (and keeps a copy in its own store).
//!
//! A blob is a hash `scene:{room}:blob:{id}` with `type` (its content type) and `data`,
//! kept for [`BLOB_TTL`] after its last upload: the id names one content forever, so the
//! copies in the relays' stores stay valid; only a relay that never fetched it before the
//! TTL ran out answers 404 afterwards.

use std::time::Duration;

use super::{Cluster, ClusterError, PREFIX};

/// How long Redis keeps a blob after its last upload.
pub const BLOB_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

fn key(room: &str, id: &str) -> String {
    format!("{PREFIX}{{{room}}}:blob:{id}")
}

impl Cluster {
    /// Shares a blob with the other relays.
    pub async fn put_blob(&self, room: &str, id: &str, content_type: &str, bytes: &[u8]) -> Result<(), ClusterError> {
        let key = key(room, id);
        let mut conn = self.conn();
        redis::pipe()
            .atomic()
            .hset(&key, "type", content_type)
            .ignore()
            .hset(&key, "data", bytes)
            .ignore()
            .expire(&key, BLOB_TTL.as_secs() as i64)
            .ignore()
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// A blob another relay shared: its content type and bytes, if Redis holds it.
    pub async fn blob(&self, room: &str, id: &str) -> Result<Option<(String, Vec<u8>)>, ClusterError> {
        let mut conn = self.conn();
        let (content_type, data): (Option<String>, Option<Vec<u8>>) =
            redis::cmd("HMGET").arg(key(room, id)).arg("type").arg("data").query_async(&mut conn).await?;
        Ok(content_type.zip(data))
    }
}
