#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| capsule_device::fuzz_targets::board_profile(data));
