//! One entry of a room's Redis stream, as every relay writes and reads it. Entries are the
//! only thing relays exchange, so their layout lives here and nowhere else:
//!
//! | field | value |
//! |---|---|
//! | `o` | origin: the writing relay's id and room instance (`relay/instance`) |
//! | `k` | kind: `u` (document update, v1 encoding), `a` (awareness update payload) or `x` (the room was deleted: everything before is void) |
//! | `n` | for updates: the origin's local number of the update (orders its fan-out) |
//! | `d` | the change as one y-websocket message (an Update or an Awareness message), the very frame members receive; empty for `x` |
//!
//! Decoding is strict: an entry that lacks a field or has an unknown kind is refused, and
//! the message is decoded and validated by the room like a client's before it is applied.

use redis::streams::StreamId;
use redis::Value;

/// What an entry carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Update,
    Awareness,
    /// An administrator deleted the room: relays close its members and forget it, loading
    /// starts after the last such entry.
    Deleted,
}

impl Kind {
    pub fn tag(self) -> &'static str {
        match self {
            Kind::Update => "u",
            Kind::Awareness => "a",
            Kind::Deleted => "x",
        }
    }
}

/// A decoded stream entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The stream id, `ms-seq`.
    pub id: String,
    pub origin: String,
    pub kind: Kind,
    pub n: u64,
    pub data: Vec<u8>,
}

/// Why an entry was refused.
#[derive(Debug, thiserror::Error)]
#[error("stream entry {id}: {problem}")]
pub struct BadEntry {
    pub id: String,
    pub problem: &'static str,
}

impl Entry {
    pub fn decode(raw: &StreamId) -> Result<Entry, BadEntry> {
        let bad = |problem| BadEntry { id: raw.id.clone(), problem };
        let bytes = |field: &str| match raw.map.get(field) {
            Some(Value::BulkString(bytes)) => Some(bytes.clone()),
            Some(Value::SimpleString(text)) => Some(text.clone().into_bytes()),
            _ => None,
        };
        let origin = bytes("o").and_then(|b| String::from_utf8(b).ok()).ok_or_else(|| bad("no origin"))?;
        let kind = match bytes("k").as_deref() {
            Some(b"u") => Kind::Update,
            Some(b"a") => Kind::Awareness,
            Some(b"x") => Kind::Deleted,
            _ => return Err(bad("unknown kind")),
        };
        let n = bytes("n")
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no number"))?;
        let data = bytes("d").ok_or_else(|| bad("no payload"))?;
        Ok(Entry { id: raw.id.clone(), origin, kind, n, data })
    }
}

/// Adds an XADD of one entry to `pipe`.
pub fn add_to(pipe: &mut redis::Pipeline, key: &str, origin: &str, kind: Kind, n: u64, data: &[u8]) {
    pipe.cmd("XADD").arg(key).arg("*").arg("o").arg(origin).arg("k").arg(kind.tag()).arg("n").arg(n).arg("d").arg(data).ignore();
}

/// A stream id as `(ms, seq)`, for comparisons and trimming.
pub fn parse_id(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn raw(fields: &[(&str, &[u8])]) -> StreamId {
        let map: HashMap<String, Value> =
            fields.iter().map(|(k, v)| (k.to_string(), Value::BulkString(v.to_vec()))).collect();
        StreamId { id: "5-1".into(), map, ..StreamId::default() }
    }

    #[test]
    fn entries_decode_strictly() {
        let ok = Entry::decode(&raw(&[("o", b"r/1"), ("k", b"u"), ("n", b"7"), ("d", b"\x00\x00")])).unwrap();
        assert_eq!((ok.origin.as_str(), ok.kind, ok.n, ok.data.as_slice()), ("r/1", Kind::Update, 7, &b"\x00\x00"[..]));
        assert!(Entry::decode(&raw(&[("o", b"r/1"), ("k", b"z"), ("n", b"7"), ("d", b"")])).is_err(), "an unknown kind");
        let deleted = Entry::decode(&raw(&[("o", b"r/admin"), ("k", b"x"), ("n", b"0"), ("d", b"")])).unwrap();
        assert_eq!(deleted.kind, Kind::Deleted);
        assert!(Entry::decode(&raw(&[("k", b"a"), ("n", b"0"), ("d", b"")])).is_err());
        assert_eq!(parse_id("1700000000000-3"), Some((1_700_000_000_000, 3)));
        assert_eq!(parse_id("nope"), None);
    }
}
