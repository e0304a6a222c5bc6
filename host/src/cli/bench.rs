//! `capsule-host bench data-path`: how many training pictures per second the data path
//! delivers on this machine (read or decode, augment, preprocess, on the worker threads),
//! with or without the decoded cache, and the peak memory it took. A benchmark, not a test:
//! run it on the machine you train on.

use super::args::DataPathArgs;
use super::report::print_report;
use crate::embedder::augment::Augment;
use crate::embedder::data::{DataFormat, DataSource};
use crate::embedder::feed::{self, BatchPlan, CacheOutcome, Feeder};
use crate::embedder::sampler::PkSampler;
use crate::training::progress;
use anyhow::{Context, Result};
use capsule_device::preprocess::PreprocessSpec;
use clap::{Args, Subcommand};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Pictures per second from the training data path alone (no network), and peak RSS.
    DataPath(BenchDataPathArgs),
}

#[derive(Args, Debug)]
pub struct BenchDataPathArgs {
    /// An In-shop-format set (real, or `data synth`).
    #[arg(long)]
    pub data: PathBuf,
    /// Network input side the pictures are preprocessed for.
    #[arg(long, default_value_t = 128)]
    pub input_size: u32,
    /// P×K batches to make.
    #[arg(long, default_value_t = 200)]
    pub batches: usize,
    #[command(flatten)]
    pub machine: DataPathArgs,
    #[arg(long)]
    pub json: bool,
}

/// What `bench data-path` measured.
#[derive(Debug, Serialize)]
pub struct DataPathReport {
    pub set_pictures: usize,
    pub input_size: u32,
    pub workers: usize,
    pub queue: usize,
    /// `null` without `--data-cache`.
    pub cache: Option<CacheOutcome>,
    pub pictures: usize,
    pub seconds: f64,
    pub pictures_per_second: f64,
    /// Peak resident memory of the process (VmHWM), cache building included.
    pub peak_rss_mib: Option<f64>,
}

impl std::fmt::Display for DataPathReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cache = match &self.cache {
            None => "no cache".to_string(),
            Some(CacheOutcome::Reused) => "decoded cache (reused)".to_string(),
            Some(CacheOutcome::Built { seconds }) => {
                format!("decoded cache (built in {seconds:.1} s)")
            }
        };
        writeln!(
            f,
            "data path, {} pictures at {} px, {} workers, queue {}, {cache}",
            self.set_pictures, self.input_size, self.workers, self.queue
        )?;
        write!(
            f,
            "{} pictures in {:.1} s: {:.0} pictures/s; peak RSS {}",
            self.pictures,
            self.seconds,
            self.pictures_per_second,
            self.peak_rss_mib
                .map_or("unknown".into(), |m| format!("{m:.0} MiB"))
        )
    }
}

pub fn run(command: BenchCommand) -> Result<()> {
    match command {
        BenchCommand::DataPath(args) => {
            let report = data_path(&args)?;
            print_report(&report, args.json)
        }
    }
}

pub fn data_path(args: &BenchDataPathArgs) -> Result<DataPathReport> {
    let spec = PreprocessSpec {
        size: args.input_size,
        ..PreprocessSpec::default()
    };
    let source = DataSource {
        dir: args.data.clone(),
        format: DataFormat::Inshop,
        limit: None,
        eval_limit: None,
    };
    let feeder_options = args.machine.feed();
    let feeder = Feeder::new(feeder_options)?;
    let mut set = feed::load_train(&source, &spec)
        .with_context(|| format!("loading {}", args.data.display()))?;
    let cache = match &args.machine.data_cache {
        Some(dir) => feed::attach_cache(&mut set, dir, &spec, &feeder, true)?,
        None => None,
    };
    let sampler = PkSampler::new(&set.labels, 8, 4)?;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let plans: Vec<BatchPlan> = (0..args.batches)
        .map(|_| BatchPlan::draw(0, &sampler, &mut rng))
        .collect();
    let bar = progress::bar(args.batches as u64, "batches");
    let started = Instant::now();
    let mut pictures = 0;
    feeder.run(&[&set], plans, &Augment::default(), &spec, |batch| {
        pictures += batch.len();
        bar.inc(1);
        Ok(())
    })?;
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    Ok(DataPathReport {
        set_pictures: set.len(),
        input_size: args.input_size,
        workers: feeder_options.workers,
        queue: feeder_options.queue,
        cache,
        pictures,
        seconds,
        pictures_per_second: pictures as f64 / seconds.max(1e-9),
        peak_rss_mib: peak_rss_mib(),
    })
}

/// VmHWM of this process from /proc (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
