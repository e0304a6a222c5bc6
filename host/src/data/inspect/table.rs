//! The counts as text tables (what `data inspect` prints without `--json`).

use super::report::{ImageItemCounts, InShopReport, InspectReport, PolyvoreReport, StatusCounts};
use capsule_device::GarmentType;
use std::collections::BTreeMap;
use std::fmt;

impl fmt::Display for InspectReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Datasets under {}", self.root.display())?;
        if let Some(inshop) = &self.inshop {
            writeln!(f)?;
            write!(f, "{inshop}")?;
        }
        for polyvore in &self.polyvore {
            writeln!(f)?;
            write!(f, "{polyvore}")?;
        }
        writeln!(f)?;
        writeln!(f, "Contact sheet: {}", self.contact_sheet.display())
    }
}

impl fmt::Display for InShopReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "DeepFashion In-shop at {}  (images/items)",
            self.root.display()
        )?;
        let cell = |c: ImageItemCounts| format!("{}/{}", c.images, c.items);
        let row = |name: String, c: &StatusCounts| {
            vec![name, cell(c.train), cell(c.query), cell(c.gallery)]
        };
        let mut rows = vec![row("all".into(), &self.total)];
        rows.extend(self.by_type.iter().map(|(t, c)| row(t.to_string(), c)));
        rows.extend(
            self.unmapped_categories
                .iter()
                .map(|(name, c)| row(format!("({name}, unmapped)"), c)),
        );
        table(f, &["type", "train", "query", "gallery"], &rows)
    }
}

impl fmt::Display for PolyvoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Polyvore Outfits ({}) at {}  ({} items, {} without an image)",
            self.variant.dir_name(),
            self.root.display(),
            self.items,
            self.missing_images
        )?;
        let optional = |n: Option<usize>| n.map_or_else(|| "-".to_string(), |n| n.to_string());
        let by_type = |counts: &BTreeMap<GarmentType, usize>| {
            GarmentType::ALL.map(|t| counts.get(&t).copied().unwrap_or(0).to_string())
        };
        let mut header = vec!["split", "outfits", "fitb", "fitb hard", "compat +/-"];
        header.extend(GarmentType::ALL.map(GarmentType::as_str));
        let mut rows: Vec<Vec<String>> = self
            .splits
            .iter()
            .map(|(split, s)| {
                let compatibility = s.compatibility.map_or_else(
                    || "-".to_string(),
                    |c| format!("{}/{}", c.positive, c.negative),
                );
                let mut row = vec![
                    split.to_string(),
                    s.outfits.to_string(),
                    optional(s.fitb),
                    optional(s.fitb_hard),
                    compatibility,
                ];
                row.extend(by_type(&s.items_by_type));
                row
            })
            .collect();
        let mut all = vec![
            "metadata".to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ];
        all.extend(by_type(&self.items_by_type));
        rows.push(all);
        table(f, &header, &rows)
    }
}

/// Writes a table: the first column left-aligned, the others right-aligned.
fn table(f: &mut fmt::Formatter<'_>, header: &[&str], rows: &[Vec<String>]) -> fmt::Result {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i == 0 {
                line.push_str(&format!("  {cell:<width$}"));
            } else {
                line.push_str(&format!("  {cell:>width$}"));
            }
        }
        writeln!(f, "{}", line.trim_end())?;
    }
    Ok(())
}
