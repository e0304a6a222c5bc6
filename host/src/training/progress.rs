//! Progress bars for long work, in one style.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `len` steps of `unit`, showing a message (loss, throughput) and the ETA.
/// Hidden when stderr is not a terminal, so logs and tests stay clean.
pub fn bar(len: u64, unit: &str) -> ProgressBar {
    let template = format!(
        "{{prefix}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{msg}} ({{per_sec}}, ETA {{eta}})"
    );
    ProgressBar::new(len).with_style(
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    )
}
