use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::server::AppState;

/// Task counts (from the board) and costs (zero until telemetry is connected).
pub async fn stats(State(state): State<AppState>) -> Json<Value> {
    let counts = state.store.counts();
    let problems = state.store.with_tasks(|_, problems, _| problems.len());
    Json(json!({
        "tasks": counts,
        "problems": problems,
        "costs": { "today": 0.0, "month": 0.0, "total": 0.0 },
        "timestamp": super::now_iso(),
    }))
}
