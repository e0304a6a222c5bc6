//! `capsule bench`: how fast this board embeds a picture and searches a wardrobe. Speed
//! targets live here (and in the host's measurements), never in timed tests.

use super::Session;
use crate::bundle::{MANIFEST_FILE, Manifest, ModelRole, Precision};
use crate::engine::{Embedder, InputShape, OnnxModel};
use crate::identify::EmbeddingIndex;
use crate::stylist::NodeFeatures;
use crate::stylist::generated::{generated_wardrobe, unit_vectors};
use crate::stylist::{Anchor, EncodedWardrobe, StylistModels, Suggester, WardrobeGraph};
use crate::wardrobe::Garment;
use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tract_onnx::prelude::{Tensor, tvec};

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Embedder ONNX file to time (skipped when left out).
    #[arg(long)]
    pub embedder: Option<PathBuf>,
    /// Bundle directory: time every embedder it lists (f32, int8, f16) at each of
    /// `--threads-list`, on the bundle's preprocessing, and its stylist (encoding,
    /// suggestion, frame to outfits, memory) on generated wardrobes of `--wardrobes` sizes.
    #[arg(long)]
    pub bundle: Option<PathBuf>,
    /// Thread counts to time the bundle's embedders at.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub threads_list: Vec<usize>,
    /// With --bundle: also time each embedder operator by operator at 1 thread (tract's
    /// optimised plan; op names are tract's, e.g. `OptMatMul`, `Im2col`).
    #[arg(long)]
    pub profile: bool,
    /// Pictures to embed for the timing.
    #[arg(long, default_value_t = 30)]
    pub pictures: usize,
    /// Wardrobe sizes to time identification at.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    pub wardrobes: Vec<usize>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Milliseconds per operation: median and 90th percentile.
#[derive(Debug, Serialize)]
pub struct Timing {
    pub median_ms: f64,
    pub p90_ms: f64,
}

/// One bundle embedder at one thread count.
#[derive(Debug, Serialize)]
pub struct EmbedderTiming {
    pub file: String,
    pub precision: Precision,
    pub threads: usize,
    /// Model input, e.g. `[1, 3, 64, 64]`: the same shape onnxruntime is timed on.
    pub input_shape: Vec<usize>,
    /// The model alone, on an already preprocessed picture (what onnxruntime is compared on).
    pub model: Timing,
    /// A whole 640×480 frame: preprocessing, model, normalisation.
    pub frame: Timing,
}

/// Mean milliseconds per run of each operator kind of one model, slowest first.
#[derive(Debug, Serialize)]
pub struct Profile {
    pub file: String,
    pub ops: Vec<(String, f64)>,
}

/// What `capsule bench` measured.
#[derive(Debug, Serialize)]
struct Report {
    threads: usize,
    /// Width of the generated embeddings the search was timed on.
    identify_dim: usize,
    embed: Option<Timing>,
    embedders: Vec<EmbedderTiming>,
    profiles: Vec<Profile>,
    identify: Vec<(usize, Timing)>,
    stylist: Vec<StylistTiming>,
    /// How much arithmetic this machine does on N threads at once, per thread count of
    /// `--threads-list` above 1: the ceiling of any thread scaling measured here.
    parallel_capacity: Vec<ParallelCapacity>,
}

/// `threads` copies of one arithmetic loop run together, against one alone: `speedup` is
/// `threads × t(1) / t(threads)`, at most `threads` on free cores (less on shared or busy
/// ones, and on cores that slow down when all are busy).
#[derive(Debug, Serialize)]
pub struct ParallelCapacity {
    pub threads: usize,
    pub speedup: f64,
}

/// Independent vector multiply-adds over a buffer that stays in L1, so neither memory nor
/// the thread start decides the time (about 20 ms a run).
fn arithmetic_loop() -> f32 {
    let mut acc = [[0f32; 8]; 8];
    let x: Vec<f32> = (0..2048).map(|i| (i % 7) as f32 * 1e-3).collect();
    for _ in 0..1200 {
        for chunk in x.chunks_exact(64) {
            for (a, c) in acc.iter_mut().zip(chunk.chunks_exact(8)) {
                for l in 0..8 {
                    a[l] = a[l] * 0.999 + c[l];
                }
            }
        }
    }
    std::hint::black_box(acc).iter().flatten().sum()
}

/// [`ParallelCapacity`] for each thread count above 1, best of three runs each.
fn parallel_capacity(threads: &[usize]) -> Vec<ParallelCapacity> {
    let time = |n: usize| -> f64 {
        (0..3)
            .map(|_| {
                let start = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..n {
                        s.spawn(arithmetic_loop);
                    }
                });
                start.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let one = time(1);
    threads
        .iter()
        .filter(|&&n| n > 1)
        .map(|&n| ParallelCapacity {
            threads: n,
            speedup: n as f64 * one / time(n),
        })
        .collect()
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (threads, dim) = (self.threads, self.identify_dim);
        if let Some(t) = &self.embed {
            writeln!(
                f,
                "embed (640x480 frame, {threads} threads): median {:.2} ms, p90 {:.2} ms",
                t.median_ms, t.p90_ms
            )?;
        }
        for e in &self.embedders {
            writeln!(
                f,
                "{} ({:?}, {} threads): model median {:.2} ms (p90 {:.2}); whole frame median {:.2} ms",
                e.file,
                e.precision,
                e.threads,
                e.model.median_ms,
                e.model.p90_ms,
                e.frame.median_ms
            )?;
        }
        for c in &self.parallel_capacity {
            writeln!(
                f,
                "this machine on {} threads: {:.2}x the arithmetic of one (the ceiling of thread scaling here)",
                c.threads, c.speedup
            )?;
        }
        for p in &self.profiles {
            let total: f64 = p.ops.iter().map(|(_, ms)| ms).sum();
            writeln!(
                f,
                "{} at 1 thread, {total:.3} ms per run by operator:",
                p.file
            )?;
            for (op, ms) in &p.ops {
                writeln!(
                    f,
                    "  {op:<28} {ms:>8.3} ms {:>5.1}%",
                    100.0 * ms / total.max(1e-9)
                )?;
            }
        }
        for (size, t) in &self.identify {
            writeln!(
                f,
                "identify among {size:>7} garments ({dim}-d): median {:.3} ms, p90 {:.3} ms",
                t.median_ms, t.p90_ms
            )?;
        }
        for s in &self.stylist {
            writeln!(
                f,
                "stylist, {:>7} garments ({threads} threads): encode wardrobe {:.1} ms; suggest \
                 3 outfits median {:.2} ms (p90 {:.2}); frame -> outfits median {:.2} ms; \
                 resident memory {} MiB",
                s.garments,
                s.encode.median_ms,
                s.suggest.median_ms,
                s.suggest.p90_ms,
                s.frame_to_outfits.median_ms,
                s.rss_kib / 1024
            )?;
        }
        Ok(())
    }
}

/// The stylist of a bundle on one generated wardrobe.
#[derive(Debug, Serialize)]
pub struct StylistTiming {
    pub garments: usize,
    /// Encoding the whole wardrobe graph (done once, then refreshed incrementally).
    pub encode: Timing,
    /// Three outfits around a wardrobe garment.
    pub suggest: Timing,
    /// A camera frame to outfits on screen: embedding, identification, suggestion.
    pub frame_to_outfits: Timing,
    /// Resident memory of this process with that wardrobe encoded.
    pub rss_kib: u64,
}

/// The bundle's stylist on generated wardrobes of each size (none when it has no stylist).
fn time_stylist(dir: &Path, threads: usize, sizes: &[usize]) -> Result<Vec<StylistTiming>> {
    let manifest = read_manifest(dir)?;
    if manifest.stylist.is_none() {
        return Ok(Vec::new());
    }
    let embedder_file = &manifest
        .model(ModelRole::Embedder, Precision::F32)
        .context("the bundle has no f32 embedder")?
        .file;
    let mut embedder = Embedder::load(&dir.join(embedder_file), &manifest.preprocessing, threads)?;
    let frame = test_frame();
    let mut out = Vec::new();
    for &size in sizes {
        let Some(models) = StylistModels::from_manifest(dir, &manifest, threads)? else {
            break;
        };
        let rows = models.node_features();
        let (garments, edges) = generated_wardrobe(size, rows, 11);
        let mut encode = Vec::new();
        for _ in 0..3 {
            let start = Instant::now();
            let graph = WardrobeGraph::new(&garments, &edges, rows)?;
            std::hint::black_box(EncodedWardrobe::encode(&models, graph)?);
            encode.push(start.elapsed().as_secs_f64() * 1e3);
        }
        let (index, _) = EmbeddingIndex::build(&garments);
        let suggester = Suggester::new(models, garments, edges)?;
        let anchors: Vec<Garment> = suggester
            .garments()
            .iter()
            .step_by((size / 20).max(1))
            .take(20)
            .cloned()
            .collect();
        let mut suggest = Vec::new();
        for anchor in &anchors {
            let start = Instant::now();
            std::hint::black_box(suggester.suggest(&Anchor::Known(anchor), 3)?);
            suggest.push(start.elapsed().as_secs_f64() * 1e3);
        }
        let mut frame_to_outfits = Vec::new();
        for _ in 0..10 {
            let start = Instant::now();
            let embedding = embedder.embed_picture(&frame)?;
            let found = index.identify(&embedding, 1, 0.0);
            let id = found.top.first().map(|m| m.id).context("empty wardrobe")?;
            let anchor = suggester
                .garment(id)
                .context("identified garment missing")?;
            std::hint::black_box(suggester.suggest(&Anchor::Known(anchor), 3)?);
            frame_to_outfits.push(start.elapsed().as_secs_f64() * 1e3);
        }
        out.push(StylistTiming {
            garments: size,
            encode: timing(encode),
            suggest: timing(suggest),
            frame_to_outfits: timing(frame_to_outfits),
            rss_kib: crate::runtime::rss_kib().unwrap_or(0),
        });
    }
    Ok(out)
}

fn timing(mut samples: Vec<f64>) -> Timing {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| {
        samples
            .get(((samples.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Timing {
        median_ms: at(0.5),
        p90_ms: at(0.9),
    }
}

/// A deterministic 640×480 camera-sized frame with texture everywhere.
fn test_frame() -> image::RgbImage {
    image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
    })
}

/// Median and p90 of embedding one 640×480 frame, `pictures` times after a warm-up.
fn time_embedder(embedder: &mut Embedder, pictures: usize) -> Result<Timing> {
    let picture = test_frame();
    embedder.embed_picture(&picture)?; // warm-up
    let mut samples = Vec::with_capacity(pictures);
    for _ in 0..pictures.max(1) {
        let start = Instant::now();
        embedder.embed_picture(&picture)?;
        samples.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(timing(samples))
}

fn read_manifest(dir: &Path) -> Result<Manifest> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    Manifest::from_bytes(&bytes).with_context(|| format!("reading {}", manifest_path.display()))
}

/// A deterministic preprocessed-looking input of `shape`.
fn model_input(shape: &[usize]) -> Result<Tensor> {
    let len = shape.iter().product();
    Tensor::from_shape(shape, &unit_vectors(1, len, 3)[0])
}

/// Operator-by-operator times of every embedder of the bundle at `dir`, at 1 thread.
fn profile_bundle(dir: &Path, runs: usize) -> Result<Vec<Profile>> {
    let manifest = read_manifest(dir)?;
    let shape = manifest.preprocessing.input_shape(1).to_vec();
    let input = model_input(&shape)?;
    let mut out = Vec::new();
    for model in manifest
        .models
        .iter()
        .filter(|m| m.role == ModelRole::Embedder)
    {
        let onnx = OnnxModel::load(
            &dir.join(&model.file),
            &[InputShape::Fixed(shape.clone())],
            1,
        )?;
        onnx.run(tvec!(input.clone().into()))?; // warm-up
        out.push(Profile {
            file: model.file.clone(),
            ops: onnx.profile(tvec!(input.clone().into()), runs)?,
        });
    }
    Ok(out)
}

/// Every embedder of the bundle at `dir`, at each thread count.
fn time_bundle(dir: &Path, threads: &[usize], pictures: usize) -> Result<Vec<EmbedderTiming>> {
    let manifest = read_manifest(dir)?;
    let mut out = Vec::new();
    for model in manifest
        .models
        .iter()
        .filter(|m| m.role == ModelRole::Embedder)
    {
        for &t in threads {
            let path = dir.join(&model.file);
            let mut embedder = Embedder::load(&path, &manifest.preprocessing, t.max(1))?;
            let shape = manifest.preprocessing.input_shape(1).to_vec();
            let onnx = OnnxModel::load(&path, &[InputShape::Fixed(shape.clone())], t.max(1))?;
            let input = model_input(&shape)?;
            onnx.run(tvec!(input.clone().into()))?; // warm-up
            let samples = (0..pictures.max(1))
                .map(|_| {
                    let start = Instant::now();
                    onnx.run(tvec!(input.clone().into()))?;
                    Ok(start.elapsed().as_secs_f64() * 1e3)
                })
                .collect::<Result<Vec<f64>>>()?;
            out.push(EmbedderTiming {
                file: model.file.clone(),
                precision: model.precision,
                threads: t.max(1),
                input_shape: shape,
                model: timing(samples),
                frame: time_embedder(&mut embedder, pictures)?,
            });
        }
    }
    Ok(out)
}

pub fn run(session: &Session, args: BenchArgs) -> Result<()> {
    let threads = session.threads();
    // First, before any thread pool exists whose idle threads could still be spinning.
    let parallel_capacity = match &args.bundle {
        Some(_) => parallel_capacity(&args.threads_list),
        None => Vec::new(),
    };
    let embed = match &args.embedder {
        Some(path) => {
            let mut embedder = session.models(None, Some(path))?.embedder()?;
            Some(time_embedder(&mut embedder, args.pictures)?)
        }
        None => None,
    };
    let embedders = match &args.bundle {
        Some(dir) => time_bundle(dir, &args.threads_list, args.pictures)?,
        None => Vec::new(),
    };
    let profiles = match &args.bundle {
        Some(dir) if args.profile => profile_bundle(dir, args.pictures)?,
        _ => Vec::new(),
    };
    let dim = 128;
    let queries = unit_vectors(50, dim, 7);
    let mut identify = Vec::new();
    for &size in &args.wardrobes {
        let (garments, _) = generated_wardrobe(size, NodeFeatures::embedding(dim), 11);
        let (index, _) = EmbeddingIndex::build(&garments);
        let samples = queries
            .iter()
            .map(|q| {
                let start = Instant::now();
                std::hint::black_box(index.identify(q, 5, 0.8));
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        identify.push((size, timing(samples)));
    }
    let stylist = match &args.bundle {
        Some(dir) => time_stylist(dir, threads, &args.wardrobes)?,
        None => Vec::new(),
    };
    let report = Report {
        threads,
        identify_dim: dim,
        embed,
        embedders,
        profiles,
        identify,
        stylist,
        parallel_capacity,
    };
    session.print(&report, args.json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_and_vectors_are_well_formed() {
        let t = timing(vec![3.0, 1.0, 2.0, 10.0]);
        assert!(t.median_ms >= 2.0 && t.median_ms <= 3.0 && t.p90_ms == 10.0);
        let v = unit_vectors(3, 16, 1);
        assert!(
            v.iter()
                .all(|x| (x.iter().map(|a| a * a).sum::<f32>() - 1.0).abs() < 1e-5)
        );
        assert_ne!(v[0], v[1]);
        assert_eq!(unit_vectors(2, 4, 9), unit_vectors(2, 4, 9));
    }

    #[test]
    fn parallel_capacity_is_one_entry_per_thread_count_above_one() {
        let c = parallel_capacity(&[1, 2]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].threads, 2);
        // Two threads of independent work finish at least as much as one, at most twice
        // (with slack for timer noise).
        assert!(c[0].speedup > 0.5 && c[0].speedup < 2.5, "{:?}", c);
    }
}
