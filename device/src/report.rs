//! How commands show what they did: each builds a report (`Serialize` for `--json`,
//! `Display` for people) and this one printer prints it, so tests can assert on the report
//! itself and the two forms cannot drift apart.

use serde::Serialize;
use std::fmt::Display;

/// Writes `report` to `out` as one line of JSON, or as its text.
pub fn write<R: Serialize + Display>(
    out: &mut dyn std::io::Write,
    report: &R,
    json: bool,
) -> std::io::Result<()> {
    if json {
        let line = serde_json::to_string(report).map_err(std::io::Error::other)?;
        writeln!(out, "{line}")
    } else {
        let text = report.to_string();
        if text.is_empty() {
            return Ok(());
        }
        writeln!(out, "{}", text.trim_end_matches('\n'))
    }
}

/// Prints `report` on standard output as one line of JSON, or as its text.
pub fn print<R: Serialize + Display>(report: &R, json: bool) -> std::io::Result<()> {
    write(&mut std::io::stdout().lock(), report, json)
}

/// An error and its sources on one line (`what: why: deeper why`), for logs and events that
/// keep a reason as text.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let next = e.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn chains_name_every_source_once() {
        let e = Outer(std::io::Error::other("disk full"));
        assert_eq!(error_chain(&e), "outer: disk full");
    }
}
