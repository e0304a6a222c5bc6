//! `capsule bench`: how fast this board embeds a picture and searches a wardrobe. Speed
//! targets live here (and in the host's measurements), never in timed tests.

use super::Session;
use super::identify::load_embedder;
use crate::garment::GarmentType;
use crate::identify::EmbeddingIndex;
use crate::wardrobe::{Garment, GarmentId, GarmentStatus};
use anyhow::Result;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Embedder ONNX file to time (skipped when left out).
    #[arg(long)]
    pub embedder: Option<PathBuf>,
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

#[derive(Debug, Serialize)]
struct Report {
    threads: usize,
    embed: Option<Timing>,
    identify: Vec<(usize, Timing)>,
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

/// Deterministic pseudo-random unit vectors (a wardrobe's worth of embeddings).
fn unit_vectors(count: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    (0..count)
        .map(|_| {
            let mut v: Vec<f32> = (0..dim).map(|_| next()).collect();
            crate::engine::normalize(&mut v);
            v
        })
        .collect()
}

pub fn run(session: &Session, args: BenchArgs) -> Result<()> {
    let threads = session.threads();
    let embed = match &args.embedder {
        Some(path) => {
            let (mut embedder, _) = load_embedder(path, threads)?;
            let picture = image::RgbImage::from_fn(640, 480, |x, y| {
                image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
            });
            embedder.embed(&picture)?; // warm-up
            let mut samples = Vec::with_capacity(args.pictures);
            for _ in 0..args.pictures.max(1) {
                let start = Instant::now();
                embedder.embed(&picture)?;
                samples.push(start.elapsed().as_secs_f64() * 1e3);
            }
            Some(timing(samples))
        }
        None => None,
    };
    let dim = 128;
    let queries = unit_vectors(50, dim, 7);
    let mut identify = Vec::new();
    for &size in &args.wardrobes {
        let garments: Vec<Garment> = unit_vectors(size, dim, 11)
            .into_iter()
            .enumerate()
            .map(|(i, embedding)| Garment {
                id: GarmentId(i as u64 + 1),
                garment_type: GarmentType::ALL[i % GarmentType::COUNT],
                name: String::new(),
                thumbnail_png: Vec::new(),
                embedding,
                added_unix: 0,
                last_worn_unix: None,
                status: GarmentStatus::Available,
            })
            .collect();
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
    let report = Report {
        threads,
        embed,
        identify,
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        if let Some(t) = &report.embed {
            println!(
                "embed (640x480 frame, {threads} threads): median {:.2} ms, p90 {:.2} ms",
                t.median_ms, t.p90_ms
            );
        }
        for (size, t) in &report.identify {
            println!(
                "identify among {size:>7} garments ({dim}-d): median {:.3} ms, p90 {:.3} ms",
                t.median_ms, t.p90_ms
            );
        }
    }
    Ok(())
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
}
