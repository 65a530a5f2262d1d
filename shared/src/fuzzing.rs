//! Properties checked by the fuzz targets (`fuzz/`) and by the corpus replay in the tests,
//! kept here so both run exactly the same code.

use crate::protocol::{self, Message, SyncMessage};

/// Any bytes either decode as frames or are refused; nothing panics, and every decoded
/// message re-encodes to bytes that decode to the same message. (Except messages of unknown
/// type 128 or above: yrs decodes their type as a varUint but encodes it as one byte, so
/// they do not round-trip. The relay ignores such messages and never re-encodes them.)
pub fn frame_decoding(data: &[u8]) {
    let Ok(messages) = protocol::decode_frame(data) else { return };
    for message in messages {
        match &message {
            Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) => {
                let _ = protocol::decode_update(update);
            }
            Message::Awareness(update) => {
                let _ = protocol::validate_awareness(update);
            }
            Message::Custom(tag, _) if *tag >= 128 => continue,
            _ => {}
        }
        let again = protocol::decode_frame(&protocol::encode(&message)).expect("a re-encoded message decodes");
        assert_eq!(again, vec![message], "a message survives a round trip");
    }
}
