//! Why an outfit goes together, in words the display can show: the colour scheme of its
//! garments, read from their thumbnails.

use crate::garment::style::hsv;
use image::RgbImage;

/// The main colour of a garment picture: `None` for a neutral (black, white, grey, beige —
/// little saturation), else its hue in degrees. Near-white background pixels are ignored.
pub fn dominant_hue(picture: &RgbImage) -> Option<f32> {
    let mut histogram = [0u32; 36];
    let mut coloured = 0u32;
    let mut counted = 0u32;
    for p in picture.pixels() {
        if p.0.iter().all(|&c| c as f32 / 255.0 > 0.92) {
            continue; // background of a product shot
        }
        counted += 1;
        let (hue, saturation, value) = hsv(p.0);
        if saturation < 0.35 || value < 0.2 {
            continue;
        }
        coloured += 1;
        histogram[((hue / 10.0) as usize).min(35)] += 1;
    }
    if counted == 0 || coloured * 3 < counted {
        return None;
    }
    let (bin, _) = histogram.iter().enumerate().max_by_key(|&(_, n)| *n)?;
    Some(bin as f32 * 10.0 + 5.0)
}

fn hue_distance(a: f32, b: f32) -> f32 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

/// Names the colour scheme of an outfit from its garments' dominant hues.
pub fn colour_scheme(hues: &[Option<f32>]) -> &'static str {
    let chromatic: Vec<f32> = hues.iter().flatten().copied().collect();
    match chromatic.len() {
        0 => "colours: neutrals",
        1 => "colours: one accent on neutrals",
        _ if chromatic
            .iter()
            .any(|&c| chromatic.iter().all(|&x| hue_distance(x, c) <= 45.0)) =>
        {
            "colours: analogous"
        }
        _ if chromatic.iter().any(|&c| {
            chromatic
                .iter()
                .all(|&x| hue_distance(x, c) <= 35.0 || hue_distance(x, c + 180.0) <= 35.0)
        }) =>
        {
            "colours: complementary"
        }
        _ => "colours: contrasting",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn garment(colour: [u8; 3]) -> RgbImage {
        RgbImage::from_fn(20, 20, |x, _| {
            if x < 10 {
                Rgb(colour)
            } else {
                Rgb([250, 250, 250])
            }
        })
    }

    #[test]
    fn reads_hues_and_names_schemes() {
        let red = dominant_hue(&garment([200, 30, 30])).unwrap();
        let teal = dominant_hue(&garment([20, 150, 150])).unwrap();
        assert!(
            hue_distance(red, 0.0) <= 10.0 && hue_distance(teal, 180.0) <= 10.0,
            "{red} {teal}"
        );
        assert_eq!(dominant_hue(&garment([128, 128, 130])), None);
        assert_eq!(
            dominant_hue(&RgbImage::from_pixel(4, 4, Rgb([255, 255, 255]))),
            None
        );
        assert_eq!(
            colour_scheme(&[Some(red), Some(teal), None]),
            "colours: complementary"
        );
        assert_eq!(
            colour_scheme(&[Some(0.0), Some(30.0)]),
            "colours: analogous"
        );
        assert_eq!(colour_scheme(&[None, None]), "colours: neutrals");
        assert_eq!(
            colour_scheme(&[Some(55.0), Some(275.0)]),
            "colours: contrasting"
        );
    }
}
