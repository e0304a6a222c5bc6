//! Shared by the device's reliability tests: a tiny real embedder (`fixtures/`), signed
//! bundles made from it, pictures ([`bundles`]), and the `capsule` binary.
#![allow(dead_code)]

pub mod bundles;

pub use bundles::*;

use std::path::Path;
use std::process::{Command, Output};

/// How to start a binary of this build: empty natively; for a cross build run under
/// qemu-user, `CAPSULE_TEST_RUNNER` (the same runner as `.cargo/config.toml`), because a
/// process started from the tests is not under qemu unless the kernel's binfmt_misc says
/// so, and CI containers lack it.
pub fn runner() -> Vec<String> {
    std::env::var("CAPSULE_TEST_RUNNER")
        .map(|r| r.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

/// The `capsule` binary of this build, with `--data-dir data` and `args`.
pub fn capsule(data: &Path, args: &[&str]) -> Command {
    let runner = runner();
    let mut command = match runner.split_first() {
        Some((program, rest)) => {
            let mut c = Command::new(program);
            c.args(rest).arg(env!("CARGO_BIN_EXE_capsule"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_capsule")),
    };
    command.arg("--data-dir").arg(data).args(args);
    command
}

/// Runs `capsule` to the end; returns its output.
pub fn run_capsule(data: &Path, args: &[&str]) -> Output {
    capsule(data, args).output().unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
