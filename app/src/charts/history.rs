use crate::format::hours;
use plotters::prelude::*;

use super::daily::stacked_bars;
use super::{bars::horizontal_bars, dates, finish, DayAxes, HEIGHT, WIDE};
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
    stacked_bars(
        &days,
        &history.agents,
        &stacks,
        per,
        |y| format!("{y:.0}"),
        true,
    )
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
        let mut chart = DayAxes {
            days: n,
            x_end: (n.max(2) - 1) as f64,
            top,
            y_label_width: 56,
            y_desc: "open tasks",
            day_label: &|i| history.wip[i].0.clone(),
            y_label: &|y| format!("{y:.0}"),
            y_labels: super::y_labels_for(top, true),
        }
        .draw(&root)?;
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
