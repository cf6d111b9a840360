//! Cost charts drawn with plotters as SVG text, by the server only (`GET /api/charts/…`, and so in
//! the first HTML): the pages fetch them again when what they show changes. The drawing is
//! compiled with `ssr` only, plotters with it, so the WASM client cannot call it; what the pages
//! use beside the SVG (`css_color`, `models_by_cost`, `burn_down_description`: legends and words)
//! is here for both.
//!
//! Text is drawn in a marker colour that is replaced by `currentColor`, so the charts take the
//! theme's text colour from CSS; bars use a palette readable on dark and light backgrounds.

// The drawing: the server's only (`ssr`), so plotters is not even compiled into the client.
#[cfg(feature = "ssr")]
mod bars;
#[cfg(feature = "ssr")]
mod daily;
#[cfg(feature = "ssr")]
mod forecast;
#[cfg(feature = "ssr")]
mod history;

#[cfg(feature = "ssr")]
pub use bars::{cost_by_model, tokens_by_agent};
#[cfg(feature = "ssr")]
pub use daily::{agent_daily, daily_cost};
#[cfg(feature = "ssr")]
pub use forecast::burn_down;
#[cfg(feature = "ssr")]
pub use history::{completions, cycle_times, work_in_progress};

use crate::format::usd;
#[cfg(feature = "ssr")]
use crate::format::{count, dates};
use crate::model::{BudgetOutlook, CostSummary, Forecast};
#[cfg(feature = "ssr")]
use plotters::coord::types::RangedCoordf64;
#[cfg(feature = "ssr")]
use plotters::coord::Shift;
#[cfg(feature = "ssr")]
use plotters::prelude::*;

/// Size of the small charts; the daily chart spans the panel and is wider.
#[cfg(feature = "ssr")]
const WIDTH: u32 = 560;
#[cfg(feature = "ssr")]
const HEIGHT: u32 = 260;
#[cfg(feature = "ssr")]
const WIDE: u32 = 1100;

/// Drawn as this, written out as `currentColor`.
#[cfg(feature = "ssr")]
const TEXT_MARKER: RGBColor = RGBColor(0x12, 0x34, 0x56);
#[cfg(feature = "ssr")]
const GRID: RGBColor = RGBColor(0x7f, 0x8c, 0xa3);

/// The series' colours (red/green/blue), readable on dark and light backgrounds.
const PALETTE: [(u8, u8, u8); 8] = [
    (0x60, 0xa5, 0xfa),
    (0xa7, 0x8b, 0xfa),
    (0x34, 0xd3, 0x99),
    (0xfb, 0x92, 0x3c),
    (0xf4, 0x72, 0xb6),
    (0xfa, 0xcc, 0x15),
    (0x2d, 0xd4, 0xbf),
    (0xf8, 0x71, 0x71),
];

/// A stable colour per series position.
#[cfg(feature = "ssr")]
fn color(index: usize) -> RGBColor {
    let (r, g, b) = PALETTE[index % PALETTE.len()];
    RGBColor(r, g, b)
}

/// `#rrggbb` of a palette colour, for legends drawn in HTML.
pub fn css_color(index: usize) -> String {
    let (r, g, b) = PALETTE[index % PALETTE.len()];
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// A wide chart over days: x counts days (`0.0..x_end`), y goes from 0 to `top`.
#[cfg(feature = "ssr")]
type DayChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The axes of a wide chart over `days` days, shared by the daily cost, burn-down and open-tasks
/// charts: a faint horizontal grid, at most 8 day labels (`MM-DD`, from `day_label(i)`, the
/// `YYYY-MM-DD` of day `i`) and 5 y labels (`y_label`) under `y_desc`.
#[cfg(feature = "ssr")]
struct DayAxes<'l> {
    days: usize,
    x_end: f64,
    top: f64,
    /// Room for the y labels (cumulative sums have more digits).
    y_label_width: u32,
    y_desc: &'l str,
    day_label: &'l dyn Fn(usize) -> String,
    y_label: &'l dyn Fn(f64) -> String,
    /// How many y labels at most; whole counts get no more than there are whole numbers below
    /// `top` (see [`y_labels_for`]), so no two ticks read the same.
    y_labels: usize,
}

/// The number of y labels for a chart up to `top`: 5, or for whole counts one per whole number
/// (0, 1, … ⌊top⌋) when there are fewer.
#[cfg(feature = "ssr")]
fn y_labels_for(top: f64, whole: bool) -> usize {
    if whole {
        (top.floor() as usize + 1).clamp(2, 5)
    } else {
        5
    }
}

#[cfg(feature = "ssr")]
impl DayAxes<'_> {
    /// Builds the chart on `root` and draws its axes; `None` if plotters cannot.
    fn draw<'a, 'b>(
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
        let text = ("sans-serif", 12).into_font().color(&TEXT_MARKER);
        let every = n.div_ceil(8).max(1);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID.mix(0.3))
            .axis_style(GRID.mix(0.6))
            .label_style(text.clone())
            .y_desc(self.y_desc)
            .axis_desc_style(text)
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
#[cfg(feature = "ssr")]
fn finish(svg: String, width: u32, height: u32) -> String {
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

/// Models in the order of their cost over the range (the legend and colour order).
pub fn models_by_cost(summary: &CostSummary) -> Vec<String> {
    let mut totals: Vec<(String, f64)> = Vec::new();
    for entry in &summary.daily {
        match totals.iter_mut().find(|(m, _)| *m == entry.model) {
            Some((_, cost)) => *cost += entry.cost_usd,
            None => totals.push((entry.model.clone(), entry.cost_usd)),
        }
    }
    totals.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    totals.into_iter().map(|(m, _)| m).collect()
}

/// The chart in words, for those who cannot see it.
pub fn burn_down_description(forecast: &Forecast) -> String {
    let month = &forecast.month;
    let mut text = format!(
        "Spent {} so far this month; projected {} by the month's end (likely {} to {})",
        usd(month.spent),
        usd(month.projected),
        usd(month.low),
        usd(month.high),
    );
    match (month.budget, forecast.budget, &forecast.budget_reached_on) {
        (Some(limit), BudgetOutlook::Reached, Some(day)) => {
            text += &format!(
                "; the monthly budget of {} was reached on {day}",
                usd(limit)
            );
        }
        (Some(limit), BudgetOutlook::Projected, Some(day)) => {
            text += &format!(
                "; the monthly budget of {} is reached on {day} at this rate",
                usd(limit)
            );
        }
        (Some(limit), _, _) => {
            text += &format!(
                "; the monthly budget of {} is not reached this month",
                usd(limit)
            );
        }
        (None, _, _) => text += "; no monthly budget is set",
    }
    text + "."
}
