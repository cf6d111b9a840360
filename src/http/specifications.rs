//! `GET /api/specifications`: the specifications a task can be linked to (see
//! [`crate::specifications`]), read when asked.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::state::TaskFiles;
use super::{AppState, Error};
use app::model::SpecificationList;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/specifications", get(list))
}

async fn list(State(files): State<Arc<TaskFiles>>) -> Result<Json<SpecificationList>, Error> {
    let repo = files.repo.clone();
    tokio::task::spawn_blocking(move || crate::specifications::list(&repo))
        .await
        .map(Json)
        .map_err(|e| Error::Internal(format!("reading the specifications failed: {e}")))
}
