//! `GET /api/charts/…`: the pages' charts as SVG text ([`Charts`], drawn by `app::charts`), so the
//! browser shows them without drawing code of its own. Each answer is drawn from what the page's
//! data endpoint answers at the same moment:
//!
//! - `/api/charts/costs?range=24h|7d|30d|90d`: `daily`, `by-model`, `by-agent`;
//! - `/api/charts/history?range=30d|90d|1y`: `completed`, `cycle`, `wip`;
//! - `/api/charts/agents/{name}`: `daily` (404 as `/api/agents/{name}`);
//! - `/api/charts/forecast`: `burn-down`.

use app::charts;
use app::model::Charts;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;

use super::costs::CostsQuery;
use super::throughput::RangeQuery;
use super::{agents, forecast, throughput, AppState, Error};
use crate::board::SharedStore;
use crate::telemetry::Telemetry;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/charts/costs", get(costs))
        .route("/api/charts/history", get(history))
        .route("/api/charts/agents/{name}", get(agent))
        .route("/api/charts/forecast", get(burn_down))
}

async fn costs(
    State(telemetry): State<Telemetry>,
    Query(query): Query<CostsQuery>,
) -> Result<Json<Charts>, Error> {
    let summary = telemetry.summary(query.range()?, Utc::now()).await?;
    Ok(Json(Charts::of([
        ("daily", charts::daily_cost(&summary)),
        ("by-model", charts::cost_by_model(&summary)),
        ("by-agent", charts::tokens_by_agent(&summary)),
    ])))
}

async fn history(
    State(board): State<SharedStore>,
    Query(query): Query<RangeQuery>,
) -> Result<Json<Charts>, Error> {
    let history = throughput::build(&board, query.range()?);
    Ok(Json(Charts::of([
        ("completed", charts::completions(&history)),
        ("cycle", charts::cycle_times(&history)),
        ("wip", charts::work_in_progress(&history)),
    ])))
}

async fn agent(
    State(board): State<SharedStore>,
    State(telemetry): State<Telemetry>,
    Path(name): Path<String>,
) -> Result<Json<Charts>, Error> {
    let page = agents::build_page(&board, &telemetry, &name).await?;
    Ok(Json(Charts::of([("daily", charts::agent_daily(&page))])))
}

async fn burn_down(
    State(board): State<SharedStore>,
    State(telemetry): State<Telemetry>,
) -> Result<Json<Charts>, Error> {
    let forecast = forecast::build(&board, &telemetry).await?;
    Ok(Json(Charts::of([(
        "burn-down",
        charts::burn_down(&forecast),
    )])))
}
