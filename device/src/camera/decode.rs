//! Camera buffers to RGB pictures: MJPEG (a JPEG per frame) and YUYV (4:2:2 packed).
//! Buffers come from hardware and may be short, empty or garbage: every path returns an
//! error, never panics.

use image::{Rgb, RgbImage};

/// A camera buffer could not be turned into a picture.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("YUYV frame of {width}x{height} needs {need} bytes, got {got}")]
    ShortYuyv {
        width: u32,
        height: u32,
        need: usize,
        got: usize,
    },
    #[error("YUYV width {0} must be even and the frame non-empty")]
    BadYuyvSize(u32),
    #[error("MJPEG frame ({len} bytes) does not decode: {message}")]
    Jpeg { len: usize, message: String },
    #[error("picture does not decode: {message}")]
    Picture { message: String },
    #[error("frame is {width}x{height}, larger than the {max}-pixel limit")]
    TooLarge { width: u32, height: u32, max: u64 },
}

/// Largest frame accepted (pixels): a 4K frame; bounds memory whatever a buffer claims.
pub const MAX_PIXELS: u64 = 3840 * 2160;

/// Pixel layout of a camera buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFormat {
    /// A JPEG per frame (what `ffmpeg -f mjpeg` writes and UVC cameras send).
    Mjpeg,
    /// Raw YUYV frames of a fixed size.
    Yuyv { width: u32, height: u32 },
}

/// Decodes one buffer of the given layout.
pub fn decode_frame(buffer: &[u8], format: StreamFormat) -> Result<RgbImage, DecodeError> {
    match format {
        StreamFormat::Mjpeg => decode_mjpeg(buffer),
        StreamFormat::Yuyv { width, height } => decode_yuyv(buffer, width, height),
    }
}

/// Decodes one MJPEG frame. UVC cameras often leave out the Huffman tables (they are the
/// JPEG standard's defaults); those are put back before decoding.
pub fn decode_mjpeg(buffer: &[u8]) -> Result<RgbImage, DecodeError> {
    let jpeg_error = |message: String| DecodeError::Jpeg {
        len: buffer.len(),
        message,
    };
    let patched;
    let bytes = if needs_default_huffman_tables(buffer) {
        patched = insert_default_huffman_tables(buffer)
            .ok_or_else(|| jpeg_error("no start-of-scan marker".into()))?;
        &patched
    } else {
        buffer
    };
    let mut decoder =
        image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Jpeg);
    decoder.limits(frame_limits());
    let picture = decoder.decode().map_err(|e| jpeg_error(e.to_string()))?;
    check_size(picture.width(), picture.height())?;
    Ok(picture.to_rgb8())
}

/// Decodes a picture file's bytes (JPEG, PNG; what `image` recognises), under the same
/// limits as camera frames: a picture from a file, an upload or an imported set can no more
/// exhaust memory than a camera buffer can.
pub fn decode_picture(bytes: &[u8]) -> Result<RgbImage, DecodeError> {
    let format = image::guess_format(bytes).map_err(|e| DecodeError::Picture {
        message: format!("not a picture: {e}"),
    })?;
    if format == image::ImageFormat::Jpeg {
        return decode_mjpeg(bytes);
    }
    let mut decoder = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    decoder.limits(frame_limits());
    let picture = decoder.decode().map_err(|e| DecodeError::Picture {
        message: e.to_string(),
    })?;
    check_size(picture.width(), picture.height())?;
    Ok(picture.to_rgb8())
}

fn frame_limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(MAX_PIXELS * 4);
    limits
}

fn check_size(width: u32, height: u32) -> Result<(), DecodeError> {
    if width as u64 * height as u64 > MAX_PIXELS {
        return Err(DecodeError::TooLarge {
            width,
            height,
            max: MAX_PIXELS,
        });
    }
    Ok(())
}

/// Decodes one YUYV (YUY2) frame: each 4 bytes Y0 U Y1 V give two pixels (BT.601).
pub fn decode_yuyv(buffer: &[u8], width: u32, height: u32) -> Result<RgbImage, DecodeError> {
    if width == 0 || height == 0 || !width.is_multiple_of(2) {
        return Err(DecodeError::BadYuyvSize(width));
    }
    if width as u64 * height as u64 > MAX_PIXELS {
        return Err(DecodeError::TooLarge {
            width,
            height,
            max: MAX_PIXELS,
        });
    }
    let need = width as usize * height as usize * 2;
    if buffer.len() < need {
        return Err(DecodeError::ShortYuyv {
            width,
            height,
            need,
            got: buffer.len(),
        });
    }
    let mut out = RgbImage::new(width, height);
    for (i, quad) in buffer[..need].chunks_exact(4).enumerate() {
        let (y0, u, y1, v) = (quad[0], quad[1], quad[2], quad[3]);
        let x = (i as u32 * 2) % width;
        let y = (i as u32 * 2) / width;
        out.put_pixel(x, y, yuv_to_rgb(y0, u, v));
        out.put_pixel(x + 1, y, yuv_to_rgb(y1, u, v));
    }
    Ok(out)
}

fn yuv_to_rgb(y: u8, u: u8, v: u8) -> Rgb<u8> {
    let c = y as f32 - 16.0;
    let d = u as f32 - 128.0;
    let e = v as f32 - 128.0;
    let clamp = |x: f32| x.round().clamp(0.0, 255.0) as u8;
    Rgb([
        clamp(1.164 * c + 1.596 * e),
        clamp(1.164 * c - 0.392 * d - 0.813 * e),
        clamp(1.164 * c + 2.017 * d),
    ])
}

/// Encodes RGB as YUYV (for recorded test streams and the inverse-check in tests).
pub fn encode_yuyv(picture: &RgbImage) -> Vec<u8> {
    let (w, h) = picture.dimensions();
    let mut out = Vec::with_capacity(w as usize * h as usize * 2);
    for y in 0..h {
        for x in (0..w.saturating_sub(1)).step_by(2) {
            let a = picture.get_pixel(x, y).0.map(|c| c as f32);
            let b = picture.get_pixel(x + 1, y).0.map(|c| c as f32);
            let luma = |p: [f32; 3]| 16.0 + 0.257 * p[0] + 0.504 * p[1] + 0.098 * p[2];
            let m = [0, 1, 2].map(|k| (a[k] + b[k]) / 2.0);
            let u = 128.0 - 0.148 * m[0] - 0.291 * m[1] + 0.439 * m[2];
            let v = 128.0 + 0.439 * m[0] - 0.368 * m[1] - 0.071 * m[2];
            let q = |x: f32| x.round().clamp(0.0, 255.0) as u8;
            out.extend_from_slice(&[q(luma(a)), q(u), q(luma(b)), q(v)]);
        }
    }
    out
}

/// True when a JPEG has a start-of-scan but no Huffman table segment before it.
fn needs_default_huffman_tables(jpeg: &[u8]) -> bool {
    let mut i = 2;
    while i + 4 <= jpeg.len() {
        if jpeg[i] != 0xFF {
            return false;
        }
        match jpeg[i + 1] {
            0xC4 => return false,
            0xDA => return true,
            0xD8 | 0x01 | 0xD0..=0xD7 => i += 2,
            _ => i += 2 + u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize,
        }
    }
    false
}

fn insert_default_huffman_tables(jpeg: &[u8]) -> Option<Vec<u8>> {
    let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA])?;
    let mut out = Vec::with_capacity(jpeg.len() + DEFAULT_DHT.len());
    out.extend_from_slice(&jpeg[..sos]);
    out.extend_from_slice(&DEFAULT_DHT);
    out.extend_from_slice(&jpeg[sos..]);
    Some(out)
}

/// The JPEG standard's typical Huffman tables (ITU T.81 Annex K.3), as one DHT segment: what
/// UVC MJPEG streams assume when they omit theirs.
const DEFAULT_DHT: [u8; 420] = {
    const DC_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    const DC_VALS: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const DC_C_BITS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
    const AC_L_BITS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
    const AC_C_BITS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
    // Marker, then the segment length 418 (0x01A2), then four tables: class/id, the 16
    // code-length counts, the values.
    let mut out = [0u8; 420];
    let mut at = put(&mut out, 0, &[0xFF, 0xC4, 0x01, 0xA2]);
    at = put(&mut out, at, &[0x00]); // luminance DC
    at = put(&mut out, at, &DC_BITS);
    at = put(&mut out, at, &DC_VALS);
    at = put(&mut out, at, &[0x10]); // luminance AC
    at = put(&mut out, at, &AC_L_BITS);
    at = put(&mut out, at, &AC_LUMA_VALS);
    at = put(&mut out, at, &[0x01]); // chrominance DC
    at = put(&mut out, at, &DC_C_BITS);
    at = put(&mut out, at, &DC_VALS);
    at = put(&mut out, at, &[0x11]); // chrominance AC
    at = put(&mut out, at, &AC_C_BITS);
    put(&mut out, at, &AC_CHROMA_VALS);
    out
};

/// Copies `bytes` into `out` at `at`; returns the position after them (for const tables).
const fn put(out: &mut [u8; 420], at: usize, bytes: &[u8]) -> usize {
    let mut k = 0;
    while k < bytes.len() {
        out[at + k] = bytes[k];
        k += 1;
    }
    at + bytes.len()
}

const AC_LUMA_VALS: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
    0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

const AC_CHROMA_VALS: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
    0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(picture: &RgbImage) -> Vec<u8> {
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95)
            .encode_image(picture)
            .unwrap();
        bytes
    }

    fn test_picture() -> RgbImage {
        RgbImage::from_fn(32, 16, |x, y| Rgb([(x * 8) as u8, (y * 16) as u8, 128]))
    }

    #[test]
    fn yuyv_round_trips_within_rounding() {
        let picture = test_picture();
        let decoded = decode_yuyv(&encode_yuyv(&picture), 32, 16).unwrap();
        for (a, b) in picture.pixels().zip(decoded.pixels()) {
            for k in 0..3 {
                assert!(
                    (a.0[k] as i32 - b.0[k] as i32).abs() <= 24,
                    "{a:?} vs {b:?}"
                );
            }
        }
    }

    #[test]
    fn bad_yuyv_buffers_are_errors() {
        assert!(matches!(
            decode_yuyv(&[0; 10], 4, 4),
            Err(DecodeError::ShortYuyv { .. })
        ));
        assert!(matches!(
            decode_yuyv(&[0; 100], 3, 4),
            Err(DecodeError::BadYuyvSize(3))
        ));
        assert!(matches!(
            decode_yuyv(&[], 0, 0),
            Err(DecodeError::BadYuyvSize(0))
        ));
        assert!(matches!(
            decode_yuyv(&[], 100_000, 100_000),
            Err(DecodeError::TooLarge { .. })
        ));
    }

    #[test]
    fn mjpeg_decodes_with_and_without_huffman_tables() {
        let picture = test_picture();
        let full = jpeg(&picture);
        assert_eq!(decode_mjpeg(&full).unwrap().dimensions(), (32, 16));
        // Strip every DHT segment, as UVC cameras do, and decode again.
        let mut stripped = full[..2].to_vec();
        let mut i = 2;
        while i + 4 <= full.len() && full[i] == 0xFF && full[i + 1] != 0xDA {
            let len = u16::from_be_bytes([full[i + 2], full[i + 3]]) as usize;
            if full[i + 1] != 0xC4 {
                stripped.extend_from_slice(&full[i..i + 2 + len]);
            }
            i += 2 + len;
        }
        stripped.extend_from_slice(&full[i..]);
        assert!(needs_default_huffman_tables(&stripped));
        let decoded = decode_mjpeg(&stripped).unwrap();
        let original = decode_mjpeg(&full).unwrap();
        assert_eq!(decoded, original, "the encoder used the standard tables");
    }

    #[test]
    fn garbage_mjpeg_is_an_error() {
        for junk in [
            &[][..],
            &[0xFF, 0xD8],
            &[1, 2, 3, 4, 5],
            &[0xFF, 0xD8, 0xFF, 0xDA, 0, 2],
        ] {
            assert!(decode_mjpeg(junk).is_err());
        }
        let mut truncated = jpeg(&test_picture());
        truncated.truncate(truncated.len() / 2);
        let _ = decode_mjpeg(&truncated); // may decode partially; must not panic
    }
}
