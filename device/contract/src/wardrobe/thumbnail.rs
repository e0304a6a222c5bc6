//! Garment thumbnails: what the display shows for a wardrobe garment.

use image::RgbImage;

/// Side of stored thumbnails, in pixels.
pub const THUMBNAIL_SIDE: u32 = crate::garment::style::STYLE_SIDE;

/// A small PNG of the garment (aspect kept, at most 96 px a side).
pub fn thumbnail_png(picture: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    // The style statistics' view: a garment's statistics can be recomputed from it.
    let thumb = crate::garment::style::style_view(picture);
    let mut bytes = Vec::new();
    thumb.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )?;
    Ok(bytes)
}

/// Decodes a stored thumbnail; a damaged one becomes a grey square rather than an error,
/// since it only decorates the screen.
pub fn decode_thumbnail(png: &[u8]) -> RgbImage {
    image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .map(|p| p.to_rgb8())
        .unwrap_or_else(|_| {
            RgbImage::from_pixel(THUMBNAIL_SIDE, THUMBNAIL_SIDE, image::Rgb([90, 90, 90]))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_keep_aspect_and_damage_is_harmless() {
        let png = thumbnail_png(&RgbImage::new(200, 100)).unwrap();
        assert_eq!(decode_thumbnail(&png).dimensions(), (96, 48));
        assert_eq!(decode_thumbnail(b"junk").dimensions(), (96, 96));
    }
}
