//! The running mirror: the frame loop over the mirror service, and memory sampling for
//! soak runs.

pub mod frame_loop;
pub mod interaction;
pub mod soak;

pub use crate::display::{PngSink, ScreenSink, SinkError};
pub use crate::memory::{release_free_heap, rss_kib};
pub use frame_loop::{Between, Event, LoopConfig, LoopError, LoopStats, Notice, run, serve};
pub use interaction::{Acted, GarmentInView, Interaction};
pub use soak::{RssSampler, SoakReport};
