//! Soak runs: the resident memory of this process, sampled every so many frames while the
//! frame loop runs, and the slope of those samples (a leak shows as a positive slope; the
//! target is flat). Wraps the frame source, so the loop itself is unchanged.

use crate::camera::{CameraError, Frame, FrameSource};
use crate::memory::rss_kib;
use serde::Serialize;

/// Most samples kept: past it, every other sample is dropped and the interval doubles, so a
/// run of any length holds a bounded log.
pub const MAX_SAMPLES: usize = 2048;

/// A frame source that samples RSS every `every` frames it hands out.
pub struct RssSampler<'a> {
    inner: &'a mut dyn FrameSource,
    every: u64,
    frames: u64,
    samples: Vec<(u64, u64)>,
}

impl<'a> RssSampler<'a> {
    pub fn new(inner: &'a mut dyn FrameSource, every: u64) -> Self {
        let mut sampler = Self {
            inner,
            every: every.max(1),
            frames: 0,
            samples: Vec::new(),
        };
        sampler.sample();
        sampler
    }

    fn sample(&mut self) {
        if let Some(kib) = rss_kib() {
            self.samples.push((self.frames, kib));
        }
        if self.samples.len() >= MAX_SAMPLES {
            let mut keep = 0;
            self.samples.retain(|_| {
                keep += 1;
                keep % 2 == 1
            });
            self.every *= 2;
        }
    }

    /// `(frame, RSS KiB)` pairs, oldest first.
    pub fn samples(&self) -> &[(u64, u64)] {
        &self.samples
    }

    /// Takes a last sample and summarises the run.
    pub fn finish(mut self) -> SoakReport {
        if self.samples.last().is_none_or(|&(f, _)| f != self.frames) {
            self.sample();
        }
        SoakReport::from_samples(self.frames, &self.samples)
    }
}

impl FrameSource for RssSampler<'_> {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        let frame = self.inner.next_frame();
        if !matches!(frame, Ok(None)) {
            self.frames += 1;
            if self.frames.is_multiple_of(self.every) {
                self.sample();
            }
        }
        frame
    }

    fn name(&self) -> String {
        self.inner.name()
    }
}

/// Memory over a soak run.
#[derive(Debug, Clone, Serialize)]
pub struct SoakReport {
    pub frames: u64,
    pub samples: usize,
    pub rss_first_kib: u64,
    /// RSS once the first 10 % of the frames have run (buffers, caches and the allocator have
    /// settled); the slope is fitted from here on.
    pub rss_warm_kib: u64,
    pub rss_last_kib: u64,
    pub rss_max_kib: u64,
    /// Least-squares slope of RSS over frames after warm-up, in KiB per 10,000 frames.
    pub slope_kib_per_10k_frames: f64,
}

impl SoakReport {
    pub fn from_samples(frames: u64, samples: &[(u64, u64)]) -> Self {
        let warm_from = frames / 10;
        let warm: Vec<(f64, f64)> = samples
            .iter()
            .filter(|(f, _)| *f >= warm_from)
            .map(|&(f, k)| (f as f64, k as f64))
            .collect();
        let n = warm.len() as f64;
        let slope = if warm.len() >= 2 {
            let mx = warm.iter().map(|p| p.0).sum::<f64>() / n;
            let my = warm.iter().map(|p| p.1).sum::<f64>() / n;
            let sxy: f64 = warm.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
            let sxx: f64 = warm.iter().map(|p| (p.0 - mx).powi(2)).sum();
            if sxx > 0.0 { sxy / sxx * 10_000.0 } else { 0.0 }
        } else {
            0.0
        };
        Self {
            frames,
            samples: samples.len(),
            rss_first_kib: samples.first().map_or(0, |s| s.1),
            rss_warm_kib: warm.first().map_or(0, |s| s.1 as u64),
            rss_last_kib: samples.last().map_or(0, |s| s.1),
            rss_max_kib: samples.iter().map(|s| s.1).max().unwrap_or(0),
            slope_kib_per_10k_frames: slope,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_rss() {
        assert!(rss_kib().is_some_and(|k| k > 0));
    }

    #[test]
    fn slope_is_fitted_after_warm_up() {
        // Warm-up growth in the first 10 % is ignored; then 3 KiB per 1,000 frames.
        let mut samples = vec![(0, 100), (500, 5000)];
        samples.extend((1..=9).map(|i| (i * 1000, 5000 + 3 * i)));
        let report = SoakReport::from_samples(9000, &samples);
        assert!(
            (report.slope_kib_per_10k_frames - 30.0).abs() < 1e-6,
            "{report:?}"
        );
        assert_eq!(report.rss_max_kib, 5027);
        let flat = SoakReport::from_samples(9000, &[(1000, 7), (9000, 7)]);
        assert_eq!(flat.slope_kib_per_10k_frames, 0.0);
    }
}
