//! Replays every input of the fuzz corpora (seeds and anything the fuzzers kept) through
//! the same property checks the fuzz targets run, on every `cargo test`.

use std::path::Path;

fn inputs(dir: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_file() {
            found.push(std::fs::read(&path).expect("corpus file reads"));
        }
    }
    assert!(!found.is_empty(), "{} holds no inputs", dir.display());
    found
}

#[test]
fn frame_decoding_corpus_replays_clean() {
    for input in inputs("fuzz/protocol/corpus/frame_decoding") {
        shared::fuzzing::frame_decoding(&input);
    }
}

#[test]
fn room_frames_corpus_replays_clean() {
    for input in inputs("fuzz/relay/corpus/room_frames") {
        relay::fuzzing::room_frames(&input);
    }
}
