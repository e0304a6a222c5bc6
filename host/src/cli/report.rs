//! The one printer of the reports commands compute: pretty JSON with `--json`, the report's
//! own text otherwise. Commands build the report; tests can assert on it, not on stdout.

use anyhow::Result;
use serde::Serialize;
use std::fmt::Display;

/// Prints `report` to stdout as JSON (`json`) or as text.
pub fn print_report<R: Serialize + Display>(report: &R, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}
