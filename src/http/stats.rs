//! `/api/stats`: task counts (from the board) and costs, in the original's shape. The costs are
//! current (recomputed first if the database changed since the last summary); when the database
//! does not work they are `null` and `costs_unavailable` says why — never a zero that looks like
//! no spending.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use std::sync::Arc;

use super::AppState;
use crate::board::{SharedStore, TaskCounts};
use crate::feeds::CostFeed;
use crate::telemetry::{DatabaseProblem, ProblemKind, Telemetry};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/stats", get(stats))
}

#[derive(Serialize)]
struct Stats {
    tasks: TaskCounts,
    problems: usize,
    costs: Option<Costs>,
    invocations: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    costs_unavailable: Option<DatabaseProblem>,
    timestamp: String,
}

#[derive(Serialize)]
struct Costs {
    today: f64,
    month: f64,
    total: f64,
}

async fn stats(
    State(board): State<SharedStore>,
    State(telemetry): State<Telemetry>,
    State(feed): State<Arc<CostFeed>>,
) -> Json<Stats> {
    feed.fresh().await;
    let summary = board.costs();
    let (costs, invocations, costs_unavailable) = match (telemetry.problem(), summary) {
        (None, Some(summary)) => {
            let totals = summary.totals;
            let costs = Costs {
                today: cents(totals.today),
                month: cents(totals.month),
                total: cents(totals.total),
            };
            (Some(costs), Some(totals.invocations), None)
        }
        (Some(problem), _) => (None, None, Some(problem)),
        (None, None) => (
            None,
            None,
            Some(DatabaseProblem {
                kind: ProblemKind::Other,
                message: "no cost summary could be computed yet".into(),
            }),
        ),
    };
    Json(Stats {
        tasks: board.counts(),
        problems: board.problem_count(),
        costs,
        invocations,
        costs_unavailable,
        timestamp: super::now_iso(),
    })
}

/// USD rounded to a millionth (sums of floats carry noise such as 1.7000000000000002).
fn cents(usd: f64) -> f64 {
    (usd * 1e6).round() / 1e6
}
