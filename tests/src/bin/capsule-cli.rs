//! The device's `capsule` command line, built into this package too, so that end-to-end
//! tests can start it as a program the way a board's scripts do (cargo builds a package's
//! binaries only for that package's own tests).

fn main() -> anyhow::Result<()> {
    capsule_device::cli::run(std::env::args_os())
}
