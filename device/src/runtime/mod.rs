//! The running device: the frame loop and the displays it draws on.

pub mod frame_loop;
pub mod sink;

pub use frame_loop::{Event, LoopConfig, LoopError, LoopStats, run};
pub use sink::{PngSink, ScreenSink, SinkError};
