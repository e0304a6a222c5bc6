//! `capsule-host pipeline`: data → embedder → stylist → bundle → signature → demo wardrobe,
//! as one reproducible command. Each step is an ordinary `capsule-host` command (printed
//! before it runs, so any step can be rerun by hand), and a step whose output exists is
//! skipped, so an interrupted pipeline resumes.

use super::SHORT_EMBEDDER_EPOCHS;
use crate::data::fmnist;
use crate::pipeline::{EVALUATION_FILE, EvaluationSets, demo_wardrobe, evaluate};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Preset {
    /// The shipped models: EfficientNet-Lite0 (ImageNet weights from
    /// `scripts/fetch-pretrained`, frozen) under an SE-residual stage and the capsule head at
    /// 128 px (`train embedder --preset lite0`, soft-MSML, 100 epochs on the backbone's stored
    /// features of 2,400 garments), mixed with
    /// Fashion-MNIST (one batch in three; `apt-get install dataset-fashion-mnist`); a 3×64
    /// type-aware stylist on its output plus style statistics, trained on a synthetic outfit
    /// set of its own. Pass --backgrounds (`scripts/fetch-backgrounds`) to stage the training
    /// views on real photos and measure the staged-camera set, as models/default was made
    /// (about 80 minutes on a busy 2-core CPU, most of it the backbone over the stored
    /// copies and the epochs above it).
    Default,
    /// The models shipped before the pretrained backbone: the compact CapsNet-SE at 64 px,
    /// 30 epochs (about 25 minutes), kept for comparison.
    Compact,
    /// Minutes-long smoke run with tiny models (for tests).
    Tiny,
}

#[derive(Args, Debug)]
pub struct PipelineArgs {
    #[arg(long, value_enum, default_value_t = Preset::Default)]
    pub preset: Preset,
    /// Working directory: data, runs, the bundle (`OUT/bundle`) and the demo wardrobe
    /// (`OUT/demo-wardrobe`).
    #[arg(long)]
    pub out: PathBuf,
    /// Secret key to sign with (default: the repository's demo key, `models/demo-key`,
    /// which no real board should trust).
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Bundle version.
    #[arg(long, default_value_t = 1)]
    pub version: u64,
    /// Real photos (`scripts/fetch-backgrounds`): the training views are staged in front of
    /// three in four of them, and a staged-camera evaluation set (held-out garments on the
    /// held-out fourth, against product shots) measures top-1 and open-set identification.
    #[arg(long)]
    pub backgrounds: Option<PathBuf>,
}

/// Sizes of one preset.
struct Plan {
    garments: &'static str,
    views: &'static str,
    outfits: &'static str,
    embedder: Vec<&'static str>,
    /// Mix Fashion-MNIST (from `fmnist::DEFAULT_DIR`) into the embedder's training.
    mix_fmnist: bool,
    stylist: &'static [&'static str],
    wardrobe_garments: &'static str,
    wardrobe_outfits: &'static str,
    test_garments: &'static str,
    test_outfits: &'static str,
    /// The stylist's own training and test outfits (garments and outfits); `None` reuses the
    /// embedder's training and test data.
    stylist_data: Option<(&'static str, &'static str)>,
    stylist_test: Option<(&'static str, &'static str)>,
}

impl Preset {
    fn plan(self) -> Plan {
        match self {
            Preset::Default => Plan {
                // Three times the garments of the compact preset: stored backbone features
                // make more pictures cheap (docs/results.md, "Training on stored features").
                garments: "2400",
                embedder: vec![
                    "--preset",
                    "lite0",
                    "--loss",
                    "soft-msml",
                    // The frozen backbone runs once over 8 augmented copies of every
                    // training picture (and 20k Fashion-MNIST pictures); the layers above
                    // train on its stored features, five times faster.
                    "--frozen-features",
                    "8",
                    "--mix-limit",
                    "20000",
                    "--epochs",
                    "100",
                    "--steps-per-epoch",
                    "150",
                ],
                ..Preset::Compact.plan()
            },
            Preset::Compact => Plan {
                garments: "800",
                views: "4",
                outfits: "1500",
                embedder: vec![
                    "--preset",
                    "compact",
                    "--loss",
                    "soft-msml",
                    "--epochs",
                    "30",
                    // 40 synthetic and 20 Fashion-MNIST batches an epoch: mixing at the
                    // old 40 steps cost synthetic Recall@1 (docs/results.md, "Mixing in
                    // Fashion-MNIST").
                    "--steps-per-epoch",
                    "60",
                ],
                mix_fmnist: true,
                stylist: &[
                    "--layers",
                    "3",
                    "--hidden",
                    "64",
                    "--epochs",
                    "250",
                    "--dropout",
                    "0.1",
                    "--lr",
                    "3e-3",
                ],
                wardrobe_garments: "48",
                wardrobe_outfits: "30",
                test_garments: "300",
                test_outfits: "600",
                // Outfit compatibility is learnt from many garments more than from many
                // steps (docs/results.md): the stylist gets a set of its own.
                stylist_data: Some(("2000", "5000")),
                stylist_test: Some(("1000", "2500")),
            },
            Preset::Tiny => Plan {
                garments: "40",
                views: "3",
                outfits: "60",
                embedder: [
                    &["--preset", "tiny", "--epochs", "1"][..],
                    &SHORT_EMBEDDER_EPOCHS,
                ]
                .concat(),
                mix_fmnist: false,
                stylist: &[
                    "--layers",
                    "2",
                    "--hidden",
                    "8",
                    "--epochs",
                    "2",
                    "--steps-per-epoch",
                    "2",
                ],
                wardrobe_garments: "30",
                wardrobe_outfits: "10",
                test_garments: "30",
                test_outfits: "20",
                stylist_data: None,
                stylist_test: None,
            },
        }
    }
}

/// Seed of the training data; the demo wardrobe and the evaluation use others.
const TRAIN_SEED: &str = "1";
const WARDROBE_SEED: &str = "77";
const TEST_SEED: &str = "2";
const STYLIST_SEED: &str = "11";
const STYLIST_TEST_SEED: &str = "12";
const STAGED_SEED: &str = "21";

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// Runs one `capsule-host` step unless `done` exists.
fn step(name: &str, done: &Path, args: &[String]) -> Result<()> {
    if done.exists() {
        eprintln!("== {name}: done ({} exists)", done.display());
        return Ok(());
    }
    run_step(name, args)
}

/// Runs a training step always: a run writes its files after every epoch, so none of them
/// says it is finished, but re-running resumes after the last complete epoch (and does
/// nothing when all are done).
fn train_step(name: &str, args: &[String]) -> Result<()> {
    run_step(name, args)
}

fn run_step(name: &str, args: &[String]) -> Result<()> {
    eprintln!("== {name}: capsule-host {}", args.join(" "));
    let started = Instant::now();
    let mut all = vec!["capsule-host".to_string()];
    all.extend(args.iter().cloned());
    super::run(all).with_context(|| format!("pipeline step {name}"))?;
    eprintln!("== {name}: {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

pub fn run(args: PipelineArgs) -> Result<()> {
    let plan = args.preset.plan();
    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let started = Instant::now();
    let data = out.join("data");
    let (embedder, features, stylist) = (
        out.join("embedder"),
        out.join("features.json"),
        out.join("stylist"),
    );
    let bundle = out.join("bundle");
    // Fail before any work rather than after the data step.
    let fmnist_dir = Path::new(fmnist::DEFAULT_DIR);
    if plan.mix_fmnist && !fmnist::is_installed(fmnist_dir) {
        anyhow::bail!(
            "this preset trains the embedder on Fashion-MNIST too, expected in {}; install it with `apt-get install -y dataset-fashion-mnist` (or use --preset tiny)",
            fmnist_dir.display()
        );
    }
    let key = args
        .key
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/demo-key"));

    let mut synth = strings(&["data", "synth", "--out", &path(&data)]);
    synth.extend(strings(&[
        "--garments",
        plan.garments,
        "--views",
        plan.views,
        "--outfits",
        plan.outfits,
        "--seed",
        TRAIN_SEED,
        "--product-view",
    ]));
    if let Some(dir) = &args.backgrounds {
        synth.extend(strings(&[
            "--backgrounds",
            &path(dir),
            "--background-part",
            "train",
        ]));
    }
    step("data", &data.join("synth.json"), &synth)?;

    let mut train = strings(&[
        "train",
        "embedder",
        "--data",
        &path(&data.join("inshop")),
        "--format",
        "inshop",
        "--out",
        &path(&embedder),
    ]);
    train.extend(strings(&plan.embedder));
    if plan.mix_fmnist {
        train.extend(["--mix-fmnist".to_string(), path(fmnist_dir)]);
    }
    train_step("embedder", &train)?;

    let stylist_data = match plan.stylist_data {
        Some(sizes) => {
            let dir = out.join("stylist-data");
            synth_outfits("stylist data", &dir, sizes, STYLIST_SEED)?;
            dir
        }
        None => data.clone(),
    };
    let polyvore = path(&stylist_data.join("polyvore"));
    step(
        "features",
        &features,
        &strings(&[
            "stylist",
            "features",
            "--data",
            &polyvore,
            "--embedder",
            &path(&embedder),
            "--style",
            "--out",
            &path(&features),
        ]),
    )?;

    let mut train = strings(&[
        "train",
        "stylist",
        "--data",
        &polyvore,
        "--features",
        &path(&features),
        "--decoder",
        "type-aware",
        "--out",
        &path(&stylist),
    ]);
    train.extend(strings(plan.stylist));
    train_step("stylist", &train)?;

    step(
        "bundle",
        &bundle.join("manifest.json"),
        &strings(&[
            "bundle",
            "--embedder-run",
            &path(&embedder),
            "--stylist-run",
            &path(&stylist),
            "--threshold-from",
            &path(&data.join("inshop")),
            // f32 for every board profile, int8 for boards short of storage; f16 (no
            // profile runs it, and it would take the pretrained bundle past 8 MB) is a
            // `capsule-host bundle --precisions` away.
            "--precisions",
            "int8",
            "--version",
            &args.version.to_string(),
            "--out",
            &path(&bundle),
        ]),
    )?;
    step(
        "sign",
        &bundle.join("manifest.sig"),
        &strings(&["sign", "--bundle", &path(&bundle), "--key", &path(&key)]),
    )?;

    let wardrobe_data = out.join("wardrobe-data");
    step(
        "wardrobe data",
        &wardrobe_data.join("synth.json"),
        &strings(&[
            "data",
            "synth",
            "--out",
            &path(&wardrobe_data),
            "--garments",
            plan.wardrobe_garments,
            "--views",
            "2",
            "--outfits",
            plan.wardrobe_outfits,
            "--seed",
            WARDROBE_SEED,
        ]),
    )?;
    let wardrobe = out.join("demo-wardrobe");
    if !wardrobe.join("camera.jpg").exists() {
        demo_wardrobe(&wardrobe_data, &wardrobe)?;
    }

    let test_data = out.join("test-data");
    let mut synth = strings(&["data", "synth", "--out", &path(&test_data)]);
    synth.extend(strings(&[
        "--garments",
        plan.test_garments,
        "--views",
        "4",
        "--outfits",
        plan.test_outfits,
        "--seed",
        TEST_SEED,
        "--product-view",
    ]));
    step("test data", &test_data.join("synth.json"), &synth)?;
    let stylist_test = match plan.stylist_test {
        Some(sizes) => {
            let dir = out.join("stylist-test-data");
            synth_outfits("stylist test data", &dir, sizes, STYLIST_TEST_SEED)?;
            dir
        }
        None => test_data.clone(),
    };
    let staged = match &args.backgrounds {
        Some(dir) => {
            let staged = out.join("staged-data");
            let mut synth = strings(&["data", "synth", "--out", &path(&staged)]);
            synth.extend(strings(&[
                "--garments",
                plan.test_garments,
                "--views",
                "3",
                "--outfits",
                "10",
                "--seed",
                STAGED_SEED,
                "--staged",
                "--backgrounds",
                &path(dir),
                "--background-part",
                "held-out",
            ]));
            step("staged-camera data", &staged.join("synth.json"), &synth)?;
            Some(staged.join("inshop"))
        }
        None => {
            eprintln!("note: no --backgrounds: no staged-camera evaluation");
            None
        }
    };
    let evaluation = out.join(EVALUATION_FILE);
    if !evaluation.exists() {
        eprintln!("== evaluation on unseen seeds");
        let sets = EvaluationSets {
            test: &test_data,
            stylist_test: &stylist_test,
            staged: staged.as_deref(),
        };
        let report = evaluate(&embedder, &stylist, &bundle, &sets)?;
        if report.embedder_fmnist.is_none() {
            eprintln!(
                "note: no Fashion-MNIST in {}: skipped",
                fmnist_dir.display()
            );
        }
        let json = serde_json::to_string_pretty(&report)?;
        capsule_device::fsutil::write_atomic(&evaluation, json.as_bytes())
            .with_context(|| format!("writing {}", evaluation.display()))?;
        eprintln!("{json}");
    }
    eprintln!(
        "pipeline done in {:.0} s: bundle {}, demo wardrobe {}",
        started.elapsed().as_secs_f64(),
        bundle.display(),
        wardrobe.display()
    );
    Ok(())
}

/// Synthesises `(garments, outfits)` outfit data with `seed` into `dir` (two views a
/// garment: the stylist reads the product shot only).
fn synth_outfits(
    name: &str,
    dir: &Path,
    (garments, outfits): (&str, &str),
    seed: &str,
) -> Result<()> {
    let mut synth = strings(&["data", "synth", "--out", &path(dir)]);
    synth.extend(strings(&[
        "--garments",
        garments,
        "--views",
        "2",
        "--outfits",
        outfits,
        "--seed",
        seed,
    ]));
    step(name, &dir.join("synth.json"), &synth)
}
