//! Fuzz target: see `relay::fuzzing::room_frames`.
#![no_main]

use std::sync::Once;

static HOOK: Once = Once::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // libFuzzer's hook aborts on any panic, even one the room catches around yrs (and
    // answers by reloading the room). Print instead and let it unwind: a panic the relay
    // does not catch still reaches libFuzzer and is reported as a crash.
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| eprintln!("panic (caught by the room if inside yrs): {info}")));
    });
    relay::fuzzing::room_frames(data)
});
