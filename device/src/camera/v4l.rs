//! Live V4L2 capture (feature `v4l`): MJPEG or YUYV at the board profile's size and rate,
//! reconnecting with backoff when the camera is unplugged and comes back.

use super::decode::StreamFormat;
use super::source::{CameraError, Frame, FrameSource, decode_buffer};
use crate::board::{CameraProfile, PixelFormat};
use std::time::{Duration, Instant};
use v4l::buffer::Type;
use v4l::io::traits::CaptureStream;
use v4l::prelude::*;
use v4l::video::Capture;
use v4l::{Format, FourCC};

/// Buffers queued in the driver: enough to ride out a slow frame, few enough to stay fresh.
const BUFFERS: u32 = 4;
/// A frame later than this means the camera is gone.
const FRAME_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A V4L2 camera.
pub struct V4lCamera {
    profile: CameraProfile,
    stream: Option<(Device, MmapStream<'static>, u32, u32)>,
    backoff: Duration,
    retry_at: Instant,
    sequence: u64,
}

impl V4lCamera {
    /// Opens the camera now, so a wrong device path fails at start-up with a clear error.
    pub fn open(profile: &CameraProfile) -> Result<Self, CameraError> {
        let mut camera = Self {
            profile: profile.clone(),
            stream: None,
            backoff: Duration::from_millis(100),
            retry_at: Instant::now(),
            sequence: 0,
        };
        camera.connect()?;
        Ok(camera)
    }

    fn error(&self, problem: impl Into<String>) -> CameraError {
        CameraError::Device {
            device: self.profile.device.clone(),
            problem: problem.into(),
        }
    }

    fn connect(&mut self) -> Result<(), CameraError> {
        let device = Device::with_path(&self.profile.device)
            .map_err(|e| self.error(format!("cannot open: {e}")))?;
        let fourcc = match self.profile.format {
            PixelFormat::Mjpeg => FourCC::new(b"MJPG"),
            PixelFormat::Yuyv => FourCC::new(b"YUYV"),
        };
        let wanted = Format::new(self.profile.width, self.profile.height, fourcc);
        let got = device
            .set_format(&wanted)
            .map_err(|e| self.error(format!("cannot set format: {e}")))?;
        if got.fourcc != fourcc {
            return Err(self.error(format!(
                "does not offer {:?}; it chose {}",
                self.profile.format, got.fourcc
            )));
        }
        // A camera that cannot do the rate still streams at its own; not worth refusing.
        let _ = device.set_params(&v4l::video::capture::Parameters::with_fps(self.profile.fps));
        let mut stream = MmapStream::with_buffers(&device, Type::VideoCapture, BUFFERS)
            .map_err(|e| self.error(format!("cannot start streaming: {e}")))?;
        stream.set_timeout(FRAME_TIMEOUT);
        self.stream = Some((device, stream, got.width, got.height));
        self.backoff = Duration::from_millis(100);
        Ok(())
    }
}

impl FrameSource for V4lCamera {
    /// Blocks for the next frame. When the camera is gone it keeps trying to reconnect,
    /// doubling the wait up to 5 s, and returns the connection error each time so the loop
    /// can log it and draw a "no camera" screen.
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        if self.stream.is_none() {
            let now = Instant::now();
            if now < self.retry_at {
                std::thread::sleep(self.retry_at - now);
            }
            if let Err(e) = self.connect() {
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                self.retry_at = Instant::now() + self.backoff;
                return Err(e);
            }
        }
        let format = self.profile.format;
        let Some((_, stream, width, height)) = self.stream.as_mut() else {
            return Err(self.error("not connected"));
        };
        let (width, height) = (*width, *height);
        let buffer = match stream.next() {
            Ok((buffer, meta)) => buffer[..(meta.bytesused as usize).min(buffer.len())].to_vec(),
            Err(e) => {
                self.stream = None;
                self.retry_at = Instant::now() + self.backoff;
                return Err(self.error(format!("lost: {e}; reconnecting")));
            }
        };
        let sequence = self.sequence;
        self.sequence += 1;
        let layout = match format {
            PixelFormat::Mjpeg => StreamFormat::Mjpeg,
            PixelFormat::Yuyv => StreamFormat::Yuyv { width, height },
        };
        decode_buffer(&buffer, layout, sequence, &self.name()).map(Some)
    }

    fn name(&self) -> String {
        format!("camera {}", self.profile.device)
    }
}
