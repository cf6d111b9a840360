//! The burn-down of the month: cumulative spending since the month began, solid to now, dashed
//! where it is projected (with its 80 % range shaded), against the monthly budget's line.

use plotters::prelude::*;

use super::{color, finish, usd, DayAxes, HEIGHT, WIDE};
use crate::model::Forecast;

/// The budget line's colour (the palette's red).
const BUDGET: RGBColor = {
    let (r, g, b) = super::PALETTE[7];
    RGBColor(r, g, b)
};

/// The chart; `None` when there is nothing to draw (no day, or nothing spent, projected or
/// budgeted this month).
///
/// The x axis counts days from the month's start: a day's spending is drawn at its end (day `i`
/// ends at `x = i + 1`), and now at today's start plus the part of today gone by.
pub fn burn_down(forecast: &Forecast) -> Option<String> {
    let days = &forecast.burn_down;
    let budget = forecast.month.budget;
    if days.is_empty() || (forecast.month.high <= 0.0 && budget.is_none()) {
        return None;
    }
    let n = days.len();
    let today = days.iter().rposition(|d| d.actual.is_some())?;
    let now_x = today as f64 + day_fraction_gone(&forecast.generated_at);
    let spent_now = days[today].actual.unwrap_or_default();

    let mut actual: Vec<(f64, f64)> = vec![(0.0, 0.0)];
    actual.extend(
        days[..today]
            .iter()
            .enumerate()
            .filter_map(|(i, d)| Some(((i + 1) as f64, d.actual?))),
    );
    actual.push((now_x, spent_now));
    let ahead = days[today..]
        .iter()
        .enumerate()
        .map(|(i, d)| ((today + i + 1) as f64, d));
    let projected: Vec<(f64, f64)> = std::iter::once((now_x, spent_now))
        .chain(ahead.clone().map(|(x, d)| (x, d.projected)))
        .collect();
    // The range: along the high ends, back along the low ones.
    let band: Vec<(f64, f64)> = std::iter::once((now_x, spent_now))
        .chain(ahead.clone().map(|(x, d)| (x, d.high)))
        .chain(ahead.rev().map(|(x, d)| (x, d.low)))
        .collect();

    let top = days
        .iter()
        .map(|d| d.high)
        .chain(budget)
        .fold(0.0, f64::max)
        .max(0.01)
        * 1.15;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDE, HEIGHT)).into_drawing_area();
        let mut chart = DayAxes {
            days: n,
            x_end: n as f64,
            top,
            y_label_width: 72,
            y_desc: "USD spent this month",
            day_label: &|i| days[i].date.clone(),
            y_label: &usd,
            y_labels: super::y_labels_for(top, false),
        }
        .draw(&root)?;
        chart
            .draw_series(std::iter::once(Polygon::new(
                band,
                color(0).mix(0.2).filled(),
            )))
            .ok()?;
        if let Some(limit) = budget {
            chart
                .draw_series(LineSeries::new(
                    [(0.0, limit), (n as f64, limit)],
                    BUDGET.stroke_width(2),
                ))
                .ok()?;
        }
        chart
            .draw_series(DashedLineSeries::new(
                projected,
                6,
                4,
                color(0).stroke_width(2),
            ))
            .ok()?;
        chart
            .draw_series(LineSeries::new(actual, color(0).stroke_width(3)))
            .ok()?;
        root.present().ok()?;
    }
    Some(finish(svg, WIDE, HEIGHT))
}

/// How much of its UTC day the instant `generated_at` (RFC 3339, `Z`) is past, `0..1`.
fn day_fraction_gone(generated_at: &str) -> f64 {
    const DAY_MS: i64 = 86_400_000;
    crate::format::iso_ms(generated_at)
        .map(|ms| ms.rem_euclid(DAY_MS) as f64 / DAY_MS as f64)
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::burn_down_description;
    use crate::model::BudgetOutlook;
    use crate::model::{BurnDownDay, PeriodForecast};

    fn forecast(budget: Option<f64>) -> Forecast {
        let burn_down = (1..=30)
            .map(|day| BurnDownDay {
                date: format!("2026-11-{day:02}"),
                actual: (day <= 21).then_some(f64::from(day) * 10.0),
                projected: f64::from(day) * 10.0,
                low: f64::from(day) * 9.0,
                high: f64::from(day) * 11.0,
            })
            .collect();
        Forecast {
            month: PeriodForecast {
                period: "2026-11".into(),
                spent: 210.0,
                projected: 300.0,
                low: 270.0,
                high: 330.0,
                budget,
            },
            budget: if budget.is_some() {
                BudgetOutlook::Projected
            } else {
                BudgetOutlook::NoBudget
            },
            budget_reached_on: budget.map(|_| "2026-11-25".into()),
            burn_down,
            generated_at: "2026-11-21T12:00:00.000Z".into(),
            ..Forecast::default()
        }
    }

    #[test]
    fn draws_the_spending_the_projection_and_the_budget() {
        let svg = burn_down(&forecast(Some(250.0))).unwrap();
        assert!(svg.contains("viewBox"));
        assert!(svg.contains("11-01"), "dates on the x axis");
        assert!(
            svg.contains("$250") || svg.contains("$200"),
            "USD on the y axis"
        );
        let without = burn_down(&forecast(None)).unwrap();
        assert!(svg.len() > without.len(), "the budget line is drawn");
    }

    #[test]
    fn nothing_to_draw_without_spending_or_budget() {
        let mut empty = forecast(None);
        empty.month.high = 0.0;
        assert_eq!(burn_down(&empty), None);
        assert!(burn_down(&Forecast::default()).is_none());
    }

    #[test]
    fn the_description_says_what_the_chart_shows() {
        let text = burn_down_description(&forecast(Some(250.0)));
        assert_eq!(
            text,
            "Spent $210.00 so far this month; projected $300.00 by the month's end (likely \
             $270.00 to $330.00); the monthly budget of $250.00 is reached on 2026-11-25 at \
             this rate."
        );
        assert!(burn_down_description(&forecast(None)).ends_with("no monthly budget is set."));
    }

    #[test]
    fn now_is_placed_within_its_day() {
        assert_eq!(day_fraction_gone("2026-11-21T12:00:00.000Z"), 0.5);
        assert_eq!(day_fraction_gone("2026-11-21T00:00:00Z"), 0.0);
        assert_eq!(day_fraction_gone("soon"), 0.0);
    }
}
