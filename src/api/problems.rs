use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::server::AppState;

/// Every task file that cannot be read: path, line, column, reason.
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    let problems = state
        .store
        .with_tasks(|_, problems, _| problems.values().cloned().collect::<Vec<_>>());
    Json(json!({
        "count": problems.len(),
        "problems": problems,
        "timestamp": super::now_iso(),
    }))
}
