//! The mirror's live view: the frame loop puts its latest frame, scaled down, with the
//! region of interest drawn and JPEG-encoded, into one slot (a `watch` channel: one frame,
//! replaced, never queued); each MJPEG stream reads that slot. Frames are encoded only
//! while someone watches, and at most [`EVERY`], so the camera pays nothing otherwise.

use image::{Rgb, RgbImage};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Widest live frame sent, in pixels.
pub const WIDTH: u32 = 480;
/// Shortest time between two live frames.
pub const EVERY: Duration = Duration::from_millis(150);
/// JPEG quality of live frames.
const QUALITY: u8 = 70;

/// One encoded live frame.
pub type Jpeg = Arc<Vec<u8>>;

/// The frame loop's side of the live view.
pub struct LiveView {
    slot: watch::Sender<Option<Jpeg>>,
    /// Kept so the slot stays open while nobody watches; handed out (cloned) to streams.
    template: watch::Receiver<Option<Jpeg>>,
    last: Option<Instant>,
}

impl Default for LiveView {
    fn default() -> Self {
        let (slot, template) = watch::channel(None);
        Self {
            slot,
            template,
            last: None,
        }
    }
}

impl LiveView {
    /// Where streams subscribe.
    pub fn subscriber(&self) -> watch::Receiver<Option<Jpeg>> {
        self.template.clone()
    }

    /// Publishes `frame` (with `roi` drawn) when someone watches and the last one is old
    /// enough. Encoding problems leave the previous frame up.
    pub fn publish(&mut self, frame: Option<&RgbImage>, roi: [f32; 4]) {
        self.publish_at(frame, roi, Instant::now());
    }

    /// [`Self::publish`] at time `now` (tests give the clock, so slow machines and qemu
    /// cannot make "too soon" late).
    fn publish_at(&mut self, frame: Option<&RgbImage>, roi: [f32; 4], now: Instant) {
        // The template is one receiver; more means a stream is open.
        let watching = self.slot.receiver_count() > 1;
        let due = self
            .last
            .is_none_or(|t| now.saturating_duration_since(t) >= EVERY);
        let (Some(frame), true, true) = (frame, watching, due) else {
            return;
        };
        self.last = Some(now);
        if let Ok(jpeg) = encode(frame, roi) {
            self.slot.send_replace(Some(Arc::new(jpeg)));
        }
    }
}

/// `frame` scaled to at most [`WIDTH`] wide, the region of interest outlined, as a JPEG.
pub fn encode(frame: &RgbImage, roi: [f32; 4]) -> Result<Vec<u8>, image::ImageError> {
    let mut small = if frame.width() > WIDTH {
        let height = (frame.height() as u64 * WIDTH as u64 / frame.width() as u64).max(1);
        image::imageops::resize(
            frame,
            WIDTH,
            height as u32,
            image::imageops::FilterType::Triangle,
        )
    } else {
        frame.clone()
    };
    outline(&mut small, roi);
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, QUALITY).encode_image(&small)?;
    Ok(bytes)
}

/// Draws the region of interest (fractions of the picture) as a 2-pixel green frame.
fn outline(picture: &mut RgbImage, [x, y, w, h]: [f32; 4]) {
    let (width, height) = (picture.width(), picture.height());
    if width < 4 || height < 4 {
        return;
    }
    let px = |f: f32, size: u32| ((f.clamp(0.0, 1.0) * size as f32) as u32).min(size - 2);
    let (x0, y0) = (px(x, width), px(y, height));
    let (x1, y1) = (px(x + w, width), px(y + h, height));
    let green = Rgb([40, 220, 90]);
    for xx in x0..=x1 {
        for t in 0..2 {
            picture.put_pixel(xx, y0 + t, green);
            picture.put_pixel(xx, y1 + t, green);
        }
    }
    for yy in y0..=y1 {
        for t in 0..2 {
            picture.put_pixel(x0 + t, yy, green);
            picture.put_pixel(x1 + t, yy, green);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_encoded_only_for_a_watcher_small_and_outlined() {
        let frame = RgbImage::from_pixel(1280, 720, Rgb([10, 10, 10]));
        let mut live = LiveView::default();
        let start = Instant::now();
        live.publish_at(Some(&frame), [0.25, 0.25, 0.5, 0.5], start);
        assert!(live.subscriber().borrow().is_none(), "nobody watched");
        let stream = live.subscriber();
        live.publish_at(Some(&frame), [0.25, 0.25, 0.5, 0.5], start);
        let jpeg = stream.borrow().clone().unwrap();
        let shown = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        assert_eq!((shown.width(), shown.height()), (WIDTH, 270));
        let edge = shown.get_pixel(WIDTH / 2, 270 / 4);
        assert!(
            edge[1] > 150 && edge[0] < 120,
            "the region's top edge: {edge:?}"
        );
        assert!(
            shown.get_pixel(WIDTH / 2, 270 / 2)[1] < 60,
            "inside is the frame"
        );
        // Too soon for another frame: the slot keeps the one it has; later, it is replaced.
        let small = RgbImage::new(64, 64);
        live.publish_at(Some(&small), [0.0, 0.0, 1.0, 1.0], start + EVERY / 2);
        assert!(Arc::ptr_eq(&jpeg, stream.borrow().as_ref().unwrap()));
        live.publish_at(Some(&small), [0.0, 0.0, 1.0, 1.0], start + EVERY);
        assert!(!Arc::ptr_eq(&jpeg, stream.borrow().as_ref().unwrap()));
    }
}
