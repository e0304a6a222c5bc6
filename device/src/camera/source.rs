//! Where frames come from: the `FrameSource` seam between the camera hardware and the rest.

pub use super::decode::StreamFormat;
use super::decode::{DecodeError, decode_frame, decode_picture, decode_yuyv};
use image::RgbImage;
use std::path::{Path, PathBuf};

/// One captured picture.
#[derive(Debug, Clone)]
pub struct Frame {
    pub image: RgbImage,
    /// Counts frames from 0 since the source opened.
    pub sequence: u64,
}

/// Why a frame could not be had.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{source_name}: frame {sequence}: {error}")]
    Decode {
        source_name: String,
        sequence: u64,
        error: DecodeError,
    },
    #[error("{path}: {problem}")]
    Invalid { path: PathBuf, problem: String },
    #[error("cannot read picture {path}")]
    Picture {
        path: PathBuf,
        #[source]
        source: DecodeError,
    },
    #[error("camera {device}: {problem}")]
    Device { device: String, problem: String },
}

impl CameraError {
    /// Whether the loop may go on to the next frame (a bad frame) or the source is gone.
    pub fn is_transient(&self) -> bool {
        matches!(self, CameraError::Decode { .. })
    }
}

/// Decodes one camera buffer into frame `sequence`; a bad buffer becomes a (transient)
/// decode error naming the source and the frame. Shared by recordings and live cameras.
pub fn decode_buffer(
    buffer: &[u8],
    format: StreamFormat,
    sequence: u64,
    source_name: &str,
) -> Result<Frame, CameraError> {
    let image = decode_frame(buffer, format).map_err(|error| CameraError::Decode {
        source_name: source_name.to_string(),
        sequence,
        error,
    })?;
    Ok(Frame { image, sequence })
}

/// Anything that yields frames. `Ok(None)` means the source has ended (files do; cameras
/// never do — they reconnect instead).
pub trait FrameSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError>;
    /// A short human name for logs and errors.
    fn name(&self) -> String;
}

/// Reads a picture file under the camera's decoding limits ([`decode_picture`]): the one
/// reader for pictures from files, whether a slideshow's or a command's argument.
pub fn read_picture(path: &Path) -> Result<RgbImage, CameraError> {
    let bytes = std::fs::read(path).map_err(|source| CameraError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_picture(&bytes).map_err(|source| CameraError::Picture {
        path: path.to_path_buf(),
        source,
    })
}

/// One picture, shown for `repeat` frames (so the steadiness check can settle on it).
pub struct ImageFile {
    path: PathBuf,
    image: Option<RgbImage>,
    repeat: u64,
    sequence: u64,
}

impl ImageFile {
    pub fn open(path: &Path, repeat: u64) -> Result<Self, CameraError> {
        let image = read_picture(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            image: Some(image),
            repeat: repeat.max(1),
            sequence: 0,
        })
    }
}

impl FrameSource for ImageFile {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        if self.sequence >= self.repeat {
            self.image = None;
            return Ok(None);
        }
        let Some(image) = &self.image else {
            return Ok(None);
        };
        let frame = Frame {
            image: image.clone(),
            sequence: self.sequence,
        };
        self.sequence += 1;
        Ok(Some(frame))
    }

    fn name(&self) -> String {
        format!("picture {}", self.path.display())
    }
}

/// Every picture of a directory in name order, each for `frames_per_image` frames: a
/// slideshow standing in for someone holding garments up to the camera. Pictures are read
/// one at a time, so memory stays bounded however large the directory.
pub struct ImageDir {
    dir: PathBuf,
    files: Vec<PathBuf>,
    frames_per_image: u64,
    looping: bool,
    position: usize,
    shown: u64,
    current: Option<RgbImage>,
    sequence: u64,
}

impl ImageDir {
    pub fn open(dir: &Path, frames_per_image: u64, looping: bool) -> Result<Self, CameraError> {
        let entries = std::fs::read_dir(dir).map_err(|source| CameraError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png")
                })
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(CameraError::Invalid {
                path: dir.to_path_buf(),
                problem: "holds no .jpg/.jpeg/.png pictures".into(),
            });
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            files,
            frames_per_image: frames_per_image.max(1),
            looping,
            position: 0,
            shown: 0,
            current: None,
            sequence: 0,
        })
    }
}

impl FrameSource for ImageDir {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        if self.shown >= self.frames_per_image {
            self.shown = 0;
            self.current = None;
            self.position += 1;
        }
        if self.position >= self.files.len() {
            if !self.looping {
                return Ok(None);
            }
            self.position = 0;
        }
        if self.current.is_none() {
            match read_picture(&self.files[self.position]) {
                Ok(picture) => self.current = Some(picture),
                Err(e) => {
                    // Skip the unreadable picture so the show goes on with the next one.
                    self.position += 1;
                    self.shown = 0;
                    return Err(e);
                }
            }
        }
        let Some(image) = &self.current else {
            return Ok(None);
        };
        let frame = Frame {
            image: image.clone(),
            sequence: self.sequence,
        };
        self.sequence += 1;
        self.shown += 1;
        Ok(Some(frame))
    }

    fn name(&self) -> String {
        format!("slideshow {}", self.dir.display())
    }
}

/// A recorded camera stream replayed frame by frame through the same decoders the live
/// camera uses. Reads the file in chunks: memory is one frame, not the whole recording.
pub struct RecordedStream {
    path: PathBuf,
    reader: std::io::BufReader<std::fs::File>,
    format: StreamFormat,
    sequence: u64,
    pending: Vec<u8>,
    done: bool,
    /// Start again at the end of the file (soak runs of any length from a short recording).
    looping: bool,
    /// Bytes read since the file was last (re)started; a loop over an empty file ends.
    read_this_pass: u64,
}

/// Largest MJPEG frame accepted in a recording (bytes); a stream without end markers
/// cannot grow memory past it.
const MAX_MJPEG_FRAME: usize = 8 << 20;

impl RecordedStream {
    pub fn open(path: &Path, format: StreamFormat) -> Result<Self, CameraError> {
        // The frame buffer is allocated from the claimed size: check it before trusting it.
        if let StreamFormat::Yuyv { width, height } = format
            && let Err(error) = decode_yuyv(&[], width, height)
            && !matches!(error, DecodeError::ShortYuyv { .. })
        {
            return Err(CameraError::Invalid {
                path: path.to_path_buf(),
                problem: error.to_string(),
            });
        }
        let file = std::fs::File::open(path).map_err(|source| CameraError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            reader: std::io::BufReader::new(file),
            format,
            sequence: 0,
            pending: Vec::new(),
            done: false,
            looping: false,
            read_this_pass: 0,
        })
    }

    /// Replays the recording from the start whenever it ends.
    pub fn looping(mut self, looping: bool) -> Self {
        self.looping = looping;
        self
    }

    /// At the end of the file: when looping (and the file is not empty) seek back to its
    /// start and return true.
    fn rewind(&mut self) -> Result<bool, CameraError> {
        use std::io::Seek;
        if !self.looping || self.read_this_pass == 0 {
            return Ok(false);
        }
        self.reader
            .seek(std::io::SeekFrom::Start(0))
            .map_err(|source| CameraError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.read_this_pass = 0;
        Ok(true)
    }

    /// Next raw frame buffer, or `None` at the end of the file.
    fn next_buffer(&mut self) -> Result<Option<Vec<u8>>, CameraError> {
        use std::io::Read;
        let path = self.path.clone();
        let io = move |source| CameraError::Io {
            path: path.clone(),
            source,
        };
        match self.format {
            StreamFormat::Yuyv { width, height } => {
                let mut buffer = vec![0u8; width as usize * height as usize * 2];
                let mut filled = 0;
                while filled < buffer.len() {
                    let n = self.reader.read(&mut buffer[filled..]).map_err(&io)?;
                    self.read_this_pass += n as u64;
                    if n == 0 {
                        if filled == 0 && self.rewind()? {
                            continue;
                        }
                        break;
                    }
                    filled += n;
                }
                // A short tail is still handed on, so the decoder reports it.
                Ok((filled > 0).then(|| {
                    buffer.truncate(filled);
                    buffer
                }))
            }
            StreamFormat::Mjpeg => loop {
                if let Some(end) = find_jpeg_end(&self.pending) {
                    let rest = self.pending.split_off(end);
                    return Ok(Some(std::mem::replace(&mut self.pending, rest)));
                }
                if self.done {
                    return Ok(
                        (!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending))
                    );
                }
                if self.pending.len() > MAX_MJPEG_FRAME {
                    self.pending.clear();
                    return Err(CameraError::Invalid {
                        path: self.path.clone(),
                        problem: format!(
                            "a frame exceeds {MAX_MJPEG_FRAME} bytes without an end marker"
                        ),
                    });
                }
                let mut chunk = [0u8; 64 * 1024];
                let n = self.reader.read(&mut chunk).map_err(&io)?;
                self.read_this_pass += n as u64;
                if n == 0 && !self.rewind()? {
                    self.done = true;
                }
                self.pending.extend_from_slice(&chunk[..n]);
            },
        }
    }
}

/// End (exclusive) of the first complete JPEG in `bytes`: the first end-of-image marker
/// after a start-of-image marker.
fn find_jpeg_end(bytes: &[u8]) -> Option<usize> {
    let start = bytes.windows(2).position(|w| w == [0xFF, 0xD8])?;
    bytes[start + 2..]
        .windows(2)
        .position(|w| w == [0xFF, 0xD9])
        .map(|p| start + 2 + p + 2)
}

impl FrameSource for RecordedStream {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        let Some(buffer) = self.next_buffer()? else {
            return Ok(None);
        };
        let sequence = self.sequence;
        self.sequence += 1;
        decode_buffer(&buffer, self.format, sequence, &self.name()).map(Some)
    }

    fn name(&self) -> String {
        format!("recording {}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::decode::encode_yuyv;
    use image::Rgb;

    fn picture(shade: u8) -> RgbImage {
        RgbImage::from_pixel(16, 8, Rgb([shade, 255 - shade, 60]))
    }

    fn jpeg(p: &RgbImage) -> Vec<u8> {
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
            .encode_image(p)
            .unwrap();
        bytes
    }

    fn drain(source: &mut dyn FrameSource) -> Vec<Result<Frame, CameraError>> {
        let mut out = Vec::new();
        for _ in 0..100 {
            match source.next_frame() {
                Ok(Some(f)) => out.push(Ok(f)),
                Ok(None) => break,
                Err(e) => {
                    let transient = e.is_transient();
                    out.push(Err(e));
                    if !transient {
                        break;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn image_file_repeats_then_ends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        picture(10).save(&path).unwrap();
        let frames = drain(&mut ImageFile::open(&path, 3).unwrap());
        assert_eq!(frames.len(), 3);
        assert!(ImageFile::open(&dir.path().join("missing.png"), 1).is_err());
        std::fs::write(dir.path().join("bad.png"), b"nope").unwrap();
        let err = ImageFile::open(&dir.path().join("bad.png"), 1)
            .err()
            .unwrap();
        assert!(err.to_string().contains("bad.png"), "{err}");
    }

    #[test]
    fn directory_is_a_slideshow_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        picture(200).save(dir.path().join("b.png")).unwrap();
        picture(0).save(dir.path().join("a.png")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"ignored").unwrap();
        let frames: Vec<Frame> = drain(&mut ImageDir::open(dir.path(), 2, false).unwrap())
            .into_iter()
            .map(|f| f.unwrap())
            .collect();
        assert_eq!(frames.len(), 4);
        assert_eq!(frames[0].image.get_pixel(0, 0).0[0], 0);
        assert_eq!(frames[3].image.get_pixel(0, 0).0[0], 200);
        assert_eq!(
            frames.iter().map(|f| f.sequence).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        let mut looping = ImageDir::open(dir.path(), 1, true).unwrap();
        for _ in 0..5 {
            assert!(looping.next_frame().unwrap().is_some());
        }
        let empty = tempfile::tempdir().unwrap();
        assert!(ImageDir::open(empty.path(), 1, false).is_err());
    }

    #[test]
    fn recorded_mjpeg_replays_and_survives_a_corrupt_frame() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stream.mjpeg");
        let mut bytes = jpeg(&picture(0));
        bytes.extend_from_slice(&[0xFF, 0xD8, 0x00, 0x01, 0xFF, 0xD9]); // a broken frame
        bytes.extend(jpeg(&picture(250)));
        std::fs::write(&path, &bytes).unwrap();
        let frames = drain(&mut RecordedStream::open(&path, StreamFormat::Mjpeg).unwrap());
        assert_eq!(frames.len(), 3);
        assert!(frames[0].is_ok() && frames[2].is_ok());
        assert!(
            frames[1]
                .as_ref()
                .is_err_and(|e| e.is_transient() && e.to_string().contains("frame 1"))
        );
    }

    #[test]
    fn recorded_yuyv_replays_and_reports_a_short_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stream.yuyv");
        let mut bytes = encode_yuyv(&picture(0));
        bytes.extend(encode_yuyv(&picture(100)));
        bytes.extend_from_slice(&[1, 2, 3]);
        std::fs::write(&path, &bytes).unwrap();
        let frames = drain(
            &mut RecordedStream::open(
                &path,
                StreamFormat::Yuyv {
                    width: 16,
                    height: 8,
                },
            )
            .unwrap(),
        );
        assert_eq!(frames.len(), 3);
        assert!(frames[1].is_ok());
        assert!(matches!(
            frames[2],
            Err(CameraError::Decode {
                error: DecodeError::ShortYuyv { .. },
                ..
            })
        ));
    }
}
