//! The daemon's listening side. The frame loop owns the mirror service, so requests are
//! served on its thread, between frames ([`Server::serve_pending`]): no locks, and a change
//! is in the very next frame's suggestions. A connection that stalls is dropped after a
//! short timeout, so a client cannot hold the camera up.

use super::SOCKET_FILE;
use super::protocol::{DaemonError, Header, MAX_PICTURE, answer, read_line, write_line};
use crate::app::{Mirror, requests};
use crate::camera::decode::decode_picture;
use crate::report::error_chain;
use std::io::{BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Longest a client may take to send its request (or read the answer).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(3);
/// Requests served per call, so a flood cannot starve the camera.
const PER_POLL: usize = 8;

/// The socket a running mirror answers on; removed when dropped.
pub struct Server {
    listener: UnixListener,
    path: PathBuf,
}

impl Server {
    /// Listens in `data_dir`. A socket left by a capsule that died is replaced; one that
    /// answers belongs to a running capsule, and that is an error.
    pub fn bind(data_dir: &Path) -> Result<Self, DaemonError> {
        let path = data_dir.join(SOCKET_FILE);
        let io = |source| DaemonError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(io)?;
        if path.exists() {
            if UnixStream::connect(&path).is_ok() {
                return Err(DaemonError::InUse(path));
            }
            std::fs::remove_file(&path).map_err(io)?;
        }
        let listener = UnixListener::bind(&path).map_err(io)?;
        // Owner and group only: the group is how a board's `capsule` users get in.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o660)).map_err(io)?;
        listener.set_nonblocking(true).map_err(io)?;
        Ok(Self { listener, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serves the requests waiting now (up to a few) with `mirror`; returns how many.
    /// Problems with one client are told to that client, never to the loop.
    pub fn serve_pending(&self, mirror: &mut Mirror) -> usize {
        let mut served = 0;
        while served < PER_POLL {
            let Ok((stream, _)) = self.listener.accept() else {
                break;
            };
            served += 1;
            serve(stream, mirror);
        }
        served
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn serve(stream: UnixStream, mirror: &mut Mirror) {
    // A stalled client costs at most the timeout; errors writing the answer have no one to
    // go to.
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(CLIENT_TIMEOUT)).is_err()
        || stream.set_write_timeout(Some(CLIENT_TIMEOUT)).is_err()
    {
        return;
    }
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let result = receive(&mut reader).and_then(|(header, picture)| {
        requests::handle(mirror, &header.request, picture.as_ref()).map_err(|e| error_chain(&e))
    });
    let _ = write_line(&mut writer, &answer(result));
}

fn receive(
    reader: &mut BufReader<UnixStream>,
) -> Result<(Header, Option<image::RgbImage>), String> {
    let line = read_line(reader)
        .map_err(|e| format!("reading the request: {e}"))?
        .ok_or("the client sent nothing")?;
    let header: Header =
        serde_json::from_str(&line).map_err(|e| format!("not a capsule request: {e}"))?;
    if header.picture_bytes > MAX_PICTURE {
        return Err(format!(
            "the picture is {} bytes, over the {MAX_PICTURE}-byte limit",
            header.picture_bytes
        ));
    }
    let picture = if header.picture_bytes > 0 {
        let mut bytes = vec![0; header.picture_bytes];
        reader
            .read_exact(&mut bytes)
            .map_err(|e| format!("reading the picture: {e}"))?;
        Some(decode_picture(&bytes).map_err(|e| format!("the picture: {e}"))?)
    } else {
        None
    };
    Ok((header, picture))
}
