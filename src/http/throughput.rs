//! `GET /api/history?range=30d|90d|1y`: see [`crate::reports::throughput`]. From the board in
//! memory.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;

use super::{AppState, Error};
use crate::board::SharedStore;
use app::model::{History, HistoryRange};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/history", get(history))
}

#[derive(Deserialize)]
pub(super) struct RangeQuery {
    range: Option<String>,
}

impl RangeQuery {
    /// The range asked for (30 days when none); an unknown one is a `400` naming the field.
    pub(super) fn range(&self) -> Result<HistoryRange, Error> {
        match self.range.as_deref() {
            None | Some("") => Ok(HistoryRange::default()),
            Some(text) => HistoryRange::parse(text).ok_or_else(|| {
                Error::bad_field("range", format!("unknown range {text:?}: 30d, 90d or 1y"))
            }),
        }
    }
}

async fn history(
    State(board): State<SharedStore>,
    Query(query): Query<RangeQuery>,
) -> Result<Json<History>, Error> {
    Ok(Json(build(&board, query.range()?)))
}

pub(super) fn build(board: &SharedStore, range: HistoryRange) -> History {
    board.with_tasks(|tasks, _, _| {
        crate::reports::build_throughput(tasks.values(), range, Utc::now())
    })
}
