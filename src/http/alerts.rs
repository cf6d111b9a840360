//! Alerts: `GET /api/alerts` (the destinations as shown, and the log, the newest first) and
//! `POST /api/alerts/test/{index}` (a test alert to one destination: the page's button).

use std::sync::Arc;

use app::model::{Alert, AlertLog};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::{AppState, Error};
use crate::alerts::Alerts;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/alerts", get(log))
        .route("/api/alerts/test/{index}", post(test))
}

async fn log(State(alerts): State<Arc<Alerts>>) -> Json<AlertLog> {
    Json(alerts.log())
}

async fn test(
    State(alerts): State<Arc<Alerts>>,
    Path(index): Path<usize>,
) -> Result<Json<Alert>, Error> {
    alerts
        .test(index, chrono::Utc::now())
        .map(Json)
        .ok_or_else(|| Error::NotFound(format!("no alert destination {index}")))
}
