//! Replays the committed fuzz corpus and every crash input ever found (`fuzz/corpus/<target>/`
//! and `fuzz/regressions/<target>/`) through the same target bodies `cargo fuzz` runs, on
//! stable Rust: a fix that regresses fails here, in CI, without nightly.
//!
//! `cargo run --release -p capsule-device --features fuzzing --example write_fuzz_seeds`
//! rewrites the hand-made seeds (`fuzz/seeds/<target>/`) from the real formats.

mod common;

use capsule_device::fuzz_targets::{TARGETS, decode_bundle_input, fuzz_signing_key};
use capsule_device::update::slots::{ApplyOptions, Slots};
use common::{files_in, fuzz_dir};

#[test]
fn every_target_replays_its_corpus_seeds_and_regressions() {
    for (name, body) in TARGETS {
        let seeds = files_in(&fuzz_dir().join("seeds").join(name));
        let corpus = files_in(&fuzz_dir().join("corpus").join(name));
        assert!(!seeds.is_empty(), "fuzz/seeds/{name} is empty");
        assert!(!corpus.is_empty(), "fuzz/corpus/{name} is empty");
        let regressions = files_in(&fuzz_dir().join("regressions").join(name));
        for file in seeds.iter().chain(&corpus).chain(&regressions) {
            let bytes = std::fs::read(file).unwrap();
            // A panic names the input that caused it.
            let result = std::panic::catch_unwind(|| body(&bytes));
            assert!(result.is_ok(), "{name}: {} panicked", file.display());
        }
    }
}

/// The update seeds start the fuzzer deep: the signed one installs; the escaping one is
/// refused at the path check, after its (re-made) signature verified.
#[test]
fn update_seeds_reach_past_the_signature() {
    let seeds = fuzz_dir().join("seeds/update_apply");
    let install = |seed: &str| {
        let (flags, files) = decode_bundle_input(&std::fs::read(seeds.join(seed)).unwrap());
        let tmp = tempfile::tempdir().unwrap();
        let bundle = tmp.path().join("bundle");
        let key = fuzz_signing_key();
        common::write_files(&bundle, &files, (flags & 1 == 1).then_some(&key));
        Slots::new(&tmp.path().join("data"))
            .apply(
                &bundle,
                &ApplyOptions {
                    trusted: vec![key.verifying_key()],
                    allow_downgrade: false,
                    threads: 1,
                },
            )
            .map(|a| a.bundle_version)
            .map_err(|e| e.to_string())
    };
    assert_eq!(install("signed-bundle"), Ok(3));
    let escaping = install("escaping-path").unwrap_err();
    assert!(escaping.contains("must be a plain path"), "{escaping}");
}
