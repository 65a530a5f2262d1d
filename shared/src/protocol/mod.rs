//! The y-websocket wire protocol: the one place that turns frames into messages and back.
//!
//! Encoding and decoding are `yrs::sync`'s; this module adds what a relay and a client need on
//! top of it: strict frame decoding (no silently ignored trailing bytes), validation of
//! updates and awareness states before anyone applies or forwards them, and one helper per
//! message the product sends. Every helper returns the bytes of exactly **one** message,
//! because stock y-websocket clients decode only the first message of a WebSocket frame.

use yrs::encoding::read::Error as ReadError;
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::StateVector;

mod update;

pub use update::{decode_relayed_update, decode_update};
pub use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
pub use yrs::sync::{Message, SyncMessage};

/// Message tag of y-websocket's sync messages.
pub const MSG_SYNC: u8 = 0;
/// Message tag of awareness updates.
pub const MSG_AWARENESS: u8 = 1;
/// Message tag of auth messages.
pub const MSG_AUTH: u8 = 2;
/// Message tag of "send me every awareness state".
pub const MSG_QUERY_AWARENESS: u8 = 3;

/// Message tag of the relay's durable acknowledgement, sent only to clients that asked for
/// it (`?acks=1`): payload `varUint(n)` = the first `n` updates this connection sent are
/// durable. Stock clients never ask, so they never see it.
pub const MSG_DURABLE_ACK: u8 = 101;
/// Message tags of the round-trip probe: a client sends `102 varBuf(payload)` and the relay
/// answers that connection alone with `103` and the same payload (at most
/// [`MAX_PING_PAYLOAD`] bytes). The editor's performance view measures latency with it;
/// stock clients never send it.
pub const MSG_PING: u8 = 102;
pub const MSG_PONG: u8 = 103;
pub const MAX_PING_PAYLOAD: usize = 64;
/// Message tag of the relay's word on what a connection may do, sent first (before its
/// SyncStep1) only to clients that asked (`?access=1`): payload = UTF-8 JSON
/// `{"role": "editor"|"viewer", "id"?: "…", "name"?: "…"}`. The editor reads it to know it
/// is a viewer before it writes. Stock clients never ask, so they never see it.
pub const MSG_ACCESS: u8 = 104;

/// Why a frame was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("empty frame")]
    EmptyFrame,
    #[error("malformed message: {0}")]
    Malformed(#[from] ReadError),
    #[error("invalid update: {0}")]
    InvalidUpdate(ReadError),
    #[error("invalid update: the decoder refused it")]
    DecoderPanicked,
    #[error("invalid update: it does not survive re-encoding ({0})")]
    NotReencodable(ReadError),
    #[error("invalid update: the blocks of client {client} are not one contiguous run")]
    ScatteredBlocks { client: u64 },
    #[error("invalid update: it declares {clients} clients in {bytes} bytes")]
    ImplausibleUpdate { clients: u64, bytes: usize },
    #[error("invalid {what}: it declares {entries} entries in {bytes} bytes")]
    ImplausibleCount { what: &'static str, entries: u64, bytes: usize },
    #[error("awareness state of client {client} is not valid JSON")]
    InvalidAwarenessJson { client: u64 },
}

/// Decodes every message in `frame`. A frame that ends in the middle of a message, or holds
/// bytes that are not a message, is refused whole: nothing in it may be applied.
pub fn decode_frame(frame: &[u8]) -> Result<Vec<Message>, ProtocolError> {
    if frame.is_empty() {
        return Err(ProtocolError::EmptyFrame);
    }
    let mut messages = Vec::with_capacity(1);
    let mut rest = frame;
    while !rest.is_empty() {
        check_declared_counts(rest)?;
        let mut decoder = DecoderV1::from(rest);
        messages.push(Message::decode(&mut decoder)?);
        let remaining = yrs::updates::decoder::Decoder::read_to_end(&mut decoder)?.len();
        rest = &rest[rest.len() - remaining..];
    }
    Ok(messages)
}

/// State vectors and awareness updates start with their number of entries, and yrs reserves
/// a hash table of that size before reading them: a few bytes could make it allocate and
/// clear hundreds of MB (found by fuzzing). A count the bytes cannot hold (a state-vector
/// entry takes at least 2 bytes, an awareness entry 3) is refused before yrs decodes the
/// message. Messages that do not parse this far are left to yrs to refuse.
fn check_declared_counts(message: &[u8]) -> Result<(), ProtocolError> {
    use yrs::encoding::read::Read;
    let mut decoder = DecoderV1::from(message);
    let payload = match decoder.read_var::<u8>() {
        Ok(MSG_SYNC) => match decoder.read_var::<u8>() {
            Ok(0) => decoder.read_buf().ok().map(|buf| ("state vector", buf, 2)),
            _ => None,
        },
        Ok(MSG_AWARENESS) => decoder.read_buf().ok().map(|buf| ("awareness update", buf, 3)),
        _ => None,
    };
    let Some((what, payload, min_entry)) = payload else { return Ok(()) };
    let Ok(entries) = DecoderV1::from(payload).read_var::<u64>() else { return Ok(()) };
    if entries > (payload.len() / min_entry) as u64 {
        return Err(ProtocolError::ImplausibleCount { what, entries, bytes: payload.len() });
    }
    Ok(())
}

/// Checks that every state in an awareness update is JSON, as stock clients `JSON.parse` them.
pub fn validate_awareness(update: &AwarenessUpdate) -> Result<(), ProtocolError> {
    for (client, entry) in &update.clients {
        if serde_json::from_str::<serde::de::IgnoredAny>(&entry.json).is_err() {
            return Err(ProtocolError::InvalidAwarenessJson { client: client.get() });
        }
    }
    Ok(())
}

/// Encodes one message as the bytes of one frame.
pub fn encode(message: &Message) -> Vec<u8> {
    message.encode_v1()
}

/// `0 0 stateVector`: "here is what I have".
pub fn sync_step1(state_vector: &StateVector) -> Vec<u8> {
    encode(&Message::Sync(SyncMessage::SyncStep1(state_vector.clone())))
}

/// `0 1 update`: the answer to a step 1.
pub fn sync_step2(update: Vec<u8>) -> Vec<u8> {
    encode(&Message::Sync(SyncMessage::SyncStep2(update)))
}

/// `0 2 update`: an incremental change.
pub fn update(update: Vec<u8>) -> Vec<u8> {
    encode(&Message::Sync(SyncMessage::Update(update)))
}

/// `1 payload`: awareness states.
pub fn awareness(update: AwarenessUpdate) -> Vec<u8> {
    encode(&Message::Awareness(update))
}

/// `3`: ask the peer for every awareness state.
pub fn query_awareness() -> Vec<u8> {
    encode(&Message::AwarenessQuery)
}

/// `2 0 reason`: permission denied.
pub fn permission_denied(reason: &str) -> Vec<u8> {
    encode(&Message::Auth(Some(reason.to_owned())))
}

/// `104 varByteArray(json)`: what this connection may do (see [`MSG_ACCESS`]).
pub fn access(json: &str) -> Vec<u8> {
    encode(&Message::Custom(MSG_ACCESS, json.as_bytes().to_vec()))
}

/// Whether `message` changes the document: a SyncStep2 or an update with content (what a
/// viewer may not send; an empty SyncStep2, a stock client's polite answer, is no change).
pub fn is_change(message: &Message) -> bool {
    match message {
        Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) => decode_update(update).map_or(true, |u| !u.is_empty()),
        _ => false,
    }
}

/// `101 varByteArray(varUint(count))`: the first `count` updates sent on this connection
/// are durable.
pub fn durable_ack(count: u64) -> Vec<u8> {
    use yrs::encoding::write::Write;
    use yrs::updates::encoder::{Encoder, EncoderV1};
    let mut payload = EncoderV1::new();
    payload.write_var(count);
    encode(&Message::Custom(MSG_DURABLE_ACK, payload.to_vec()))
}

/// `102 payload`: a round-trip probe.
pub fn ping(payload: &[u8]) -> Vec<u8> {
    encode(&Message::Custom(MSG_PING, payload.to_vec()))
}

/// `103 payload`: the relay's answer to a probe.
pub fn pong(payload: &[u8]) -> Vec<u8> {
    encode(&Message::Custom(MSG_PONG, payload.to_vec()))
}

/// `varString(name) message`: a message behind the name of the document it is for, the
/// framing of servers that carry several documents on one socket (Hocuspocus; the load
/// generator compares our relay with it).
pub fn with_document_name(name: &str, message: &[u8]) -> Vec<u8> {
    use yrs::encoding::write::Write;
    let mut out = Vec::with_capacity(name.len() + 4 + message.len());
    out.write_string(name);
    out.extend_from_slice(message);
    out
}

/// The document name a [`with_document_name`] frame starts with, and the message after it.
pub fn split_document_name(frame: &[u8]) -> Result<(String, &[u8]), ProtocolError> {
    use yrs::encoding::read::{Cursor, Read};
    let mut cursor = Cursor::new(frame);
    let name = cursor.read_string()?.to_owned();
    Ok((name, &frame[cursor.next..]))
}

/// Reads the count of a durable acknowledgement's payload.
pub fn decode_durable_ack(payload: &[u8]) -> Result<u64, ProtocolError> {
    use yrs::encoding::read::Read;
    let mut decoder = DecoderV1::from(payload);
    Ok(decoder.read_var::<u64>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{ClientID, Doc, Options, Text, Transact, Update};

    pub(super) fn doc(client: u64) -> Doc {
        Doc::with_options(Options { client_id: ClientID::new(client), ..Options::default() })
    }

    #[test]
    fn a_document_name_prefix_comes_off_as_it_went_on() {
        let message = query_awareness();
        let framed = with_document_name("scène", &message);
        let (name, rest) = split_document_name(&framed).expect("splits");
        assert_eq!((name.as_str(), rest), ("scène", message.as_slice()));
        assert!(split_document_name(&[0x05, b'a']).is_err(), "a name longer than the frame");
    }

    #[test]
    fn bytes_match_the_reference() {
        assert_eq!(sync_step1(&StateVector::default()), [0, 0, 1, 0]);
        assert_eq!(sync_step2(Update::new().encode_v1()), [0, 1, 2, 0, 0]);
        let d = doc(1);
        let text = d.get_or_insert_text("t");
        let bytes = {
            let mut txn = d.transact_mut();
            text.insert(&mut txn, 0, "hi");
            txn.encode_update_v1()
        };
        assert_eq!(update(bytes), [0, 2, 12, 1, 1, 1, 0, 4, 1, 1, 116, 2, 104, 105, 0]);
        let aw = decode_frame(&[1, 11, 1, 1, 1, 7, 123, 34, 117, 34, 58, 49, 125]).unwrap();
        let Message::Awareness(aw) = &aw[0] else { panic!("not awareness: {aw:?}") };
        assert_eq!(&*aw.clients[&ClientID::new(1)].json, r#"{"u":1}"#);
        assert_eq!(awareness(aw.clone()), [1, 11, 1, 1, 1, 7, 123, 34, 117, 34, 58, 49, 125]);
    }

    #[test]
    fn probes_round_trip() {
        let messages = decode_frame(&ping(&[1, 2, 3])).unwrap();
        assert!(matches!(&messages[0], Message::Custom(MSG_PING, p) if p == &[1, 2, 3]));
        let messages = decode_frame(&pong(&[1, 2, 3])).unwrap();
        assert!(matches!(&messages[0], Message::Custom(MSG_PONG, p) if p == &[1, 2, 3]));
    }

    #[test]
    fn durable_acks_round_trip() {
        let frame = durable_ack(300);
        let messages = decode_frame(&frame).unwrap();
        let Message::Custom(MSG_DURABLE_ACK, payload) = &messages[0] else { panic!("{messages:?}") };
        assert_eq!(decode_durable_ack(payload).unwrap(), 300);
    }

    #[test]
    fn frames_with_several_messages_decode_in_order() {
        let mut frame = sync_step1(&StateVector::default());
        frame.extend(query_awareness());
        let messages = decode_frame(&frame).unwrap();
        assert!(matches!(messages[0], Message::Sync(SyncMessage::SyncStep1(_))));
        assert!(matches!(messages[1], Message::AwarenessQuery));
    }

    #[test]
    fn truncated_and_garbage_frames_are_refused() {
        assert!(matches!(decode_frame(&[]), Err(ProtocolError::EmptyFrame)));
        // a truncated update: length says 12, 3 bytes follow
        assert!(decode_frame(&[0, 2, 12, 1, 1]).is_err());
        // a full message followed by half of another one
        let mut frame = sync_step1(&StateVector::default());
        frame.extend([0, 2, 200]);
        assert!(decode_frame(&frame).is_err());
        // unknown sync sub-type
        assert!(decode_frame(&[0, 9, 0]).is_err());
    }

    #[test]
    fn awareness_with_broken_json_is_refused() {
        let mut update = AwarenessUpdate { clients: Default::default() };
        update.clients.insert(ClientID::new(7), AwarenessUpdateEntry { clock: 1, json: "{oops".into() });
        assert!(matches!(
            validate_awareness(&update),
            Err(ProtocolError::InvalidAwarenessJson { client: 7 })
        ));
        update.clients.insert(ClientID::new(7), AwarenessUpdateEntry { clock: 2, json: "null".into() });
        assert!(validate_awareness(&update).is_ok());
    }
}

#[cfg(test)]
mod fuzz_findings {
    use super::*;

    #[test]
    fn an_update_declaring_more_clients_than_it_can_hold_is_refused_before_decoding() {
        // Found by the frame_decoding fuzz target: yrs would reserve a table for ~2^32 clients.
        let frame = [0x00, 0x02, 0x0c, 0x92, 0xff, 0x90, 0x92, 0x9a, 0x03, 0x01, 0xfe, 0x00, 0x00, 0x00, 0x00];
        let messages = decode_frame(&frame).unwrap();
        let Message::Sync(SyncMessage::Update(update)) = &messages[0] else { panic!("{messages:?}") };
        assert!(matches!(decode_update(update), Err(ProtocolError::ImplausibleUpdate { .. })));
    }

    #[test]
    fn state_vectors_and_awareness_declaring_huge_counts_are_refused() {
        // SyncStep1 whose state vector claims 2^28 clients in 5 bytes.
        let step1 = [0x00, 0x00, 0x05, 0x80, 0x80, 0x80, 0x80, 0x01];
        assert!(matches!(decode_frame(&step1), Err(ProtocolError::ImplausibleCount { what: "state vector", .. })));
        let awareness = [0x01, 0x05, 0x80, 0x80, 0x80, 0x80, 0x01];
        assert!(matches!(decode_frame(&awareness), Err(ProtocolError::ImplausibleCount { what: "awareness update", .. })));
        // Ordinary messages pass.
        assert!(decode_frame(&[0, 0, 1, 0]).is_ok());
        assert!(decode_frame(&[1, 11, 1, 1, 1, 7, 123, 34, 117, 34, 58, 49, 125]).is_ok());
    }
}
