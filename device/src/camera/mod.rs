//! Frames in: sources (V4L2 camera, picture, slideshow, recording), decoders, the
//! steadiness check and the garment region.

pub mod decode;
pub mod source;
pub mod steady;
#[cfg(feature = "v4l")]
pub mod v4l;

pub use source::{
    CameraError, Frame, FrameSource, ImageDir, ImageFile, RecordedStream, StreamFormat,
    read_picture,
};
pub use steady::{Motion, SteadinessDetector};
