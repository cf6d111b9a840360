//! `GET /api/specifications`: the specifications a task can be linked to (see
//! [`crate::documents::specifications`]), read when asked; `GET
//! /api/specifications/document?path=…`: one of them to read, its Markdown rendered and sanitized
//! as task texts are.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::edits::check_specification;
use super::state::TaskFiles;
use super::{AppState, Error};
use app::model::{SpecificationDocument, SpecificationList};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/specifications", get(list))
        .route("/api/specifications/document", get(document))
}

async fn list(State(files): State<Arc<TaskFiles>>) -> Result<Json<SpecificationList>, Error> {
    files.here()?;
    let repo = files.repo.clone();
    tokio::task::spawn_blocking(move || crate::documents::list_specifications(&repo))
        .await
        .map(Json)
        .map_err(|e| Error::Internal(format!("reading the specifications failed: {e}")))
}

#[derive(Deserialize)]
struct DocumentQuery {
    path: String,
}

/// The path follows the rules of a task's `specification` (inside `specifications/`, `.md`, no
/// `..`, no link out).
async fn document(
    State(files): State<Arc<TaskFiles>>,
    Query(query): Query<DocumentQuery>,
) -> Result<Json<SpecificationDocument>, Error> {
    files.here()?;
    check_specification(&files.repo, &query.path)?;
    let repo = files.repo.clone();
    let path = query.path;
    tokio::task::spawn_blocking(move || {
        let (title, markdown) = crate::documents::read_document(&repo, &path)
            .map_err(|e| Error::Internal(format!("{path} could not be read: {e}")))?;
        Ok(SpecificationDocument {
            html: crate::documents::render_markdown(&markdown),
            title,
            path,
        })
    })
    .await
    .map_err(|e| Error::Internal(format!("reading the specification failed: {e}")))?
    .map(Json)
}
