//! Any bytes given to the protocol decoder either decode or are refused; nothing panics,
//! and what decodes re-encodes to messages that decode the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::protocol::{self, Message, SyncMessage};

fuzz_target!(|data: &[u8]| {
    let Ok(messages) = protocol::decode_frame(data) else { return };
    for message in messages {
        match &message {
            Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) => {
                let _ = protocol::decode_update(update);
            }
            Message::Awareness(update) => {
                let _ = protocol::validate_awareness(update);
            }
            _ => {}
        }
        let again = protocol::decode_frame(&protocol::encode(&message)).expect("re-encoded message decodes");
        assert_eq!(again, vec![message]);
    }
});
