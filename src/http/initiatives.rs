//! `GET /api/portfolio`: initiatives → specifications → features → tasks with progress, and the
//! orphan tasks (see [`crate::reports::initiatives`]); `GET /api/costs/initiatives`: what each
//! initiative and specification cost. Specifications are read when asked; tasks come from the
//! board.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::{now_iso, AppState, Error};
use app::model::{Portfolio, PortfolioCosts};

/// Tasks whose cost is read at most (the costliest).
const MAX_TASK_COSTS: u32 = 100_000;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/portfolio", get(portfolio))
        .route("/api/costs/initiatives", get(initiative_costs))
}

async fn initiative_costs(State(state): State<AppState>) -> Result<Json<PortfolioCosts>, Error> {
    build_costs(&state).await.map(Json)
}

/// What each initiative and specification cost: the portfolio now, and every task's cost from
/// the telemetry database.
pub(super) async fn build_costs(state: &AppState) -> Result<PortfolioCosts, Error> {
    let task_costs = state.telemetry.all_task_costs(MAX_TASK_COSTS).await?;
    let portfolio = build(state).await?;
    Ok(crate::reports::initiative_costs(
        &portfolio,
        &task_costs,
        now_iso(),
    ))
}

async fn portfolio(State(state): State<AppState>) -> Result<Json<Portfolio>, Error> {
    build(&state).await.map(Json)
}

/// The portfolio now: the specifications read from disk, the tasks from the board.
pub(super) async fn build(state: &AppState) -> Result<Portfolio, Error> {
    state.files.here()?;
    let repo = state.files.repo.clone();
    let board = state.board.clone();
    tokio::task::spawn_blocking(move || {
        let specifications = crate::documents::list_specifications(&repo);
        board.with_tasks(|tasks, _, _| {
            crate::reports::build_initiatives(specifications, tasks.values(), now_iso())
        })
    })
    .await
    .map_err(|e| Error::Internal(format!("building the portfolio failed: {e}")))
}
