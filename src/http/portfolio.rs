//! `GET /api/portfolio`: initiatives → specifications → features → tasks with progress, and the
//! orphan tasks (see [`crate::portfolio`]). Specifications are read when asked; tasks come from
//! the board.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::state::TaskFiles;
use super::{now_iso, AppState, Error};
use crate::board::SharedStore;
use app::model::Portfolio;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/portfolio", get(portfolio))
}

async fn portfolio(
    State(files): State<Arc<TaskFiles>>,
    State(board): State<SharedStore>,
) -> Result<Json<Portfolio>, Error> {
    let repo = files.repo.clone();
    tokio::task::spawn_blocking(move || {
        let specifications = crate::specifications::list(&repo);
        board.with_tasks(|tasks, _, _| {
            crate::portfolio::build(specifications, tasks.values(), now_iso())
        })
    })
    .await
    .map(Json)
    .map_err(|e| Error::Internal(format!("building the portfolio failed: {e}")))
}
