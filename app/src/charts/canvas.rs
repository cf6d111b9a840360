//! What every chart is drawn on: sizes, colours, the axes of a chart over days, and the SVG's
//! last touches. The server's only, as the drawing is.

use plotters::chart::MeshStyle;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::PALETTE;

/// Size of the small charts; the daily chart spans the panel and is wider.
pub(super) const WIDTH: u32 = 560;
pub(super) const HEIGHT: u32 = 260;
pub(super) const WIDE: u32 = 1100;

/// Drawn as this, written out as `currentColor`.
pub(super) const TEXT_MARKER: RGBColor = RGBColor(0x12, 0x34, 0x56);
pub(super) const GRID: RGBColor = RGBColor(0x7f, 0x8c, 0xa3);

/// A stable colour per series position.
pub(super) fn color(index: usize) -> RGBColor {
    let (r, g, b) = PALETTE[index % PALETTE.len()];
    RGBColor(r, g, b)
}

/// The look every chart's axes share: a faint grid (one direction left out by the chart), the
/// axes a shade darker, labels and axis titles in the text's colour.
pub(super) fn styled<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
    let text = ("sans-serif", 12).into_font().color(&TEXT_MARKER);
    mesh.light_line_style(TRANSPARENT)
        .bold_line_style(GRID.mix(0.3))
        .axis_style(GRID.mix(0.6))
        .label_style(text.clone())
        .axis_desc_style(text)
}

/// A wide chart over days: x counts days (`0.0..x_end`), y goes from 0 to `top`.
pub(super) type DayChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The axes of a wide chart over `days` days, shared by the daily cost, burn-down and open-tasks
/// charts: a faint horizontal grid, at most 8 day labels (`MM-DD`, from `day_label(i)`, the
/// `YYYY-MM-DD` of day `i`) and 5 y labels (`y_label`) under `y_desc`.
pub(super) struct DayAxes<'l> {
    pub(super) days: usize,
    pub(super) x_end: f64,
    pub(super) top: f64,
    /// Room for the y labels (cumulative sums have more digits).
    pub(super) y_label_width: u32,
    pub(super) y_desc: &'l str,
    pub(super) day_label: &'l dyn Fn(usize) -> String,
    pub(super) y_label: &'l dyn Fn(f64) -> String,
    /// How many y labels at most; whole counts get no more than there are whole numbers below
    /// `top` (see [`y_labels_for`]), so no two ticks read the same.
    pub(super) y_labels: usize,
}

/// The number of y labels for a chart up to `top`: 5, or for whole counts one per whole number
/// (0, 1, … ⌊top⌋) when there are fewer.
pub(super) fn y_labels_for(top: f64, whole: bool) -> usize {
    if whole {
        (top.floor() as usize + 1).clamp(2, 5)
    } else {
        5
    }
}

impl DayAxes<'_> {
    /// Builds the chart on `root` and draws its axes; `None` if plotters cannot.
    pub(super) fn draw<'a, 'b>(
        &self,
        root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    ) -> Option<DayChart<'a, 'b>> {
        let n = self.days;
        let mut chart = ChartBuilder::on(root)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(self.y_label_width)
            .build_cartesian_2d(0f64..self.x_end, 0f64..self.top)
            .ok()?;
        let every = n.div_ceil(8).max(1);
        styled(&mut chart.configure_mesh())
            .disable_x_mesh()
            .y_desc(self.y_desc)
            .x_labels(n.min(16))
            .x_label_formatter(&|x| {
                // The start of day `x`.
                let i = *x as usize;
                if x.fract() != 0.0 || i >= n || !i.is_multiple_of(every) {
                    return String::new();
                }
                (self.day_label)(i).get(5..).unwrap_or_default().to_owned()
            })
            .y_labels(self.y_labels)
            .y_label_formatter(&|y| (self.y_label)(*y))
            .draw()
            .ok()?;
        Some(chart)
    }
}

/// Makes the SVG scale with its container and take the text colour from CSS.
pub(super) fn finish(svg: String, width: u32, height: u32) -> String {
    let marker = format!(
        "#{:02X}{:02X}{:02X}",
        TEXT_MARKER.0, TEXT_MARKER.1, TEXT_MARKER.2
    );
    let svg = svg
        .replace(&marker, "currentColor")
        .replace(&marker.to_lowercase(), "currentColor");
    match svg.find("<svg ") {
        Some(at) if !svg.contains("viewBox") => {
            let mut out = svg.clone();
            out.insert_str(
                at + 5,
                &format!("viewBox=\"0 0 {width} {height}\" preserveAspectRatio=\"xMidYMid meet\" "),
            );
            out
        }
        _ => svg,
    }
}
