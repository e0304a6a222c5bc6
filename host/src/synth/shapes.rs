//! Silhouettes: each garment variant as a short list of drawing operations in a unit square
//! (x right, y down). Later operations paint over earlier ones; `Cut` punches holes.

/// A region of the unit square.
#[derive(Debug, Clone)]
pub enum Prim {
    Poly(Vec<(f32, f32)>),
    Rect(f32, f32, f32, f32),
    Ellipse {
        c: (f32, f32),
        r: (f32, f32),
    },
    /// An elliptical band `t` thick, inside the ellipse of radii `r`.
    Ring {
        c: (f32, f32),
        r: (f32, f32),
        t: f32,
    },
    /// A thick line from `a` to `b`, `w` wide.
    Segment {
        a: (f32, f32),
        b: (f32, f32),
        w: f32,
    },
}

impl Prim {
    pub fn contains(&self, x: f32, y: f32) -> bool {
        match self {
            Prim::Poly(points) => polygon_contains(points, x, y),
            Prim::Rect(x0, y0, x1, y1) => x >= *x0 && x <= *x1 && y >= *y0 && y <= *y1,
            Prim::Ellipse { c, r } => ellipse_value(*c, *r, x, y) <= 1.0,
            Prim::Ring { c, r, t } => {
                ellipse_value(*c, *r, x, y) <= 1.0
                    && ellipse_value(*c, (r.0 - t, r.1 - t), x, y) > 1.0
            }
            Prim::Segment { a, b, w } => segment_distance(*a, *b, x, y) <= w / 2.0,
        }
    }

    /// The same region mirrored about the vertical centre line.
    fn mirrored(&self) -> Prim {
        let m = |(x, y): (f32, f32)| (1.0 - x, y);
        match self {
            Prim::Poly(p) => Prim::Poly(p.iter().rev().map(|&q| m(q)).collect()),
            Prim::Rect(x0, y0, x1, y1) => Prim::Rect(1.0 - x1, *y0, 1.0 - x0, *y1),
            Prim::Ellipse { c, r } => Prim::Ellipse { c: m(*c), r: *r },
            Prim::Ring { c, r, t } => Prim::Ring {
                c: m(*c),
                r: *r,
                t: *t,
            },
            Prim::Segment { a, b, w } => Prim::Segment {
                a: m(*a),
                b: m(*b),
                w: *w,
            },
        }
    }
}

/// How a region is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    /// Main colour with pattern, texture and logo.
    Body,
    /// The accent (neutral) colour: collars, buttons, soles, zips.
    Trim,
    /// The main colour, darker: seams, cuffs, waistbands.
    Detail,
    /// Near black: lenses, heels, rubber soles.
    Dark,
}

#[derive(Debug, Clone)]
pub enum Op {
    Add(Prim, Paint),
    Cut(Prim),
}

/// A silhouette and where its logo sits.
#[derive(Debug, Clone)]
pub struct Shape {
    pub ops: Vec<Op>,
    pub logo_anchor: (f32, f32),
}

impl Shape {
    /// The paint at a point, or `None` for background.
    pub fn paint_at(&self, x: f32, y: f32) -> Option<Paint> {
        let mut paint = None;
        for op in &self.ops {
            match op {
                Op::Add(prim, p) if prim.contains(x, y) => paint = Some(*p),
                Op::Cut(prim) if prim.contains(x, y) => paint = None,
                _ => {}
            }
        }
        paint
    }
}

fn ellipse_value(c: (f32, f32), r: (f32, f32), x: f32, y: f32) -> f32 {
    let dx = (x - c.0) / r.0.max(1e-6);
    let dy = (y - c.1) / r.1.max(1e-6);
    dx * dx + dy * dy
}

fn polygon_contains(points: &[(f32, f32)], x: f32, y: f32) -> bool {
    let mut inside = false;
    let mut j = points.len().wrapping_sub(1);
    for i in 0..points.len() {
        let (xi, yi) = points[i];
        let (xj, yj) = points[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn segment_distance(a: (f32, f32), b: (f32, f32), x: f32, y: f32) -> f32 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((x - a.0) * dx + (y - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (px, py) = (a.0 + t * dx - x, a.1 + t * dy - y);
    (px * px + py * py).sqrt()
}

/// Collects operations; `pair` adds a region and its mirror image.
struct Builder(Vec<Op>);

impl Builder {
    fn add(mut self, prim: Prim, paint: Paint) -> Self {
        self.0.push(Op::Add(prim, paint));
        self
    }
    fn pair(mut self, prim: Prim, paint: Paint) -> Self {
        let mirror = prim.mirrored();
        self.0.push(Op::Add(prim, paint));
        self.0.push(Op::Add(mirror, paint));
        self
    }
    fn cut(mut self, prim: Prim) -> Self {
        self.0.push(Op::Cut(prim));
        self
    }
    fn dots(mut self, x: f32, ys: &[f32], r: f32, paint: Paint) -> Self {
        for &y in ys {
            self.0.push(Op::Add(
                Prim::Ellipse {
                    c: (x, y),
                    r: (r, r),
                },
                paint,
            ));
        }
        self
    }
    fn done(self, logo_anchor: (f32, f32)) -> Shape {
        Shape {
            ops: self.0,
            logo_anchor,
        }
    }
}

fn poly(points: &[(f32, f32)]) -> Prim {
    Prim::Poly(points.to_vec())
}

fn seg(a: (f32, f32), b: (f32, f32), w: f32) -> Prim {
    Prim::Segment { a, b, w }
}

fn ellipse(c: (f32, f32), r: (f32, f32)) -> Prim {
    Prim::Ellipse { c, r }
}

fn ring(c: (f32, f32), r: (f32, f32), t: f32) -> Prim {
    Prim::Ring { c, r, t }
}

/// Every shape name the renderer can draw.
pub const SHAPE_NAMES: &[&str] = &[
    "tshirt",
    "tank",
    "sweater",
    "shirt",
    "jeans",
    "shorts",
    "skirt",
    "trousers",
    "sundress",
    "aline",
    "gown",
    "denim-jacket",
    "puffer",
    "coat",
    "blazer",
    "sandal",
    "sneaker",
    "boot",
    "heel",
    "backpack",
    "tote",
    "clutch",
    "cap",
    "beanie",
    "scarf",
    "sunglasses",
    "necklace",
];

/// The silhouette called `name`, if there is one.
pub fn shape(name: &str) -> Option<Shape> {
    use Paint::*;
    let b = Builder(Vec::new());
    Some(match name {
        "tshirt" => b
            .add(
                poly(&[(0.32, 0.2), (0.68, 0.2), (0.7, 0.84), (0.3, 0.84)]),
                Body,
            )
            .pair(
                poly(&[(0.33, 0.2), (0.14, 0.33), (0.21, 0.44), (0.31, 0.37)]),
                Body,
            )
            .cut(ellipse((0.5, 0.2), (0.08, 0.05)))
            .add(ring((0.5, 0.2), (0.09, 0.06), 0.015), Detail)
            .done((0.5, 0.42)),
        "tank" => b
            .add(
                poly(&[(0.34, 0.26), (0.66, 0.26), (0.69, 0.84), (0.31, 0.84)]),
                Body,
            )
            .pair(Prim::Rect(0.36, 0.1, 0.41, 0.27), Body)
            .cut(ellipse((0.5, 0.26), (0.11, 0.09)))
            .done((0.5, 0.52)),
        "sweater" => b
            .add(
                poly(&[(0.3, 0.18), (0.7, 0.18), (0.71, 0.82), (0.29, 0.82)]),
                Body,
            )
            .pair(
                poly(&[
                    (0.31, 0.18),
                    (0.15, 0.28),
                    (0.08, 0.8),
                    (0.17, 0.82),
                    (0.27, 0.42),
                ]),
                Body,
            )
            .add(Prim::Rect(0.29, 0.77, 0.71, 0.84), Detail)
            .pair(
                poly(&[(0.085, 0.76), (0.175, 0.78), (0.17, 0.83), (0.08, 0.81)]),
                Detail,
            )
            .cut(ellipse((0.5, 0.18), (0.07, 0.045)))
            .add(ring((0.5, 0.18), (0.085, 0.06), 0.02), Detail)
            .done((0.5, 0.45)),
        "shirt" => b
            .add(
                poly(&[(0.32, 0.17), (0.68, 0.17), (0.69, 0.86), (0.31, 0.86)]),
                Body,
            )
            .pair(
                poly(&[
                    (0.33, 0.18),
                    (0.18, 0.3),
                    (0.13, 0.78),
                    (0.2, 0.8),
                    (0.29, 0.44),
                ]),
                Body,
            )
            .pair(
                poly(&[(0.42, 0.14), (0.5, 0.2), (0.44, 0.28), (0.38, 0.2)]),
                Trim,
            )
            .add(seg((0.5, 0.22), (0.5, 0.86), 0.012), Detail)
            .dots(0.5, &[0.3, 0.42, 0.54, 0.66, 0.78], 0.012, Trim)
            .done((0.4, 0.38)),
        "jeans" => b
            .add(Prim::Rect(0.3, 0.12, 0.7, 0.17), Detail)
            .add(
                poly(&[
                    (0.3, 0.17),
                    (0.7, 0.17),
                    (0.71, 0.9),
                    (0.53, 0.9),
                    (0.5, 0.38),
                    (0.47, 0.9),
                    (0.29, 0.9),
                ]),
                Body,
            )
            .pair(seg((0.33, 0.19), (0.41, 0.27), 0.01), Trim)
            .add(seg((0.5, 0.17), (0.5, 0.33), 0.01), Detail)
            .pair(Prim::Rect(0.29, 0.86, 0.47, 0.9), Detail)
            .done((0.6, 0.25)),
        "shorts" => b
            .add(Prim::Rect(0.28, 0.28, 0.72, 0.33), Detail)
            .add(
                poly(&[
                    (0.28, 0.33),
                    (0.72, 0.33),
                    (0.76, 0.66),
                    (0.54, 0.68),
                    (0.5, 0.5),
                    (0.46, 0.68),
                    (0.24, 0.66),
                ]),
                Body,
            )
            .pair(seg((0.245, 0.63), (0.46, 0.65), 0.02), Detail)
            .done((0.62, 0.42)),
        "skirt" => b
            .add(Prim::Rect(0.37, 0.18, 0.63, 0.23), Detail)
            .add(
                poly(&[(0.37, 0.23), (0.63, 0.23), (0.79, 0.76), (0.21, 0.76)]),
                Body,
            )
            .pair(seg((0.44, 0.28), (0.38, 0.74), 0.008), Detail)
            .done((0.55, 0.4)),
        "trousers" => b
            .add(Prim::Rect(0.31, 0.1, 0.69, 0.15), Detail)
            .add(
                poly(&[
                    (0.31, 0.15),
                    (0.69, 0.15),
                    (0.68, 0.93),
                    (0.52, 0.93),
                    (0.5, 0.36),
                    (0.48, 0.93),
                    (0.32, 0.93),
                ]),
                Body,
            )
            .pair(seg((0.4, 0.3), (0.4, 0.93), 0.006), Detail)
            .pair(Prim::Rect(0.35, 0.09, 0.37, 0.16), Trim)
            .done((0.6, 0.22)),
        "sundress" => b
            .pair(Prim::Rect(0.4, 0.08, 0.43, 0.18), Body)
            .add(
                poly(&[
                    (0.38, 0.17),
                    (0.62, 0.17),
                    (0.6, 0.42),
                    (0.8, 0.88),
                    (0.2, 0.88),
                    (0.4, 0.42),
                ]),
                Body,
            )
            .add(Prim::Rect(0.39, 0.4, 0.61, 0.44), Trim)
            .done((0.5, 0.62)),
        "aline" => b
            .add(
                poly(&[
                    (0.37, 0.12),
                    (0.63, 0.12),
                    (0.61, 0.4),
                    (0.74, 0.82),
                    (0.26, 0.82),
                    (0.39, 0.4),
                ]),
                Body,
            )
            .pair(
                poly(&[(0.38, 0.12), (0.28, 0.18), (0.31, 0.26), (0.38, 0.22)]),
                Body,
            )
            .cut(ellipse((0.5, 0.12), (0.06, 0.04)))
            .add(Prim::Rect(0.385, 0.39, 0.615, 0.42), Detail)
            .done((0.5, 0.6)),
        "gown" => b
            .add(
                poly(&[
                    (0.41, 0.08),
                    (0.59, 0.08),
                    (0.58, 0.4),
                    (0.72, 0.95),
                    (0.28, 0.95),
                    (0.42, 0.4),
                ]),
                Body,
            )
            .pair(
                poly(&[
                    (0.41, 0.09),
                    (0.33, 0.14),
                    (0.27, 0.5),
                    (0.31, 0.52),
                    (0.4, 0.24),
                ]),
                Body,
            )
            .cut(poly(&[(0.45, 0.08), (0.55, 0.08), (0.5, 0.17)]))
            .add(Prim::Rect(0.42, 0.38, 0.58, 0.4), Trim)
            .done((0.5, 0.7)),
        "denim-jacket" => b
            .add(
                poly(&[(0.29, 0.2), (0.71, 0.2), (0.72, 0.7), (0.28, 0.7)]),
                Body,
            )
            .pair(
                poly(&[
                    (0.3, 0.2),
                    (0.15, 0.3),
                    (0.1, 0.74),
                    (0.19, 0.76),
                    (0.27, 0.42),
                ]),
                Body,
            )
            .pair(
                poly(&[(0.4, 0.16), (0.5, 0.22), (0.45, 0.32), (0.35, 0.22)]),
                Detail,
            )
            .pair(Prim::Rect(0.33, 0.32, 0.43, 0.4), Detail)
            .add(Prim::Rect(0.28, 0.65, 0.72, 0.7), Detail)
            .add(seg((0.5, 0.22), (0.5, 0.7), 0.01), Detail)
            .dots(0.5, &[0.36, 0.46, 0.56], 0.012, Trim)
            .done((0.62, 0.52)),
        "puffer" => b
            .add(ellipse((0.5, 0.14), (0.12, 0.08)), Body)
            .add(
                poly(&[(0.27, 0.18), (0.73, 0.18), (0.76, 0.8), (0.24, 0.8)]),
                Body,
            )
            .pair(
                poly(&[
                    (0.28, 0.2),
                    (0.12, 0.32),
                    (0.08, 0.76),
                    (0.19, 0.78),
                    (0.26, 0.44),
                ]),
                Body,
            )
            .add(seg((0.24, 0.32), (0.76, 0.32), 0.012), Detail)
            .add(seg((0.24, 0.45), (0.76, 0.45), 0.012), Detail)
            .add(seg((0.24, 0.58), (0.76, 0.58), 0.012), Detail)
            .add(seg((0.24, 0.7), (0.76, 0.7), 0.012), Detail)
            .pair(seg((0.1, 0.55), (0.22, 0.55), 0.012), Detail)
            .add(seg((0.5, 0.2), (0.5, 0.8), 0.012), Trim)
            .done((0.62, 0.38)),
        "coat" => b
            .add(
                poly(&[(0.3, 0.15), (0.7, 0.15), (0.74, 0.93), (0.26, 0.93)]),
                Body,
            )
            .pair(
                poly(&[
                    (0.31, 0.15),
                    (0.16, 0.26),
                    (0.12, 0.8),
                    (0.2, 0.82),
                    (0.28, 0.4),
                ]),
                Body,
            )
            .pair(
                poly(&[(0.4, 0.13), (0.5, 0.2), (0.5, 0.4), (0.38, 0.24)]),
                Detail,
            )
            .add(Prim::Rect(0.27, 0.5, 0.73, 0.54), Detail)
            .add(Prim::Rect(0.47, 0.49, 0.53, 0.55), Trim)
            .dots(0.44, &[0.3, 0.4, 0.62, 0.72], 0.013, Trim)
            .dots(0.56, &[0.3, 0.4, 0.62, 0.72], 0.013, Trim)
            .done((0.64, 0.78)),
        "blazer" => b
            .add(
                poly(&[(0.3, 0.17), (0.7, 0.17), (0.71, 0.8), (0.29, 0.8)]),
                Body,
            )
            .pair(
                poly(&[
                    (0.31, 0.17),
                    (0.17, 0.27),
                    (0.13, 0.78),
                    (0.21, 0.8),
                    (0.28, 0.42),
                ]),
                Body,
            )
            .add(poly(&[(0.42, 0.17), (0.58, 0.17), (0.5, 0.46)]), Trim)
            .pair(
                poly(&[(0.42, 0.17), (0.5, 0.46), (0.4, 0.34), (0.36, 0.22)]),
                Detail,
            )
            .dots(0.5, &[0.53, 0.63], 0.013, Trim)
            .pair(Prim::Rect(0.33, 0.6, 0.43, 0.63), Detail)
            .done((0.62, 0.7)),
        "sandal" => b
            .add(
                poly(&[(0.12, 0.64), (0.88, 0.64), (0.9, 0.7), (0.1, 0.7)]),
                Dark,
            )
            .add(Prim::Rect(0.12, 0.6, 0.88, 0.64), Trim)
            .add(seg((0.3, 0.6), (0.42, 0.42), 0.05), Body)
            .add(seg((0.55, 0.6), (0.62, 0.46), 0.05), Body)
            .add(seg((0.72, 0.6), (0.78, 0.5), 0.05), Body)
            .add(seg((0.42, 0.42), (0.62, 0.46), 0.04), Body)
            .add(seg((0.15, 0.6), (0.2, 0.45), 0.04), Body)
            .done((0.5, 0.5)),
        "sneaker" => b
            .add(
                poly(&[
                    (0.14, 0.42),
                    (0.42, 0.4),
                    (0.62, 0.48),
                    (0.86, 0.56),
                    (0.89, 0.64),
                    (0.14, 0.64),
                ]),
                Body,
            )
            .add(ellipse((0.27, 0.42), (0.1, 0.03)), Dark)
            .add(
                poly(&[(0.12, 0.64), (0.91, 0.64), (0.9, 0.72), (0.13, 0.72)]),
                Trim,
            )
            .add(seg((0.45, 0.44), (0.5, 0.5), 0.012), Trim)
            .add(seg((0.51, 0.46), (0.56, 0.52), 0.012), Trim)
            .add(seg((0.57, 0.48), (0.62, 0.54), 0.012), Trim)
            .done((0.3, 0.55)),
        "boot" => b
            .add(
                poly(&[
                    (0.3, 0.14),
                    (0.54, 0.14),
                    (0.55, 0.56),
                    (0.84, 0.62),
                    (0.87, 0.72),
                    (0.3, 0.72),
                ]),
                Body,
            )
            .add(Prim::Rect(0.28, 0.72, 0.88, 0.77), Dark)
            .add(Prim::Rect(0.3, 0.72, 0.4, 0.82), Dark)
            .add(Prim::Rect(0.3, 0.14, 0.54, 0.2), Detail)
            .add(seg((0.52, 0.22), (0.52, 0.52), 0.01), Trim)
            .done((0.42, 0.42)),
        "heel" => b
            .add(
                poly(&[
                    (0.14, 0.48),
                    (0.3, 0.5),
                    (0.55, 0.6),
                    (0.84, 0.68),
                    (0.86, 0.74),
                    (0.58, 0.74),
                    (0.32, 0.62),
                    (0.16, 0.62),
                ]),
                Body,
            )
            .cut(ellipse((0.34, 0.53), (0.13, 0.04)))
            .add(
                poly(&[(0.15, 0.6), (0.21, 0.6), (0.19, 0.84), (0.17, 0.84)]),
                Dark,
            )
            .add(seg((0.58, 0.745), (0.86, 0.745), 0.02), Dark)
            .done((0.68, 0.67)),
        "backpack" => b
            .add(ring((0.5, 0.19), (0.07, 0.06), 0.018), Detail)
            .add(ellipse((0.5, 0.29), (0.22, 0.1)), Body)
            .add(
                poly(&[(0.28, 0.29), (0.72, 0.29), (0.75, 0.86), (0.25, 0.86)]),
                Body,
            )
            .add(
                poly(&[(0.33, 0.58), (0.67, 0.58), (0.68, 0.82), (0.32, 0.82)]),
                Detail,
            )
            .add(seg((0.32, 0.56), (0.68, 0.56), 0.012), Trim)
            .done((0.5, 0.44)),
        "tote" => b
            .pair(ring((0.38, 0.36), (0.07, 0.14), 0.018), Detail)
            .add(
                poly(&[(0.24, 0.38), (0.76, 0.38), (0.8, 0.86), (0.2, 0.86)]),
                Body,
            )
            .add(Prim::Rect(0.24, 0.38, 0.76, 0.42), Trim)
            .done((0.5, 0.62)),
        "clutch" => b
            .add(Prim::Rect(0.18, 0.42, 0.82, 0.68), Body)
            .add(poly(&[(0.18, 0.42), (0.82, 0.42), (0.5, 0.58)]), Detail)
            .add(ellipse((0.5, 0.565), (0.02, 0.02)), Trim)
            .done((0.3, 0.63)),
        "cap" => b
            .add(ellipse((0.45, 0.52), (0.22, 0.18)), Body)
            .cut(Prim::Rect(0.0, 0.52, 1.0, 1.0))
            .add(
                poly(&[(0.45, 0.49), (0.86, 0.51), (0.86, 0.56), (0.45, 0.56)]),
                Detail,
            )
            .add(ellipse((0.45, 0.345), (0.02, 0.02)), Trim)
            .add(seg((0.45, 0.35), (0.45, 0.5), 0.008), Detail)
            .done((0.38, 0.45)),
        "beanie" => b
            .add(ellipse((0.5, 0.54), (0.22, 0.24)), Body)
            .cut(Prim::Rect(0.0, 0.6, 1.0, 1.0))
            .add(Prim::Rect(0.27, 0.52, 0.73, 0.64), Detail)
            .add(ellipse((0.5, 0.27), (0.06, 0.06)), Trim)
            .done((0.5, 0.42)),
        "scarf" => b
            .add(ring((0.5, 0.3), (0.17, 0.11), 0.06), Body)
            .add(
                poly(&[(0.4, 0.35), (0.5, 0.35), (0.48, 0.86), (0.38, 0.86)]),
                Body,
            )
            .add(
                poly(&[(0.52, 0.36), (0.6, 0.36), (0.64, 0.8), (0.55, 0.82)]),
                Body,
            )
            .add(seg((0.38, 0.87), (0.48, 0.87), 0.02), Trim)
            .add(seg((0.55, 0.83), (0.64, 0.81), 0.02), Trim)
            .done((0.44, 0.62)),
        "sunglasses" => b
            .pair(ellipse((0.33, 0.5), (0.12, 0.09)), Dark)
            .pair(ring((0.33, 0.5), (0.135, 0.105), 0.03), Body)
            .add(seg((0.44, 0.47), (0.56, 0.47), 0.03), Body)
            .pair(seg((0.2, 0.46), (0.08, 0.42), 0.025), Body)
            .done((0.5, 0.47)),
        "necklace" => b
            .add(ring((0.5, 0.4), (0.2, 0.24), 0.02), Body)
            .add(
                poly(&[(0.5, 0.6), (0.55, 0.67), (0.5, 0.76), (0.45, 0.67)]),
                Trim,
            )
            .done((0.5, 0.67)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_shape_exists_and_covers_a_sensible_area() {
        for name in SHAPE_NAMES {
            let s = shape(name).unwrap();
            let n = 64;
            let covered = (0..n * n)
                .filter(|i| {
                    s.paint_at((i % n) as f32 / n as f32, (i / n) as f32 / n as f32)
                        .is_some()
                })
                .count();
            let frac = covered as f32 / (n * n) as f32;
            assert!((0.02..0.6).contains(&frac), "{name} covers {frac}");
        }
        assert!(shape("toga").is_none());
    }

    #[test]
    fn primitives() {
        assert!(
            Prim::Ring {
                c: (0.5, 0.5),
                r: (0.2, 0.2),
                t: 0.05
            }
            .contains(0.68, 0.5)
        );
        assert!(
            !Prim::Ring {
                c: (0.5, 0.5),
                r: (0.2, 0.2),
                t: 0.05
            }
            .contains(0.5, 0.5)
        );
        assert!(
            Prim::Segment {
                a: (0.0, 0.0),
                b: (1.0, 0.0),
                w: 0.1
            }
            .contains(0.5, 0.04)
        );
        assert!(polygon_contains(
            &[(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)],
            0.2,
            0.2
        ));
        assert!(!polygon_contains(
            &[(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)],
            0.8,
            0.8
        ));
    }
}
