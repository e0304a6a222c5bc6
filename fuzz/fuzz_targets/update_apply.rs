#![no_main]
libfuzzer_sys::fuzz_target!(
    // The device catches panics inside tract (`engine::model::guard`) and turns them into
    // load errors, so the default hook replaces libfuzzer-sys's abort-on-any-panic one; a
    // panic that escapes the body still aborts (libfuzzer-sys checks) and is a crash.
    init: {
        let _ = std::panic::take_hook();
    },
    |data: &[u8]| capsule_device::fuzz_targets::update_apply(data)
);
