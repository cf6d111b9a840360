//! `GET /api/portfolio`: initiatives → specifications → features → tasks with progress, and the
//! orphan tasks (see [`crate::reports::initiatives`]); `GET /api/costs/initiatives`: what each
//! initiative and specification cost. Specifications are read when asked; tasks come from the
//! board.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use std::sync::Arc;

use super::state::TaskFiles;
use super::{now_iso, AppState, Error};
use crate::board::SharedStore;
use crate::telemetry::Telemetry;
use app::model::{Portfolio, PortfolioCosts};

/// Tasks whose cost is read at most (the costliest).
const MAX_TASK_COSTS: u32 = 100_000;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/portfolio", get(portfolio))
        .route("/api/costs/initiatives", get(initiative_costs))
}

async fn initiative_costs(
    State(board): State<SharedStore>,
    State(files): State<Arc<TaskFiles>>,
    State(telemetry): State<Telemetry>,
) -> Result<Json<PortfolioCosts>, Error> {
    build_costs(&board, &files, &telemetry).await.map(Json)
}

/// What each initiative and specification cost: the portfolio now, and every task's cost from
/// the telemetry database.
pub(super) async fn build_costs(
    board: &SharedStore,
    files: &TaskFiles,
    telemetry: &Telemetry,
) -> Result<PortfolioCosts, Error> {
    let task_costs = telemetry.all_task_costs(MAX_TASK_COSTS).await?;
    let portfolio = build(board, files).await?;
    Ok(crate::reports::initiative_costs(
        &portfolio,
        &task_costs,
        now_iso(),
    ))
}

async fn portfolio(
    State(board): State<SharedStore>,
    State(files): State<Arc<TaskFiles>>,
) -> Result<Json<Portfolio>, Error> {
    build(&board, &files).await.map(Json)
}

/// The portfolio now: the specifications read from disk, the tasks from the board.
pub(super) async fn build(board: &SharedStore, files: &TaskFiles) -> Result<Portfolio, Error> {
    files.here()?;
    let repo = files.repo.clone();
    let board = board.clone();
    tokio::task::spawn_blocking(move || {
        let specifications = crate::documents::list_specifications(&repo);
        board.with_tasks(|tasks, _, _| {
            crate::reports::build_initiatives(specifications, tasks.values(), now_iso())
        })
    })
    .await
    .map_err(|e| Error::Internal(format!("building the portfolio failed: {e}")))
}
