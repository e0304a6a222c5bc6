//! The asking side: a command that finds a running capsule hands it the request.

use super::SOCKET_FILE;
use super::protocol::{Answer, DaemonError, Header, read_line, write_line};
use crate::app::{Reply, Request};
use std::io::{BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a request may take to be answered (the daemon serves between frames).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// An update checks golden outputs and may embed the whole wardrobe again: minutes on a Pi.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(900);

fn answer_timeout(request: &Request) -> Duration {
    match request {
        Request::UpdateApply { .. } | Request::Rollback => UPDATE_TIMEOUT,
        _ => ANSWER_TIMEOUT,
    }
}

/// A connection to the running capsule of one data directory.
pub struct Client {
    stream: UnixStream,
    path: PathBuf,
}

/// The running capsule of `data_dir`, or `None` when none runs (no socket, or one left
/// by a capsule that stopped).
pub fn connect(data_dir: &Path) -> Option<Client> {
    let path = data_dir.join(SOCKET_FILE);
    let stream = UnixStream::connect(&path).ok()?;
    Some(Client { stream, path })
}

impl Client {
    /// Sends `request` (with the bytes of a picture file, when it needs one) and waits for
    /// the answer.
    pub fn call(mut self, request: &Request, picture: Option<&[u8]>) -> Result<Reply, DaemonError> {
        let io = |source| DaemonError::Io {
            path: self.path.clone(),
            source,
        };
        self.stream
            .set_read_timeout(Some(answer_timeout(request)))
            .map_err(io)?;
        let header = Header {
            request: request.clone(),
            picture_bytes: picture.map_or(0, <[u8]>::len),
        };
        write_line(&mut self.stream, &header).map_err(io)?;
        if let Some(bytes) = picture {
            self.stream.write_all(bytes).map_err(io)?;
        }
        let mut reader = BufReader::new(&self.stream);
        let line = read_line(&mut reader)
            .map_err(io)?
            .ok_or_else(|| DaemonError::Protocol {
                path: self.path.clone(),
                problem: "the daemon closed the connection without answering".into(),
            })?;
        match serde_json::from_str::<Answer>(&line) {
            Ok(Answer::Ok { text, json, .. }) => Ok(Reply { text, json }),
            Ok(Answer::Err { error, .. }) => Err(DaemonError::Refused(error)),
            Err(e) => Err(DaemonError::Protocol {
                path: self.path.clone(),
                problem: format!("an answer that is not capsule's: {e}"),
            }),
        }
    }
}
