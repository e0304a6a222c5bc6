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
use crate::input::Action;

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
        /// The mirror takes touches or buttons: draw its controls.
        controls: bool,
    },
    /// Outfits around the garment in view.
    Outfits {
        picture: &'a RgbImage,
        name: &'a str,
        outfits: &'a [ShownOutfit],
        /// The outfit the owner's yes/no/wore applies to (highlighted with controls).
        selected: usize,
        /// What the owner's last action did ("saved: you liked it"), shown in the header.
        status: &'a str,
        controls: bool,
    },
    /// "What is it?": the owner picks how the garment in view joins the wardrobe.
    Choose {
        picture: &'a RgbImage,
        question: &'a str,
        choices: &'a [String],
        selected: usize,
    },
    /// Something needs the owner's attention (no camera, no models).
    Message { title: &'a str, detail: &'a str },
}

/// What touching a place on the screen does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Press {
    /// The same as the button with this action.
    Action(Action),
    /// Picks the outfit card or choice with this index.
    Pick(usize),
}

/// A place on the screen the owner can touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub area: Rectangle,
    pub press: Press,
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
                font: &ascii::FONT_7X13_BOLD,
                header: 20,
                pad: 4,
            },
            280..=439 => Self {
                font: &ascii::FONT_9X15_BOLD,
                header: 26,
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

    /// Height of the bar of buttons: a fingertip on a 7" display, two lines on a panel.
    fn bar(&self, size: Size) -> u32 {
        (2 * self.line() + 4).max(size.width.min(size.height) / 7)
    }
}

/// Where a screen's parts go on a display of `size`.
struct Areas {
    layout: Layout,
    body: Rectangle,
    /// The bar of buttons at the bottom, when the screen has controls.
    bar: Option<Rectangle>,
}

impl Areas {
    fn of(screen: &Screen<'_>, size: Size) -> Self {
        let layout = Layout::for_size(size);
        let bar_h = if bar_buttons(screen).is_empty() {
            0
        } else {
            layout.bar(size)
        };
        let body = Rectangle::new(
            Point::new(layout.pad as i32, (layout.header + layout.pad) as i32),
            Size::new(
                size.width.saturating_sub(2 * layout.pad),
                size.height
                    .saturating_sub(layout.header + 2 * layout.pad + bar_h),
            ),
        );
        let bar = (bar_h > 0).then(|| {
            Rectangle::new(
                Point::new(0, size.height.saturating_sub(bar_h) as i32),
                Size::new(size.width, bar_h),
            )
        });
        Self { layout, body, bar }
    }

    /// The bar's buttons, side by side.
    fn buttons(&self, screen: &Screen<'_>) -> Vec<(Rectangle, Action, &'static str)> {
        let (Some(bar), buttons) = (self.bar, bar_buttons(screen)) else {
            return Vec::new();
        };
        let n = buttons.len().max(1) as u32;
        let width = bar.size.width / n;
        buttons
            .iter()
            .enumerate()
            .map(|(i, &(action, label))| {
                let area = Rectangle::new(
                    bar.top_left + Point::new((i as u32 * width) as i32, 0),
                    Size::new(width, bar.size.height),
                );
                (area, action, label)
            })
            .collect()
    }
}

/// The buttons a screen offers (none without controls).
fn bar_buttons(screen: &Screen<'_>) -> &'static [(Action, &'static str)] {
    match screen {
        Screen::Outfits { controls: true, .. } => &[
            (Action::Previous, "<"),
            (Action::Next, ">"),
            (Action::Accept, "yes"),
            (Action::Reject, "no"),
            (Action::Wore, "wore"),
            (Action::Add, "add"),
        ],
        Screen::Recognised { controls: true, .. } => {
            &[(Action::Add, "add"), (Action::Back, "back")]
        }
        Screen::Choose { .. } => &[
            (Action::Previous, "<"),
            (Action::Next, ">"),
            (Action::Accept, "ok"),
            (Action::Back, "cancel"),
        ],
        _ => &[],
    }
}

/// The places on `screen`, drawn at `size`, that do something when touched: the bar's
/// buttons, the outfit cards and the choices. Drawing uses the same geometry, so a touch
/// lands on what the owner sees there.
pub fn hits(screen: &Screen<'_>, size: Size) -> Vec<Hit> {
    let areas = Areas::of(screen, size);
    let mut hits: Vec<Hit> = areas
        .buttons(screen)
        .into_iter()
        .map(|(area, action, _)| Hit {
            area,
            press: Press::Action(action),
        })
        .collect();
    let (picks, first) = match screen {
        Screen::Outfits {
            outfits,
            selected,
            controls: true,
            ..
        } => {
            let cards = outfits_layout(&areas.layout, areas.body, outfits.len()).cards;
            let first = window_start(*selected, outfits.len(), cards.len());
            (cards, first)
        }
        Screen::Choose { choices, .. } => (
            choose_layout(&areas.layout, areas.body, choices.len()).choices,
            0,
        ),
        _ => (Vec::new(), 0),
    };
    hits.extend(picks.into_iter().enumerate().map(|(i, area)| Hit {
        area,
        press: Press::Pick(first + i),
    }));
    hits
}

/// What a touch at (x, y) does on `screen` drawn at `size`.
pub fn press_at(screen: &Screen<'_>, size: Size, x: u32, y: u32) -> Option<Press> {
    let point = Point::new(x as i32, y as i32);
    hits(screen, size)
        .into_iter()
        .find(|h| h.area.contains(point))
        .map(|h| h.press)
}

/// Draws `screen` over the whole target.
pub fn draw<D: DrawTarget<Color = Rgb888>>(
    screen: &Screen<'_>,
    target: &mut D,
) -> Result<(), D::Error> {
    let size = target.bounding_box().size;
    let areas = Areas::of(screen, size);
    let layout = &areas.layout;
    let body = areas.body;
    target.clear(BACKGROUND)?;
    let (title, title_colour) = match screen {
        Screen::Scanning { .. } => ("capsule - hold a garment up", TEXT),
        Screen::Recognised { .. } => ("capsule - garment", TEXT),
        Screen::Outfits { status, .. } if !status.is_empty() => (*status, ACCENT),
        Screen::Outfits { .. } => ("capsule - outfits", TEXT),
        Screen::Choose { question, .. } => (*question, TEXT),
        Screen::Message { title, .. } => (*title, TEXT),
    };
    Rectangle::new(Point::zero(), Size::new(size.width, layout.header))
        .into_styled(PrimitiveStyle::with_fill(HEADER))
        .draw(target)?;
    text(
        target,
        layout,
        title,
        layout.pad,
        (layout.header + layout.font.character_size.height) / 2 - 2,
        title_colour,
        size.width,
    )?;
    match screen {
        Screen::Scanning { frame, status } => {
            let room = body.size.height.saturating_sub(layout.line() + layout.pad);
            let side = room.min(body.size.width);
            let x = body.top_left.x as u32 + (body.size.width - side) / 2;
            picture(target, frame, x, body.top_left.y as u32, side)?;
            text(
                target,
                layout,
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
            ..
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
                text(target, layout, "New garment", x, y, WARNING, size.width)?;
                y += layout.line();
                for line in wrap(
                    &format!("closest: {name} {:.0}%", similarity * 100.0),
                    layout.chars(width),
                ) {
                    text(target, layout, &line, x, y, MUTED, size.width)?;
                    y += layout.line();
                }
            } else {
                for line in wrap(name, layout.chars(width)) {
                    text(target, layout, &line, x, y, TEXT, size.width)?;
                    y += layout.line();
                }
                text(
                    target,
                    layout,
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
            selected,
            controls,
            ..
        } => outfits_screen(
            target,
            layout,
            body,
            p,
            name,
            outfits,
            controls.then_some(*selected),
        )?,
        Screen::Choose {
            picture: p,
            choices,
            selected,
            ..
        } => choose_screen(target, layout, body, p, choices, *selected)?,
        Screen::Message { detail, .. } => {
            let mut y = body.top_left.y as u32 + layout.line();
            for line in wrap(detail, layout.chars(body.size.width)) {
                text(
                    target,
                    layout,
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
    for (area, _, label) in areas.buttons(screen) {
        button(target, layout, area, label, false)?;
    }
    Ok(())
}

/// A button: a framed area with its label centred.
fn button<D: DrawTarget<Color = Rgb888>>(
    target: &mut D,
    layout: &Layout,
    area: Rectangle,
    label: &str,
    selected: bool,
) -> Result<(), D::Error> {
    let inset = Rectangle::new(
        area.top_left + Point::new(2, 2),
        area.size.saturating_sub(Size::new(4, 4)),
    );
    let (fill, colour) = if selected {
        (ACCENT, BACKGROUND)
    } else {
        (HEADER, TEXT)
    };
    inset
        .into_styled(PrimitiveStyle::with_fill(fill))
        .draw(target)?;
    let fit = layout.chars(inset.size.width.saturating_sub(4));
    let char_h = layout.font.character_size.height;
    // A long label ("view of grey shirt") takes two lines where the button is tall enough,
    // broken at the last space that fits; otherwise it is cut, visibly.
    let break_at = label
        .char_indices()
        .rev()
        .filter(|&(_, c)| c == ' ')
        .map(|(i, _)| i)
        .find(|&i| label[..i].chars().count() <= fit);
    let lines: Vec<String> = match break_at {
        Some(space) if label.chars().count() > fit && inset.size.height >= 2 * char_h + 4 => {
            vec![label[..space].to_string(), label[space + 1..].to_string()]
        }
        _ => vec![label.to_string()],
    };
    let right = inset.top_left.x as u32 + inset.size.width;
    let block = lines.len() as u32 * char_h;
    let top = inset.top_left.y as u32 + inset.size.height.saturating_sub(block) / 2;
    for (i, line) in lines.iter().enumerate() {
        let w = line.chars().count().min(fit) as u32 * layout.font.character_size.width;
        let x = inset.top_left.x as u32 + inset.size.width.saturating_sub(w) / 2;
        let baseline = (top + (i as u32 + 1) * char_h).saturating_sub(3);
        text(target, layout, line, x, baseline, colour, right)?;
    }
    Ok(())
}

/// Where the outfits screen puts the garment in view, its name and the outfit cards.
struct OutfitsLayout {
    /// The garment's picture: top-left corner and side.
    garment: (u32, u32, u32),
    /// Where its name goes: top-left corner, width, and how many lines.
    name: (u32, u32, u32, usize),
    cards: Vec<Rectangle>,
}

/// Landscape screens (a mirror's 800×480, 480×320, 320×240) put the garment in a left
/// column and the outfit cards beside it, so the cards' pictures grow with the screen;
/// square and portrait ones stack the cards under the garment.
fn outfits_layout(layout: &Layout, body: Rectangle, outfits: usize) -> OutfitsLayout {
    let line = layout.line();
    let (x0, y0) = (body.top_left.x as u32, body.top_left.y as u32);
    let (width, height) = (body.size.width, body.size.height);
    let landscape = width * 10 >= height * 13;
    let (garment, name, cards_x, cards_y, cards_w) = if landscape {
        let column = (width * 3 / 10).min(height.saturating_sub(2 * line));
        let x = x0 + column + 2 * layout.pad;
        (
            (x0, y0, column),
            (x0, y0 + column + line, column, 2),
            x,
            y0,
            (x0 + width).saturating_sub(x),
        )
    } else {
        let head = (line * 2).max(height / 5);
        (
            (x0, y0, head),
            (
                x0 + head + layout.pad,
                y0 + line,
                width.saturating_sub(head + layout.pad),
                2,
            ),
            x0,
            y0 + head + layout.pad,
            width,
        )
    };
    let room = (y0 + height).saturating_sub(cards_y);
    let min_card = line * 3;
    let count = (room / min_card.max(1)).clamp(1, 3).min(outfits as u32);
    let card_h = room / count.max(1);
    let cards = (0..count)
        .map(|i| {
            Rectangle::new(
                Point::new(cards_x as i32, (cards_y + i * card_h) as i32),
                Size::new(cards_w, card_h),
            )
        })
        .collect();
    OutfitsLayout {
        garment,
        name,
        cards,
    }
}

/// The garment in view and the outfits around it; with controls, the selected outfit is
/// framed (the one yes/no/wore applies to) and the cards scroll to keep it in view.
fn outfits_screen<D: DrawTarget<Color = Rgb888>>(
    target: &mut D,
    layout: &Layout,
    body: Rectangle,
    garment: &RgbImage,
    name: &str,
    outfits: &[ShownOutfit],
    selected: Option<usize>,
) -> Result<(), D::Error> {
    let line = layout.line();
    let screen_right = body.top_left.x as u32 + body.size.width + layout.pad;
    let places = outfits_layout(layout, body, outfits.len());
    let (gx, gy, side) = places.garment;
    picture(target, garment, gx, gy, side)?;
    let (nx, ny, nw, lines) = places.name;
    for (i, text_line) in wrap(name, layout.chars(nw))
        .into_iter()
        .take(lines)
        .enumerate()
    {
        text(
            target,
            layout,
            &text_line,
            nx,
            ny + i as u32 * line,
            TEXT,
            nx + nw,
        )?;
    }
    let Some(first_card) = places.cards.first() else {
        return text(
            target,
            layout,
            "no outfit found yet",
            nx,
            ny + lines as u32 * line,
            MUTED,
            screen_right,
        );
    };
    if outfits.is_empty() {
        return text(
            target,
            layout,
            "no outfit found yet",
            first_card.top_left.x as u32,
            first_card.top_left.y as u32 + line,
            MUTED,
            screen_right,
        );
    }
    // The cards shown: a window over the outfits that keeps the selected one in it.
    let first = selected.map_or(0, |s| window_start(s, outfits.len(), places.cards.len()));
    for (slot, card_area) in places.cards.iter().enumerate() {
        let index = first + slot;
        let Some(card) = outfits.get(index) else {
            break;
        };
        let (x, y) = (card_area.top_left.x as u32, card_area.top_left.y as u32);
        let cards_w = card_area.size.width;
        let inner = 3;
        if selected == Some(index) {
            card_area
                .into_styled(PrimitiveStyle::with_stroke(ACCENT, 2))
                .draw(target)?;
        }
        let thumb = card_area
            .size
            .height
            .saturating_sub(line + layout.pad + 2 * inner)
            .min(cards_w.saturating_sub(2 * inner) / card.pictures.len().max(1) as u32);
        for (k, pic) in card.pictures.iter().enumerate() {
            picture(
                target,
                pic,
                x + inner + k as u32 * (thumb + 2),
                y + inner,
                thumb.saturating_sub(2),
            )?;
        }
        let number = if selected.is_some() {
            format!("{}/{} ", index + 1, outfits.len())
        } else {
            String::new()
        };
        // Narrow cards drop the "colours:" label before the scheme itself is cut.
        let room = layout.chars(screen_right.saturating_sub(x + inner));
        let full = format!("{number}{:.0}%  {}", card.score * 100.0, card.why);
        let caption = if full.chars().count() <= room {
            full
        } else {
            let why = card.why.strip_prefix("colours: ").unwrap_or(&card.why);
            format!("{number}{:.0}% {why}", card.score * 100.0)
        };
        text(
            target,
            layout,
            &caption,
            x + inner,
            y + inner + thumb + line - 2,
            ACCENT,
            screen_right,
        )?;
    }
    Ok(())
}

/// The first of `total` outfits shown in `shown` card places, so the selected one is in
/// view.
fn window_start(selected: usize, total: usize, shown: usize) -> usize {
    selected
        .min(total.saturating_sub(1))
        .saturating_sub(shown.saturating_sub(1))
}

/// Where the choice screen puts the garment and its choices.
struct ChooseLayout {
    garment: (u32, u32, u32),
    choices: Vec<Rectangle>,
}

/// The garment on the left (landscape) or top, its choices in a grid of two columns.
fn choose_layout(layout: &Layout, body: Rectangle, choices: usize) -> ChooseLayout {
    let (x0, y0) = (body.top_left.x as u32, body.top_left.y as u32);
    let (width, height) = (body.size.width, body.size.height);
    let landscape = width * 10 >= height * 13;
    let (garment, gx, gy, gw, gh) = if landscape {
        let side = (width / 4).min(height);
        let x = x0 + side + layout.pad;
        (
            (x0, y0, side),
            x,
            y0,
            (x0 + width).saturating_sub(x),
            height,
        )
    } else {
        let side = (height / 5).max(layout.line() * 2);
        let y = y0 + side + layout.pad;
        (
            (x0, y0, side),
            x0,
            y,
            width,
            (y0 + height).saturating_sub(y),
        )
    };
    let rows = choices.div_ceil(2).max(1) as u32;
    let (cell_w, cell_h) = (gw / 2, gh / rows);
    let choices = (0..choices as u32)
        .map(|i| {
            Rectangle::new(
                Point::new(
                    (gx + (i % 2) * cell_w) as i32,
                    (gy + (i / 2) * cell_h) as i32,
                ),
                Size::new(cell_w, cell_h),
            )
        })
        .collect();
    ChooseLayout { garment, choices }
}

fn choose_screen<D: DrawTarget<Color = Rgb888>>(
    target: &mut D,
    layout: &Layout,
    body: Rectangle,
    garment: &RgbImage,
    choices: &[String],
    selected: usize,
) -> Result<(), D::Error> {
    let places = choose_layout(layout, body, choices.len());
    let (x, y, side) = places.garment;
    picture(target, garment, x, y, side)?;
    for (i, (area, label)) in places.choices.iter().zip(choices).enumerate() {
        button(target, layout, *area, label, i == selected)?;
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
    let room = layout.chars(max_x.saturating_sub(x));
    // A cut is shown as one: the last character that fits becomes a full stop.
    let fit: String = if s.chars().count() > room && room > 1 {
        s.chars()
            .take(room - 1)
            .chain(std::iter::once('.'))
            .collect()
    } else {
        s.chars().take(room).collect()
    };
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
        let choices: Vec<String> = ["another view of red shirt", "top", "bottom", "dress"]
            .map(String::from)
            .into();
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
                controls: false,
            },
            Screen::Recognised {
                picture: &a,
                name: "red shirt",
                kind: "top",
                similarity: 0.4,
                new: true,
                controls: true,
            },
            Screen::Outfits {
                picture: &a,
                name: "red shirt",
                outfits: &cards,
                selected: 0,
                status: "",
                controls: false,
            },
            Screen::Outfits {
                picture: &a,
                name: "red shirt",
                outfits: &[],
                selected: 0,
                status: "",
                controls: true,
            },
            Screen::Message {
                title: "no camera",
                detail: "camera /dev/video0 is not connected; retrying",
            },
            Screen::Outfits {
                picture: &a,
                name: "red shirt",
                outfits: &cards,
                selected: 1,
                status: "no: here are others",
                controls: true,
            },
            Screen::Choose {
                picture: &a,
                question: "add: what is it?",
                choices: &choices,
                selected: 1,
            },
        ];
        for (w, h) in [(240, 240), (320, 240), (480, 320), (800, 480)] {
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

    fn outfits_with_controls<'a>(picture: &'a RgbImage, cards: &'a [ShownOutfit]) -> Screen<'a> {
        Screen::Outfits {
            picture,
            name: "red shirt",
            outfits: cards,
            selected: 0,
            status: "",
            controls: true,
        }
    }

    #[test]
    fn touches_land_on_what_is_drawn_there() {
        let a = garment([200, 30, 30]);
        let card = ShownOutfit {
            key: String::new(),
            score: 0.9,
            why: "neutrals".into(),
            garments: Vec::new(),
            pictures: vec![a.clone()],
        };
        let cards = [card.clone(), card.clone(), card];
        for (w, h) in [(240, 240), (320, 240), (480, 320), (800, 480)] {
            let size = Size::new(w, h);
            let screen = outfits_with_controls(&a, &cards);
            let hits = hits(&screen, size);
            let actions: Vec<Press> = hits.iter().map(|h| h.press).collect();
            for action in [
                Action::Previous,
                Action::Next,
                Action::Accept,
                Action::Reject,
                Action::Wore,
                Action::Add,
            ] {
                assert!(
                    actions.contains(&Press::Action(action)),
                    "{action} at {w}x{h}"
                );
            }
            assert!(actions.contains(&Press::Pick(0)), "a card at {w}x{h}");
            // Big enough for a fingertip, and no two places overlap.
            for (i, hit) in hits.iter().enumerate() {
                assert!(
                    hit.area.size.width >= 36 && hit.area.size.height >= 30,
                    "{:?} at {w}x{h} is {:?}",
                    hit.press,
                    hit.area.size
                );
                for other in &hits[i + 1..] {
                    assert!(
                        hit.area.intersection(&other.area).is_zero_sized(),
                        "{:?} and {:?} overlap at {w}x{h}",
                        hit.press,
                        other.press
                    );
                }
            }
            // The "no" button: drawn where its hit is.
            let no = hits
                .iter()
                .find(|h| h.press == Press::Action(Action::Reject))
                .unwrap();
            let centre = no.area.center();
            assert_eq!(
                press_at(&screen, size, centre.x as u32, centre.y as u32),
                Some(Press::Action(Action::Reject))
            );
            let mut canvas = RgbCanvas::new(w, h, Rgb888::BLACK);
            draw(&screen, &mut canvas).unwrap();
            let img = canvas.into_image();
            let inside = img
                .enumerate_pixels()
                .filter(|(x, y, p)| {
                    no.area.contains(Point::new(*x as i32, *y as i32)) && p.0 == [235, 235, 240]
                })
                .count();
            assert!(
                inside > 10,
                "the label of \"no\" is drawn in its area at {w}x{h}"
            );

            let choices: Vec<String> = (0..8).map(|i| format!("choice {i}")).collect();
            let choose = Screen::Choose {
                picture: &a,
                question: "what is it?",
                choices: &choices,
                selected: 0,
            };
            let picks = hits_of(&choose, size);
            assert_eq!(picks.len(), 8, "every choice can be touched at {w}x{h}");
        }
        // Without controls nothing on the outfits screen is a button.
        let plain = Screen::Outfits {
            picture: &a,
            name: "red shirt",
            outfits: &cards,
            selected: 0,
            status: "",
            controls: false,
        };
        assert!(hits(&plain, Size::new(800, 480)).is_empty());
    }

    fn hits_of(screen: &Screen<'_>, size: Size) -> Vec<usize> {
        hits(screen, size)
            .into_iter()
            .filter_map(|h| match h.press {
                Press::Pick(i) => Some(i),
                Press::Action(_) => None,
            })
            .collect()
    }

    #[test]
    fn wraps_words() {
        assert_eq!(wrap("a bb ccc dddd", 6), vec!["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("", 5), vec![""]);
        assert_eq!(wrap("toolongword", 3), vec!["toolongword"]);
    }
}
