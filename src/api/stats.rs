use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::server::AppState;

/// Task counts (from the board) and costs (from the last cost summary; zero without telemetry).
pub async fn stats(State(state): State<AppState>) -> Json<Value> {
    let counts = state.store.counts();
    let problems = state.store.with_tasks(|_, problems, _| problems.len());
    let totals = state.store.costs().map(|c| c.totals).unwrap_or_default();
    Json(json!({
        "tasks": counts,
        "problems": problems,
        "costs": { "today": cents(totals.today), "month": cents(totals.month), "total": cents(totals.total) },
        "invocations": totals.invocations,
        "timestamp": super::now_iso(),
    }))
}

/// USD rounded to a millionth (sums of floats carry noise such as 1.7000000000000002).
fn cents(usd: f64) -> f64 {
    (usd * 1e6).round() / 1e6
}
