//! Decoding a document update (v1) safely: the checks each exist because fuzzing found yrs
//! 0.28 misbehaving without them (RELIABILITY.md), and they cost more than the decode
//! itself, so there are two entry points: [`decode_update`] for bytes from anyone, and
//! [`decode_relayed_update`] for what a relay of this project already checked.

use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::Update;

use super::ProtocolError;

/// Decodes and so validates a document update (v1 encoding). Callers apply or forward an
/// update only after this succeeds.
///
/// An update starts with its number of clients, and yrs reserves a hash table of that size
/// before reading them: a 15-byte frame could make it allocate and clear hundreds of MB
/// (found by fuzzing). Each client takes at least 3 bytes, so a count the bytes cannot hold
/// is refused before yrs sees it.
pub fn decode_update(update: &[u8]) -> Result<Update, ProtocolError> {
    decode_checked(update, true)
}

/// Decodes an update a relay of this project sent: a room's state (its SyncStep2), or a
/// member's update it accepted and forwards. Every one of those passed [`decode_update`] on
/// the relay, and a room's state is yrs' own encoding of updates that did, so the
/// re-encoding checks are not made again: they are two thirds of the decode's cost (in
/// headless Chromium here, a 1,000-node room's first sync took ~35 ms to decode with them).
/// The client-count check and a refused (or panicking) decode stay: a relay of another make
/// may send anything a stock client accepts.
pub fn decode_relayed_update(update: &[u8]) -> Result<Update, ProtocolError> {
    decode_checked(update, false)
}

fn decode_checked(update: &[u8], reencode: bool) -> Result<Update, ProtocolError> {
    use yrs::encoding::read::Read;
    let clients: u64 = DecoderV1::from(update).read_var().map_err(ProtocolError::InvalidUpdate)?;
    if clients > (update.len() / 3) as u64 {
        return Err(ProtocolError::ImplausibleUpdate { clients, bytes: update.len() });
    }
    // yrs' decoder can panic on hostile bytes (arithmetic overflow in delete-set ranges,
    // found by fuzzing): contain it here, at the boundary, as a refused update.
    let checked = std::panic::catch_unwind(|| {
        let decoded = Update::decode_v1(update).map_err(ProtocolError::InvalidUpdate)?;
        if !reencode {
            return Ok(decoded);
        }
        // yrs accepts some byte strings that it cannot encode back into decodable bytes;
        // once such an update is in a document (typically as a pending update), encoding
        // the document fails (found by fuzzing). Refuse those here, while it costs nothing.
        let reencoded = Update::decode_v1(&decoded.encode_v1()).map_err(ProtocolError::NotReencodable)?;
        // The encoding lets a client appear twice with a second start clock; yrs then holds
        // its blocks out of order or overlapping, and integrating them frees blocks that
        // others still point to (a use-after-free found by fuzzing). Encoding writes each
        // client once, numbering its blocks from the first one on, so an update whose ids
        // change on the way through has scattered blocks: refuse it.
        if let Some(client) = scattered_client(&decoded, &reencoded) {
            return Err(ProtocolError::ScatteredBlocks { client });
        }
        Ok(decoded)
    });
    checked.unwrap_or(Err(ProtocolError::DecoderPanicked))
}

/// The first client whose inserted ids differ between `decoded` and its re-encoding.
fn scattered_client(decoded: &Update, reencoded: &Update) -> Option<u64> {
    let ranges = |update: &Update| {
        let mut by_client: std::collections::BTreeMap<u64, Vec<(u32, u32)>> = std::collections::BTreeMap::new();
        for (client, ranges) in update.insertions(true).iter() {
            let mut list: Vec<(u32, u32)> = ranges.iter().map(|r| (r.start, r.end)).collect();
            list.sort_unstable();
            let mut merged: Vec<(u32, u32)> = Vec::with_capacity(list.len());
            for (start, end) in list {
                match merged.last_mut() {
                    Some(last) if start <= last.1 => last.1 = last.1.max(end),
                    _ => merged.push((start, end)),
                }
            }
            by_client.insert(client.get(), merged);
        }
        by_client
    };
    let (before, after) = (ranges(decoded), ranges(reencoded));
    before.keys().chain(after.keys()).find(|client| before.get(client) != after.get(client)).copied()
}

#[cfg(test)]
mod tests {
    use super::super::tests::doc;
    use super::*;
    use yrs::{GetString, ReadTxn, StateVector, Text, Transact};

    #[test]
    fn a_client_listed_twice_in_one_update_is_refused() {
        let d = doc(7);
        let text = d.get_or_insert_text("t");
        let bytes = {
            let mut txn = d.transact_mut();
            text.insert(&mut txn, 0, "hi");
            txn.encode_update_v1()
        };
        assert!(decode_update(&bytes).is_ok());
        // One client section and an empty delete set: `1, section, 0`. List the section twice.
        let section = &bytes[1..bytes.len() - 1];
        let twice: Vec<u8> = [&[2u8][..], section, section, &[0]].concat();
        assert!(matches!(decode_update(&twice), Err(ProtocolError::ScatteredBlocks { client: 7 })), "{:?}", decode_update(&twice));
    }

    #[test]
    fn garbage_updates_are_refused_and_good_ones_apply() {
        assert!(decode_update(&[0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]).is_err());
        let a = doc(1);
        let bytes = {
            let text = a.get_or_insert_text("t");
            let mut txn = a.transact_mut();
            text.insert(&mut txn, 0, "hello");
            txn.encode_update_v1()
        };
        let b = doc(2);
        let text = b.get_or_insert_text("t");
        b.transact_mut().apply_update(decode_update(&bytes).unwrap()).unwrap();
        assert_eq!(text.get_string(&b.transact()), "hello");
    }

    #[test]
    fn a_relayed_state_decodes_as_the_checked_decode_does_and_implausible_counts_are_still_refused() {
        // A room's state as the relay serves it: yrs' encoding of a document with two writers,
        // an insertion, and a deletion.
        let (a, b) = (doc(1), doc(2));
        let text = a.get_or_insert_text("t");
        text.insert(&mut a.transact_mut(), 0, "hello world");
        let first = a.transact().encode_state_as_update_v1(&StateVector::default());
        b.transact_mut().apply_update(decode_update(&first).unwrap()).unwrap();
        let theirs = b.get_or_insert_text("t");
        theirs.remove_range(&mut b.transact_mut(), 0, 6);
        let state = b.transact().encode_state_as_update_v1(&StateVector::default());

        let (checked, relayed) = (decode_update(&state).unwrap(), decode_relayed_update(&state).unwrap());
        assert_eq!(checked.encode_v1(), relayed.encode_v1());
        let c = doc(3);
        c.transact_mut().apply_update(relayed).unwrap();
        assert_eq!(c.get_or_insert_text("t").get_string(&c.transact()), "world");

        assert!(decode_relayed_update(&[0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]).is_err());
        let bomb = [0x92, 0xff, 0x90, 0x92, 0x9a, 0x03, 0x01, 0xfe, 0x00, 0x00, 0x00, 0x00];
        assert!(matches!(decode_relayed_update(&bomb), Err(ProtocolError::ImplausibleUpdate { .. })));
    }
}
