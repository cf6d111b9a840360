//! `/api/stats`: task counts (from the board) and costs (from the last cost summary; zero
//! without telemetry), in the original's shape.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::AppState;
use crate::board::{SharedStore, TaskCounts};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/stats", get(stats))
}

#[derive(Serialize)]
struct Stats {
    tasks: TaskCounts,
    problems: usize,
    costs: Costs,
    invocations: u64,
    timestamp: String,
}

#[derive(Serialize)]
struct Costs {
    today: f64,
    month: f64,
    total: f64,
}

async fn stats(State(board): State<SharedStore>) -> Json<Stats> {
    let totals = board.costs().map(|c| c.totals).unwrap_or_default();
    Json(Stats {
        tasks: board.counts(),
        problems: board.with_tasks(|_, problems, _| problems.len()),
        costs: Costs {
            today: cents(totals.today),
            month: cents(totals.month),
            total: cents(totals.total),
        },
        invocations: totals.invocations,
        timestamp: super::now_iso(),
    })
}

/// USD rounded to a millionth (sums of floats carry noise such as 1.7000000000000002).
fn cents(usd: f64) -> f64 {
    (usd * 1e6).round() / 1e6
}
