//! Batches made ahead of the network: a producer thread plans nothing (the batches and
//! their augmentation seeds are drawn beforehand, so a run stays reproducible) and only
//! makes them — read or decode, augment, preprocess — on a pool of worker threads, handing
//! them over through a bounded queue. Training then waits for pictures only when the
//! workers cannot keep up, and memory holds at most `queue` + 2 batches.

use super::LabelledPictures;
use crate::embedder::augment::Augment;
use crate::embedder::error::EmbedderError;
use crate::embedder::sampler::PkSampler;
use capsule_device::preprocess::{PreprocessSpec, preprocess_into};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::sync::mpsc;

/// One batch to make: pictures of set `set` (an index into the sets given to
/// [`Feeder::run`]) and each one's augmentation seed.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchPlan {
    pub set: usize,
    pub indices: Vec<usize>,
    pub seeds: Vec<u64>,
}

impl BatchPlan {
    /// The next batch of set `set`: P×K pictures from `sampler`, then a seed per picture for
    /// its augmentation, both drawn from `rng` (so workers can make batches in any order and
    /// a run stays the same).
    pub fn draw(set: usize, sampler: &PkSampler, rng: &mut impl Rng) -> Self {
        let indices = sampler.batch(rng);
        let seeds = indices.iter().map(|_| rng.random()).collect();
        Self {
            set,
            indices,
            seeds,
        }
    }
}

/// A batch ready for the network: preprocessed values in the spec's layout, and labels.
#[derive(Debug)]
pub struct ReadyBatch {
    pub set: usize,
    pub pixels: Vec<f32>,
    pub labels: Vec<u32>,
}

impl ReadyBatch {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// How many threads make batches and how far ahead they may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedOptions {
    pub workers: usize,
    /// Finished batches waiting for the network, at most.
    pub queue: usize,
}

impl Default for FeedOptions {
    /// A worker per core, four batches ahead.
    fn default() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            queue: 4,
        }
    }
}

/// The worker pool of one training run.
pub struct Feeder {
    pool: rayon::ThreadPool,
    queue: usize,
}

impl Feeder {
    pub fn new(options: FeedOptions) -> Result<Self, EmbedderError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(options.workers.max(1))
            .thread_name(|i| format!("capsule-feed-{i}"))
            .build()
            .map_err(|e| EmbedderError::Invalid(format!("cannot start the data workers: {e}")))?;
        Ok(Self {
            pool,
            queue: options.queue.max(1),
        })
    }

    /// Runs `work` on the worker pool (e.g. building a decoded cache).
    pub fn install<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        self.pool.install(work)
    }

    /// Makes the planned batches in order and hands each to `consume`, the next ones being
    /// made meanwhile. Stops at the first error of either side.
    pub fn run(
        &self,
        sets: &[&LabelledPictures],
        plans: Vec<BatchPlan>,
        augment: &Augment,
        spec: &PreprocessSpec,
        mut consume: impl FnMut(ReadyBatch) -> Result<(), EmbedderError>,
    ) -> Result<(), EmbedderError> {
        let (ready, batches) = mpsc::sync_channel(self.queue);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for plan in plans {
                    let batch = self.pool.install(|| make_batch(sets, &plan, augment, spec));
                    let failed = batch.is_err();
                    // The receiver is gone when training stopped early: stop making batches.
                    if ready.send(batch).is_err() || failed {
                        break;
                    }
                }
            });
            for batch in batches {
                consume(batch?)?;
            }
            Ok(())
        })
    }
}

/// Reads, augments and preprocesses one batch, a picture per worker at a time.
pub fn make_batch(
    sets: &[&LabelledPictures],
    plan: &BatchPlan,
    augment: &Augment,
    spec: &PreprocessSpec,
) -> Result<ReadyBatch, EmbedderError> {
    let set = sets.get(plan.set).ok_or_else(|| {
        EmbedderError::Invalid(format!(
            "batch plan names set {} of {}",
            plan.set,
            sets.len()
        ))
    })?;
    let len = spec.input_len();
    let mut pixels = vec![0f32; len * plan.indices.len()];
    pixels
        .par_chunks_mut(len)
        .zip(plan.indices.par_iter().zip(&plan.seeds))
        .try_for_each(|(out, (&i, &seed))| -> Result<(), EmbedderError> {
            let picture = set.pictures.get(i)?;
            let distorted = augment.apply(&picture, &mut ChaCha8Rng::seed_from_u64(seed));
            preprocess_into(&distorted, spec, out)?;
            Ok(())
        })?;
    let labels = set.labels_at(&plan.indices)?;
    Ok(ReadyBatch {
        set: plan.set,
        pixels,
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedder::feed::Pictures;
    use image::RgbImage;

    fn set(n: usize) -> LabelledPictures {
        LabelledPictures {
            pictures: Pictures::Decoded(
                (0..n)
                    .map(|i| RgbImage::from_pixel(12, 10, image::Rgb([i as u8 * 20, 90, 30])))
                    .collect(),
            ),
            labels: (0..n as u32).collect(),
        }
    }

    fn plans(n: usize) -> Vec<BatchPlan> {
        (0..n)
            .map(|b| BatchPlan {
                set: b % 2,
                indices: vec![b % 4, (b + 1) % 4, 3],
                seeds: vec![b as u64, 7, 9],
            })
            .collect()
    }

    #[test]
    fn batches_arrive_in_plan_order_and_equal_those_made_one_by_one() {
        let (a, b) = (set(4), set(5));
        let sets = [&a, &b];
        let spec = PreprocessSpec {
            size: 8,
            ..PreprocessSpec::default()
        };
        let augment = Augment::default();
        for (workers, queue) in [(1, 1), (3, 2)] {
            let feeder = Feeder::new(FeedOptions { workers, queue }).unwrap();
            let mut got = Vec::new();
            feeder
                .run(&sets, plans(9), &augment, &spec, |batch| {
                    got.push(batch);
                    Ok(())
                })
                .unwrap();
            assert_eq!(got.len(), 9);
            for (batch, plan) in got.iter().zip(plans(9)) {
                let want = make_batch(&sets, &plan, &augment, &spec).unwrap();
                assert_eq!((batch.set, &batch.labels), (want.set, &want.labels));
                assert_eq!(batch.pixels, want.pixels, "{workers} workers");
            }
        }
    }

    #[test]
    fn an_error_on_either_side_stops_the_feed() {
        let a = set(4);
        let spec = PreprocessSpec {
            size: 8,
            ..PreprocessSpec::default()
        };
        let feeder = Feeder::new(FeedOptions {
            workers: 2,
            queue: 1,
        })
        .unwrap();
        let mut bad = plans(3);
        bad[1].indices[0] = 40;
        let mut seen = 0;
        let err = feeder
            .run(&[&a, &a], bad, &Augment::none(), &spec, |_| {
                seen += 1;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(seen, 1);
        assert!(err.to_string().contains("picture 40"), "{err}");

        let mut seen = 0;
        let err = feeder
            .run(&[&a, &a], plans(50), &Augment::none(), &spec, |_| {
                seen += 1;
                if seen == 2 {
                    return Err(EmbedderError::Invalid("network failed".into()));
                }
                Ok(())
            })
            .unwrap_err();
        assert_eq!((seen, err.to_string()), (2, "network failed".to_string()));
    }
}
