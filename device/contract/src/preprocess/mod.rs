//! The preprocessing contract: how a picture becomes model input.
//!
//! The spec travels in every bundle manifest. A picture becomes a tensor in two named
//! stages: [`PreprocessSpec::garment_view`] cuts the garment out (the board's region of
//! interest, then the spec's [`GarmentCrop`]), and [`PreprocessSpec::tensor_into`] fits and
//! normalises that view. [`preprocess_into`] runs both on a whole picture. Training,
//! evaluation, calibration, golden files and the camera loop all go through these, so a
//! model never sees differently prepared pixels on the board than it saw on the host; and
//! since only a [`GarmentView`] becomes a tensor, no path can skip the crop.

use image::imageops;
use image::{GrayImage, RgbImage};
use ndarray::Array4;
use serde::{Deserialize, Serialize};

pub mod crop;
mod resize;
pub use crop::WHOLE_PICTURE;
use resize::resize_triangle;

/// How the garment is cut out of the picture before it is fitted to the model input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GarmentCrop {
    /// The picture (or the board's region of interest) as it is.
    None,
    /// The bounding box of what differs from the border's colour, with a margin; the whole
    /// picture when the garment is tiny or fills it anyway ([`crop::foreground_region`]).
    Foreground,
}

/// The garment cut out of a picture by a spec's crop: the only thing that becomes a tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct GarmentView(RgbImage);

impl GarmentView {
    /// The cut-out picture (also what style statistics and thumbnails are made from).
    pub fn picture(&self) -> &RgbImage {
        &self.0
    }

    pub fn into_picture(self) -> RgbImage {
        self.0
    }
}

/// How the picture is fitted to the square model input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResizePolicy {
    /// Scale the shorter side to `size`, then cut the centre square: keeps proportions,
    /// loses the edges of wide frames.
    ShorterSideCenterCrop,
    /// Scale the longer side to `size` and pad with the mean colour: keeps everything.
    Letterbox,
    /// Scale both sides to `size`: distorts, but is what square datasets already are.
    Stretch,
}

/// Channel order of the tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColourOrder {
    Rgb,
    Bgr,
}

/// Memory layout of the tensor. Only NCHW is produced; the field exists so a manifest
/// states it rather than leaving it implied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Layout {
    Nchw,
}

/// Everything needed to turn an RGB picture into the embedder's input tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreprocessSpec {
    /// Side of the square input, in pixels.
    pub size: u32,
    /// How the garment is cut out of the picture first.
    pub garment_crop: GarmentCrop,
    /// Fraction of the garment view kept around its centre before resizing (1.0 keeps all).
    pub center_crop: f32,
    pub resize: ResizePolicy,
    pub colour_order: ColourOrder,
    pub layout: Layout,
    /// Per-channel mean and standard deviation on the 0..1 scale, in `colour_order`.
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Default for PreprocessSpec {
    /// 64 px, the garment cut from its background, letterboxed, ImageNet statistics.
    fn default() -> Self {
        Self {
            size: 64,
            garment_crop: GarmentCrop::Foreground,
            center_crop: 1.0,
            resize: ResizePolicy::Letterbox,
            colour_order: ColourOrder::Rgb,
            layout: Layout::Nchw,
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
        }
    }
}

/// Why a picture or spec could not be turned into a tensor.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PreprocessError {
    #[error("picture is empty ({width}x{height} pixels)")]
    EmptyImage { width: u32, height: u32 },
    #[error("preprocessing spec: {field} {problem}")]
    InvalidSpec {
        field: &'static str,
        problem: String,
    },
    #[error("output buffer holds {got} floats, the spec needs {need}")]
    BufferSize { got: usize, need: usize },
}

impl PreprocessSpec {
    /// Floats in one preprocessed picture (3 × size × size).
    pub fn input_len(&self) -> usize {
        3 * self.size as usize * self.size as usize
    }

    /// NCHW shape of a batch of `batch` pictures.
    pub fn input_shape(&self, batch: usize) -> [usize; 4] {
        [batch, 3, self.size as usize, self.size as usize]
    }

    /// Checks the numbers a manifest could get wrong.
    pub fn validate(&self) -> Result<(), PreprocessError> {
        let bad = |field, problem: String| Err(PreprocessError::InvalidSpec { field, problem });
        if !(8..=1024).contains(&self.size) {
            return bad("size", format!("is {}, expected 8..=1024", self.size));
        }
        if !(self.center_crop > 0.0 && self.center_crop <= 1.0) {
            return bad(
                "center_crop",
                format!("is {}, expected in (0, 1]", self.center_crop),
            );
        }
        if self.mean.iter().any(|m| !m.is_finite()) {
            return bad("mean", format!("{:?} is not finite", self.mean));
        }
        if self.std.iter().any(|s| !s.is_finite() || *s <= 0.0) {
            return bad("std", format!("{:?} must be finite and positive", self.std));
        }
        Ok(())
    }

    /// The garment in `picture`: the region of interest `roi` (x, y, width, height as
    /// fractions of the picture; [`WHOLE_PICTURE`] for a photo of one garment), then the
    /// spec's garment crop.
    pub fn garment_view(&self, picture: &RgbImage, roi: [f32; 4]) -> GarmentView {
        let region = crop::crop_fraction(picture, roi);
        GarmentView(match self.garment_crop {
            GarmentCrop::None => region,
            GarmentCrop::Foreground => crop::foreground_region(region),
        })
    }

    /// Writes the normalised NCHW tensor of `view` into `out` (length
    /// [`PreprocessSpec::input_len`]). Reusing `out` keeps the camera loop allocation-free.
    pub fn tensor_into(&self, view: &GarmentView, out: &mut [f32]) -> Result<(), PreprocessError> {
        let need = self.input_len();
        if out.len() != need {
            return Err(PreprocessError::BufferSize {
                got: out.len(),
                need,
            });
        }
        let fitted = self.fit(view)?;
        let plane = self.size as usize * self.size as usize;
        let channels: [usize; 3] = match self.colour_order {
            ColourOrder::Rgb => [0, 1, 2],
            ColourOrder::Bgr => [2, 1, 0],
        };
        for (i, pixel) in fitted.pixels().enumerate() {
            for (c, &source) in channels.iter().enumerate() {
                let v = pixel.0[source] as f32 / 255.0;
                out[c * plane + i] = (v - self.mean[c]) / self.std[c];
            }
        }
        Ok(())
    }

    /// Resizes a garment view to the square `size` × `size` picture the model sees.
    pub fn fit(&self, view: &GarmentView) -> Result<RgbImage, PreprocessError> {
        self.validate()?;
        let image = view.picture();
        let (w, h) = image.dimensions();
        if w == 0 || h == 0 {
            return Err(PreprocessError::EmptyImage {
                width: w,
                height: h,
            });
        }
        let cropped;
        let source = if self.center_crop < 1.0 {
            let cw = ((w as f32 * self.center_crop).round() as u32).clamp(1, w);
            let ch = ((h as f32 * self.center_crop).round() as u32).clamp(1, h);
            cropped = imageops::crop_imm(image, (w - cw) / 2, (h - ch) / 2, cw, ch).to_image();
            &cropped
        } else {
            image
        };
        let (w, h) = source.dimensions();
        let size = self.size;
        Ok(match self.resize {
            ResizePolicy::Stretch => resize_triangle(source, size, size),
            ResizePolicy::ShorterSideCenterCrop => {
                let scale = size as f32 / w.min(h) as f32;
                let (nw, nh) = scaled(w, h, scale, size);
                let resized = resize_triangle(source, nw, nh);
                imageops::crop_imm(&resized, (nw - size) / 2, (nh - size) / 2, size, size)
                    .to_image()
            }
            ResizePolicy::Letterbox => {
                let scale = size as f32 / w.max(h) as f32;
                let (nw, nh) = scaled(w, h, scale, size);
                let resized = resize_triangle(source, nw, nh);
                let fill = self.mean_colour();
                let mut canvas = RgbImage::from_pixel(size, size, fill);
                imageops::replace(
                    &mut canvas,
                    &resized,
                    ((size - nw) / 2) as i64,
                    ((size - nh) / 2) as i64,
                );
                canvas
            }
        })
    }

    /// The mean as an RGB pixel: letterbox padding normalises to zero.
    fn mean_colour(&self) -> image::Rgb<u8> {
        let rgb = match self.colour_order {
            ColourOrder::Rgb => self.mean,
            ColourOrder::Bgr => [self.mean[2], self.mean[1], self.mean[0]],
        };
        image::Rgb(rgb.map(|m| (m.clamp(0.0, 1.0) * 255.0).round() as u8))
    }
}

/// Scales (w, h) by `scale`, keeping the side the policy fixed at exactly `size` and the
/// other side at least 1 (or at least `size` when it must be cropped later).
fn scaled(w: u32, h: u32, scale: f32, size: u32) -> (u32, u32) {
    let sw = ((w as f32 * scale).round() as u32).max(1);
    let sh = ((h as f32 * scale).round() as u32).max(1);
    if scale * w.min(h) as f32 >= size as f32 - 0.5 {
        // Shorter side fixed: both sides at least `size`.
        (sw.max(size), sh.max(size))
    } else {
        // Longer side fixed: both sides at most `size`.
        (sw.min(size), sh.min(size))
    }
}

/// Writes the normalised NCHW tensor of a whole picture of one garment into `out`: its
/// garment view, then [`PreprocessSpec::tensor_into`].
pub fn preprocess_into(
    image: &RgbImage,
    spec: &PreprocessSpec,
    out: &mut [f32],
) -> Result<(), PreprocessError> {
    spec.tensor_into(&spec.garment_view(image, WHOLE_PICTURE), out)
}

/// One picture as a `1 × 3 × size × size` tensor.
pub fn preprocess(image: &RgbImage, spec: &PreprocessSpec) -> Result<Array4<f32>, PreprocessError> {
    let mut tensor = Array4::<f32>::zeros(spec.input_shape(1));
    let buffer = tensor.as_slice_mut().ok_or(PreprocessError::BufferSize {
        got: 0,
        need: spec.input_len(),
    })?;
    preprocess_into(image, spec, buffer)?;
    Ok(tensor)
}

/// Grey pictures (Fashion-MNIST) enter the RGB contract by replicating the channel.
pub fn gray_to_rgb(image: &GrayImage) -> RgbImage {
    RgbImage::from_fn(image.width(), image.height(), |x, y| {
        let v = image.get_pixel(x, y).0[0];
        image::Rgb([v, v, v])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(resize: ResizePolicy) -> PreprocessSpec {
        PreprocessSpec {
            size: 16,
            resize,
            ..PreprocessSpec::default()
        }
    }

    #[test]
    fn every_policy_gives_the_square_size_for_odd_shapes() {
        for policy in [
            ResizePolicy::Stretch,
            ResizePolicy::Letterbox,
            ResizePolicy::ShorterSideCenterCrop,
        ] {
            for (w, h) in [(1, 1), (1, 300), (300, 1), (17, 16), (640, 480), (16, 16)] {
                let image = RgbImage::from_pixel(w, h, image::Rgb([10, 20, 30]));
                let fitted = spec(policy).fit(&GarmentView(image)).unwrap();
                assert_eq!(fitted.dimensions(), (16, 16), "{policy:?} {w}x{h}");
            }
        }
    }

    #[test]
    fn normalises_per_channel_in_nchw_order() {
        let s = PreprocessSpec {
            mean: [0.0; 3],
            std: [1.0, 0.5, 0.25],
            ..spec(ResizePolicy::Stretch)
        };
        let image = RgbImage::from_pixel(16, 16, image::Rgb([255, 51, 0]));
        let t = preprocess(&image, &s).unwrap();
        assert_eq!(t.shape(), &[1, 3, 16, 16]);
        assert!((t[[0, 0, 5, 5]] - 1.0).abs() < 1e-6);
        assert!((t[[0, 1, 5, 5]] - 0.4).abs() < 1e-6);
        assert_eq!(t[[0, 2, 5, 5]], 0.0);
    }

    #[test]
    fn bgr_swaps_channels() {
        let s = PreprocessSpec {
            mean: [0.0; 3],
            std: [1.0; 3],
            colour_order: ColourOrder::Bgr,
            ..spec(ResizePolicy::Stretch)
        };
        let image = RgbImage::from_pixel(4, 4, image::Rgb([255, 0, 0]));
        let t = preprocess(&image, &s).unwrap();
        assert_eq!(t[[0, 0, 0, 0]], 0.0);
        assert_eq!(t[[0, 2, 0, 0]], 1.0);
    }

    #[test]
    fn letterbox_padding_is_zero_after_normalisation() {
        let s = PreprocessSpec {
            mean: [0.5; 3],
            std: [0.5; 3],
            ..spec(ResizePolicy::Letterbox)
        };
        let image = RgbImage::from_pixel(32, 8, image::Rgb([255, 255, 255]));
        let t = preprocess(&image, &s).unwrap();
        assert!(t[[0, 0, 0, 8]].abs() < 0.01, "top padding");
        assert!((t[[0, 0, 8, 8]] - 1.0).abs() < 1e-6, "picture");
    }

    #[test]
    fn rejects_empty_pictures_and_bad_specs_without_panicking() {
        let empty = RgbImage::new(0, 5);
        assert!(matches!(
            preprocess(&empty, &PreprocessSpec::default()),
            Err(PreprocessError::EmptyImage { .. })
        ));
        let bad = PreprocessSpec {
            std: [1.0, 0.0, 1.0],
            ..PreprocessSpec::default()
        };
        let err = preprocess(&RgbImage::new(4, 4), &bad).unwrap_err();
        assert!(err.to_string().contains("std"));
        let mut short = vec![0.0; 3];
        assert!(matches!(
            preprocess_into(&RgbImage::new(4, 4), &PreprocessSpec::default(), &mut short),
            Err(PreprocessError::BufferSize { .. })
        ));
    }

    #[test]
    fn gray_replicates_into_three_equal_channels() {
        let g = GrayImage::from_pixel(3, 2, image::Luma([77]));
        let rgb = gray_to_rgb(&g);
        assert_eq!(rgb.get_pixel(2, 1).0, [77, 77, 77]);
    }
}
