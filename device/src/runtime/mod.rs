//! The running device: the frame loop, the displays it draws on, and memory sampling for
//! soak runs.

pub mod frame_loop;
pub mod sink;
pub mod soak;

pub use frame_loop::{
    Event, LoopConfig, LoopError, LoopStats, OutfitSource, OutfitView, run, run_with_outfits,
};
pub use sink::{PngSink, ScreenSink, SinkError};
pub use soak::{RssSampler, SoakReport, release_free_heap, rss_kib};
