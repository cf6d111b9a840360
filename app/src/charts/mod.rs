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
mod canvas;
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
use canvas::{color, finish, styled, y_labels_for, DayAxes, HEIGHT, TEXT_MARKER, WIDE, WIDTH};

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

/// `#rrggbb` of a palette colour, for legends drawn in HTML.
pub fn css_color(index: usize) -> String {
    let (r, g, b) = PALETTE[index % PALETTE.len()];
    format!("#{r:02x}{g:02x}{b:02x}")
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
