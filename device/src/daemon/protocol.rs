//! The wire format: the client writes one JSON line, `{"request": {...}, "picture_bytes":
//! N}`, then `N` bytes of a PNG or JPEG file; the server answers one JSON line, `{"ok":
//! true, "text": ..., "json": ...}` or `{"ok": false, "error": ...}`. One request per
//! connection. Lines and pictures are size-limited before anything is allocated for them.

use crate::app::{Reply, Request};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read, Write};
use std::path::PathBuf;

/// Longest request or reply line.
pub const MAX_LINE: usize = 1 << 20;
/// Largest picture a request may carry (a camera photo as a file).
pub const MAX_PICTURE: usize = 32 << 20;

#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    pub request: Request,
    #[serde(default)]
    pub picture_bytes: usize,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Ok {
        ok: bool,
        text: String,
        json: serde_json::Value,
    },
    Err {
        ok: bool,
        error: String,
    },
}

/// Talking to the daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("the capsule daemon's socket {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the capsule daemon's socket {path}: {problem}")]
    Protocol { path: PathBuf, problem: String },
    #[error("the running capsule says: {0}")]
    Refused(String),
    #[error(
        "another capsule is already serving {0} (stop it, or send it the command: it answers on that socket)"
    )]
    InUse(PathBuf),
}

/// Reads one `\n`-terminated line of at most [`MAX_LINE`] bytes.
pub fn read_line(reader: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    let read = reader
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("line longer than {MAX_LINE} bytes, or cut short"),
        ));
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Writes `value` as one JSON line.
pub fn write_line(writer: &mut impl Write, value: &impl Serialize) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    writer.write_all(&bytes)?;
    writer.flush()
}

/// The answer line for a served request.
pub fn answer(result: Result<Reply, String>) -> Answer {
    match result {
        Ok(reply) => Answer::Ok {
            ok: true,
            text: reply.text,
            json: reply.json,
        },
        Err(error) => Answer::Err { ok: false, error },
    }
}
