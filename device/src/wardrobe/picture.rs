//! The picture each stored embedding was made from: the garment view, kept (as a JPEG, at
//! most [`PICTURE_SIDE`] a side) so that a new embedder can embed the wardrobe again after an
//! update. Thumbnails are too small for that: they are the style statistics' 96 px view.

use crate::camera::decode::{DecodeError, decode_picture};
use image::RgbImage;
use image::imageops::FilterType;

/// Longest side of a stored garment view: above every embedder input we ship or plan (the
/// pretrained backbone reads 224 px), so embedding it again loses little.
pub const PICTURE_SIDE: u32 = 256;

/// JPEG quality of stored views: artefacts well below what a camera frame already has.
const QUALITY: u8 = 90;

/// The garment view as stored: scaled down (never up) to [`PICTURE_SIDE`], as a JPEG.
pub fn view_jpeg(view: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let (w, h) = view.dimensions();
    let scaled;
    let picture = if w.max(h) > PICTURE_SIDE {
        let scale = PICTURE_SIDE as f32 / w.max(h) as f32;
        let (sw, sh) = (
            ((w as f32 * scale).round() as u32).max(1),
            ((h as f32 * scale).round() as u32).max(1),
        );
        scaled = image::imageops::resize(view, sw, sh, FilterType::Triangle);
        &scaled
    } else {
        view
    };
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, QUALITY)
        .encode_image(picture)?;
    Ok(bytes)
}

/// A stored view (or, for garments stored before views were kept, a thumbnail PNG), decoded
/// with the camera's limits: the store is a file, and files can be damaged.
pub fn decode_view(bytes: &[u8]) -> Result<RgbImage, DecodeError> {
    decode_picture(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_kept_small_and_decode_back() {
        let big = RgbImage::from_pixel(640, 320, image::Rgb([200, 40, 40]));
        let back = decode_view(&view_jpeg(&big).unwrap()).unwrap();
        assert_eq!(back.dimensions(), (256, 128));
        let px = back.get_pixel(100, 60).0;
        assert!(px[0] > 180 && px[1] < 70, "{px:?}");
        let small = RgbImage::new(90, 120);
        assert_eq!(
            decode_view(&view_jpeg(&small).unwrap())
                .unwrap()
                .dimensions(),
            (90, 120)
        );
        assert!(decode_view(b"not a picture").is_err());
    }
}
