//! A Redis Cluster's slot map as the relay needs it: which master owns a room's slot (for
//! the stream readers, [`super::shards`]) and which masters there are (SCAN walks each).
//! Read with `CLUSTER SLOTS` through the cluster connection; the readers drop it when a read
//! is answered MOVED or a node fails, and ask again.

use redis::{ErrorKind, RedisError, Value};

use super::conn::RedisConn;

/// Which master owns which slots: `(first, last, "host:port")`.
#[derive(Default)]
pub(super) struct SlotMap(Vec<(u16, u16, String)>);

impl SlotMap {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every master ("host:port"), once.
    pub fn masters(&self) -> Vec<String> {
        let mut masters: Vec<String> = self.0.iter().map(|(_, _, node)| node.clone()).collect();
        masters.sort();
        masters.dedup();
        masters
    }

    pub fn owner(&self, slot: u16) -> Option<&str> {
        self.0.iter().find(|(first, last, _)| (*first..=*last).contains(&slot)).map(|(_, _, node)| node.as_str())
    }
}

/// The slot map, as `CLUSTER SLOTS` reports it (masters only).
pub(super) async fn slot_map(conn: &mut RedisConn) -> Result<SlotMap, RedisError> {
    let reply: Vec<Vec<Value>> = redis::cmd("CLUSTER").arg("SLOTS").query_async(conn).await?;
    let malformed = || RedisError::from((ErrorKind::UnexpectedReturnType, "malformed CLUSTER SLOTS reply"));
    let mut map = Vec::with_capacity(reply.len());
    for range in reply {
        let [Value::Int(first), Value::Int(last), Value::Array(master), ..] = range.as_slice() else { return Err(malformed()) };
        let [host, Value::Int(port), ..] = master.as_slice() else { return Err(malformed()) };
        let host = match host {
            Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            Value::SimpleString(host) => host.clone(),
            _ => return Err(malformed()),
        };
        let (Ok(first), Ok(last)) = (u16::try_from(*first), u16::try_from(*last)) else { return Err(malformed()) };
        map.push((first, last, format!("{host}:{port}")));
    }
    Ok(SlotMap(map))
}

