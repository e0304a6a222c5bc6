//! What every training command shares: the backend choice, the run directory (config,
//! metrics), checkpoints, progress bars and curve plots.

pub mod backend;
pub mod checkpoint;
pub mod plot;
pub mod progress;
pub mod run;

pub use backend::Backend;
pub use run::{RunDir, RunError};
