//! What both kinds of stream reader share: a room following its stream ([`Following`],
//! registered as a [`Registration`]), what a reader works with ([`ReaderContext`]), and
//! handing a batch of entries to the room ([`hand_over`]) or taking the rooms offline
//! ([`fail_all`]). The readers themselves: one Redis server's in [`super::reader`], a Redis
//! Cluster's per node in [`super::shards`].

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::streams::StreamKey;
use tokio_util::sync::CancellationToken;

use super::entry::{parse_id, Entry, Kind};
use super::ClusterSettings;
use crate::backend::{Change, ChangeKind, Delivery, RoomSink};
use crate::instruments::Instruments;
use crate::lifecycle::Lifecycle;
use crate::store::Archive;

/// Most entries read from one stream in one XREAD.
pub(super) const READ_COUNT: usize = 512;
/// Pause before reconnecting after Redis failed.
pub(super) const RECONNECT_PAUSE: Duration = Duration::from_millis(500);

/// A room following its stream.
pub(super) struct Following {
    pub position: String,
    /// This room instance's origin: its own entries release its held updates.
    pub origin: String,
    pub room: Weak<dyn RoomSink>,
    pub stop: CancellationToken,
}

impl Following {
    /// Whether the room still follows its stream (in service, not dropped).
    pub fn live(&self) -> bool {
        !self.stop.is_cancelled() && self.room.strong_count() > 0
    }
}

pub(super) struct Registration {
    pub key: String,
    pub following: Following,
}

/// What every reader works with, whatever the Redis.
#[derive(Clone)]
pub(super) struct ReaderContext {
    pub settings: ClusterSettings,
    pub archive: Archive,
    pub lifecycle: Lifecycle,
    pub instruments: Arc<Instruments>,
}

/// Hands a batch of `stream`'s entries to the room following it; false once the room stops
/// following (it is gone, left service, or was deleted: then this relay's copy is dropped).
pub(super) fn hand_over(following: &mut Following, stream: &StreamKey, context: &ReaderContext) -> bool {
    let ReaderContext { settings, archive, lifecycle, instruments } = context;
    // Waiting for replicas, only the publisher (after WAIT) may release the room's own.
    let release_own = settings.wait_replicas == 0;
    let mut changes = Vec::with_capacity(stream.ids.len());
    let now_ms = crate::store::now_ms();
    for raw in &stream.ids {
        following.position = raw.id.clone();
        // Redis's clock stamped the id; the relay's reads it (the same host's, or
        // NTP's on both): how long the entry waited to be delivered here.
        if let Some((at_ms, _)) = parse_id(&raw.id) {
            let lag_ms = u64::try_from(now_ms).unwrap_or(0).saturating_sub(at_ms);
            instruments.redis_reader_lag.observe(lag_ms as f64 / 1000.0);
        }
        match Entry::decode(raw) {
            Ok(entry) => changes.extend(change(entry, &following.origin, release_own)),
            Err(error) => tracing::warn!(stream = stream.key, %error, "stream entry ignored"),
        }
    }
    let Some(room) = following.room.upgrade() else { return false };
    match room.deliver(&changes, &following.position) {
        Delivery::Following => true,
        Delivery::Stopped => false,
        Delivery::Deleted => {
            drop_local_copy(archive, lifecycle, room.name());
            false
        }
    }
}

pub(super) fn fail_all(rooms: &mut HashMap<String, Following>, why: &str) {
    for (_, following) in rooms.drain() {
        if let Some(room) = following.room.upgrade() {
            room.unavailable(why);
        }
    }
}

/// What an entry means to the room following the stream: another relay's change, the
/// release of its own held updates (its own awareness changes mean nothing to it), or the
/// room's deletion.
fn change(entry: Entry, own: &str, release_own: bool) -> Option<Change> {
    let kind = match entry.kind {
        Kind::Deleted => ChangeKind::Deleted,
        Kind::Update if entry.origin == own && release_own => ChangeKind::Own(entry.n),
        Kind::Update if entry.origin == own => return None,
        Kind::Awareness if entry.origin == own => return None,
        Kind::Update => ChangeKind::Update(entry.data.into()),
        Kind::Awareness => ChangeKind::Awareness(entry.data.into()),
    };
    Some(Change { id: entry.id, kind })
}

/// Drops this relay's own copy of a room deleted through some relay (its blobs).
fn drop_local_copy(archive: &Archive, lifecycle: &Lifecycle, room: &str) {
    let (archive, room) = (archive.clone(), room.to_owned());
    lifecycle.spawn(async move {
        if let Err(error) = archive.run({
            let room = room.clone();
            move |store| store.delete_room(&room)
        })
        .await
        {
            tracing::warn!(room, %error, "the deleted room's local copy could not be removed");
        }
    });
}
