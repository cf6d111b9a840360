use plotters::prelude::*;

use super::{color, count, finish, styled, usd, HEIGHT, TEXT_MARKER, WIDTH};
use crate::model::CostSummary;

/// Cost by model over the range, as horizontal bars (most expensive on top).
pub fn cost_by_model(summary: &CostSummary) -> Option<String> {
    let rows: Vec<(String, f64)> = summary
        .by_model
        .iter()
        .map(|m| (m.model.clone(), m.cost_usd))
        .collect();
    horizontal_bars(&rows, "USD", usd)
}

/// Tokens by agent over the range, as horizontal bars.
pub fn tokens_by_agent(summary: &CostSummary) -> Option<String> {
    let mut rows: Vec<(String, f64)> = summary
        .by_agent
        .iter()
        .map(|a| {
            (
                a.agent.clone().unwrap_or_else(|| "(no agent)".to_owned()),
                a.tokens as f64,
            )
        })
        .collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    horizontal_bars(&rows, "tokens", count)
}

pub(super) fn horizontal_bars(
    rows: &[(String, f64)],
    unit: &str,
    label: fn(f64) -> String,
) -> Option<String> {
    let rows: Vec<&(String, f64)> = rows.iter().take(8).collect();
    if rows.is_empty() {
        return None;
    }
    let top = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-6) * 1.12;
    let n = rows.len();
    // As tall as its bars need (a lone bar is not a 260 px slab), at most HEIGHT.
    let height = (56 + 34 * n as u32).min(HEIGHT);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(130)
            .build_cartesian_2d(0f64..top, (0..n).into_segmented())
            .ok()?;
        // Segment k (from the bottom) holds row n-1-k, so the first row is on top.
        let name_of = |segment: &SegmentValue<usize>| -> String {
            let SegmentValue::CenterOf(k) = segment else {
                return String::new();
            };
            let Some(row) = (n - 1).checked_sub(*k).and_then(|i| rows.get(i)) else {
                return String::new();
            };
            if row.0.chars().count() > 18 {
                format!("{}…", row.0.chars().take(17).collect::<String>())
            } else {
                row.0.clone()
            }
        };
        styled(&mut chart.configure_mesh())
            .disable_y_mesh()
            .x_desc(unit)
            .x_labels(5)
            .x_label_formatter(&|x| label(*x))
            .y_labels(n)
            .y_label_formatter(&name_of)
            // The rows are named, not measured: no tick marks (they fell between the names, one
            // at the top with no name).
            .set_tick_mark_size(LabelAreaPosition::Left, 0)
            .draw()
            .ok()?;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, (_, value))| {
                let k = n - 1 - i;
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(k)),
                        (*value, SegmentValue::Exact(k + 1)),
                    ],
                    color(i).filled(),
                );
                bar.set_margin(6, 6, 0, 0);
                bar
            }))
            .ok()?;
        let label_style = ("sans-serif", 11).into_font().color(&TEXT_MARKER);
        chart
            .draw_series(rows.iter().enumerate().map(|(i, (_, value))| {
                let k = n - 1 - i;
                Text::new(
                    format!(" {}", label(*value)),
                    (*value, SegmentValue::CenterOf(k)),
                    label_style.clone(),
                )
            }))
            .ok()?;
        root.present().ok()?;
    }
    Some(finish(svg, WIDTH, height))
}
