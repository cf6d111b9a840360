//! `GET /api/costs?range=24h|7d|30d|90d` (default `7d`): the cost summary, read from the database
//! for every request (never a cached figure).

use app::model::{CostRange, CostSummary};
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;

use super::{AppState, Error};
use crate::telemetry::Telemetry;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/costs", get(costs))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct CostsQuery {
    range: Option<String>,
}

impl CostsQuery {
    /// The range asked for (7 days when none); an unknown one is a `400` naming the field.
    pub(super) fn range(&self) -> Result<CostRange, Error> {
        match self.range.as_deref() {
            None | Some("") => Ok(CostRange::default()),
            Some(text) => text
                .parse::<CostRange>()
                .map_err(|message| Error::bad_field("range", message)),
        }
    }
}

async fn costs(
    State(telemetry): State<Telemetry>,
    Query(query): Query<CostsQuery>,
) -> Result<Json<CostSummary>, Error> {
    Ok(Json(telemetry.summary(query.range()?, Utc::now()).await?))
}
