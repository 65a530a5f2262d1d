//! Fuzz target: see `shared::fuzzing::frame_decoding`.
#![no_main]

use std::sync::Once;

static HOOK: Once = Once::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // libFuzzer's hook aborts on any panic, even one `decode_update` catches around yrs
    // (and answers with a refusal). Print instead and let it unwind: a panic that is not
    // caught still reaches libFuzzer and is reported as a crash.
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| eprintln!("panic (caught if inside yrs): {info}")));
    });
    shared::fuzzing::frame_decoding(data)
});
