//! `GET /api/forecast`: the spending forecast for today and this month and the day the monthly
//! budget runs out (see [`crate::reports::forecast`] for the model), from the telemetry database
//! read for every request. A broken database is an error (503 with the reason), never a forecast of
//! zero.

use app::model::Forecast;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;

use super::{AppState, Error};
use crate::board::SharedStore;
use crate::reports::{forecast, DailySeries};
use crate::telemetry::Telemetry;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/forecast", get(forecast_now))
}

async fn forecast_now(
    State(board): State<SharedStore>,
    State(telemetry): State<Telemetry>,
) -> Result<Json<Forecast>, Error> {
    build(&board, &telemetry).await.map(Json)
}

/// The forecast as of now, with the configured budgets (the costs page renders it too).
pub(super) async fn build(board: &SharedStore, telemetry: &Telemetry) -> Result<Forecast, Error> {
    let now = Utc::now();
    let (first, last) = DailySeries::window(now.date_naive());
    let totals = telemetry.daily_series(first, last).await?;
    let series = DailySeries {
        costs: totals.costs,
        first_day: totals.first_day,
    };
    Ok(forecast(&series, now, board.budgets()))
}
