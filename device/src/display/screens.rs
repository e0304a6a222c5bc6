//! The screens capsule shows, drawn on any embedded-graphics `DrawTarget`: the same code
//! fills a PNG in tests, the framebuffer of a mirror and a 240×240 SPI panel. Sizes and
//! fonts follow the target's dimensions.

use embedded_graphics::mono_font::{MonoFont, MonoTextStyle, ascii};
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
use embedded_graphics::text::Text;
use image::RgbImage;

use super::ShownOutfit;

const BACKGROUND: Rgb888 = Rgb888::new(18, 18, 24);
const HEADER: Rgb888 = Rgb888::new(40, 44, 60);
const TEXT: Rgb888 = Rgb888::new(235, 235, 240);
const MUTED: Rgb888 = Rgb888::new(150, 150, 165);
const ACCENT: Rgb888 = Rgb888::new(120, 200, 150);
const WARNING: Rgb888 = Rgb888::new(240, 170, 80);

/// What to show.
pub enum Screen<'a> {
    /// Waiting for a garment: the live view and a status line.
    Scanning {
        frame: &'a RgbImage,
        status: &'a str,
    },
    /// The garment in view, matched against the wardrobe (or new).
    Recognised {
        picture: &'a RgbImage,
        name: &'a str,
        kind: &'a str,
        similarity: f32,
        new: bool,
    },
    /// Outfits around the garment in view.
    Outfits {
        picture: &'a RgbImage,
        name: &'a str,
        outfits: &'a [ShownOutfit],
    },
    /// Something needs the owner's attention (no camera, no models).
    Message { title: &'a str, detail: &'a str },
}

/// Font and spacing for one display size.
struct Layout {
    font: &'static MonoFont<'static>,
    header: u32,
    pad: u32,
}

impl Layout {
    fn for_size(size: Size) -> Self {
        match size.width.min(size.height) {
            0..=279 => Self {
                font: &ascii::FONT_6X10,
                header: 18,
                pad: 4,
            },
            280..=439 => Self {
                font: &ascii::FONT_7X13,
                header: 24,
                pad: 6,
            },
            _ => Self {
                font: &ascii::FONT_10X20,
                header: 32,
                pad: 10,
            },
        }
    }

    fn line(&self) -> u32 {
        self.font.character_size.height + 2
    }

    /// Characters that fit in `width` pixels.
    fn chars(&self, width: u32) -> usize {
        (width / self.font.character_size.width.max(1)) as usize
    }
}

/// Draws `screen` over the whole target.
pub fn draw<D: DrawTarget<Color = Rgb888>>(
    screen: &Screen<'_>,
    target: &mut D,
) -> Result<(), D::Error> {
    let size = target.bounding_box().size;
    let layout = Layout::for_size(size);
    target.clear(BACKGROUND)?;
    let title = match screen {
        Screen::Scanning { .. } => "capsule - hold a garment up",
        Screen::Recognised { .. } => "capsule - garment",
        Screen::Outfits { .. } => "capsule - outfits",
        Screen::Message { title, .. } => title,
    };
    Rectangle::new(Point::zero(), Size::new(size.width, layout.header))
        .into_styled(PrimitiveStyle::with_fill(HEADER))
        .draw(target)?;
    text(
        target,
        &layout,
        title,
        layout.pad,
        (layout.header + layout.font.character_size.height) / 2 - 2,
        TEXT,
        size.width,
    )?;
    let body = Rectangle::new(
        Point::new(layout.pad as i32, (layout.header + layout.pad) as i32),
        Size::new(
            size.width.saturating_sub(2 * layout.pad),
            size.height.saturating_sub(layout.header + 2 * layout.pad),
        ),
    );
    match screen {
        Screen::Scanning { frame, status } => {
            let room = body.size.height.saturating_sub(layout.line() + layout.pad);
            let side = room.min(body.size.width);
            let x = body.top_left.x as u32 + (body.size.width - side) / 2;
            picture(target, frame, x, body.top_left.y as u32, side)?;
            text(
                target,
                &layout,
                status,
                body.top_left.x as u32,
                body.top_left.y as u32 + side + layout.line(),
                MUTED,
                size.width,
            )?;
        }
        Screen::Recognised {
            picture: p,
            name,
            kind,
            similarity,
            new,
        } => {
            let side = (body.size.height).min(body.size.width / 2);
            picture(
                target,
                p,
                body.top_left.x as u32,
                body.top_left.y as u32,
                side,
            )?;
            let x = body.top_left.x as u32 + side + layout.pad;
            let mut y = body.top_left.y as u32 + layout.line();
            let width = size.width.saturating_sub(x);
            if *new {
                text(target, &layout, "New garment", x, y, WARNING, size.width)?;
                y += layout.line();
                text(
                    target,
                    &layout,
                    &format!("closest: {name} {:.0}%", similarity * 100.0),
                    x,
                    y,
                    MUTED,
                    size.width,
                )?;
            } else {
                for line in wrap(name, layout.chars(width)) {
                    text(target, &layout, &line, x, y, TEXT, size.width)?;
                    y += layout.line();
                }
                text(
                    target,
                    &layout,
                    &format!("{kind}, match {:.0}%", similarity * 100.0),
                    x,
                    y,
                    ACCENT,
                    size.width,
                )?;
            }
        }
        Screen::Outfits {
            picture: p,
            name,
            outfits,
        } => outfits_screen(target, &layout, body, p, name, outfits)?,
        Screen::Message { detail, .. } => {
            let mut y = body.top_left.y as u32 + layout.line();
            for line in wrap(detail, layout.chars(body.size.width)) {
                text(
                    target,
                    &layout,
                    &line,
                    body.top_left.x as u32,
                    y,
                    TEXT,
                    size.width,
                )?;
                y += layout.line();
            }
        }
    }
    Ok(())
}

/// The garment in view and the outfits around it. Landscape screens (a mirror's 800×480,
/// 480×320) put the garment in a left column and the outfit cards beside it, so the cards'
/// pictures grow with the screen; square and portrait ones stack them under the garment.
fn outfits_screen<D: DrawTarget<Color = Rgb888>>(
    target: &mut D,
    layout: &Layout,
    body: Rectangle,
    garment: &RgbImage,
    name: &str,
    outfits: &[ShownOutfit],
) -> Result<(), D::Error> {
    let line = layout.line();
    let (x0, y0) = (body.top_left.x as u32, body.top_left.y as u32);
    let (width, height) = (body.size.width, body.size.height);
    let screen_right = x0 + width + layout.pad;
    let landscape = width * 10 >= height * 13;
    // Where the cards go, once the garment in view has its place.
    let (cards_x, cards_y, cards_w) = if landscape {
        let column = (width * 3 / 10).min(height.saturating_sub(3 * line));
        picture(target, garment, x0, y0, column)?;
        let mut y = y0 + column + line;
        for text_line in wrap(name, layout.chars(column)).into_iter().take(2) {
            text(target, layout, &text_line, x0, y, TEXT, x0 + column)?;
            y += line;
        }
        let x = x0 + column + 2 * layout.pad;
        (x, y0, (x0 + width).saturating_sub(x))
    } else {
        let head = (line * 2).max(height / 6);
        picture(target, garment, x0, y0, head)?;
        text(
            target,
            layout,
            name,
            x0 + head + layout.pad,
            y0 + line,
            TEXT,
            screen_right,
        )?;
        (x0, y0 + head + layout.pad, width)
    };
    if outfits.is_empty() {
        return text(
            target,
            layout,
            "no outfit found yet",
            cards_x,
            cards_y + line,
            MUTED,
            screen_right,
        );
    }
    // Each card: a row of pictures, then score and reason under it.
    let room = (y0 + height).saturating_sub(cards_y);
    let min_card = line * 3;
    let cards = (room / min_card.max(1))
        .clamp(1, 3)
        .min(outfits.len() as u32);
    let card_h = room / cards;
    for (i, card) in outfits.iter().take(cards as usize).enumerate() {
        let y = cards_y + i as u32 * card_h;
        let thumb = card_h
            .saturating_sub(line + layout.pad)
            .min(cards_w / card.pictures.len().max(1) as u32);
        for (k, pic) in card.pictures.iter().enumerate() {
            picture(
                target,
                pic,
                cards_x + k as u32 * (thumb + 2),
                y,
                thumb.saturating_sub(2),
            )?;
        }
        let caption = format!("{:.0}%  {}", card.score * 100.0, card.why);
        text(
            target,
            layout,
            &caption,
            cards_x,
            y + thumb + line - 2,
            ACCENT,
            screen_right,
        )?;
    }
    Ok(())
}

fn text<D: DrawTarget<Color = Rgb888>>(
    target: &mut D,
    layout: &Layout,
    s: &str,
    x: u32,
    baseline: u32,
    colour: Rgb888,
    max_x: u32,
) -> Result<(), D::Error> {
    let fit: String = s
        .chars()
        .take(layout.chars(max_x.saturating_sub(x)))
        .collect();
    Text::new(
        &fit,
        Point::new(x as i32, baseline as i32),
        MonoTextStyle::new(layout.font, colour),
    )
    .draw(target)?;
    Ok(())
}

/// Draws `picture` scaled (nearest neighbour, aspect kept) into the square at (x, y).
fn picture<D: DrawTarget<Color = Rgb888>>(
    target: &mut D,
    picture: &RgbImage,
    x: u32,
    y: u32,
    side: u32,
) -> Result<(), D::Error> {
    let (w, h) = picture.dimensions();
    if w == 0 || h == 0 || side == 0 {
        return Ok(());
    }
    let scale = side as f32 / w.max(h) as f32;
    let (dw, dh) = (
        ((w as f32 * scale) as u32).max(1),
        ((h as f32 * scale) as u32).max(1),
    );
    let (ox, oy) = (x + (side - dw.min(side)) / 2, y + (side - dh.min(side)) / 2);
    let pixels = (0..dh).flat_map(|py| {
        (0..dw).map(move |px| {
            let sx = ((px as f32 + 0.5) / scale) as u32;
            let sy = ((py as f32 + 0.5) / scale) as u32;
            let p = picture.get_pixel(sx.min(w - 1), sy.min(h - 1)).0;
            Rgb888::new(p[0], p[1], p[2])
        })
    });
    target.fill_contiguous(
        &Rectangle::new(Point::new(ox as i32, oy as i32), Size::new(dw, dh)),
        pixels,
    )
}

/// Greedy word wrap to `width` characters.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = vec![String::new()];
    for word in s.split_whitespace() {
        let current = lines.last_mut().map(|l| l.len()).unwrap_or(0);
        if current > 0 && current + 1 + word.len() > width {
            lines.push(String::new());
        }
        if let Some(last) = lines.last_mut() {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::display::RgbCanvas;
    use image::Rgb;

    fn garment(colour: [u8; 3]) -> RgbImage {
        RgbImage::from_fn(64, 80, |x, y| {
            if (16..48).contains(&x) && (10..70).contains(&y) {
                Rgb(colour)
            } else {
                Rgb([250, 250, 250])
            }
        })
    }

    #[test]
    fn every_screen_draws_at_every_supported_size() {
        let (a, b, c) = (
            garment([200, 30, 30]),
            garment([30, 30, 200]),
            garment([20, 20, 20]),
        );
        let card = |pictures: Vec<RgbImage>, score, why: &str| ShownOutfit {
            key: String::new(),
            score,
            why: why.into(),
            garments: Vec::new(),
            pictures,
        };
        let cards = [
            card(vec![b.clone(), c.clone()], 0.93, "colours: complementary"),
            card(vec![c.clone(), b.clone(), a.clone()], 0.71, "neutrals"),
        ];
        let screens = [
            Screen::Scanning {
                frame: &a,
                status: "looking...",
            },
            Screen::Recognised {
                picture: &a,
                name: "red shirt with a very long name that must wrap",
                kind: "top",
                similarity: 0.93,
                new: false,
            },
            Screen::Recognised {
                picture: &a,
                name: "red shirt",
                kind: "top",
                similarity: 0.4,
                new: true,
            },
            Screen::Outfits {
                picture: &a,
                name: "red shirt",
                outfits: &cards,
            },
            Screen::Outfits {
                picture: &a,
                name: "red shirt",
                outfits: &[],
            },
            Screen::Message {
                title: "no camera",
                detail: "camera /dev/video0 is not connected; retrying",
            },
        ];
        for (w, h) in [(240, 240), (480, 320), (800, 480)] {
            for screen in &screens {
                let mut canvas = RgbCanvas::new(w, h, Rgb888::BLACK);
                draw(screen, &mut canvas).unwrap();
                let img = canvas.into_image();
                assert!(
                    img.pixels().any(|p| p.0 == [235, 235, 240]),
                    "text drawn at {w}x{h}"
                );
            }
        }
        let mut canvas = RgbCanvas::new(480, 320, Rgb888::BLACK);
        draw(&screens[3], &mut canvas).unwrap();
        let img = canvas.into_image();
        assert!(
            img.pixels().any(|p| p.0 == [30, 30, 200]),
            "outfit thumbnails drawn"
        );
        // On a mirror's 800×480 the cards fill the right of the screen, with pictures
        // large enough to see from a metre or two.
        let mut canvas = RgbCanvas::new(800, 480, Rgb888::BLACK);
        draw(&screens[3], &mut canvas).unwrap();
        let img = canvas.into_image();
        let blue: Vec<(u32, u32)> = img
            .enumerate_pixels()
            .filter(|(_, _, p)| p.0 == [30, 30, 200])
            .map(|(x, y, _)| (x, y))
            .collect();
        assert!(
            blue.iter().any(|&(x, _)| x > 560),
            "cards reach the right side"
        );
        let rows: std::collections::BTreeSet<u32> = blue.iter().map(|&(_, y)| y).collect();
        assert!(
            rows.len() > 80,
            "an outfit picture is {} px tall",
            rows.len()
        );
    }

    #[test]
    fn wraps_words() {
        assert_eq!(wrap("a bb ccc dddd", 6), vec!["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("", 5), vec![""]);
        assert_eq!(wrap("toolongword", 3), vec!["toolongword"]);
    }
}
