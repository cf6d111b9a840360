use plotters::prelude::*;

use super::{color, dates, finish, models_by_cost, usd, DayAxes, HEIGHT, WIDE};
use crate::model::{AgentPage, CostRange, CostSummary, ModelCost};

/// Daily cost stacked by model, over the summary's range (every day shown, empty ones too).
/// `None` when there is nothing to draw.
pub fn daily_cost(summary: &CostSummary) -> Option<String> {
    if summary.daily.is_empty() {
        return None;
    }
    let today = dates::parse(&summary.generated_at).or_else(|| {
        summary
            .daily
            .iter()
            .filter_map(|d| dates::parse(&d.date))
            .max()
    })?;
    let first_in_data = summary
        .daily
        .iter()
        .filter_map(|d| dates::parse(&d.date))
        .min()?;
    let first = (today - i64::from(summary.range.days()) + 1).min(first_in_data);
    let days: Vec<i64> = (first..=today).collect();
    let models = models_by_cost(summary);
    // stacks[day][model] = cost
    let mut stacks = vec![vec![0.0f64; models.len()]; days.len()];
    for entry in &summary.daily {
        let (Some(day), Some(m)) = (
            dates::parse(&entry.date),
            models.iter().position(|x| *x == entry.model),
        ) else {
            continue;
        };
        if let Some(slot) = days.iter().position(|d| *d == day) {
            stacks[slot][m] += entry.cost_usd;
        }
    }
    stacked_bars(&days, &models, &stacks, "USD per day", usd, false)
}

/// Bars over `days` (day numbers, see [`dates`]; each bar labelled with its date), each a stack of
/// the `series` values `stacks[bar][series]`, coloured in the series' order. `None` when empty.
pub fn stacked_bars(
    days: &[i64],
    series: &[String],
    stacks: &[Vec<f64>],
    y_desc: &str,
    y_label: fn(f64) -> String,
    whole: bool,
) -> Option<String> {
    if days.is_empty() || series.is_empty() {
        return None;
    }
    let top = stacks
        .iter()
        .map(|s| s.iter().sum::<f64>())
        .fold(0.0, f64::max)
        .max(0.01)
        * 1.15;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDE, HEIGHT)).into_drawing_area();
        let n = days.len();
        let mut chart = DayAxes {
            days: n,
            x_end: n as f64,
            top,
            y_label_width: 56,
            y_desc,
            day_label: &|i| dates::format(days[i]),
            y_label: &y_label,
            y_labels: super::y_labels_for(top, whole),
        }
        .draw(&root)?;
        for m in 0..series.len() {
            let bars = stacks
                .iter()
                .enumerate()
                .filter(|(_, s)| s[m] > 0.0)
                .map(|(i, s)| {
                    let base: f64 = s[..m].iter().sum();
                    let x = i as f64;
                    Rectangle::new(
                        [(x + 0.15, base), (x + 0.85, base + s[m])],
                        color(m).filled(),
                    )
                });
            chart.draw_series(bars).ok()?;
        }
        root.present().ok()?;
    }
    Some(finish(svg, WIDE, HEIGHT))
}

/// The agent page's chart: the costs page's daily chart over one agent's calls (30 days).
pub fn agent_daily(page: &AgentPage) -> Option<String> {
    let mut by_model: Vec<ModelCost> = Vec::new();
    for day in &page.daily {
        match by_model.iter_mut().find(|m| m.model == day.model) {
            Some(model) => model.cost_usd += day.cost_usd,
            None => by_model.push(ModelCost {
                model: day.model.clone(),
                cost_usd: day.cost_usd,
                ..ModelCost::default()
            }),
        }
    }
    by_model.sort_by(|a, b| b.cost_usd.total_cmp(&a.cost_usd));
    daily_cost(&CostSummary {
        range: CostRange::Days30,
        daily: page.daily.clone(),
        by_model,
        generated_at: page.generated_at.clone(),
        ..CostSummary::default()
    })
}
