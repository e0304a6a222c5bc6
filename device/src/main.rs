//! `capsule`: the device command line (see `capsule_device::cli`).

use clap::Parser;

fn main() -> anyhow::Result<()> {
    capsule_device::memory::limit_heap_arenas();
    capsule_device::cli::dispatch(capsule_device::cli::Cli::parse())
}
