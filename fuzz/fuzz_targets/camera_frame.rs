#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| capsule_device::fuzz_targets::camera_frame(data));
