use plotters::prelude::*;

use super::daily::stacked_bars;
use super::{bars::horizontal_bars, dates, finish, GRID, HEIGHT, TEXT_MARKER, WIDE};
use crate::model::History;

/// Tasks completed per day or week, stacked by agent. `None` when none were.
pub fn completions(history: &History) -> Option<String> {
    if history.completed.iter().flatten().all(|n| *n == 0) {
        return None;
    }
    let days: Vec<i64> = history
        .buckets
        .iter()
        .filter_map(|d| dates::parse(d))
        .collect();
    let stacks: Vec<Vec<f64>> = history
        .completed
        .iter()
        .map(|row| row.iter().map(|n| f64::from(*n)).collect())
        .collect();
    let per = if history.range.bucket_days() == 1 {
        "tasks per day"
    } else {
        "tasks per week"
    };
    stacked_bars(&days, &history.agents, &stacks, per, |y| format!("{y:.0}"))
}

/// Median cycle time per agent, in hours (the table beside it gives the spread).
pub fn cycle_times(history: &History) -> Option<String> {
    let rows: Vec<(String, f64)> = history
        .cycle
        .iter()
        .map(|c| (c.agent.clone(), c.p50_hours))
        .collect();
    horizontal_bars(&rows, "median hours, created → completed", hours)
}

/// Tasks open at the end of each day.
pub fn work_in_progress(history: &History) -> Option<String> {
    if history.wip.is_empty() {
        return None;
    }
    let n = history.wip.len();
    let top = history
        .wip
        .iter()
        .map(|(_, v)| *v)
        .max()
        .unwrap_or(0)
        .max(1) as f64
        * 1.15;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDE, HEIGHT)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..(n.max(2) - 1) as f64, 0f64..top)
            .ok()?;
        let text = ("sans-serif", 12).into_font().color(&TEXT_MARKER);
        let every = n.div_ceil(8).max(1);
        let labels: Vec<String> = history.wip.iter().map(|(d, _)| d.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID.mix(0.3))
            .axis_style(GRID.mix(0.6))
            .label_style(text.clone())
            .y_desc("open tasks")
            .axis_desc_style(text)
            .x_labels(n.min(16))
            .x_label_formatter(&|x| {
                let i = *x as usize;
                if x.fract() != 0.0 || i >= n || !i.is_multiple_of(every) {
                    return String::new();
                }
                labels[i].get(5..).unwrap_or_default().to_owned()
            })
            .y_labels(5)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .ok()?;
        chart
            .draw_series(LineSeries::new(
                history
                    .wip
                    .iter()
                    .enumerate()
                    .map(|(i, (_, v))| (i as f64, f64::from(*v))),
                super::color(0).stroke_width(2),
            ))
            .ok()?;
        root.present().ok()?;
    }
    Some(finish(svg, WIDE, HEIGHT))
}

pub fn hours(value: f64) -> String {
    if value >= 48.0 {
        format!("{:.1} d", value / 24.0)
    } else {
        format!("{value:.1} h")
    }
}
