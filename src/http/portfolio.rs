//! `GET /api/portfolio`: initiatives → specifications → features → tasks with progress, and the
//! orphan tasks (see [`crate::portfolio`]). Specifications are read when asked; tasks come from
//! the board.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::{now_iso, AppState, Error};
use app::model::Portfolio;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/portfolio", get(portfolio))
}

async fn portfolio(State(state): State<AppState>) -> Result<Json<Portfolio>, Error> {
    build(&state).await.map(Json)
}

/// The portfolio now: the specifications read from disk, the tasks from the board.
pub(super) async fn build(state: &AppState) -> Result<Portfolio, Error> {
    let repo = state.files.repo.clone();
    let board = state.board.clone();
    tokio::task::spawn_blocking(move || {
        let specifications = crate::specifications::list(&repo);
        board.with_tasks(|tasks, _, _| {
            crate::portfolio::build(specifications, tasks.values(), now_iso())
        })
    })
    .await
    .map_err(|e| Error::Internal(format!("building the portfolio failed: {e}")))
}
