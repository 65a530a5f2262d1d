//! The stream readers for a Redis Cluster (`--redis redis+cluster://…`): one per master node,
//! each reading the streams of this relay's rooms whose slot that node owns.
//!
//! Why not one XREAD as with one server ([`super::reader`]): Redis Cluster refuses a
//! multi-key command whose keys hash to different slots (CROSSSLOT), even when one node
//! owns them all (checked on Redis 7.0: `XREAD STREAMS scene:{b}:log scene:{f}:log` on the
//! master of both slots answers CROSSSLOT). Rooms have distinct hash tags, so their streams
//! are almost always in distinct slots, and a blocking XREAD can wait on one slot only; one
//! blocking connection per room is what the single reader replaced. So each node's reader
//! **polls**: one round trip carries one non-blocking `XREAD COUNT 512` per slot (the rooms
//! of one slot share it), pipelined on the reader's own connection to that node; after a
//! round that found entries it reads again at once, otherwise it waits
//! `ClusterSettings::poll` (10 ms), or less if a room registers meanwhile. That bounds the
//! extra delivery delay by the poll interval and costs each node, per relay, 100 round trips
//! a second of one XREAD per slot the relay follows there: fine for hundreds of rooms per
//! relay per shard, the first thing to replace (by a notification, e.g. sharded pub/sub on
//! the room's tag, waking a blocking read) beyond that.
//!
//! A supervisor task owns the slot map (`CLUSTER SLOTS` through the cluster connection) and
//! hands each registering room to the reader of the node owning its stream's slot, starting
//! that reader on first use. A read answered MOVED (the slot was resharded, or a replica
//! took over) hands its rooms back: the supervisor refreshes the map and hands them on,
//! positions kept, nothing missed. ASK (the slot is migrating) only skips that slot for a
//! round: the next read is MOVED once it has moved. A node that fails (its connection, a
//! timeout, CLUSTERDOWN) closes only the rooms read from it with 4503, as one Redis server
//! failing does; the readers of the other nodes carry on. Those rooms' members reconnect,
//! the room loads again (through the cluster connection, which follows the failover) and
//! registers with the supervisor, which has dropped its slot map and asks again.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::streams::StreamReadReply;
use redis::{ErrorKind, RedisError, ServerErrorKind};
use tokio::sync::mpsc;

use super::conn::{slot_of, RedisConn, Target};
use super::topology::{slot_map, SlotMap};
use super::follow::{fail_all, hand_over, Following, ReaderContext, Registration, READ_COUNT, RECONNECT_PAUSE};

/// What a node's reader hands back to the supervisor.
enum Back {
    /// Rooms whose slot moved to another node (still following, positions kept).
    Moved(Vec<Registration>),
    /// The node's reader (the node, the reader's number) failed; its rooms were closed (4503).
    Failed(String, u64),
}

/// The supervisor's side of the cluster: the shared connection (for the slot map), the
/// target (for the node connections' URLs) and what the readers work with.
pub(super) struct Sharded {
    pub conn: RedisConn,
    pub target: Target,
    pub context: ReaderContext,
}

/// The supervisor: until the relay stops, or nobody can register any more.
pub(super) async fn read(sharded: Sharded, rx: mpsc::UnboundedReceiver<Registration>) {
    let stopping = sharded.context.lifecycle.clone();
    tokio::select! {
        biased;
        _ = stopping.stopping() => {}
        _ = supervise(sharded, rx) => {}
    }
}

async fn supervise(mut sharded: Sharded, mut rx: mpsc::UnboundedReceiver<Registration>) {
    let (back_tx, mut back_rx) = mpsc::unbounded_channel();
    // Each node's reader, numbered: a failure report names the reader, so it cannot
    // remove the reader started after it.
    let mut nodes: HashMap<String, (u64, mpsc::UnboundedSender<Registration>)> = HashMap::new();
    let mut started = 0u64;
    let mut map = SlotMap::default();
    loop {
        let mut registrations = tokio::select! {
            registration = rx.recv() => match registration {
                Some(registration) => vec![registration],
                None => return,
            },
            back = back_rx.recv() => match back {
                Some(Back::Moved(registrations)) => {
                    map = SlotMap::default();
                    registrations
                }
                Some(Back::Failed(node, number)) => {
                    if nodes.get(&node).is_some_and(|(current, _)| *current == number) {
                        nodes.remove(&node);
                    }
                    map = SlotMap::default();
                    continue;
                }
                None => return,
            },
        };
        while let Ok(registration) = rx.try_recv() {
            registrations.push(registration);
        }
        registrations.retain(|registration| registration.following.live());
        if registrations.is_empty() {
            continue;
        }
        if map.is_empty() {
            match slot_map(&mut sharded.conn).await {
                Ok(fresh) => map = fresh,
                Err(error) => {
                    sharded.context.instruments.redis_error("read");
                    tracing::error!(%error, "cannot read the cluster's slot map: the rooms go offline");
                    refuse(registrations, "redis cluster slot map unavailable");
                    continue;
                }
            }
        }
        for registration in registrations {
            let Some(node) = map.owner(slot_of(&registration.key)) else {
                refuse(vec![registration], "no redis node serves the room's slot");
                continue;
            };
            let node = node.to_owned();
            let (_, sender) = nodes.entry(node.clone()).or_insert_with(|| {
                started += 1;
                (started, start_node(&sharded, &node, started, back_tx.clone()))
            });
            if let Err(mpsc::error::SendError(registration)) = sender.send(registration) {
                // That node's reader ended (it failed): a fresh one tries the node again.
                started += 1;
                let sender = start_node(&sharded, &node, started, back_tx.clone());
                if let Err(mpsc::error::SendError(registration)) = sender.send(registration) {
                    refuse(vec![registration], "redis shard unreachable");
                }
                nodes.insert(node, (started, sender));
            }
        }
    }
}

fn refuse(registrations: Vec<Registration>, why: &str) {
    for registration in registrations {
        if let Some(room) = registration.following.room.upgrade() {
            room.unavailable(why);
        }
    }
}

/// Starts the reader of `node` ("host:port").
fn start_node(sharded: &Sharded, node: &str, number: u64, back: mpsc::UnboundedSender<Back>) -> mpsc::UnboundedSender<Registration> {
    let (tx, rx) = mpsc::unbounded_channel();
    let reader = NodeReader {
        node: node.to_owned(),
        number,
        url: sharded.target.node_url(node),
        context: sharded.context.clone(),
        back,
    };
    let stopping = sharded.context.lifecycle.clone();
    sharded.context.lifecycle.spawn(async move {
        tokio::select! {
            biased;
            _ = stopping.stopping() => {}
            _ = reader.run(rx) => {}
        }
    });
    tracing::debug!(node, "stream reader started for a redis cluster node");
    tx
}

struct NodeReader {
    node: String,
    number: u64,
    url: String,
    context: ReaderContext,
    back: mpsc::UnboundedSender<Back>,
}

impl NodeReader {
    /// Reads until the node fails (its rooms closed with 4503, the supervisor told) or the
    /// supervisor is gone.
    async fn run(self, mut rx: mpsc::UnboundedReceiver<Registration>) {
        let mut rooms: HashMap<String, Following> = HashMap::new();
        let Err(error) = self.poll(&mut rx, &mut rooms).await else { return };
        self.context.instruments.redis_error("read");
        // No registration may be lost: take what was queued, then refuse any more (the
        // supervisor starts a fresh reader for those).
        rx.close();
        while let Ok(registration) = rx.try_recv() {
            rooms.insert(registration.key, registration.following);
        }
        tracing::error!(node = self.node, %error, rooms = rooms.len(), "redis cluster node failed: its rooms go offline");
        fail_all(&mut rooms, "redis shard unreachable");
        let _ = self.back.send(Back::Failed(self.node.clone(), self.number));
        tokio::time::sleep(RECONNECT_PAUSE).await;
    }

    async fn poll(&self, rx: &mut mpsc::UnboundedReceiver<Registration>, rooms: &mut HashMap<String, Following>) -> Result<(), RedisError> {
        let settings = &self.context.settings;
        let conn = connect(&self.url, settings.timeout).await?;
        loop {
            if rooms.is_empty() {
                let Some(registration) = rx.recv().await else { return Ok(()) };
                rooms.insert(registration.key, registration.following);
            }
            while let Ok(registration) = rx.try_recv() {
                rooms.insert(registration.key, registration.following);
            }
            rooms.retain(|_, following| following.live());
            if rooms.is_empty() {
                continue;
            }
            // One XREAD per slot: a command may not span slots.
            let mut slots: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
            for key in rooms.keys() {
                slots.entry(slot_of(key)).or_default().push(key);
            }
            let reads = slots.into_values().map(|keys| {
                let mut xread = redis::cmd("XREAD");
                xread.arg("COUNT").arg(READ_COUNT).arg("STREAMS").arg(&keys);
                for key in &keys {
                    xread.arg(rooms.get(*key).map_or("$", |following| following.position.as_str()));
                }
                let keys: Vec<String> = keys.into_iter().map(str::to_owned).collect();
                let mut conn = conn.clone();
                async move { (keys, xread.query_async::<Option<StreamReadReply>>(&mut conn).await) }
            });
            let answers = futures_util::future::join_all(reads).await;
            let (mut found, mut moved) = (false, Vec::new());
            for (keys, answer) in answers {
                match answer {
                    Ok(Some(reply)) => {
                        for stream in reply.keys {
                            found |= !stream.ids.is_empty();
                            let Some(following) = rooms.get_mut(&stream.key) else { continue };
                            if !hand_over(following, &stream, &self.context) {
                                rooms.remove(&stream.key);
                            }
                        }
                    }
                    Ok(None) => {}
                    Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::Moved) => moved.extend(keys),
                    // Migrating: the keys not yet moved are still read here; MOVED follows.
                    Err(error) if error.kind() == ErrorKind::Server(ServerErrorKind::Ask) => {}
                    Err(error) => return Err(error),
                }
            }
            if !moved.is_empty() {
                let registrations: Vec<Registration> = moved
                    .iter()
                    .filter_map(|key| rooms.remove_entry(key))
                    .map(|(key, following)| Registration { key, following })
                    .collect();
                tracing::info!(node = self.node, rooms = registrations.len(), "slots moved off this redis node");
                let _ = self.back.send(Back::Moved(registrations));
            }
            if !found {
                tokio::select! {
                    registration = rx.recv() => match registration {
                        Some(registration) => { rooms.insert(registration.key, registration.following); }
                        None => return Ok(()),
                    },
                    _ = tokio::time::sleep(settings.poll) => {}
                }
            }
        }
    }
}

/// The node reader's own connection (its reads never wait behind the rooms' commands).
async fn connect(url: &str, timeout: Duration) -> Result<MultiplexedConnection, RedisError> {
    let client = redis::Client::open(url)?;
    let config = redis::AsyncConnectionConfig::new().set_connection_timeout(Some(timeout)).set_response_timeout(Some(timeout));
    client.get_multiplexed_async_connection_with_config(&config).await
}
