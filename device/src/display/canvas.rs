//! An in-memory RGB picture as an embedded-graphics `DrawTarget`: the PNG display, and
//! any labelled picture the host draws (contact sheets), use the same drawing code as the
//! panels.

use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use image::RgbImage;
use std::convert::Infallible;

/// A `DrawTarget` that draws into an [`RgbImage`]; pixels outside it are dropped.
pub struct RgbCanvas {
    image: RgbImage,
}

impl RgbCanvas {
    /// A canvas of `width` × `height` filled with `background`.
    pub fn new(width: u32, height: u32, background: Rgb888) -> Self {
        let fill = image::Rgb([background.r(), background.g(), background.b()]);
        Self {
            image: RgbImage::from_pixel(width, height, fill),
        }
    }

    /// Copies a picture onto the canvas with its top-left corner at (x, y), clipped.
    pub fn blit(&mut self, picture: &RgbImage, x: i64, y: i64) {
        image::imageops::replace(&mut self.image, picture, x, y);
    }

    pub fn image(&self) -> &RgbImage {
        &self.image
    }

    pub fn into_image(self) -> RgbImage {
        self.image
    }
}

/// An RGB pixel as RGB565 (the low bits dropped), the 16-bit format of framebuffers and
/// SPI panels.
pub(crate) fn rgb565([r, g, b]: [u8; 3]) -> u16 {
    ((u16::from(r) >> 3) << 11) | ((u16::from(g) >> 2) << 5) | (u16::from(b) >> 3)
}

impl OriginDimensions for RgbCanvas {
    fn size(&self) -> Size {
        Size::new(self.image.width(), self.image.height())
    }
}

impl DrawTarget for RgbCanvas {
    type Color = Rgb888;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        let (w, h) = self.image.dimensions();
        for Pixel(point, colour) in pixels {
            if let (Ok(x), Ok(y)) = (u32::try_from(point.x), u32::try_from(point.y))
                && x < w
                && y < h
            {
                self.image
                    .put_pixel(x, y, image::Rgb([colour.r(), colour.g(), colour.b()]));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::mono_font::{MonoTextStyle, ascii::FONT_6X10};
    use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
    use embedded_graphics::text::Text;

    #[test]
    fn draws_text_and_clips_shapes() {
        let mut canvas = RgbCanvas::new(40, 20, Rgb888::BLACK);
        Rectangle::new(Point::new(30, 10), Size::new(50, 50))
            .into_styled(PrimitiveStyle::with_fill(Rgb888::RED))
            .draw(&mut canvas)
            .unwrap();
        Text::new(
            "hi",
            Point::new(1, 8),
            MonoTextStyle::new(&FONT_6X10, Rgb888::WHITE),
        )
        .draw(&mut canvas)
        .unwrap();
        let img = canvas.into_image();
        assert_eq!(img.get_pixel(39, 19).0, [255, 0, 0]);
        assert_eq!(img.get_pixel(29, 19).0, [0, 0, 0]);
        assert!(img.pixels().any(|p| p.0 == [255, 255, 255]), "text drawn");
    }
}
