//! A clustered room's link (`crate::backend::RoomLink`): its local changes go to its
//! publisher ([`super::tasks`]) in the order the room applied them, each local update under
//! a number `n` of this room instance, and the room holds the update back until Redis has
//! it (the publisher's XADD returned, or the relay's reader met the entry first). Starting
//! to follow the room ([`Cluster::link`]'s `Follow`) spawns the publisher and registers the
//! room's stream with the reader. Dropping the link (the room left service) stops both; the
//! publisher first finishes what was queued.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::entry::Kind;
use super::tasks::{self, Outgoing};
use super::{Cluster, Keys};
use crate::backend::{Accepted, Follow, LocalUpdate, Refused, RoomLink};

/// Local updates that may wait for Redis at once before the room refuses more.
const MAX_PENDING: usize = 65_536;

/// What a clustered room in memory holds of the cluster: where its local changes go.
pub struct ClusterLink {
    tx: mpsc::UnboundedSender<Outgoing>,
    /// The number of the last local update handed over.
    last_n: std::sync::atomic::AtomicU64,
    _stop: DropGuard,
}

impl ClusterLink {
    /// Queues a change for the publisher; false if the publisher has stopped (Redis failed).
    fn send(&self, kind: Kind, n: u64, data: Vec<u8>) -> bool {
        self.tx.send(Outgoing { kind, n, data, queued: std::time::Instant::now() }).is_ok()
    }
}

impl RoomLink for ClusterLink {
    fn append(&self, update: LocalUpdate) -> Result<Accepted, Refused> {
        if update.held >= MAX_PENDING {
            return Err(Refused::Unavailable("redis is too slow"));
        }
        let n = self.last_n.fetch_add(1, Ordering::Relaxed) + 1;
        let frame: Bytes = LocalUpdate::frame_of(update.frame, update.update);
        if !self.send(Kind::Update, n, frame.to_vec()) {
            return Err(Refused::Unavailable("redis refused a write"));
        }
        Ok(Accepted::Held { n, frame, on_durable: update.on_durable })
    }

    fn share_awareness(&self, frame: &Bytes) -> Result<(), Refused> {
        if self.send(Kind::Awareness, 0, frame.to_vec()) {
            Ok(())
        } else {
            Err(Refused::Unavailable("redis refused a write"))
        }
    }
}

impl Cluster {
    /// A link for a new in-memory instance of `room`, whose state stands at stream id
    /// `position`, and what starts its publisher and has the reader follow its stream once
    /// the room exists.
    pub(super) fn link(self: &Arc<Self>, room: &str, position: String) -> (ClusterLink, Follow) {
        let instance = self.next_instance.fetch_add(1, Ordering::Relaxed);
        let origin = format!("{}/{instance}", self.relay_id);
        let (tx, rx) = mpsc::unbounded_channel();
        let stop = CancellationToken::new();
        let link = ClusterLink { tx, last_n: Default::default(), _stop: stop.clone().drop_guard() };
        let (cluster, key) = (self.clone(), Keys::of(room).log);
        let follow: Follow = Box::new(move |room| {
            cluster.lifecycle.spawn(tasks::publish(cluster.clone(), room.clone(), key.clone(), origin.clone(), rx));
            cluster.reader.register(key, position, origin, room, stop);
        });
        (link, follow)
    }
}
