//! Fuzz target: see `shared::fuzzing::frame_decoding`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shared::fuzzing::frame_decoding(data));
