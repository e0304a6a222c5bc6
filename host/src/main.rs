//! `capsule-host`: the workstation command line (see `capsule_host::cli`).

use clap::Parser;

fn main() -> anyhow::Result<()> {
    capsule_host::cli::dispatch(capsule_host::cli::Cli::parse())
}
