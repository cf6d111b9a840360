//! `/api/problems`: every task file that cannot be read, with path, line, column and reason.

use app::model::Problem;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::AppState;
use crate::board::SharedStore;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/problems", get(list))
}

#[derive(Serialize)]
struct Problems {
    count: usize,
    problems: Vec<Problem>,
    timestamp: String,
}

async fn list(State(board): State<SharedStore>) -> Json<Problems> {
    let problems =
        board.with_tasks(|_, problems, _| problems.values().cloned().collect::<Vec<_>>());
    Json(Problems {
        count: problems.len(),
        problems,
        timestamp: super::now_iso(),
    })
}
